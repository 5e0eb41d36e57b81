//! libsvm's `svm_train` for C-SVC and ε-SVR as scikit-learn calls it (dense rows, sample
//! weights, rows of weight 0 removed first): classes grouped in sorted order, one binary problem per pair (i < j)
//! with class i as +1, weighted C per class, and the support vectors of all pairs gathered
//! class by class (scikit-learn's `support_`, `n_support`, `dual_coef_`, `intercept_`).

use super::kernel::{Kernel, KernelFn, KernelStore};
use super::qmatrix::{SvcQ, SvrQ};
use super::solver::{solve, Problem, Settings, Solution};

/// The settings scikit-learn passes to libsvm.
#[derive(Debug, Clone, Copy)]
pub struct Params {
    pub kernel: KernelFn,
    pub c: f64,
    /// ε-SVR's tube (libsvm's `p`).
    pub epsilon: f64,
    pub settings: Settings,
    /// `cache_size`, MB.
    pub cache_mb: f64,
}

/// A row-major matrix: `width` values a row.
#[derive(Clone, Copy)]
pub struct Rows<'a> {
    pub data: &'a [f64],
    pub width: usize,
}

impl<'a> Rows<'a> {
    pub fn row(&self, r: usize) -> &'a [f64] {
        &self.data[r * self.width..(r + 1) * self.width]
    }
}

/// The rows libsvm trains on, as its `remove_zero_weight` leaves them (the rows of positive
/// weight, in order), and their sample weights (1 each without any), which multiply C row by row.
pub struct Sample {
    pub rows: Vec<usize>,
    pub weights: Vec<f64>,
}

impl Sample {
    /// The sample of `n` rows weighted by `w`, if given.
    pub fn new(n: usize, w: Option<&[f64]>) -> Sample {
        match w {
            None => Sample { rows: (0..n).collect(), weights: vec![1.0; n] },
            Some(w) => {
                let rows: Vec<usize> = (0..n).filter(|&r| w[r] > 0.0).collect();
                let weights = rows.iter().map(|&r| w[r]).collect();
                Sample { rows, weights }
            }
        }
    }
}

/// One solved binary problem: α_i y_i for each of its rows, rho, and how the solve ended.
struct Binary {
    coef: Vec<f64>,
    solution: Solution,
}

/// The kernel values a fit on `x` reads: `store` when it holds this kernel over `x`, else its own cache.
fn shared<'s>(store: Option<&'s KernelStore<'s>>, x: Rows, params: &Params) -> Option<&'s KernelStore<'s>> {
    store.filter(|s| s.serves(params.kernel, x.data))
}

/// One pair's problem: its rows of `x`, their labels (±1) and sample weights.
fn solve_c_svc(
    x: Rows,
    (rows, y, w): (Vec<usize>, &[i8], &[f64]),
    (cp, cn): (f64, f64),
    params: &Params,
    store: Store,
) -> Binary {
    let l = y.len();
    let mut alpha = vec![0.0; l];
    // libsvm's `C[i] = prob->W[i]*Cp` (or Cn).
    let c: Vec<f64> = y.iter().zip(w).map(|(&yi, wi)| wi * if yi > 0 { cp } else { cn }).collect();
    let kernel = Kernel::new(params.kernel, x.data, x.width, rows);
    let mut q = SvcQ::new(kernel, y, params.cache_mb, shared(store, x, params));
    let p = vec![-1.0; l];
    let solution = solve(&mut q, Problem { p: &p, y, alpha: &mut alpha, c: &c }, params.settings);
    let coef = alpha.iter().zip(y).map(|(a, &yi)| a * f64::from(yi)).collect();
    Binary { coef, solution }
}

/// A trained ε-SVR: the rows with a nonzero coefficient, in row order.
#[derive(Debug, Clone)]
pub struct SvrModel {
    /// scikit-learn's `support_`: positions among the rows trained on (`Sample::rows`).
    pub support: Vec<usize>,
    pub dual_coef: Vec<f64>,
    pub rho: f64,
    pub iterations: usize,
    pub timed_out: bool,
}

/// Kernel values shared by fits on the same rows (`KernelStore`), if any.
pub type Store<'s> = Option<&'s KernelStore<'s>>;

/// ε-SVR on the sample's rows of `x`, `y` being their targets.
pub fn train_svr(x: Rows, sample: &Sample, y: &[f64], params: &Params, store: Store) -> SvrModel {
    let l = y.len();
    let p: Vec<f64> = y.iter().map(|yi| params.epsilon - yi).chain(y.iter().map(|yi| params.epsilon + yi)).collect();
    let signs: Vec<i8> = (0..2 * l).map(|k| if k < l { 1 } else { -1 }).collect();
    // libsvm's `C[i] = C[i+l] = prob->W[i]*param->C`.
    let c: Vec<f64> = sample.weights.iter().chain(&sample.weights).map(|w| w * params.c).collect();
    let mut alpha2 = vec![0.0; 2 * l];
    let kernel = Kernel::new(params.kernel, x.data, x.width, sample.rows.clone());
    // `SvrQ` reads a store's columns by row: only when every row is trained on.
    let store = shared(store, x, params).filter(|_| l * x.width == x.data.len());
    let mut q = SvrQ::new(kernel, l, params.cache_mb, store);
    let solution = solve(&mut q, Problem { p: &p, y: &signs, alpha: &mut alpha2, c: &c }, params.settings);
    let alpha: Vec<f64> = (0..l).map(|i| alpha2[i] - alpha2[i + l]).collect();
    let support: Vec<usize> = (0..l).filter(|&i| alpha[i].abs() > 0.0).collect();
    let dual_coef = support.iter().map(|&i| alpha[i]).collect();
    SvrModel { support, dual_coef, rho: solution.rho, iterations: solution.iterations, timed_out: solution.timed_out }
}

