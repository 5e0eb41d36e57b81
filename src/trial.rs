//! Trials and their results: the grid points the sweep runs (one [`Trial`] per point, its
//! parameters checked into a [`ModelSpec`]) and the record each (trial, fold) unit leaves,
//! which trials.jsonl stores and the report reads.

use crate::config::{Distribution, Metric, ModelConfig, SearchConfig};
use crate::kinds::ModelSpec;
use crate::models::{Head, LinearParts, LossCurve};
use crate::preprocess::steps::target::TargetFunc;
use crate::preprocess::steps::{StepSpec, STEPS};
use crate::random::RandomState;
use crate::spec::value::FromParam;
use crate::spec::ParamValue;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One grid point of one model.
#[derive(Debug, Clone)]
pub struct Trial {
    pub id: String,
    pub model: String,
    /// The swept parameters of this grid point, in axis order.
    pub grid: Vec<(String, ParamValue)>,
    /// The model's kind and every parameter, typed and checked.
    pub spec: ModelSpec,
    /// The model's own preprocessing steps, in order, their parameters typed and checked.
    pub steps: Vec<StepSpec>,
    /// The regression target's transform (`target = "log1p"`); `TargetFunc::None` without.
    pub target: TargetFunc,
}

impl Trial {
    /// Trials with equal `steps_key`s on one fold share their transformed matrices (and targets).
    pub fn steps_key(&self) -> String {
        format!("{:?}{:?}", self.steps, self.target)
    }

    /// Whether the fold's matrices or targets change for this trial (steps or a target transform).
    pub fn has_pipeline(&self) -> bool {
        !self.steps.is_empty() || self.target != TargetFunc::None
    }
}

/// A grid point: (axis, value) pairs in axis (name) order.
type Point = Vec<(String, ParamValue)>;

/// A grid point a model refuses (a combination of parameters its kind does not take, such as a
/// forest's `oob_score` without `bootstrap`): the model's name and the reason.
#[derive(Debug, Clone, PartialEq)]
pub struct PointError {
    pub model: String,
    pub message: String,
}

impl std::fmt::Display for PointError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[[model]] {}: {}", self.model, self.message)
    }
}

/// The trials of every model. A grid search takes the cartesian product of each model's
/// grid axes, axes in name order and the last varying fastest (as scikit-learn's
/// ParameterGrid); a random search draws `n_trials` points per model from the seed (see
/// [`sample_points`]). A point drawn twice is one trial.
pub fn expand_trials(models: &[ModelConfig], search: SearchConfig, seed: u32) -> Result<Vec<Trial>, PointError> {
    let mut trials: Vec<Trial> = Vec::new();
    for m in models {
        let refused = |message: String| PointError { model: m.name.clone(), message };
        let mut points = match search {
            SearchConfig::Grid | SearchConfig::Halving { .. } => grid_points(m),
            SearchConfig::Random { n_trials } => sample_points(m, n_trials, seed),
        };
        let mut seen = std::collections::HashSet::new();
        points.retain(|p| seen.insert(format!("{p:?}")));
        let digits = id_digits(&points);
        for point in points {
            let id = if point.is_empty() {
                m.name.clone()
            } else {
                let inner: Vec<String> =
                    point.iter().map(|(k, v)| format!("{k}={}", id_label(v, digits.get(k).copied()))).collect();
                format!("{}[{}]", m.name, inner.join(","))
            };
            let mut given = m.fixed.clone();
            given.extend(point.iter().cloned());
            // `poly.degree` is a step's parameter, `target` the target transform, `alpha` the kind's.
            let (step_values, mut own): (BTreeMap<_, _>, BTreeMap<_, _>) =
                given.into_iter().partition(|(k, _)| k.contains('.'));
            let target = match own.remove("target") {
                None => TargetFunc::None,
                Some(v) => TargetFunc::from_param(&v)
                    .ok_or_else(|| refused(format!("target = {v} is not a target transform")))?,
            };
            let spec = ModelSpec::check(m.kind, &own).map_err(refused)?;
            let steps = check_steps(&m.steps, &step_values).map_err(refused)?;
            trials.push(Trial { id, model: m.name.clone(), grid: point, spec, steps, target });
        }
    }
    Ok(trials)
}

