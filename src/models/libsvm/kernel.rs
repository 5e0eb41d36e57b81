//! libsvm's kernels (scikit-learn's vendored `svm.cpp`, dense representation): the training
//! kernel over swappable rows (`Kernel`, with each row's squared norm for rbf) and the
//! prediction kernel (`k_function`). The two compute rbf differently, as libsvm does:
//! `exp(-γ(‖a‖² + ‖b‖² - 2a·b))` while training, `exp(-γ‖a - b‖²)` when predicting.

use super::exp::exp_in_place;

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
        let part = match self {
            KernelFn::Rbf { .. } => squared_distance(x, sv),
            _ => dot(x, sv),
        };
        self.predicting(part)
    }

    /// `k_function` from its one sum: `‖a - b‖²` for rbf, `a·b` for the others.
    pub fn predicting(&self, part: f64) -> f64 {
        match *self {
            KernelFn::Linear => part,
            KernelFn::Poly { gamma, coef0, degree } => powi(gamma * part + coef0, degree),
            KernelFn::Rbf { gamma } => (-gamma * part).exp(),
            KernelFn::Sigmoid { gamma, coef0 } => (gamma * part + coef0).tanh(),
        }
    }

    /// `predicting` of every part, in place: rbf's exps four at a time (`exp_in_place`: glibc's bits).
    pub fn predicting_all(&self, parts: &mut [f64]) {
        match *self {
            KernelFn::Rbf { gamma } => {
                parts.iter_mut().for_each(|p| *p *= -gamma);
                exp_in_place(parts);
            }
            _ => parts.iter_mut().for_each(|p| *p = self.predicting(*p)),
        }
    }

    /// The training kernel (`kernel_function(i, j)`) from `a·b` and, for rbf, `‖a‖²` and `‖b‖²`.
    fn training(&self, d: f64, square_a: f64, square_b: f64) -> f64 {
        match *self {
            KernelFn::Rbf { gamma } => (-gamma * (square_a + square_b - 2.0 * d)).exp(),
            _ => self.predicting(d),
        }
    }

    /// `training(d[k], square_a, square_b[k])` for every k, in place (`square_b` unread but for
    /// rbf), rbf's exps four at a time as `predicting_all`'s.
    fn training_all(&self, d: &mut [f64], square_a: f64, square_b: &[f64]) {
        match *self {
            KernelFn::Rbf { gamma } => {
                d.iter_mut().zip(square_b).for_each(|(v, &b)| *v = -gamma * (square_a + b - 2.0 * *v));
                exp_in_place(d);
            }
            _ => d.iter_mut().for_each(|v| *v = self.predicting(*v)),
        }
    }

    /// The sum `k_function` takes of `x` with every row of `t`, written to `out` (one value a row).
    pub fn predicting_parts(&self, x: &[f64], t: &FeatureMajor, out: &mut [f64]) {
        match self {
            KernelFn::Rbf { .. } => t.fused_all(x, |a, b| (a - b, a - b), out),
            _ => t.fused_all(x, |a, b| (a, b), out),
        }
    }
}

/// How many rows a block of kernel values takes at once: each lane one row's sum, summed in
/// `fused`'s order, so the values are the one-at-a-time values bit for bit.
const LANES: usize = 16;

/// A row-major matrix copied feature by feature (`t[k · stride + r]` is feature k of row r,
/// rows padded with zeros to a multiple of `LANES`), so that one row's products with many rows
/// vectorise across the rows.
pub struct FeatureMajor {
    t: Vec<f64>,
    rows: usize,
    stride: usize,
    width: usize,
}

impl FeatureMajor {
    pub fn new(data: &[f64], width: usize) -> Self {
        let rows = data.len().checked_div(width).unwrap_or(0);
        let stride = rows.div_ceil(LANES) * LANES;
        let mut t = vec![0.0; stride * width];
        for (r, row) in data.chunks_exact(width.max(1)).enumerate() {
            for (k, v) in row.iter().enumerate() {
                t[k * stride + r] = *v;
            }
        }
        FeatureMajor { t, rows, stride, width }
    }

    /// `fused(x, row_r, f)` for every row r, into `out[r]`.
    fn fused_all(&self, x: &[f64], f: impl Fn(f64, f64) -> (f64, f64) + Copy, out: &mut [f64]) {
        self.fused_from(x, 0, f, out);
    }

