//! Model kinds: each trainer takes a checked parameter set and one fold's training matrix
//! and returns a fitted model that predicts and reports its coefficients.

mod criterion;
pub mod elasticnet;
pub mod flat;
pub mod forest;
pub mod hgb;
pub mod gd;
pub mod introsort;
mod lbfgs;
mod libsvm;
pub use crate::linalg;
pub mod linear;
pub mod logistic;
pub mod loss;
pub mod mlp;
pub mod newton;
mod presorted;
mod prune;
mod state;
pub mod svm;
pub mod target;
pub mod tree;
pub mod weights;

use ndarray::{Array1, Array2, ShapeBuilder};

pub use linear::{least_squares_from_gram, ridge_from_gram, solve_ridge};
pub use state::{read_any as read_state, write_any as write_state, KindState, Layer, ModelState};

/// What a fitted model says about a test matrix.
#[derive(Debug, Clone)]
pub enum Prediction {
    Values(Array1<f64>),
    /// One row per sample, one column per class (the dataset's sorted classes).
    Probabilities(Array2<f64>),
}

/// Per-epoch losses of an iterative trainer: the training objective, and the validation
/// loss when early stopping holds rows out.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LossCurve {
    pub train: Vec<f64>,
    pub validation: Option<Vec<f64>>,
}

pub trait Fitted: Send + Sync {
    fn predict(&self, x: &Array2<f64>) -> Prediction;
    fn loss_curve(&self) -> Option<LossCurve> {
        None
    }
    /// What the user should know about a fit that succeeded (rank, convergence).
    fn notes(&self) -> Vec<FitNote> {
        Vec::new()
    }
    /// For a model that predicts from linear scores: its parts (what the unit records, what
    /// model.json saves). Lets many models predict with one matrix product.
    fn linear(&self) -> Option<LinearParts> {
        None
    }
    /// A kernel machine's parts: lets the points of a path predict with kernel values shared
    /// between their support vectors (`svm::predict_many`).
    fn kernel_model(&self) -> Option<&dyn svm::KernelModel> {
        None
    }
    /// Trees summed in tree order (a decision tree, a forest): lets permutation importance
    /// re-route only the rows a shuffle moves (`flat::Routed`).
    fn tree_sum(&self) -> Option<flat::TreeSum<'_>> {
        None
    }
    /// The prediction of the rows the model was fitted on, in their order, when the fit kept it
    /// (boosting keeps the training rows' raw predictions): the bits a predict of them gives.
    fn fitted_prediction(&self) -> Option<Prediction> {
        None
    }
    /// A boosted ensemble on coded rows (`hist_gradient_boosting`): lets permutation importance
    /// and partial dependence re-route only the rows a change moves (`hgb::Routed`).
    fn coded(&self) -> Option<&hgb::Coded> {
        None
    }
    /// The out-of-bag prediction of each training row (a forest with `oob_score`).
    fn out_of_bag(&self) -> Option<Prediction> {
        None
    }
    /// scikit-learn's impurity-based `feature_importances_` by design-matrix column (trees and
    /// forests as fitted; a loaded model has none).
    fn impurity_importance(&self) -> Option<Vec<f64>> {
        None
    }
    /// The fitted parameters as plain data (model.json); linear models give their parts.
    fn state(&self) -> Option<ModelState> {
        self.linear().map(ModelState::from)
    }
}

/// A linear model's parts, `head(x·weightsᵀ + intercepts)`: every linear kind's fit, its
/// unit record (`trial::CoefficientsRecord`, the rows without the head), its saved state
/// (`ModelState::Linear`) and the explanation's predictor.
#[derive(Debug, Clone, PartialEq)]
pub struct LinearParts {
    /// outputs × design-matrix columns.
    pub weights: Array2<f64>,
    pub intercepts: Vec<f64>,
    pub head: Head,
}

