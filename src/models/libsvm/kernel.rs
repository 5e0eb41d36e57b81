//! libsvm's kernels (scikit-learn's vendored `svm.cpp`, dense representation): the training
//! kernel over swappable rows (`Kernel`, with each row's squared norm for rbf) and the
//! prediction kernel (`k_function`). The two compute rbf differently, as libsvm does:
//! `exp(-γ(‖a‖² + ‖b‖² - 2a·b))` while training, `exp(-γ‖a - b‖²)` when predicting.

/// A kernel function with scikit-learn's parameters (`gamma` already resolved).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum KernelFn {
    Linear,
    /// `(γ a·b + coef0)^degree`.
    Poly {
        gamma: f64,
        coef0: f64,
        degree: i32,
    },
    /// `exp(-γ‖a - b‖²)`.
    Rbf {
        gamma: f64,
    },
    /// `tanh(γ a·b + coef0)`.
    Sigmoid {
        gamma: f64,
        coef0: f64,
    },
}

/// The dot product in the order scipy's BLAS `ddot` sums short vectors (fused multiply-adds
/// from the first element), which scikit-learn's libsvm calls for every kernel value. Under
/// 16 values that is its order exactly; longer ones it sums in blocks, and the two differ in
/// the last bits only.
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    fused(a, b, |x, y| (x, y))
}

/// `‖a - b‖²` as libsvm's rbf `k_function` takes it: `ddot` of the difference with itself.
fn squared_distance(a: &[f64], b: &[f64]) -> f64 {
    fused(a, b, |x, y| (x - y, x - y))
}

/// `Σ f(a_k, b_k).0 · f(a_k, b_k).1`, one fused multiply-add a term, first to last.
fn fused(a: &[f64], b: &[f64], f: impl Fn(f64, f64) -> (f64, f64)) -> f64 {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU has FMA (checked just above), all `fused_fma` needs.
        return unsafe { fused_fma(a, b, f) };
    }
    fused_sum(a, b, f)
}

/// `mul_add` is one fused multiply-add either way; with the `fma` feature it is an
/// instruction instead of a call into libm (the same result, faster).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "fma")]
fn fused_fma(a: &[f64], b: &[f64], f: impl Fn(f64, f64) -> (f64, f64)) -> f64 {
    fused_sum(a, b, f)
}

#[inline(always)]
fn fused_sum(a: &[f64], b: &[f64], f: impl Fn(f64, f64) -> (f64, f64)) -> f64 {
    a.iter().zip(b).fold(0.0, |s, (x, y)| {
        let (p, q) = f(*x, *y);
        p.mul_add(q, s)
    })
}

/// libsvm's `powi`: `base^times` by repeated squaring.
pub fn powi(base: f64, times: i32) -> f64 {
    let (mut tmp, mut ret) = (base, 1.0);
    let mut t = times;
    while t > 0 {
        if t % 2 == 1 {
            ret *= tmp;
        }
        tmp *= tmp;
        t /= 2;
    }
    ret
}

impl KernelFn {
    /// libsvm's `k_function`: the kernel between a new row and a support vector.
    pub fn k_function(&self, x: &[f64], sv: &[f64]) -> f64 {
        match *self {
            KernelFn::Linear => dot(x, sv),
            KernelFn::Poly { gamma, coef0, degree } => powi(gamma * dot(x, sv) + coef0, degree),
            KernelFn::Rbf { gamma } => (-gamma * squared_distance(x, sv)).exp(),
            KernelFn::Sigmoid { gamma, coef0 } => (gamma * dot(x, sv) + coef0).tanh(),
        }
    }
}

/// The training kernel over the rows of a problem, in libsvm's current (swapped) order.
pub struct Kernel<'a> {
    kernel: KernelFn,
    /// The row-major matrix the rows index into, `width` values a row.
    data: &'a [f64],
    width: usize,
    rows: Vec<usize>,
    /// `‖x_i‖²` for rbf.
    square: Vec<f64>,
}

impl<'a> Kernel<'a> {
    pub fn new(kernel: KernelFn, data: &'a [f64], width: usize, rows: Vec<usize>) -> Self {
        let row = |r: usize| &data[r * width..(r + 1) * width];
        let square = match kernel {
            KernelFn::Rbf { .. } => rows.iter().map(|&r| dot(row(r), row(r))).collect(),
            _ => Vec::new(),
        };
        Kernel { kernel, data, width, rows, square }
    }

    fn row(&self, i: usize) -> &[f64] {
        let r = self.rows[i];
        &self.data[r * self.width..(r + 1) * self.width]
    }

    /// `K(x_i, x_j)` as libsvm's `kernel_function(i, j)` computes it.
    pub fn eval(&self, i: usize, j: usize) -> f64 {
        let d = dot(self.row(i), self.row(j));
        match self.kernel {
            KernelFn::Linear => d,
            KernelFn::Poly { gamma, coef0, degree } => powi(gamma * d + coef0, degree),
            KernelFn::Rbf { gamma } => (-gamma * (self.square[i] + self.square[j] - 2.0 * d)).exp(),
            KernelFn::Sigmoid { gamma, coef0 } => (gamma * d + coef0).tanh(),
        }
    }

    pub fn swap_index(&mut self, i: usize, j: usize) {
        self.rows.swap(i, j);
        if !self.square.is_empty() {
            self.square.swap(i, j);
        }
    }
}
