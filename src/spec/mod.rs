//! Model specs: the typed, checked parameters of one model at one grid point, in linfa's
//! `Params → check() → ValidParams` style. The experiment file's values are checked here
//! once, where a grid point is resolved; a trainer receives its own params struct and never
//! looks a parameter up by name. This is vocabulary shared by `config` (which validates the
//! file against the catalog) and `models` (which fits a spec), so it imports neither.

pub mod catalog;
pub mod kinds;
pub mod value;

pub use catalog::{kind_spec, spec_of, ModelKind, TaskSupport, KINDS};
pub use kinds::*;
pub use value::{ParamType, ParamValue, ParamValues};

use std::collections::BTreeMap;

/// One model kind with its checked parameters. Adding a kind means a params struct in
/// `kinds.rs`, a catalog entry, a variant here and a match arm in `models::fit`; the
/// compiler points at each.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelSpec {
    LinearRegression(OlsParams),
    Ridge(RidgeParams),
    Lasso(LassoParams),
    ElasticNet(ElasticNetParams),
    LogisticRegression(LogisticParams),
    Svm(SvmParams),
    DecisionTree(TreeParams),
    Mlp(MlpParams, OptimizerParams),
    LinearGd(LinearGdParams, OptimizerParams),
    LogisticGd(LogisticGdParams, OptimizerParams),
    RandomForest(ForestParams),
    ExtraTrees(ForestParams),
    HistGradientBoosting(HgbParams),
}

/// A forest's parameters, with their combinations checked.
fn forest(p: ForestParams) -> Result<ForestParams, String> {
    p.validate().map(|()| p)
}

impl ModelSpec {
    /// Checks the values given for a kind (fixed values and one grid point) against the
    /// catalog, fills in the defaults and types every parameter.
    pub fn check(kind: ModelKind, given: &BTreeMap<String, ParamValue>) -> Result<ModelSpec, String> {
        let spec = spec_of(kind);
        let mut values: ParamValues = spec.params().map(|p| (p.name.to_string(), spec.default_of(p).value())).collect();
        for (name, value) in given {
            let Some(p) = spec.param(name) else {
                let hint = crate::suggest::suggestion(name, spec.params().map(|p| p.name));
                return Err(format!("{} has no parameter `{name}`{hint}", kind.name()));
            };
            let checked = p.ty.check(value).map_err(|e| format!("{name}: {e}"))?;
            values.insert(name.clone(), checked);
        }
        Ok(match kind {
            ModelKind::LinearRegression => ModelSpec::LinearRegression(OlsParams::read(&values)?),
            ModelKind::Ridge => ModelSpec::Ridge(RidgeParams::read(&values)?),
            ModelKind::Lasso => ModelSpec::Lasso(LassoParams::read(&values)?),
            ModelKind::ElasticNet => ModelSpec::ElasticNet(ElasticNetParams::read(&values)?),
            ModelKind::LogisticRegression => ModelSpec::LogisticRegression(LogisticParams::read(&values)?),
            ModelKind::Svm => ModelSpec::Svm(SvmParams::read(&values)?.checked()?),
            ModelKind::DecisionTree => ModelSpec::DecisionTree(TreeParams::read(&values)?),
            ModelKind::Mlp => ModelSpec::Mlp(MlpParams::read(&values)?, OptimizerParams::read(&values)?),
            ModelKind::LinearGd => ModelSpec::LinearGd(LinearGdParams::read(&values)?, OptimizerParams::read(&values)?),
            ModelKind::HistGradientBoosting => ModelSpec::HistGradientBoosting(HgbParams::read(&values)?),
            ModelKind::LogisticGd => {
                ModelSpec::LogisticGd(LogisticGdParams::read(&values)?, OptimizerParams::read(&values)?)
            }
            ModelKind::RandomForest => ModelSpec::RandomForest(ForestParams::read(&values).and_then(forest)?),
            ModelKind::ExtraTrees => ModelSpec::ExtraTrees(ForestParams::read(&values).and_then(forest)?),
        })
    }

    /// Where this spec sits on a warm-start path, when it may share one (`path = true`):
    /// lasso and elastic net by decreasing alpha, logistic regression by increasing C,
    /// the order scikit-learn's LassoCV and LogisticRegressionCV solve in.
    pub fn path_position(&self) -> Option<f64> {
        match self {
            ModelSpec::Lasso(p) if p.path => Some(-p.alpha),
            ModelSpec::ElasticNet(p) if p.path => Some(-p.alpha),
            ModelSpec::LogisticRegression(p) if p.path && p.solver != LogisticSolver::Linfa => Some(p.c),
            _ => None,
        }
    }

    /// The spec with its path axis cleared: the points of one path have equal keys.
    pub fn path_key(&self) -> String {
        let mut spec = self.clone();
        match &mut spec {
            ModelSpec::Lasso(p) => p.alpha = 0.0,
            ModelSpec::ElasticNet(p) => p.alpha = 0.0,
            ModelSpec::LogisticRegression(p) => p.c = 0.0,
            _ => {}
        }
        format!("{spec:?}")
    }