impl LinearParts {
    /// One output: a weight per column and the intercept.
    pub fn single(weights: &Array1<f64>, intercept: f64, head: Head) -> LinearParts {
        LinearParts { weights: weights.clone().insert_axis(ndarray::Axis(0)), intercepts: vec![intercept], head }
    }

    /// From rows of weights (one per output), as trials.jsonl and model.json hold them;
    /// `None` when the rows are ragged.
    pub fn from_rows(rows: &[Vec<f64>], intercepts: Vec<f64>, head: Head) -> Option<LinearParts> {
        let width = rows.first().map_or(0, Vec::len);
        let weights = Array2::from_shape_vec((rows.len(), width), rows.concat()).ok()?;
        Some(LinearParts { weights, intercepts, head })
    }

    /// The weights as rows, one per output.
    pub fn rows(&self) -> Vec<Vec<f64>> {
        self.weights.rows().into_iter().map(|r| r.to_vec()).collect()
    }

    /// The linear scores `x·weightsᵀ + intercepts`, one column per output.
    pub fn scores(&self, x: &Array2<f64>) -> Array2<f64> {
        x.dot(&self.weights.t()) + ndarray::ArrayView1::from(self.intercepts.as_slice())
    }

    /// Moves the scores `z` (rows × outputs, row-major) of a matrix whose column `c` changes by
    /// `delta[i]` on row `i`: `z[i] += W[:, c]·delta[i]`, O(rows) instead of a new product.
    pub fn shift_scores(&self, z: &mut [f64], c: usize, delta: impl Iterator<Item = f64>) {
        let w = self.weights.column(c);
        if let [w0] = w.as_slice().unwrap_or(&[]) {
            // A regressor or a binary classifier: one output, a tight loop.
            for (zi, d) in z.iter_mut().zip(delta) {
                *zi += w0 * d;
            }
            return;
        }
        for (row, d) in z.chunks_mut(w.len()).zip(delta) {
            for (zk, wk) in row.iter_mut().zip(w.iter()) {
                *zk += wk * d;
            }
        }
    }

    fn is_finite(&self) -> bool {
        self.weights.iter().chain(&self.intercepts).all(|v| v.is_finite())
    }
}

/// How linear scores become a prediction.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Head {
    Identity,
    /// Two classes: `[1 - σ(z), σ(z)]`.
    Sigmoid,
    Softmax,
}

impl Head {
    /// The head of a linear model with `outputs` score columns for a target of `classes`
    /// classes (0: regression): identity for one value, sigmoid for one score of two
    /// classes, softmax for a score per class. `None`: no linear model has that shape.
    pub fn of(classes: usize, outputs: usize) -> Option<Head> {
        match (classes, outputs) {
            (0, 1) => Some(Head::Identity),
            (0, _) => None,
            (2, 1) => Some(Head::Sigmoid),
            (c, o) if c >= 2 && o == c => Some(Head::Softmax),
            _ => None,
        }
    }

    /// The head as model.json writes it.
    pub fn name(self) -> &'static str {
        match self {
            Head::Identity => "identity",
            Head::Sigmoid => "sigmoid",
            Head::Softmax => "softmax",
        }
    }

    pub fn apply(self, z: Array2<f64>) -> Prediction {
        match self {
            Head::Identity => Prediction::Values(z.column(0).to_owned()),
            Head::Sigmoid => Prediction::Probabilities(sigmoid_probabilities(z.column(0).iter().copied())),
            Head::Softmax => Prediction::Probabilities(softmax_rows(z)),
        }
    }
}