    /// `fused(x, row_r, f)` into `out[r]` for every row r from `from` on (and a few before it,
    /// in its block of `LANES`).
    fn fused_from(&self, x: &[f64], from: usize, f: impl Fn(f64, f64) -> (f64, f64) + Copy, out: &mut [f64]) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("fma") && std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has FMA and AVX2 (checked just above), all `fused_all_simd` needs.
            return unsafe { self.fused_all_simd(x, from, f, out) };
        }
        self.fused_all_lanes(x, from, f, out);
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "fma,avx2")]
    fn fused_all_simd(&self, x: &[f64], from: usize, f: impl Fn(f64, f64) -> (f64, f64) + Copy, out: &mut [f64]) {
        self.fused_all_lanes(x, from, f, out);
    }

    #[inline(always)]
    fn fused_all_lanes(&self, x: &[f64], from: usize, f: impl Fn(f64, f64) -> (f64, f64) + Copy, out: &mut [f64]) {
        assert!(x.len() == self.width && out.len() == self.rows, "a row of {} values against {}", x.len(), self.width);
        for start in (from / LANES * LANES..self.stride).step_by(LANES) {
            let mut acc = [0.0f64; LANES];
            for (k, &a) in x.iter().enumerate() {
                let lanes = &self.t[k * self.stride + start..k * self.stride + start + LANES];
                for (s, &b) in acc.iter_mut().zip(lanes) {
                    let (p, q) = f(a, b);
                    *s = p.mul_add(q, *s);
                }
            }
            let end = (start + LANES).min(self.rows);
            out[start..end].copy_from_slice(&acc[..end - start]);
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
        let square = |k: usize| self.square.get(k).copied().unwrap_or(0.0);
        self.kernel.training(d, square(i), square(j))
    }

    /// `eval(i, j)` for every j of `js`, into `out` (one value each): the dot products one by
    /// one, then the kernel of all at once (`KernelFn::training_all`).
    pub fn column(&self, i: usize, js: std::ops::Range<usize>, out: &mut [f64]) {
        let a = self.row(i);
        for (v, j) in out.iter_mut().zip(js.clone()) {
            *v = dot(a, self.row(j));
        }
        let square_a = self.square.get(i).copied().unwrap_or(0.0);
        self.kernel.training_all(out, square_a, self.square.get(js).unwrap_or(&[]));
    }

    /// The row of the training matrix at position `i` (its index in the matrix).
    pub fn original(&self, i: usize) -> usize {
        self.rows[i]
    }

    pub fn swap_index(&mut self, i: usize, j: usize) {
        self.rows.swap(i, j);
        if !self.square.is_empty() {
            self.square.swap(i, j);
        }
    }
}

/// The training kernel's values over every pair of rows of one matrix, in single precision as
/// libsvm's cache holds them (`Kernel::eval` as f32), computed once, in blocks, into one
/// n × n allocation (handed back whole when the store is dropped). Fits on the same rows with
/// the same kernel (trials that differ only in C or ε) share one store and read exactly the
/// values each would have computed. `K(a, b)` and `K(b, a)` are equal bit for bit (the sums'
/// products and `‖a‖² + ‖b‖²` commute), so only one triangle is computed.
pub struct KernelStore<'a> {
    kernel: KernelFn,
    data: &'a [f64],
    n: usize,
    values: Vec<f32>,
}

impl<'a> KernelStore<'a> {
    /// The store of `data`'s rows when its n² values fit in `cache_mb` MB (libsvm's budget
    /// for one fit's kernel values).
    pub fn new(kernel: KernelFn, data: &'a [f64], width: usize, cache_mb: f64) -> Option<Self> {
        let n = data.len().checked_div(width).unwrap_or(0);
        let bytes = (n * n * std::mem::size_of::<f32>()) as f64;
        if width == 0 || bytes > cache_mb * (1u64 << 20) as f64 {
            return None;
        }
        let square: Vec<f64> = data.chunks_exact(width).map(|r| dot(r, r)).collect();
        let lanes = FeatureMajor::new(data, width);
        let mut values = vec![0.0f32; n * n];
        let mut d = vec![0.0; n];
        for r in 0..n {
            // Only the triangle's dot products: s ≥ r.
            lanes.fused_from(&data[r * width..(r + 1) * width], r, |a, b| (a, b), &mut d);
            kernel.training_all(&mut d[r..], square[r], &square[r..]);
            for s in r..n {
                let k = d[s] as f32;
                values[r * n + s] = k;
                values[s * n + r] = k;
            }
        }
        Some(KernelStore { kernel, data, n, values })
    }

    /// Whether the store holds `kernel` over exactly `data` (the matrix a fit indexes).
    pub fn serves(&self, kernel: KernelFn, data: &[f64]) -> bool {
        self.kernel == kernel && std::ptr::eq(self.data, data)
    }

    /// `K(x_r, x_s)` for every row s, as `Kernel::eval` gives it, in single precision.
    pub fn column(&self, r: usize) -> &[f32] {
        &self.values[r * self.n..(r + 1) * self.n]
    }
}