/// The steps `names` with their values (`poly.degree` → `degree` of `poly`), defaults filled in.
fn check_steps(names: &[String], values: &BTreeMap<String, ParamValue>) -> Result<Vec<StepSpec>, String> {
    names
        .iter()
        .map(|name| {
            let entry = STEPS.iter().find(|s| s.name == name).ok_or_else(|| format!("unknown step `{name}`"))?;
            let mut own: crate::spec::ParamValues =
                entry.params.iter().map(|p| (p.name.to_string(), p.default.value())).collect();
            for (key, value) in values {
                if let Some(param) = key.strip_prefix(name.as_str()).and_then(|k| k.strip_prefix('.')) {
                    let p = entry.param(param).ok_or_else(|| format!("unknown parameter `{key}`"))?;
                    own.insert(param.to_string(), p.ty.check(value).map_err(|e| format!("`{key}`: {e}"))?);
                }
            }
            StepSpec::check(name, &own).map_err(|e| format!("step `{name}`: {e}"))
        })
        .collect()
}

/// A number's label in a trial id: `digits` significant digits (shortest form of the
/// rounded value, exponent form below 1e-4 and from 1e16). Other values as they are.
fn id_label(v: &ParamValue, digits: Option<usize>) -> String {
    let (ParamValue::Float(x), Some(d)) = (v, digits) else { return v.to_string() };
    let rounded: f64 = format!("{x:.*e}", d.saturating_sub(1)).parse().unwrap_or(*x);
    if rounded != 0.0 && (rounded.abs() < 1e-4 || rounded.abs() >= 1e16) {
        format!("{rounded:e}")
    } else {
        rounded.to_string()
    }
}

/// For each float axis of a model's points, the fewest significant digits (from 4) whose
/// labels keep its distinct values distinct, so ids read `c=1.149` yet stay unique.
fn id_digits(points: &[Point]) -> BTreeMap<String, usize> {
    let mut values: BTreeMap<String, Vec<&ParamValue>> = BTreeMap::new();
    for p in points {
        for (k, v) in p {
            if matches!(v, ParamValue::Float(_)) {
                values.entry(k.clone()).or_default().push(v);
            }
        }
    }
    values
        .into_iter()
        .map(|(axis, vs)| {
            let distinct = |d: usize| {
                let mut full = std::collections::HashMap::new();
                vs.iter().all(|v| full.entry(id_label(v, Some(d))).or_insert(v.to_string()) == &v.to_string())
            };
            let digits = (4..=17).find(|&d| distinct(d)).unwrap_or(17);
            (axis, digits)
        })
        .collect()
}

/// Every point of a model's grid, in ParameterGrid's order.
fn grid_points(m: &ModelConfig) -> Vec<Point> {
    let mut points: Vec<Point> = vec![Vec::new()];
    for (axis, values) in &m.grid {
        points = points
            .into_iter()
            .flat_map(|p| {
                values.iter().map(move |v| {
                    let mut q = p.clone();
                    q.push((axis.clone(), v.clone()));
                    q
                })
            })
            .collect();
    }
    points
}

/// The `index`-th point of a model's grid in ParameterGrid's order (the last axis fastest).
fn grid_point(m: &ModelConfig, mut index: usize) -> Point {
    let mut point: Point = Vec::with_capacity(m.grid.len());
    for (axis, values) in m.grid.iter().rev() {
        point.push((axis.clone(), values[index % values.len()].clone()));
        index /= values.len();
    }
    point.reverse();
    point
}