/// Every model's prediction of `x`. When all are linear, one matrix product scores them
/// together (a path's points share the data pass); when all are kernel machines, each kernel
/// value is computed once for all of them; otherwise each predicts alone.
pub fn predict_many(models: &[&dyn Fitted], x: &Array2<f64>) -> Vec<Prediction> {
    let kernel: Option<Vec<&dyn svm::KernelModel>> = models.iter().map(|m| m.kernel_model()).collect();
    if let Some(kernel) = kernel.filter(|k| k.len() > 1) {
        return svm::predict_many(&kernel, x);
    }
    let linear: Option<Vec<LinearParts>> = models.iter().map(|m| m.linear()).collect();
    let Some(linear) = linear.filter(|l| l.len() > 1) else {
        return models.iter().map(|m| m.predict(x)).collect();
    };
    let views: Vec<_> = linear.iter().map(|l| l.weights.t()).collect();
    let Ok(all) = ndarray::concatenate(ndarray::Axis(1), &views) else {
        return models.iter().map(|m| m.predict(x)).collect();
    };
    // Column-major, so each model's predictions are contiguous (no strided copy); the same
    // product element by element as `x.dot(&all)`.
    let mut z = Array2::zeros((x.nrows(), all.ncols()).f());
    ndarray::linalg::general_mat_mul(1.0, x, &all, 0.0, &mut z);
    let mut at = 0;
    linear
        .iter()
        .map(|l| {
            let width = l.weights.nrows();
            let block = z.slice(ndarray::s![.., at..at + width]);
            at += width;
            match (l.head, l.intercepts.as_slice()) {
                // One output: the column with its intercept, in one pass.
                (Head::Identity, &[b]) => Prediction::Values(block.column(0).mapv(|v| v + b)),
                (Head::Sigmoid, &[b]) => {
                    Prediction::Probabilities(sigmoid_probabilities(block.column(0).iter().map(|v| v + b)))
                }
                (head, intercepts) => head.apply(block.to_owned() + ndarray::ArrayView1::from(intercepts)),
            }
        })
        .collect()
}

/// A warning about a successful fit, recorded on its unit and shown in the report.
#[derive(Debug, Clone, PartialEq)]
pub enum FitNote {
    /// The (centred) design matrix has rank `rank` of `columns` at the solver's cut-off;
    /// `dependent` are the design-matrix columns in the directions left out. `exact`: they
    /// are linearly dependent to rounding; else the matrix is only ill-conditioned (badly
    /// scaled or nearly dependent columns), and the cut-off (`tol`) dropped them.
    RankDeficient { rank: usize, columns: usize, dependent: Vec<usize>, exact: bool },
    /// An iterative solver stopped at its iteration limit before its tolerance was met.
    NotConverged { iterations: usize, detail: String },
    /// The Cholesky solve was numerically singular or ill-conditioned; the SVD solved it.
    IllConditioned,
}

impl FitNote {
    /// The note in words, naming design-matrix columns by `feature_names`. `scaled`: the
    /// experiment scales every column, so scaling is no advice to give.
    pub fn describe(&self, feature_names: &[String], scaled: bool) -> String {
        let scale = if scaled { "" } else { "scale the features ([preprocess] scale = \"standard\") or " };
        match self {
            FitNote::RankDeficient { rank, columns, dependent, exact } => {
                let names: Vec<&str> =
                    dependent.iter().filter_map(|&j| feature_names.get(j).map(String::as_str)).collect();
                let names = names.join(", ");
                if *exact {
                    format!(
                        "the design matrix has rank {rank} of {columns}: columns {names} are linearly dependent; \
                         the minimum-norm solution is reported (leave out one of them to silence this)"
                    )
                } else {
                    format!(
                        "the design matrix is ill-conditioned, not rank-deficient: columns {names} are badly scaled or \
                         nearly dependent, and singular values below tol × the largest count as zero, which leaves \
                         rank {rank} of {columns}; the minimum-norm solution on that rank is reported. To use every \
                         column, {scale}set tol = 0"
                    )
                }
            }
            FitNote::NotConverged { iterations, detail } => {
                format!("did not converge in {iterations} iterations ({detail}); {scale}raise max_iter")
            }
            FitNote::IllConditioned => {
                let avoid = if scaled { "" } else { "; scaling the features avoids it" };
                format!(
                    "the regularised Gram matrix is ill-conditioned (estimated condition number above 1e8); solved by \
                     SVD instead, as scikit-learn's svd solver would{avoid}"
                )
            }
        }
    }
}

