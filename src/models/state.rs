//! A fitted model as plain data: what model.json saves and `runner predict` loads back.
//! Loading checks every shape against the design matrix, so a hand-edited file is refused
//! with a message instead of panicking at prediction time.

use super::flat::FlatTree;
use super::forest::Forest;
use super::hgb::{CategoricalColumn, HgbModel, HgbTree, OnCodes, Ordinal};
use super::mlp::MlpModel;
use super::svm::{KernelMachine, OneVsOne, PairMachine, Svr};
use super::tree::Tree;
use super::{Fitted, Head, LinearParts, Prediction};
use crate::spec::Activation;
use ndarray::Array2;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Serialize};

/// A fitted model's parameters, by family. Weights index the design-matrix columns
/// (model.json's `features`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ModelState {
    /// `head(x·weightsᵀ + intercepts)`: one weight row and intercept per output (one output
    /// for regression and binary classification, one per class for multinomial).
    Linear { head: Head, weights: Vec<Vec<f64>>, intercepts: Vec<f64> },
    /// Nodes in build order (children after their parent), as flat arrays (read and written
    /// as a list of `tree::Node`s). `classes` is 0 for regression.
    Tree { classes: usize, nodes: FlatTree },
    /// A random forest or extra trees: each tree's nodes, as `Tree` saves them; the
    /// prediction is the mean of the trees'.
    Forest { classes: usize, trees: Vec<FlatTree> },
    /// Dense layers; hidden layers use `activation`, the output is linear (regression) or a
    /// softmax over classes.
    Mlp { activation: Activation, softmax: bool, layers: Vec<Layer> },
    /// Epsilon-SVR: `decision(x) - rho`.
    Svr { machine: KernelMachine },
    /// C-SVC, one machine per pair of classes (a decision >= 0 votes for `positive`);
    /// `break_ties`: predict the ovr argmax instead of the vote (absent in older files: false).
    Svc {
        classes: usize,
        machines: Vec<PairMachine>,
        #[serde(default)]
        break_ties: bool,
    },
    /// Histogram gradient boosting: `trees[iteration][output]`; raw = baseline + the sum of
    /// the trees' leaves, then identity, sigmoid (two classes) or softmax.
    /// `categorical` (absent when empty): the columns coded for `categorical_features =
    /// "from_dtype"`, whose codes the trees' features index first.
    Hgb {
        classes: usize,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        categorical: Vec<CategoricalColumn>,
        baseline: Vec<f64>,
        trees: Vec<Vec<HgbTree>>,
    },
    /// A family a kind's own file declares (`src/kinds/`), with its `type`.
    /// (Written and read by `write_any` and `read_any`.)
    #[serde(skip)]
    Kind(KindState),
}

/// The fields of a family a kind's file declares, `type` first; the kind reads them back
/// with [`KindState::read`]. A `type` of the families above is theirs alone.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct KindState(serde_json::Map<String, serde_json::Value>);

const FAMILIES: [&str; 7] = ["linear", "tree", "forest", "mlp", "svr", "svc", "hgb"];

/// Writes a saved model of any family: a kind's own as its fields, `type` first.
pub fn write_any<S: serde::Serializer>(state: &ModelState, s: S) -> Result<S::Ok, S::Error> {
    match state {
        ModelState::Kind(fields) => fields.serialize(s),
        core => core.serialize(s),
    }
}

/// Reads a saved model of any family: those above by their fields (a wrong shape is an
/// error naming the field), any other `type` as a kind's own (`KindState`), which its kind
/// reads and checks when it loads. The tree families, `type` first as written, are read
/// straight into their types: a forest's nodes as JSON values would take many times its size.
pub fn read_any<'de, D: serde::Deserializer<'de>>(d: D) -> Result<ModelState, D::Error> {
    d.deserialize_map(StateVisitor)
}

struct StateVisitor;

