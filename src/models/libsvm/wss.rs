//! libsvm's working-set selection (WSS3) as two passes that vectorise: each lane runs libsvm's
//! scan `if better(v, m) { m = v; idx = t }` over its own indices (t ≡ lane mod `LANES`, in
//! increasing order), so it ends with its best value and the last of its indices holding it;
//! the lanes then merge to the best value and, among equal values, the largest index. That is
//! the index libsvm's one scan ends with (after the best value first appears, only equal values
//! move `idx`), and its value, bit for bit. Every comparison and operation is libsvm's, lane by
//! lane; a variable libsvm skips is never offered.

/// A variable's place with respect to its bounds (libsvm's `alpha_status`).
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Status {
    Lower,
    Upper,
    Free,
}

/// The scans' lanes.
const LANES: usize = 8;

/// Each lane's best value and the last index holding it (`usize::MAX`: none yet).
struct Best {
    value: [f64; LANES],
    at: [usize; LANES],
}

impl Best {
    fn new(init: f64) -> Best {
        Best { value: [init; LANES], at: [usize::MAX; LANES] }
    }

    /// Lane `k` takes `v` at index `t` when `take`, without a branch.
    #[inline(always)]
    fn offer(&mut self, k: usize, take: bool, v: f64, t: usize) {
        self.value[k] = if take { v } else { self.value[k] };
        self.at[k] = if take { t } else { self.at[k] };
    }

    /// libsvm's scan result: the best value over the lanes (`better`), the largest index among
    /// lanes holding an equal one; `None` when nothing was taken.
    fn result(&self, better: impl Fn(f64, f64) -> bool) -> Option<(usize, f64)> {
        let mut out: Option<(usize, f64)> = None;
        for (&at, &v) in self.at.iter().zip(&self.value).filter(|(&at, _)| at != usize::MAX) {
            out = match out {
                Some((a, m)) if v == m => Some((at.max(a), if at > a { v } else { m })),
                Some((_, m)) if !better(v, m) => out,
                _ => Some((at, v)),
            };
        }
        out
    }
}

/// The variables' labels, gradients, statuses and Q's diagonal (the active ones first).
#[derive(Clone, Copy)]
pub struct Candidates<'s> {
    pub y: &'s [i8],
    pub g: &'s [f64],
    pub status: &'s [Status],
    pub qd: &'s [f64],
}

/// WSS3's first pass over the first `n` variables: i maximises -y_i ∇f_i over I_up (libsvm's
/// `-G[t] >= Gmax` for y = +1 not at its upper bound, `G[t] >= Gmax` for y = -1 not at its
/// lower bound). Returns i and Gmax; `None` when I_up is empty.
pub fn max_violating(c: Candidates, n: usize) -> Option<(usize, f64)> {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2 (checked just above), all `max_violating_avx2` needs.
        return unsafe { max_violating_avx2(c, n) };
    }
    max_violating_lanes(c, n)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn max_violating_avx2(c: Candidates, n: usize) -> Option<(usize, f64)> {
    max_violating_lanes(c, n)
}

#[inline(always)]
fn max_violating_lanes(c: Candidates, n: usize) -> Option<(usize, f64)> {
    let (y, g, status) = (&c.y[..n], &c.g[..n], &c.status[..n]);
    let mut best = Best::new(f64::NEG_INFINITY);
    let offer = |k: usize, t: usize, y: i8, g: f64, status: Status, best: &mut Best| {
        let positive = y == 1;
        let up = if positive { status != Status::Upper } else { status != Status::Lower };
        let v = if positive { -g } else { g };
        let take = up & (v >= best.value[k]);
        best.offer(k, take, v, t);
    };
    let whole = n - n % LANES;
    let lanes = y.chunks_exact(LANES).zip(g.chunks_exact(LANES)).zip(status.chunks_exact(LANES));
    for (block, ((y, g), status)) in lanes.enumerate() {
        for k in 0..LANES {
            offer(k, block * LANES + k, y[k], g[k], status[k], &mut best);
        }
    }
    for t in whole..n {
        offer(t - whole, t, y[t], g[t], status[t], &mut best);
    }
    best.result(|v, m| v > m)
}