#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum FitError {
    #[error("singular system: {0}")]
    Singular(String),
    #[error("the training part holds a single class (`{0}`); a classifier needs at least two")]
    OneClass(String),
    #[error("{0}")]
    Solver(String),
    #[error("training produced non-finite coefficients (the problem is singular or diverged)")]
    NonFinite,
    #[error("diverged at epoch {epoch} with learning_rate {learning_rate}: the loss became non-finite or blew up (last finite epoch loss: {})", last_finite_loss.map_or("none".to_string(), |l| format!("{l:.6e}")))]
    Diverged { epoch: usize, last_finite_loss: Option<f64>, learning_rate: f64 },
}

/// A fit whose coefficients are not all finite is an error, not a model.
pub fn finite(fitted: Box<dyn Fitted>) -> Result<Box<dyn Fitted>, FitError> {
    if fitted.linear().is_none_or(|l| l.is_finite()) {
        Ok(fitted)
    } else {
        Err(FitError::NonFinite)
    }
}

/// Softmax of each row of decision values, in place.
pub fn softmax_rows(mut z: Array2<f64>) -> Array2<f64> {
    for mut row in z.rows_mut() {
        let m = row.fold(f64::NEG_INFINITY, |a, &b| a.max(b));
        row.mapv_inplace(|v| (v - m).exp());
        let s = row.sum();
        row.mapv_inplace(|v| v / s);
    }
    z
}

/// Two-class probabilities `[1 - σ(z), σ(z)]` from binary decision values.
pub fn sigmoid_probabilities(z: impl ExactSizeIterator<Item = f64>) -> Array2<f64> {
    let mut proba = Array2::<f64>::zeros((z.len(), 2));
    for (i, zi) in z.enumerate() {
        let p1 = 1.0 / (1.0 + (-zi).exp());
        proba[[i, 0]] = 1.0 - p1;
        proba[[i, 1]] = p1;
    }
    proba
}

/// The classes present in a training part; a classifier needs at least two.
pub(crate) fn classes_present(y: &[usize], class_names: &[String]) -> Result<Vec<usize>, FitError> {
    let mut present: Vec<usize> = y.to_vec();
    present.sort_unstable();
    present.dedup();
    if present.len() < 2 {
        let name = present.first().and_then(|&c| class_names.get(c)).cloned().unwrap_or_default();
        return Err(FitError::OneClass(name));
    }
    Ok(present)
}

/// `x·w + b`, in parallel over row blocks (each row's dot product is the same whatever the
/// thread count).
pub fn linear_predict(x: &Array2<f64>, w: &Array1<f64>, b: f64) -> Array1<f64> {
    use rayon::prelude::*;
    let mut out = Array1::<f64>::zeros(x.nrows());
    let Some(slice) = out.as_slice_mut() else { return x.dot(w) + b };
    slice.par_chunks_mut(4096).enumerate().for_each(|(block, chunk)| {
        for (k, o) in chunk.iter_mut().enumerate() {
            *o = x.row(block * 4096 + k).dot(w) + b;
        }
    });
    out
}

/// A linear model `x·w + b`, shared by the regression trainers.
#[derive(Debug, Clone)]
pub struct LinearModel {
    pub weights: Array1<f64>,
    pub intercept: f64,
    pub notes: Vec<FitNote>,
}

impl Fitted for LinearModel {
    fn predict(&self, x: &Array2<f64>) -> Prediction {
        Prediction::Values(linear_predict(x, &self.weights, self.intercept))
    }

    fn notes(&self) -> Vec<FitNote> {
        self.notes.clone()
    }

    fn linear(&self) -> Option<LinearParts> {
        Some(LinearParts::single(&self.weights, self.intercept, Head::Identity))
    }
}