impl<'de> Visitor<'de> for StateVisitor {
    type Value = ModelState;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a model: an object with its `type`")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ModelState, A::Error> {
        let mut fields = serde_json::Map::new();
        if let Some(key) = map.next_key::<String>()? {
            let value: serde_json::Value = map.next_value()?;
            if let ("type", Some(family @ ("tree" | "forest" | "hgb"))) = (key.as_str(), value.as_str()) {
                return tree_family(family, map);
            }
            fields.insert(key, value);
        }
        while let Some((key, value)) = map.next_entry::<String, serde_json::Value>()? {
            fields.insert(key, value);
        }
        match fields.get("type").and_then(|t| t.as_str()) {
            Some(t) if !FAMILIES.contains(&t) => Ok(ModelState::Kind(KindState(fields))),
            _ => ModelState::deserialize(serde_json::Value::Object(fields)).map_err(de::Error::custom),
        }
    }
}

/// The fields after `type` of `tree`, `forest` or `hgb`, each read into its type.
fn tree_family<'de, A: MapAccess<'de>>(family: &str, mut map: A) -> Result<ModelState, A::Error> {
    let expected: &'static [&'static str] = match family {
        "tree" => &["type", "classes", "nodes"],
        "forest" => &["type", "classes", "trees"],
        _ => &["type", "classes", "categorical", "baseline", "trees"],
    };
    let (mut classes, mut nodes, mut forest, mut baseline, mut boosted) = (None, None, None, None, None);
    let mut categorical = None;
    while let Some(key) = map.next_key::<String>()? {
        let repeated = match (family, key.as_str()) {
            (_, "type") => true,
            (_, "classes") => classes.replace(map.next_value()?).is_some(),
            ("tree", "nodes") => nodes.replace(map.next_value()?).is_some(),
            ("forest", "trees") => forest.replace(map.next_value()?).is_some(),
            ("hgb", "trees") => boosted.replace(map.next_value()?).is_some(),
            ("hgb", "baseline") => baseline.replace(map.next_value()?).is_some(),
            ("hgb", "categorical") => categorical.replace(map.next_value()?).is_some(),
            _ => return Err(de::Error::unknown_field(&key, expected)),
        };
        if repeated {
            return Err(de::Error::custom(format!("duplicate field `{key}`")));
        }
    }
    let absent = |field: &'static str| <A::Error as de::Error>::missing_field(field);
    let classes = classes.ok_or_else(|| absent("classes"))?;
    Ok(match family {
        "tree" => ModelState::Tree { classes, nodes: nodes.ok_or_else(|| absent("nodes"))? },
        "forest" => ModelState::Forest { classes, trees: forest.ok_or_else(|| absent("trees"))? },
        _ => ModelState::Hgb {
            classes,
            categorical: categorical.unwrap_or_default(),
            baseline: baseline.ok_or_else(|| absent("baseline"))?,
            trees: boosted.ok_or_else(|| absent("trees"))?,
        },
    })
}

impl KindState {
    /// `state` saved as the family `family`.
    pub fn new(family: &'static str, state: &impl Serialize) -> KindState {
        let mut map = serde_json::Map::new();
        map.insert("type".into(), family.into());
        if let Ok(serde_json::Value::Object(fields)) = serde_json::to_value(state) {
            map.extend(fields);
        }
        KindState(map)
    }

    /// The family's name (`type`).
    pub fn family(&self) -> &str {
        self.0.get("type").and_then(|t| t.as_str()).unwrap_or_default()
    }

    /// The fields of family `family`, typed; an error names the problem.
    pub fn read<T: serde::de::DeserializeOwned>(&self, family: &str) -> Result<T, String> {
        if self.family() != family {
            return Err(format!("model.type `{}` is not `{family}`", self.family()));
        }
        let mut fields = self.0.clone();
        fields.remove("type");
        serde_json::from_value(serde_json::Value::Object(fields)).map_err(|e| format!("model: {e}"))
    }
}

/// One dense layer: `weights` is outputs × inputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Layer {
    pub weights: Vec<Vec<f64>>,
    pub biases: Vec<f64>,
}

impl From<LinearParts> for ModelState {
    fn from(l: LinearParts) -> Self {
        ModelState::Linear { head: l.head, weights: l.rows(), intercepts: l.intercepts }
    }
}

/// A linear model loaded from its state, with its weights also as features × outputs (the
/// product `runner predict` has always taken).
struct LoadedLinear(LinearParts, Array2<f64>);

impl Fitted for LoadedLinear {
    fn predict(&self, x: &Array2<f64>) -> Prediction {
        let l = &self.0;
        l.head.apply(x.dot(&self.1) + ndarray::ArrayView1::from(l.intercepts.as_slice()))
    }
    fn linear(&self) -> Option<LinearParts> {
        Some(self.0.clone())
    }
}