/// WSS3's second pass over the first `n` variables, given i (`point`: Gmax, Q_ii, y_i) and its
/// column `q_i`: j minimises libsvm's `obj_diff` over I_low where `grad_diff > 0` (the last such
/// index on ties, as libsvm's `obj_diff <= obj_diff_min`). Returns j (`None`: no candidate) and
/// Gmax2, libsvm's running maximum of y_j ∇f_j over I_low (a maximum does not depend on the
/// order, and its sign of zero only enters a sum compared with eps).
pub fn second_order(c: Candidates, n: usize, point: (f64, f64, f64), q_i: &[f32]) -> (Option<usize>, f64) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2 (checked just above), all `second_order_avx2` needs.
        return unsafe { second_order_avx2(c, n, point, q_i) };
    }
    second_order_lanes(c, n, point, q_i)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn second_order_avx2(c: Candidates, n: usize, point: (f64, f64, f64), q_i: &[f32]) -> (Option<usize>, f64) {
    second_order_lanes(c, n, point, q_i)
}

/// libsvm's `TAU`: the quadratic coefficient when it is not positive.
pub const TAU: f64 = 1e-12;

/// libsvm's expressions term for term (`QD[i]+QD[j]∓2.0*y[i]*Q_i[j]`, `-(grad_diff*grad_diff)/quad_coef`).
#[inline(always)]
fn second_order_lanes(
    c: Candidates,
    n: usize,
    (gmax, qd_i, y_i): (f64, f64, f64),
    q_i: &[f32],
) -> (Option<usize>, f64) {
    let (y, g, status, qd, q_i) = (&c.y[..n], &c.g[..n], &c.status[..n], &c.qd[..n], &q_i[..n]);
    let mut best = Best::new(f64::INFINITY);
    let mut gmax2 = [f64::NEG_INFINITY; LANES];
    let mut offer = |k: usize, t: usize, (y, g, status, qd, q): (i8, f64, Status, f64, f32), best: &mut Best| {
        let positive = y == 1;
        let low = if positive { status != Status::Lower } else { status != Status::Upper };
        // -y_j ∇f_j: libsvm's `G[j]` for y_j = +1 and `-G[j]` for y_j = -1 (`gmax - G[j]` is `gmax + -G[j]`).
        let yg = if positive { g } else { -g };
        gmax2[k] = if low & (yg >= gmax2[k]) { yg } else { gmax2[k] };
        let grad_diff = gmax + yg;
        let sign = if positive { -1.0 } else { 1.0 };
        let quad_coef = qd_i + qd + sign * 2.0 * y_i * f64::from(q);
        let quad_coef = if quad_coef > 0.0 { quad_coef } else { TAU };
        let obj_diff = -(grad_diff * grad_diff) / quad_coef;
        best.offer(k, low & (grad_diff > 0.0) & (obj_diff <= best.value[k]), obj_diff, t);
    };
    let whole = n - n % LANES;
    let chunks = y.chunks_exact(LANES).zip(g.chunks_exact(LANES)).zip(status.chunks_exact(LANES));
    let chunks = chunks.zip(qd.chunks_exact(LANES)).zip(q_i.chunks_exact(LANES));
    for (block, ((((y, g), status), qd), q)) in chunks.enumerate() {
        for k in 0..LANES {
            offer(k, block * LANES + k, (y[k], g[k], status[k], qd[k], q[k]), &mut best);
        }
    }
    for t in whole..n {
        offer(t - whole, t, (y[t], g[t], status[t], qd[t], q_i[t]), &mut best);
    }
    let gmax2 = gmax2.iter().fold(f64::NEG_INFINITY, |m, &v| if v >= m { v } else { m });
    (best.result(|v, m| v < m).map(|(j, _)| j), gmax2)
}