/// The machine of classes (i, j), i < j: `Σ coef·K(sv, x) - rho > 0` votes for i.
#[derive(Debug, Clone)]
pub struct PairModel {
    pub first: usize,
    pub second: usize,
    pub rho: f64,
    pub iterations: usize,
    pub timed_out: bool,
}

/// A trained C-SVC over the classes `0..n_class` (class indices as given, all present).
#[derive(Debug, Clone)]
pub struct SvcModel {
    pub pairs: Vec<PairModel>,
    /// scikit-learn's `support_`: rows that are a support vector of any pair, class by class,
    /// as positions among the rows trained on (`Sample::rows`).
    pub support: Vec<usize>,
    pub n_support: Vec<usize>,
    /// scikit-learn's `_dual_coef_` (libsvm's `sv_coef`): n_class - 1 rows over `support`.
    pub dual_coef: Vec<Vec<f64>>,
}

impl SvcModel {
    /// A pair's terms as libsvm's `predict_values` sums them: class i's support vectors, then
    /// class j's, with their coefficients in this pair (terms of zero are left out: they add
    /// nothing). Returns the rows and coefficients.
    pub fn pair_terms(&self, pair: &PairModel) -> (Vec<usize>, Vec<f64>) {
        let start = |c: usize| self.n_support[..c].iter().sum::<usize>();
        let (i, j) = (pair.first, pair.second);
        let block =
            |class: usize, row: usize| (start(class)..start(class) + self.n_support[class]).map(move |k| (k, row));
        block(i, j - 1)
            .chain(block(j, i))
            .map(|(k, row)| (self.support[k], self.dual_coef[row][k]))
            .filter(|(_, c)| *c != 0.0)
            .unzip()
    }
}

/// libsvm's `svm_group_classes` with sorted labels: rows by class, each class in row order.
fn group_classes(y: &[usize], n_class: usize) -> (Vec<usize>, Vec<usize>, Vec<usize>) {
    let mut count = vec![0; n_class];
    for &c in y {
        count[c] += 1;
    }
    let start: Vec<usize> = count.iter().scan(0, |s, &c| Some(std::mem::replace(s, *s + c))).collect();
    let mut next = start.clone();
    let mut perm = vec![0; y.len()];
    for (i, &c) in y.iter().enumerate() {
        perm[next[c]] = i;
        next[c] += 1;
    }
    (perm, start, count)
}

/// Trains every pair on the sample's rows of `x`, `y` being their classes (each of
/// `0..n_class` present); `weighted_c[c]` is C times class c's weight.
pub fn train_svc(x: Rows, sample: &Sample, y: &[usize], weighted_c: &[f64], params: &Params, store: Store) -> SvcModel {
    let n_class = weighted_c.len();
    let (perm, start, count) = group_classes(y, n_class);
    let mut nonzero = vec![false; y.len()];
    let mut solved = Vec::new();
    for i in 0..n_class {
        for j in i + 1..n_class {
            let rows: Vec<usize> = (start[i]..start[i] + count[i]).chain(start[j]..start[j] + count[j]).collect();
            let labels: Vec<i8> = (0..rows.len()).map(|k| if k < count[i] { 1 } else { -1 }).collect();
            let originals = rows.iter().map(|&k| sample.rows[perm[k]]).collect();
            let weights: Vec<f64> = rows.iter().map(|&k| sample.weights[perm[k]]).collect();
            let pair = (originals, labels.as_slice(), weights.as_slice());
            let b = solve_c_svc(x, pair, (weighted_c[i], weighted_c[j]), params, store);
            for (k, &r) in rows.iter().enumerate() {
                nonzero[r] |= b.coef[k].abs() > 0.0;
            }
            solved.push((i, j, rows, b));
        }
    }
    assemble(solved, &perm, &start, &count, &nonzero)
}

type Solved = (usize, usize, Vec<usize>, Binary);

/// The model's layout from the solved pairs (libsvm's "build output").
fn assemble(solved: Vec<Solved>, perm: &[usize], start: &[usize], count: &[usize], nonzero: &[bool]) -> SvcModel {
    let n_class = start.len();
    let n_support: Vec<usize> =
        (0..n_class).map(|c| (start[c]..start[c] + count[c]).filter(|&k| nonzero[k]).count()).collect();
    let support: Vec<usize> = (0..perm.len()).filter(|&k| nonzero[k]).map(|k| perm[k]).collect();
    let nz_start: Vec<usize> = n_support.iter().scan(0, |s, &c| Some(std::mem::replace(s, *s + c))).collect();
    let mut dual_coef = vec![vec![0.0; support.len()]; n_class.saturating_sub(1)];
    let mut pairs = Vec::new();
    for (i, j, rows, b) in solved {
        let (mut qi, mut qj) = (nz_start[i], nz_start[j]);
        for (k, _) in rows.iter().enumerate().filter(|(_, &r)| nonzero[r]) {
            if k < count[i] {
                dual_coef[j - 1][qi] = b.coef[k];
                qi += 1;
            } else {
                dual_coef[i][qj] = b.coef[k];
                qj += 1;
            }
        }
        let Solution { rho, iterations, timed_out } = b.solution;
        pairs.push(PairModel { first: i, second: j, rho, iterations, timed_out });
    }
    SvcModel { pairs, support, n_support, dual_coef }
}