fn check(ok: bool, problem: impl FnOnce() -> String) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(problem())
    }
}

/// Every value is finite (no trainer writes NaN or infinity); the message names the first
/// one that is not, at `at[i]`.
pub(super) fn check_finite(values: &[f64], at: &str) -> Result<(), String> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(i) => Err(format!("{at}[{i}] is {}; a fitted value is a finite number", values[i])),
        None => Ok(()),
    }
}

/// Every row of `rows` has `width` finite entries.
pub(super) fn check_rows(rows: &[Vec<f64>], width: usize, at: &str) -> Result<(), String> {
    for (i, r) in rows.iter().enumerate() {
        check(r.len() == width, || format!("{at}[{i}] has {} values, expected {width}", r.len()))?;
        check_finite(r, &format!("{at}[{i}]"))?;
    }
    Ok(())
}

impl ModelState {
    /// `model.type` as model.json writes it.
    pub fn type_name(&self) -> &str {
        match self {
            ModelState::Kind(state) => state.family(),
            ModelState::Linear { .. } => "linear",
            ModelState::Tree { .. } => "tree",
            ModelState::Forest { .. } => "forest",
            ModelState::Mlp { .. } => "mlp",
            ModelState::Svr { .. } => "svr",
            ModelState::Svc { .. } => "svc",
            ModelState::Hgb { .. } => "hgb",
        }
    }

    /// The model, ready to predict a design matrix of `width` columns for a target with
    /// `classes` classes (0: regression). Every shape and value is checked first; a problem
    /// names its field (`model.weights[0][3]`).
    pub fn into_fitted(self, width: usize, classes: usize) -> Result<Box<dyn Fitted>, String> {
        let outputs = classes.max(1);
        match self {
            ModelState::Linear { head, weights, intercepts } => linear(head, weights, intercepts, width, classes),
            ModelState::Tree { classes: c, nodes } => {
                check(c == classes, || format!("model.classes is {c}, but the target has {classes} classes"))?;
                Ok(Box::new(Tree::from_flat(nodes, classes, width)?))
            }
            ModelState::Forest { classes: c, trees } => {
                check(c == classes, || format!("model.classes is {c}, but the target has {classes} classes"))?;
                Ok(Box::new(Forest::from_trees(trees, classes, width)?))
            }
            ModelState::Mlp { activation, softmax, layers } => {
                check(softmax == (classes > 0), || {
                    format!("model.softmax is {softmax}; it is true exactly for a classifier")
                })?;
                Ok(Box::new(MlpModel::from_layers(activation, softmax, &layers, width, outputs)?))
            }
            ModelState::Svr { machine } => {
                check(classes == 0, || "model.type `svr` predicts values, but the target has classes".to_string())?;
                machine.check(width, "model.machine")?;
                Ok(Box::new(Svr { machine, notes: Vec::new() }))
            }
            ModelState::Kind(state) => Err(format!("model.type `{}` is loaded by its kind", state.family())),
            ModelState::Svc { classes: c, machines, break_ties } => {
                check(c == classes && c >= 2, || {
                    format!("model.classes is {c}, but the target has {classes} classes")
                })?;
                check_pairs(&machines, c)?;
                for (k, m) in machines.iter().enumerate() {
                    m.machine.check(width, &format!("model.machines[{k}].machine"))?;
                }
                Ok(Box::new(OneVsOne { pairs: machines, n_classes: c, break_ties, notes: Vec::new() }))
            }
            ModelState::Hgb { classes: c, categorical, baseline, trees } => {
                check(c == classes && c != 1, || {
                    format!("model.classes is {c}, but the target has {classes} classes")
                })?;
                if categorical.is_empty() {
                    return Ok(Box::new(HgbModel::from_state(c, baseline, trees, width)?));
                }
                let ordinal = Ordinal::from_saved(categorical, width)?;
                let coded_width = ordinal.categories().len();
                let model = Box::new(HgbModel::from_state(c, baseline, trees, coded_width)?);
                Ok(Box::new(OnCodes { model, ordinal }))
            }
        }
    }
}

