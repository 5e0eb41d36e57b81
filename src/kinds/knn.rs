//! `knn`: k-nearest neighbours, scikit-learn's KNeighborsClassifier and KNeighborsRegressor
//! with `algorithm="brute"`, step for step as scikit-learn 1.9 computes them with one
//! OpenMP thread: the pairwise-distances reductions (`ArgKmin`, `ArgKminClassMode`), their
//! fixed-size max-heap (`utils/_heap.pyx`), the one-thread merge of the heaps and
//! `simultaneous_sort` (`utils/_sorting.pyx`), so neighbours tied in distance come out in
//! scikit-learn's order.

use super::{numpy_sum, Streamed};
use crate::models::introsort::simultaneous_sort_2way as simultaneous_sort;
use crate::models::{FitError, Fitted, KindState, ModelState, Prediction};
use crate::preprocess::{FoldData, FoldTargets};
use crate::spec::catalog::{KindSpec, TaskSupport};
use crate::spec::value::{choice_param, params, DefaultValue::*, FromParam, ParamType, ParamValue};
use crate::spec::ModelKind;
use ndarray::{Array1, Array2, ArrayView1};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use strum::{EnumString, IntoStaticStr, VariantNames};

/// How the k neighbours vote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumString, IntoStaticStr, VariantNames, Serialize, Deserialize)]
#[strum(serialize_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Weights {
    Uniform,
    Distance,
}
choice_param!(Weights);

params! {
    /// `knn`.
    KnnParams {
        n_neighbors: usize = I(5), ParamType::Int { min: 1, max: i64::MAX }, "neighbours that vote (sklearn's n_neighbors)";
        weights: Weights = S("uniform"), ParamType::Choice(Weights::VARIANTS), "uniform: each neighbour counts once; distance: by 1/distance (a zero distance takes all the weight)";
        p: usize = I(2), ParamType::Int { min: 1, max: 2 }, "Minkowski power: 1 manhattan, 2 euclidean";
    }
}

/// scikit-learn's `pairwise_dist_chunk_size`: when the query rows outnumber the training
/// rows or exceed four chunks, the reduction runs over the query rows (no heap merge).
const CHUNK: usize = 256;

pub struct Kind;

impl super::Kind for Kind {
    type Params = KnnParams;
    const CATALOG: KindSpec = KindSpec {
        kind: ModelKind::Knn,
        engine: "runner's brute-force neighbour search: scikit-learn's pairwise-distances reduction, heap and sort, step for step",
        task: TaskSupport::Both,
        summary: "k-nearest neighbours, as sklearn.neighbors.KNeighborsClassifier/Regressor with algorithm=\"brute\": the mean (or 1/distance-weighted mean) of the neighbours' targets, or their class shares",
        groups: &[KnnParams::SPECS],
        defaults: &[],
        saves: "`neighbors`: the settings, every training row of the design matrix and its target",
    };

    fn fit(p: &KnnParams, data: &FoldData, classes: &[String], _: u32) -> Result<Box<dyn Fitted>, FitError> {
        let (targets, classes) = match &data.train_y {
            FoldTargets::Regression(y) => (y.to_vec(), 0),
            FoldTargets::Classes(y) => (y.iter().map(|&c| c as f64).collect(), classes.len()),
        };
        let rows = data.train_x.nrows();
        if p.n_neighbors > rows {
            return Err(FitError::Solver(format!(
                "n_neighbors = {} is more than the {rows} training rows (sklearn: Expected n_neighbors <= n_samples_fit)",
                p.n_neighbors
            )));
        }
        Ok(Box::new(Neighbors::new(p.clone(), data.train_x.clone(), targets, classes)))
    }

    fn streamed(_: &KnnParams) -> Streamed<'_> {
        Streamed::Refused("k-nearest neighbours keeps every training row to search; use streaming = false")
    }

    fn no_sample_weights(_: &KnnParams) -> &'static str {
        "scikit-learn's KNeighbors* fit takes no sample_weight; `weights` weighs the neighbours by distance, not the rows"
    }

    fn saves(state: &ModelState) -> bool {
        matches!(state, ModelState::Kind(s) if s.family() == FAMILY)
    }

    fn load(state: ModelState, width: usize, classes: usize) -> Result<Box<dyn Fitted>, String> {
        let ModelState::Kind(state) = state else {
            return Err(format!("model.type `{}` is not `{FAMILY}`", state.type_name()));
        };
        let s: Saved = state.read(FAMILY)?;
        s.check(width, classes)?;
        let rows = Array2::from_shape_vec((s.rows.len(), width), s.rows.concat()).map_err(|e| e.to_string())?;
        let params = KnnParams { n_neighbors: s.n_neighbors, weights: s.weights, p: s.p };
        Ok(Box::new(Neighbors::new(params, rows, s.targets, classes)))
    }
}

const FAMILY: &str = "neighbors";