/// Column means of `x` and the mean of `y` (zeros without an intercept), and both centred:
/// scikit-learn's `_preprocess_data`, so the intercept is never penalised.
pub(crate) fn center(
    x: &Array2<f64>,
    y: &Array1<f64>,
    fit_intercept: bool,
) -> (Array2<f64>, Array1<f64>, Array1<f64>, f64) {
    if !fit_intercept || x.nrows() == 0 {
        return (x.clone(), y.clone(), Array1::zeros(x.ncols()), 0.0);
    }
    let x_mean = x.mean_axis(ndarray::Axis(0)).unwrap_or_else(|| Array1::zeros(x.ncols()));
    let y_mean = y.mean().unwrap_or(0.0);
    (x - &x_mean, y - y_mean, x_mean, y_mean)
}

/// scikit-learn's `_preprocess_data` with `sample_weight` then `_rescale_data`: X and y
/// centred on their weighted means (`np.average(..., weights=w)`) when fitting an
/// intercept, then each row times `sqrt(w)`, so an unweighted least-squares solve of the
/// result is the weighted one. Returns the rescaled rows and the means.
pub(crate) fn weighted_center(
    x: &Array2<f64>,
    y: &Array1<f64>,
    w: &[f64],
    fit_intercept: bool,
) -> (Array2<f64>, Array1<f64>, Array1<f64>, f64) {
    let wa = Array1::from(w.to_vec());
    let (x_mean, y_mean) = if fit_intercept && x.nrows() > 0 {
        let total = wa.sum();
        (x.t().dot(&wa) / total, y.dot(&wa) / total)
    } else {
        (Array1::zeros(x.ncols()), 0.0)
    };
    let root = wa.mapv(f64::sqrt);
    let xs = (x - &x_mean) * root.view().insert_axis(ndarray::Axis(1));
    let ys = (y - y_mean) * &root;
    (xs, ys, x_mean, y_mean)
}

#[cfg(test)]
mod tests {
    use super::{predict_many, FitNote, Fitted, LinearModel, Prediction};
    use ndarray::{Array1, Array2};

    #[test]
    fn a_path_predicts_the_row_major_products_bits() {
        // Sizes past matrixmultiply's blocking (kc 256, several panels), values of mixed scale.
        let (rows, cols, models) = (700, 300, 7);
        let value = |i: usize, j: usize| ((i * 7919 + j * 104729) % 1000) as f64 / 37.0 - 13.0 + (j as f64).sin();
        let x = Array2::from_shape_fn((rows, cols), |(i, j)| value(i, j));
        let fitted: Vec<LinearModel> = (0..models)
            .map(|m| LinearModel {
                weights: Array1::from_shape_fn(cols, |j| value(m + 3, j) / 1e3),
                intercept: m as f64 - 0.5,
                notes: Vec::new(),
            })
            .collect();
        let all = Array2::from_shape_fn((cols, models), |(j, m)| fitted[m].weights[j]);
        let row_major = x.dot(&all);
        let refs: Vec<&dyn Fitted> = fitted.iter().map(|m| m as &dyn Fitted).collect();
        for (m, p) in predict_many(&refs, &x).into_iter().enumerate() {
            let Prediction::Values(v) = p else { panic!("values expected") };
            let expected = row_major.column(m).mapv(|z| z + fitted[m].intercept);
            assert!(v.iter().zip(&expected).all(|(a, b)| a.to_bits() == b.to_bits()), "model {m}");
        }
    }

    #[test]
    fn notes_advise_scaling_only_when_the_experiment_does_not_scale() {
        let note = FitNote::NotConverged { iterations: 100, detail: "gradient 1e-3".into() };
        assert!(note.describe(&[], false).contains("scale the features"));
        let scaled = note.describe(&[], true);
        assert!(!scaled.contains("scale the features") && scaled.contains("raise max_iter"), "{scaled}");
        assert!(!FitNote::IllConditioned.describe(&[], true).contains("scaling"));
    }
}