/// A linear model: the head the task takes (identity for values, sigmoid for two classes,
/// softmax for two or more), one finite weight row and intercept per output.
fn linear(
    head: Head,
    weights: Vec<Vec<f64>>,
    intercepts: Vec<f64>,
    width: usize,
    classes: usize,
) -> Result<Box<dyn Fitted>, String> {
    let (fits, expected) = match head {
        Head::Identity => (classes == 0, 1),
        Head::Sigmoid => (classes == 2, 1),
        Head::Softmax => (classes >= 2, classes),
    };
    check(fits, || match classes {
        0 => format!("model.head `{}` is for classes, but the model predicts values", head.name()),
        c => format!("model.head `{}` does not fit a target of {c} classes", head.name()),
    })?;
    check(weights.len() == expected, || format!("model.weights has {} rows, expected {expected}", weights.len()))?;
    check(intercepts.len() == expected, || {
        format!("model.intercepts has {} values, expected {expected}", intercepts.len())
    })?;
    check_rows(&weights, width, "model.weights")?;
    check_finite(&intercepts, "model.intercepts")?;
    let parts = LinearParts::from_rows(&weights, intercepts, head).ok_or("model.weights: ragged rows")?;
    let by_feature = parts.weights.t().as_standard_layout().into_owned();
    Ok(Box::new(LoadedLinear(parts, by_feature)))
}

/// One machine per pair of classes `negative < positive`, each pair once.
fn check_pairs(machines: &[PairMachine], classes: usize) -> Result<(), String> {
    let mut seen = std::collections::HashSet::new();
    for (k, m) in machines.iter().enumerate() {
        let (i, j) = (m.negative, m.positive);
        check(i < j && j < classes, || format!("model.machines[{k}] pairs classes ({i}, {j}), out of range"))?;
        check(seen.insert((i, j)), || format!("model.machines[{k}] repeats the pair of classes ({i}, {j})"))?;
    }
    let pairs = classes * (classes - 1) / 2;
    check(machines.len() == pairs, || {
        format!("model.machines has {} machines; {classes} classes need one per pair, {pairs}", machines.len())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kinds_own_family_reads_and_writes_with_its_type_first() {
        let text = r#"{"type":"knn","k":3}"#;
        let read = |text: &str| read_any(&mut serde_json::Deserializer::from_str(text));
        let state = read(text).unwrap();
        assert!(matches!(&state, ModelState::Kind(s) if s.family() == "knn"));
        let mut out = Vec::new();
        write_any(&state, &mut serde_json::Serializer::new(&mut out)).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), text);
        let linear = ModelState::Linear { head: Head::Identity, weights: vec![vec![1.0]], intercepts: vec![0.5] };
        let text = serde_json::to_string(&linear).unwrap();
        assert_eq!(text, r#"{"type":"linear","head":"identity","weights":[[1.0]],"intercepts":[0.5]}"#);
        assert_eq!(read(&text).unwrap(), linear);
    }

    /// Every core family's `type` is in `FAMILIES`, so it reads back as itself, not as a kind's.
    #[test]
    fn every_core_family_reads_back_as_itself() {
        let core = [
            ModelState::Linear { head: Head::Identity, weights: vec![vec![1.0]], intercepts: vec![0.5] },
            ModelState::Tree { classes: 0, nodes: FlatTree::default() },
            ModelState::Forest { classes: 0, trees: Vec::new() },
            ModelState::Hgb { classes: 0, categorical: Vec::new(), baseline: vec![0.5], trees: Vec::new() },
        ];
        for state in core {
            assert!(FAMILIES.contains(&state.type_name()), "{}", state.type_name());
            let mut out = Vec::new();
            write_any(&state, &mut serde_json::Serializer::new(&mut out)).unwrap();
            let back = read_any(&mut serde_json::Deserializer::from_slice(&out)).unwrap();
            assert_eq!(back, state);
        }
    }

    #[test]
    fn a_core_family_of_the_wrong_shape_is_refused_not_taken_for_a_kinds() {
        for family in FAMILIES {
            let text = format!(r#"{{"type":"{family}","weights":"x"}}"#);
            let e = read_any(&mut serde_json::Deserializer::from_str(&text)).unwrap_err().to_string();
            assert!(!e.contains("did not match"), "{e}");
        }
        assert!(read_any(&mut serde_json::Deserializer::from_str(r#"{"weights":[]}"#)).is_err());
    }
}