/// scikit-learn's `ParameterSampler(axes, n, random_state=seed)`, one generator per model.
/// Only lists: `n` distinct grid points by `sample_without_replacement` (all of them, in
/// grid order, when the grid has no more than `n`). With a distribution: `n` draws, each
/// axis in name order taking `values[randint(len)]` or the distribution's `rvs`.
pub fn sample_points(m: &ModelConfig, n: usize, seed: u32) -> Vec<Point> {
    let mut rng = RandomState::new(seed);
    if m.distributions.is_empty() {
        // ParameterGrid indexing: the grid is never materialised (it may be huge).
        let size = m.grid.iter().fold(1usize, |n, (_, v)| n.saturating_mul(v.len()));
        let picks = rng.sample_without_replacement(size, n.min(size));
        return picks.into_iter().map(|i| grid_point(m, i)).collect();
    }
    enum Axis<'a> {
        List(&'a [ParamValue]),
        Dist(&'a Distribution),
    }
    let mut axes: Vec<(&str, Axis<'_>)> = m.grid.iter().map(|(k, v)| (k.as_str(), Axis::List(v))).collect();
    axes.extend(m.distributions.iter().map(|(k, d)| (k.as_str(), Axis::Dist(d))));
    axes.sort_by(|a, b| a.0.cmp(b.0));
    (0..n)
        .map(|_| {
            let draw = |axis: &Axis<'_>, rng: &mut RandomState| match axis {
                Axis::List(values) => values[rng.randint(0, values.len() as u64) as usize].clone(),
                Axis::Dist(d) => d.sample(rng),
            };
            axes.iter().map(|(k, axis)| (k.to_string(), draw(axis, &mut rng))).collect()
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, strum::IntoStaticStr)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Status {
    Ok,
    Failed,
    Diverged,
}

impl Status {
    pub fn name(self) -> &'static str {
        self.into()
    }
}

/// The outcome of one (trial, fold) unit: what trials.jsonl stores, one line each.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnitRecord {
    pub trial: String,
    pub fold: usize,
    pub status: Status,
    pub reason: Option<String>,
    /// Metric values; `None` where a metric is undefined on this fold (roc_auc with one class).
    pub test: BTreeMap<Metric, Option<f64>>,
    pub train: BTreeMap<Metric, Option<f64>>,
    pub coefficients: Option<CoefficientsRecord>,
    /// Test-part confusion matrix, `[true][predicted]`.
    pub confusion: Option<Vec<Vec<usize>>>,
    /// Per-epoch losses of iterative trainers.
    #[serde(default)]
    pub loss_curve: Option<LossCurve>,
    /// Warnings about a fit that succeeded (rank deficiency, non-convergence).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// A forest's `oob_score_` (`oob_score = true`): accuracy or R^2 of its out-of-bag predictions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oob_score: Option<f64>,
}

/// A unit's `LinearParts` as trials.jsonl writes them: the weight rows (one per output) and
/// the intercepts. The head is left out (trials.jsonl's bytes predate it): it follows from
/// the task's classes and the rows (`Head::of`), which [`CoefficientsRecord::parts`] uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoefficientsRecord {
    pub weights: Vec<Vec<f64>>,
    pub intercepts: Vec<f64>,
    /// The weights' column names when a model's steps made them (`x0 x1`, `x0^2`); absent,
    /// the dataset's design columns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub features: Option<Vec<String>>,
}

impl From<LinearParts> for CoefficientsRecord {
    fn from(l: LinearParts) -> Self {
        CoefficientsRecord { weights: l.rows(), intercepts: l.intercepts, features: None }
    }
}

impl CoefficientsRecord {
    /// The parts back, for a target of `classes` classes (0: regression); `None` when no
    /// linear model has this shape.
    pub fn parts(&self, classes: usize) -> Option<LinearParts> {
        let head = Head::of(classes, self.weights.len())?;
        LinearParts::from_rows(&self.weights, self.intercepts.clone(), head)
    }
}