/// model.json's `neighbors`.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Saved {
    n_neighbors: usize,
    weights: Weights,
    p: usize,
    rows: Vec<Vec<f64>>,
    /// Values, or class indices into `target.classes`.
    targets: Vec<f64>,
}

impl Saved {
    fn check(&self, width: usize, classes: usize) -> Result<(), String> {
        let n = self.rows.len();
        if self.n_neighbors == 0 || self.n_neighbors > n || !(1..=2).contains(&self.p) {
            return Err(format!("model.n_neighbors {} or model.p {} is out of range", self.n_neighbors, self.p));
        }
        if self.targets.len() != n {
            return Err(format!("model.targets has {} values for {n} rows", self.targets.len()));
        }
        for (i, r) in self.rows.iter().enumerate() {
            if r.len() != width || r.iter().any(|v| !v.is_finite()) {
                return Err(format!("model.rows[{i}] is not {width} finite values"));
            }
        }
        let bad = |t: f64| match classes {
            0 => !t.is_finite(),
            c => t.fract() != 0.0 || t < 0.0 || t >= c as f64,
        };
        match self.targets.iter().position(|&t| bad(t)) {
            Some(i) => Err(format!("model.targets[{i}] is {}, not a finite value or class index", self.targets[i])),
            None => Ok(()),
        }
    }
}

struct Neighbors {
    params: KnnParams,
    rows: Array2<f64>,
    targets: Vec<f64>,
    /// 0 for regression.
    classes: usize,
    /// Each training row's squared norm, as the euclidean reduction's GEMM form uses it.
    norms: Vec<f64>,
}

impl Neighbors {
    fn new(params: KnnParams, rows: Array2<f64>, targets: Vec<f64>, classes: usize) -> Neighbors {
        let norms = rows.rows().into_iter().map(|r| dot(r, r)).collect();
        Neighbors { params, rows, targets, classes, norms }
    }

    /// The k nearest training rows of `x` and their distances, in scikit-learn's order
    /// (`ArgKmin` with `return_distance`), `queries` rows being searched at once.
    fn nearest(&self, x: ArrayView1<f64>, queries: usize) -> (Vec<f64>, Vec<usize>) {
        let n = self.rows.nrows();
        let (mut values, mut indices) = match self.params.p {
            // Euclidean: the GEMM form ||x||² - 2 x·y + ||y||², clipped at 0.
            2 => {
                let xn = dot(x, x);
                heap_scan(n, self.params.n_neighbors, |j| {
                    (xn + -2.0 * dot(x, self.rows.row(j)) + self.norms[j]).max(0.0)
                })
            }
            _ => heap_scan(n, self.params.n_neighbors, |j| manhattan(x, self.rows.row(j))),
        };
        // parallel_on_Y (one thread): the thread's heap is pushed into the main one.
        if n >= queries && queries <= 4 * CHUNK {
            let (thread_values, thread_indices) = (values.clone(), indices.clone());
            values.fill(f64::MAX);
            indices.fill(usize::MAX);
            for (&v, &j) in thread_values.iter().zip(&thread_indices) {
                heap_push(&mut values, &mut indices, v, j);
            }
        }
        simultaneous_sort(&mut values, &mut indices);
        if self.params.p == 2 {
            values.iter_mut().for_each(|v| *v = v.max(0.0).sqrt());
        }
        (values, indices)
    }

    /// `ArgKminClassMode`'s neighbours of `x` (uniform votes): the plain squared distance.
    fn voters(&self, x: ArrayView1<f64>) -> Vec<usize> {
        let k = self.params.n_neighbors;
        let n = self.rows.nrows();
        let (_, indices) = match self.params.p {
            2 => heap_scan(n, k, |j| squared(x, self.rows.row(j))),
            _ => heap_scan(n, k, |j| manhattan(x, self.rows.row(j))),
        };
        indices
    }

    fn predict_row(&self, x: ArrayView1<f64>, queries: usize) -> Vec<f64> {
        let k = self.params.n_neighbors;
        if self.classes > 0 && self.params.weights == Weights::Uniform {
            let mut scores = vec![0.0; self.classes];
            for j in self.voters(x) {
                scores[self.targets[j] as usize] += 1.0;
            }
            let total = numpy_sum(&scores);
            return scores.iter().map(|s| s / total).collect();
        }
        let (distances, indices) = self.nearest(x, queries);
        let weights: Vec<f64> = match self.params.weights {
            Weights::Uniform => vec![1.0; k],
            Weights::Distance if distances.contains(&0.0) => {
                distances.iter().map(|&d| if d == 0.0 { 1.0 } else { 0.0 }).collect()
            }
            Weights::Distance => distances.iter().map(|d| 1.0 / d).collect(),
        };
        if self.classes > 0 {
            let mut scores = vec![0.0; self.classes];
            for (&j, w) in indices.iter().zip(&weights) {
                scores[self.targets[j] as usize] += w;
            }
            let total = numpy_sum(&scores);
            return scores.iter().map(|s| s / total).collect();
        }
        let y: Vec<f64> = indices.iter().map(|&j| self.targets[j]).collect();
        match self.params.weights {
            Weights::Uniform => vec![numpy_sum(&y) / k as f64],
            Weights::Distance => {
                let weighted: Vec<f64> = y.iter().zip(&weights).map(|(y, w)| y * w).collect();
                vec![numpy_sum(&weighted) / numpy_sum(&weights)]
            }
        }
    }
}

