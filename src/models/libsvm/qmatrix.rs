//! libsvm's Q matrices: `SVC_Q` (`y_i y_j K(x_i, x_j)`, rows swapped as the solver shrinks)
//! and `SVR_Q` (the 2l × 2l matrix of ε-SVR over one cache of l kernel columns).

use super::cache::Cache;
use super::kernel::{Kernel, KernelStore};

/// What the solver asks of Q: column `i` over the first `len` (active) positions, in single
/// precision as libsvm's `Qfloat`, and its diagonal in double precision.
pub trait QMatrix {
    fn get_q(&mut self, i: usize, len: usize) -> &[f32];
    /// Columns `i` and `j` (i ≠ j) over the first `len` positions, fetched in that order as
    /// libsvm's two `get_Q` calls, both alive at once (no copy of the first).
    fn get_q2(&mut self, i: usize, j: usize, len: usize) -> (&[f32], &[f32]);
    fn qd(&self) -> &[f64];
    fn swap_index(&mut self, i: usize, j: usize);
}

/// libsvm takes `cache_size` in MB.
fn cache_bytes(cache_mb: f64) -> i64 {
    (cache_mb * (1u64 << 20) as f64) as i64
}

pub struct SvcQ<'a> {
    kernel: Kernel<'a>,
    cache: Cache,
    /// Kernel values shared with other fits on the same rows, read (signed by y_i y_j) when a
    /// column is not cached instead of computed.
    store: Option<&'a KernelStore<'a>>,
    y: Vec<i8>,
    qd: Vec<f64>,
    /// Room for one column's kernel values in double precision.
    column: Vec<f64>,
}

impl<'a> SvcQ<'a> {
    pub fn new(kernel: Kernel<'a>, y: &[i8], cache_mb: f64, store: Option<&'a KernelStore<'a>>) -> Self {
        let l = y.len();
        let qd = (0..l).map(|i| kernel.eval(i, i)).collect();
        let column = if store.is_some() { Vec::new() } else { vec![0.0; l] };
        SvcQ { kernel, cache: Cache::new(l, cache_bytes(cache_mb)), store, y: y.to_vec(), qd, column }
    }
}

impl QMatrix for SvcQ<'_> {
    fn get_q(&mut self, i: usize, len: usize) -> &[f32] {
        let (data, start) = self.cache.get_data(i, len);
        let y_i = self.y[i];
        if let Some(store) = self.store {
            // (y_i y_j K) as f32 is ±(K as f32): a sign flip rounds the same.
            let column = store.column(self.kernel.original(i));
            for (j, v) in data.iter_mut().enumerate().take(len).skip(start) {
                let k = column[self.kernel.original(j)];
                *v = if self.y[j] == y_i { k } else { -k };
            }
            return &data[..len];
        }
        if start < len {
            let k = &mut self.column[start..len];
            self.kernel.column(i, start..len, k);
            for ((v, &y_j), &k) in data[start..len].iter_mut().zip(&self.y[start..len]).zip(&*k) {
                *v = (f64::from(y_i * y_j) * k) as f32;
            }
        }
        &data[..len]
    }
    fn get_q2(&mut self, i: usize, j: usize, len: usize) -> (&[f32], &[f32]) {
        self.get_q(i, len);
        self.get_q(j, len);
        // The cache holds two whole columns at least, so fetching j kept i.
        (self.cache.column(i, len), self.cache.column(j, len))
    }
    fn qd(&self) -> &[f64] {
        &self.qd
    }
    fn swap_index(&mut self, i: usize, j: usize) {
        self.cache.swap_index(i, j);
        self.kernel.swap_index(i, j);
        self.y.swap(i, j);
        self.qd.swap(i, j);
    }
}

pub struct SvrQ<'a> {
    l: usize,
    kernel: Kernel<'a>,
    cache: Cache,
    /// Kernel columns shared with other fits on the same rows, read instead of cached here.
    store: Option<&'a KernelStore<'a>>,
    sign: Vec<i8>,
    index: Vec<usize>,
    qd: Vec<f64>,
    buffers: [Vec<f32>; 2],
    next_buffer: usize,
    /// Room for one column's kernel values in double precision.
    column: Vec<f64>,
}

impl<'a> SvrQ<'a> {
    pub fn new(kernel: Kernel<'a>, l: usize, cache_mb: f64, store: Option<&'a KernelStore<'a>>) -> Self {
        let diagonal: Vec<f64> = (0..l).map(|k| kernel.eval(k, k)).collect();
        SvrQ {
            l,
            kernel,
            cache: Cache::new(l, cache_bytes(cache_mb)),
            store,
            sign: (0..2 * l).map(|k| if k < l { 1 } else { -1 }).collect(),
            index: (0..2 * l).map(|k| k % l).collect(),
            qd: diagonal.iter().chain(&diagonal).copied().collect(),
            buffers: [vec![0.0; 2 * l], vec![0.0; 2 * l]],
            next_buffer: 0,
            column: if store.is_some() { Vec::new() } else { vec![0.0; l] },
        }
    }
}

impl QMatrix for SvrQ<'_> {
    fn get_q(&mut self, i: usize, len: usize) -> &[f32] {
        let real_i = self.index[i];
        let data: &[f32] = match self.store {
            Some(store) => store.column(real_i),
            None => {
                let (data, start) = self.cache.get_data(real_i, self.l);
                if start < self.l {
                    self.kernel.column(real_i, 0..self.l, &mut self.column);
                    data.iter_mut().zip(&self.column).for_each(|(v, &k)| *v = k as f32);
                }
                data
            }
        };
        let b = self.next_buffer;
        self.next_buffer = 1 - b;
        let si = f32::from(self.sign[i]);
        for j in 0..len {
            self.buffers[b][j] = si * f32::from(self.sign[j]) * data[self.index[j]];
        }
        &self.buffers[b][..len]
    }
    fn get_q2(&mut self, i: usize, j: usize, len: usize) -> (&[f32], &[f32]) {
        self.get_q(i, len);
        self.get_q(j, len);
        let b = self.next_buffer; // j's buffer is the one before it, i's this one
        (&self.buffers[b][..len], &self.buffers[1 - b][..len])
    }
    fn qd(&self) -> &[f64] {
        &self.qd
    }
    fn swap_index(&mut self, i: usize, j: usize) {
        self.sign.swap(i, j);
        self.index.swap(i, j);
        self.qd.swap(i, j);
    }
}