/// The trials grouped into warm-start paths: trials of one model whose specs differ only
/// in the path axis (`ModelSpec::path_position`) form one path, ordered along it (ties in
/// grid order); every other trial is a path of one. Groups come in order of their first
/// trial. The order depends on the grid alone, never on scheduling, so a path's results
/// are the same for any `--jobs`, shard or resume.
pub fn paths(trials: &[Trial]) -> Vec<Vec<usize>> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut by_key: std::collections::HashMap<(String, String), usize> = std::collections::HashMap::new();
    for (t, trial) in trials.iter().enumerate() {
        if trial.spec.path_position().is_none() {
            groups.push(vec![t]);
            continue;
        }
        // Trials whose steps differ train on different matrices: never one path.
        let key = (trial.model.clone(), format!("{}{}", trial.spec.path_key(), trial.steps_key()));
        match by_key.get(&key) {
            Some(&g) => groups[g].push(t),
            None => {
                by_key.insert(key, groups.len());
                groups.push(vec![t]);
            }
        }
    }
    let position = |t: usize| trials[t].spec.path_position().unwrap_or(0.0);
    for g in &mut groups {
        g.sort_by(|&a, &b| position(a).total_cmp(&position(b)).then(a.cmp(&b)));
    }
    groups
}

/// A named random stream derived from the experiment seed. Each variant hashes the text its
/// string name always had, so every seed (and report) is unchanged. `Unit { trial: "outer", .. }`
/// and `Outer` share a value, but `Outer`'s is only ever hashed again with a trial and fold, never
/// drawn from, so no two generators share a stream.
#[derive(Debug, Clone, Copy)]
pub enum SeedStream<'a> {
    /// A (trial, fold) unit's trainer: mini-batch order, hold-outs, initialisation.
    Unit { trial: &'a str, fold: usize },
    /// Nested CV's outer fold: the seed its inner sweep and refit derive their units' from.
    Outer(usize),
    /// A streamed epoch's batch order.
    BatchOrder(usize),
}

