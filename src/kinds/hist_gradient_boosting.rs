//! `hist_gradient_boosting`: scikit-learn's histogram gradient boosting step for step (its
//! math in `models::hgb`).

use super::Streamed;
use crate::models::{hgb, FitError, Fitted, ModelState};
use crate::preprocess::{FoldData, FoldTargets};
use crate::spec::catalog::{KindSpec, TaskSupport};
use crate::spec::{HgbParams, ModelKind, ParamValues};

pub struct Kind;

impl super::Kind for Kind {
    type Params = HgbParams;
    const CATALOG: KindSpec = KindSpec {
        kind: ModelKind::HistGradientBoosting,
        engine: "runner's histogram gradient boosting: scikit-learn's binning, best-first grower and losses, step for step",
        task: TaskSupport::Both,
        summary: "histogram-based gradient boosting, equal to sklearn's HistGradientBoostingRegressor (squared_error) / \
                  HistGradientBoostingClassifier (log_loss) with the same random_state",
        groups: &[HgbParams::SPECS],
        defaults: &[],
        saves: "an `hgb` model: the baseline and every tree's nodes (feature, threshold, bin, the side of missing values) and leaf values",
    };

    fn read(values: &ParamValues) -> Result<HgbParams, String> {
        HgbParams::read(values)
    }

    fn fit(p: &HgbParams, data: &FoldData, classes: &[String], _: u32) -> Result<Box<dyn Fitted>, FitError> {
        match &data.train_y {
            FoldTargets::Regression(y) => hgb::fit_regressor(p, &data.train_x, y),
            FoldTargets::Classes(y) => hgb::fit_classifier(p, &data.train_x, y, classes),
        }
    }

    fn streamed(_: &HgbParams) -> Streamed<'_> {
        Streamed::Refused(
            "gradient boosting bins every column and revisits every training row in each iteration; use streaming = false",
        )
    }

    fn saves(state: &ModelState) -> bool {
        matches!(state, ModelState::Hgb { .. })
    }

    fn load(state: ModelState, width: usize, classes: usize) -> Result<Box<dyn Fitted>, String> {
        state.into_fitted(width, classes)
    }
}

#[cfg(test)]
mod tests {
    use crate::kinds::ModelSpec;
    use crate::spec::{EarlyStopping, ModelKind, ParamValue};
    use std::collections::BTreeMap;

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
}