impl Fitted for Neighbors {
    fn predict(&self, x: &Array2<f64>) -> Prediction {
        let queries = x.nrows();
        let rows: Vec<Vec<f64>> = (0..queries).into_par_iter().map(|i| self.predict_row(x.row(i), queries)).collect();
        if self.classes == 0 {
            return Prediction::Values(Array1::from_iter(rows.into_iter().map(|r| r[0])));
        }
        let flat: Vec<f64> = rows.concat();
        Prediction::Probabilities(Array2::from_shape_vec((queries, self.classes), flat).unwrap_or_default())
    }


    fn state(&self) -> Option<ModelState> {
        let saved = Saved {
            n_neighbors: self.params.n_neighbors,
            weights: self.params.weights,
            p: self.params.p,
            rows: self.rows.rows().into_iter().map(|r| r.to_vec()).collect(),
            targets: self.targets.clone(),
        };
        Some(ModelState::Kind(KindState::new(FAMILY, &saved)))
    }
}

/// BLAS's dot product as its kernels compute it for a few columns: one fused
/// multiply-add chain.
fn dot(a: ArrayView1<f64>, b: ArrayView1<f64>) -> f64 {
    a.iter().zip(b.iter()).fold(0.0, |s, (x, y)| x.mul_add(*y, s))
}

/// `EuclideanDistance.rdist`: the sum of squared differences, in column order.
fn squared(a: ArrayView1<f64>, b: ArrayView1<f64>) -> f64 {
    a.iter().zip(b.iter()).fold(0.0, |s, (x, y)| {
        let t = x - y;
        s + t * t
    })
}

/// `ManhattanDistance.dist`.
fn manhattan(a: ArrayView1<f64>, b: ArrayView1<f64>) -> f64 {
    a.iter().zip(b.iter()).fold(0.0, |s, (x, y)| s + (x - y).abs())
}

/// Every training row pushed, in order, onto a k-slot max-heap.
fn heap_scan(n: usize, k: usize, value: impl Fn(usize) -> f64) -> (Vec<f64>, Vec<usize>) {
    let (mut values, mut indices) = (vec![f64::MAX; k], vec![usize::MAX; k]);
    for j in 0..n {
        heap_push(&mut values, &mut indices, value(j), j);
    }
    (values, indices)
}

/// `utils/_heap.pyx` `heap_push`: keeps the k smallest; a value equal to the largest kept
/// one is not taken.
fn heap_push(values: &mut [f64], indices: &mut [usize], val: f64, val_idx: usize) {
    let size = values.len();
    if size == 0 || val >= values[0] {
        return;
    }
    let mut current = 0;
    loop {
        let left = 2 * current + 1;
        let right = left + 1;
        let swap = if left >= size {
            break;
        } else if right >= size || values[left] >= values[right] {
            if val < values[left] {
                left
            } else {
                break;
            }
        } else if val < values[right] {
            right
        } else {
            break;
        };
        values[current] = values[swap];
        indices[current] = indices[swap];
        current = swap;
    }
    values[current] = val;
    indices[current] = val_idx;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::ModelSpec;

    #[test]
    fn the_heap_keeps_the_first_of_tied_rows_and_the_sort_orders_every_length() {
        let (values, indices) = heap_scan(6, 3, |j| [2.0, 1.0, 1.0, 0.5, 1.0, 3.0][j]);
        let mut sorted: Vec<(f64, usize)> = values.into_iter().zip(indices).collect();
        sorted.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        assert_eq!(sorted, [(0.5, 3), (1.0, 1), (1.0, 2)]);
        for n in [1, 15, 16, 40, 200] {
            let mut values: Vec<f64> = (0..n).map(|i| ((i * 7919) % 97) as f64).collect();
            let mut indices: Vec<usize> = (0..n).collect();
            simultaneous_sort(&mut values, &mut indices);
            assert!(values.windows(2).all(|w| w[0] <= w[1]), "{n}");
            assert!(indices.iter().zip(&values).all(|(&i, &v)| ((i * 7919) % 97) as f64 == v));
        }
    }

    #[test]
    fn a_stream_is_refused_with_its_reason() {
        let spec = ModelSpec::check(ModelKind::Knn, &Default::default()).unwrap();
        assert!(matches!(spec.streamed(), Streamed::Refused(why) if why.contains("every training row")));
    }
}