    pub fn kind(&self) -> ModelKind {
        match self {
            ModelSpec::LinearRegression(_) => ModelKind::LinearRegression,
            ModelSpec::Ridge(_) => ModelKind::Ridge,
            ModelSpec::Lasso(_) => ModelKind::Lasso,
            ModelSpec::ElasticNet(_) => ModelKind::ElasticNet,
            ModelSpec::LogisticRegression(_) => ModelKind::LogisticRegression,
            ModelSpec::Svm(_) => ModelKind::Svm,
            ModelSpec::DecisionTree(_) => ModelKind::DecisionTree,
            ModelSpec::Mlp(..) => ModelKind::Mlp,
            ModelSpec::LinearGd(..) => ModelKind::LinearGd,
            ModelSpec::LogisticGd(..) => ModelKind::LogisticGd,
            ModelSpec::RandomForest(_) => ModelKind::RandomForest,
            ModelSpec::ExtraTrees(_) => ModelKind::ExtraTrees,
            ModelSpec::HistGradientBoosting(_) => ModelKind::HistGradientBoosting,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strum::VariantArray;

    #[test]
    fn the_catalog_lists_every_kind_in_declaration_order() {
        assert_eq!(KINDS.len(), ModelKind::VARIANTS.len());
        for (i, k) in KINDS.iter().enumerate() {
            assert_eq!(k.kind as usize, i, "{}", k.name());
        }
    }

    #[test]
    fn every_kind_checks_with_its_defaults() {
        for k in KINDS {
            let spec = ModelSpec::check(k.kind, &BTreeMap::new());
            assert_eq!(spec.map(|s| s.kind()), Ok(k.kind), "{}", k.name());
        }
    }

    #[test]
    fn the_mlp_takes_scikit_learns_optimizer_defaults() {
        let Ok(ModelSpec::Mlp(arch, opt)) = ModelSpec::check(ModelKind::Mlp, &BTreeMap::new()) else { panic!() };
        assert_eq!(arch.hidden_layers, vec![100]);
        assert_eq!((opt.optimizer, opt.learning_rate, opt.epochs, opt.batch_size), (Optimizer::Adam, 0.001, 200, 32));
    }

    #[test]
    fn early_stopping_takes_a_boolean_or_auto() {
        let check = |v: ParamValue| {
            let given = BTreeMap::from([("early_stopping".to_string(), v)]);
            match ModelSpec::check(ModelKind::HistGradientBoosting, &given) {
                Ok(ModelSpec::HistGradientBoosting(p)) => Ok(p.early_stopping),
                Ok(other) => panic!("{other:?}"),
                Err(e) => Err(e),
            }
        };
        assert_eq!(check(ParamValue::Bool(true)), Ok(EarlyStopping::True));
        assert_eq!(check(ParamValue::Str("auto".into())), Ok(EarlyStopping::Auto));
        assert!(check(ParamValue::Str("sometimes".into())).is_err());
    }

    #[test]
    fn unknown_and_mistyped_parameters_are_refused() {
        let given = BTreeMap::from([("alpah".to_string(), ParamValue::Float(1.0))]);
        let e = ModelSpec::check(ModelKind::Ridge, &given).unwrap_err();
        assert!(e.contains("did you mean `alpha`"), "{e}");
        let given = BTreeMap::from([("kernel".to_string(), ParamValue::Str("rbg".into()))]);
        let e = ModelSpec::check(ModelKind::Svm, &given).unwrap_err();
        assert!(e.contains("did you mean `rbf`"), "{e}");
    }

    fn forest(kind: ModelKind, given: &[(&str, ParamValue)]) -> Result<ModelSpec, String> {
        ModelSpec::check(kind, &given.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
    }

    #[test]
    fn forests_refuse_what_scikit_learn_refuses_and_what_runner_lacks() {
        let (t, f) = (ParamValue::Bool(true), ParamValue::Bool(false));
        let refused = [
            (
                ModelKind::RandomForest,
                vec![("oob_score", t.clone()), ("bootstrap", f.clone())],
                "oob_score needs bootstrap",
            ),
            (ModelKind::ExtraTrees, vec![("oob_score", t.clone())], "oob_score needs bootstrap"),
            (ModelKind::ExtraTrees, vec![("max_samples", ParamValue::Float(0.5))], "max_samples needs bootstrap"),
            (ModelKind::RandomForest, vec![("max_leaf_nodes", ParamValue::Int(8))], "best-first"),
            (ModelKind::RandomForest, vec![("ccp_alpha", ParamValue::Float(0.1))], "pruning"),
            (ModelKind::RandomForest, vec![("max_features", ParamValue::Int(0))], "out of range"),
            (ModelKind::RandomForest, vec![("max_features", ParamValue::Float(1.5))], "out of range"),
            (ModelKind::RandomForest, vec![("max_features", ParamValue::Str("sqr".into()))], "did you mean `sqrt`"),
            (
                ModelKind::RandomForest,
                vec![("class_weight", ParamValue::Str("balance".into()))],
                "did you mean `balanced`",
            ),
        ];
        for (kind, given, wanted) in refused {
            let e = forest(kind, &given).unwrap_err();
            assert!(e.contains(wanted), "{given:?}: {e}");
        }
        let e = forest(ModelKind::DecisionTree, &[("class_weight", ParamValue::Str("balanced_subsample".into()))]);
        assert!(e.unwrap_err().contains("not one of none, balanced"));
    }

    #[test]
    fn a_count_and_a_share_of_columns_are_told_apart() {
        let read = |v: ParamValue| match forest(ModelKind::RandomForest, &[("max_features", v)]) {
            Ok(ModelSpec::RandomForest(p)) => p.max_features,
            other => panic!("{other:?}"),
        };
        assert_eq!(read(ParamValue::Int(1)), CountOrShare::Count(1));
        assert_eq!(read(ParamValue::Float(1.0)), CountOrShare::Share(1.0));
        assert_eq!(read(ParamValue::Str("log2".into())), CountOrShare::Word("log2".into()));
        let Ok(ModelSpec::ExtraTrees(p)) = forest(ModelKind::ExtraTrees, &[]) else { panic!() };
        assert!(!p.bootstrap, "extra trees draw no bootstrap by default");
    }
}