/// The random seed of `stream`: a hash of the experiment seed and the stream, so it never
/// depends on threads, scheduling or the other trials.
pub fn unit_seed(seed: u32, stream: SeedStream<'_>) -> u32 {
    use sha2::{Digest, Sha256};
    let text = match stream {
        SeedStream::Unit { trial, fold } => format!("{seed}/{trial}/{fold}"),
        SeedStream::Outer(o) => format!("{seed}/outer/{o}"),
        SeedStream::BatchOrder(epoch) => format!("{seed}/(batch order)/{epoch}"),
    };
    let digest = Sha256::digest(text.as_bytes());
    u32::from_le_bytes([digest[0], digest[1], digest[2], digest[3]])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::ModelKind;
    use std::collections::BTreeMap;

    #[test]
    fn a_record_keeps_linear_parts_as_trials_jsonl_always_wrote_them() {
        let parts = LinearParts::from_rows(
            &[vec![1.0, 2.0], vec![3.0, 4.0], vec![5.0, 6.0]],
            vec![0.1, 0.2, 0.3],
            Head::Softmax,
        );
        let record = CoefficientsRecord::from(parts.clone().unwrap());
        let json = serde_json::to_string(&record).unwrap();
        assert_eq!(json, r#"{"weights":[[1.0,2.0],[3.0,4.0],[5.0,6.0]],"intercepts":[0.1,0.2,0.3]}"#);
        let back: CoefficientsRecord = serde_json::from_str(&json).unwrap();
        assert_eq!(back.parts(3), parts, "the head follows from the classes");
        let binary = CoefficientsRecord { weights: vec![vec![1.0]], intercepts: vec![0.0], features: None };
        assert_eq!(binary.parts(2).map(|p| p.head), Some(Head::Sigmoid));
        assert_eq!(binary.parts(0).map(|p| p.head), Some(Head::Identity));
        assert_eq!(back.parts(0), None, "three rows are no regression model");
    }

    #[test]
    fn grid_is_a_cartesian_product_with_the_last_axis_fastest() {
        let m = ModelConfig {
            steps: Vec::new(),
            name: "en".into(),
            kind: ModelKind::ElasticNet,
            fixed: BTreeMap::new(),
            grid: vec![
                ("alpha".into(), vec![ParamValue::Float(0.1), ParamValue::Float(1.0)]),
                ("l1_ratio".into(), vec![ParamValue::Float(0.2), ParamValue::Float(0.8)]),
            ],
            distributions: vec![],
        };
        let ids: Vec<String> = expand_trials(&[m], SearchConfig::Grid, 0).unwrap().into_iter().map(|t| t.id).collect();
        assert_eq!(
            ids,
            vec![
                "en[alpha=0.1,l1_ratio=0.2]",
                "en[alpha=0.1,l1_ratio=0.8]",
                "en[alpha=1,l1_ratio=0.2]",
                "en[alpha=1,l1_ratio=0.8]"
            ]
        );
    }

    #[test]
    fn svm_trials_that_differ_only_in_c_or_epsilon_share_a_path() {
        let floats = |v: &[f64]| v.iter().map(|&x| ParamValue::Float(x)).collect::<Vec<_>>();
        let m = ModelConfig {
            name: "svm".into(),
            kind: ModelKind::Svm,
            steps: vec![],
            fixed: BTreeMap::new(),
            grid: vec![
                ("c".into(), floats(&[10.0, 1.0])),
                ("epsilon".into(), floats(&[0.1, 0.2])),
                ("gamma".into(), floats(&[0.5, 2.0])),
            ],
            distributions: vec![],
        };
        let trials = expand_trials(&[m], SearchConfig::Grid, 0).unwrap();
        // c-major grid order: trial 4k + 2e + g; a path per gamma, by increasing C.
        assert_eq!(paths(&trials), vec![vec![4, 6, 0, 2], vec![5, 7, 1, 3]]);
    }

    #[test]
    fn ids_shorten_floats_but_keep_them_apart() {
        let axis = |values: &[f64]| ModelConfig {
            steps: Vec::new(),
            name: "m".into(),
            kind: ModelKind::Ridge,
            fixed: BTreeMap::new(),
            grid: vec![("alpha".into(), values.iter().map(|&v| ParamValue::Float(v)).collect())],
            distributions: vec![],
        };
        let ids = |values: &[f64]| -> Vec<String> {
            expand_trials(&[axis(values)], SearchConfig::Grid, 0).unwrap().into_iter().map(|t| t.id).collect()
        };
        assert_eq!(ids(&[1.1489510001873087, 10.0, 0.1]), ["m[alpha=1.149]", "m[alpha=10]", "m[alpha=0.1]"]);
        // 4 digits would collide (both 1.149): 5 keep them apart.
        assert_eq!(ids(&[1.14895, 1.14899]), ["m[alpha=1.1489]", "m[alpha=1.149]"]);
        assert_eq!(ids(&[3.1622776601683795e-5]), ["m[alpha=3.162e-5]"]);
        let trials = expand_trials(&[axis(&[1.1489510001873087])], SearchConfig::Grid, 0).unwrap();
        assert_eq!(trials[0].grid[0].1, ParamValue::Float(1.1489510001873087), "the full value is kept");
    }

    #[test]
    fn a_model_without_grid_is_one_trial_named_after_it() {
        let m = ModelConfig {
            steps: Vec::new(),
            name: "ols".into(),
            kind: ModelKind::LinearRegression,
            fixed: BTreeMap::new(),
            grid: vec![],
            distributions: vec![],
        };
        let trials = expand_trials(&[m], SearchConfig::Grid, 0).unwrap();
        assert_eq!(trials.len(), 1);
        assert_eq!(trials[0].id, "ols");
        assert!(matches!(&trials[0].spec, ModelSpec::LinearRegression(p) if p.fit_intercept));
    }
}
