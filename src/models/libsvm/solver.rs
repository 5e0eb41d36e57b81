//! libsvm's `Solver` (Fan, Chen and Lin 2005), step for step as scikit-learn 1.9.1 vendors it:
//!
//! `min ½ αᵀQα + pᵀα  subject to  yᵀα = δ, 0 ≤ α_i ≤ C_i`
//!
//! with second-order working-set selection, shrinking (and the gradient reconstruction when
//! the active set grows back), the stopping rule `Gmax + Gmax2 < eps`, scikit-learn's
//! `max_iter`, and libsvm's rule for `rho`.

use super::qmatrix::QMatrix;
use super::wss::{max_violating, second_order, Candidates, Status, TAU};

/// What a solve returns besides the α it writes back.
#[derive(Debug, Clone, Copy)]
pub struct Solution {
    pub rho: f64,
    pub iterations: usize,
    /// `max_iter` stopped it (scikit-learn's "Solver terminated early").
    pub timed_out: bool,
}

struct Solver<'q> {
    q: &'q mut dyn QMatrix,
    active_size: usize,
    l: usize,
    y: Vec<i8>,
    g: Vec<f64>,
    status: Vec<Status>,
    alpha: Vec<f64>,
    c: Vec<f64>,
    p: Vec<f64>,
    active_set: Vec<usize>,
    g_bar: Vec<f64>,
    eps: f64,
    unshrink: bool,
    /// Q's diagonal, swapped with the variables (libsvm's `QD`), read while a column of Q is.
    qd: Vec<f64>,
}

/// The problem's data, each of length l: linear term, labels (±1), starting α, bounds.
pub struct Problem<'a> {
    pub p: &'a [f64],
    pub y: &'a [i8],
    pub alpha: &'a mut [f64],
    pub c: &'a [f64],
}

/// The stopping and speed settings of one solve.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub eps: f64,
    pub shrinking: bool,
    /// `None`: no limit (scikit-learn's `max_iter = -1`).
    pub max_iter: Option<usize>,
}

/// Solves the problem in place (α is written back in the original order).
pub fn solve(q: &mut dyn QMatrix, problem: Problem, settings: Settings) -> Solution {
    let l = problem.y.len();
    let qd = q.qd().to_vec();
    let mut s = Solver {
        q,
        active_size: l,
        l,
        y: problem.y.to_vec(),
        g: problem.p.to_vec(),
        status: vec![Status::Lower; l],
        alpha: problem.alpha.to_vec(),
        c: problem.c.to_vec(),
        p: problem.p.to_vec(),
        active_set: (0..l).collect(),
        g_bar: vec![0.0; l],
        eps: settings.eps,
        unshrink: false,
        qd,
    };
    for i in 0..l {
        s.update_status(i);
    }
    s.init_gradient();
    let (iterations, timed_out) = s.optimize(settings);
    let rho = s.calculate_rho();
    for i in 0..l {
        problem.alpha[s.active_set[i]] = s.alpha[i];
    }
    Solution { rho, iterations, timed_out }
}

impl Solver<'_> {
    fn update_status(&mut self, i: usize) {
        self.status[i] = if self.alpha[i] >= self.c[i] {
            Status::Upper
        } else if self.alpha[i] <= 0.0 {
            Status::Lower
        } else {
            Status::Free
        };
    }
    fn is_upper(&self, i: usize) -> bool {
        self.status[i] == Status::Upper
    }
    fn is_lower(&self, i: usize) -> bool {
        self.status[i] == Status::Lower
    }
    fn is_free(&self, i: usize) -> bool {
        self.status[i] == Status::Free
    }

    fn init_gradient(&mut self) {
        let l = self.l;
        for i in 0..l {
            if self.is_lower(i) {
                continue;
            }
            let (alpha_i, upper, c_i) = (self.alpha[i], self.is_upper(i), self.c[i]);
            let q_i = self.q.get_q(i, l);
            for (g, q) in self.g.iter_mut().zip(q_i) {
                *g += alpha_i * f64::from(*q);
            }
            if upper {
                for (g, q) in self.g_bar.iter_mut().zip(q_i) {
                    *g += c_i * f64::from(*q);
                }
            }
        }
    }

    /// The main loop; returns the iterations run and whether `max_iter` stopped it.
    fn optimize(&mut self, settings: Settings) -> (usize, bool) {
        let mut iter = 0;
        let mut counter = self.l.min(1000) + 1;
        loop {
            if settings.max_iter.is_some_and(|m| iter >= m) {
                return (iter, true);
            }
            counter -= 1;
            if counter == 0 {
                counter = self.l.min(1000);
                if settings.shrinking {
                    self.do_shrinking();
                }
            }
            let (i, j) = match self.select_working_set() {
                Some(pair) => pair,
                None => {
                    self.reconstruct_gradient();
                    self.active_size = self.l;
                    match self.select_working_set() {
                        Some(pair) => {
                            counter = 1; // shrink at the next iteration
                            pair
                        }
                        None => return (iter, false),
                    }
                }
            };
            iter += 1;
            self.take_step(i, j);
        }
    }

    /// Updates α_i and α_j (handling the bounds as libsvm does), then G, the statuses and G_bar.
    fn take_step(&mut self, i: usize, j: usize) {
        let active = self.active_size;
        let (old_i, old_j) = (self.alpha[i], self.alpha[j]);
        let qd = self.q_diag(i, j);
        {
            let (q_i, q_j) = self.q.get_q2(i, j, active);
            let (ai, aj) = new_pair(
                (self.alpha[i], self.alpha[j]),
                (self.c[i], self.c[j]),
                (self.g[i], self.g[j]),
                self.y[i] != self.y[j],
                qd,
                f64::from(q_i[j]),
            );
            self.alpha[i] = ai;
            self.alpha[j] = aj;
            update_gradient(&mut self.g[..active], q_i, q_j, (ai - old_i, aj - old_j));
        }
        for k in [i, j] {
            let was_upper = self.is_upper(k);
            self.update_status(k);
            if was_upper != self.is_upper(k) {
                let (l, c_k) = (self.l, self.c[k]);
                let q_k = self.q.get_q(k, l);
                for (g, q) in self.g_bar.iter_mut().zip(q_k) {
                    if was_upper {
                        *g -= c_k * f64::from(*q);
                    } else {
                        *g += c_k * f64::from(*q);
                    }
                }
            }
        }
    }

    fn q_diag(&self, i: usize, j: usize) -> (f64, f64) {
        (self.qd[i], self.qd[j])
    }

    /// libsvm's WSS3 (`wss`): i maximises -y_i ∇f_i over I_up; j minimises the second-order
    /// decrease among I_low. `None` when optimal within eps.
    fn select_working_set(&mut self) -> Option<(usize, usize)> {
        let active = self.active_size;
        let candidates = Candidates { y: &self.y, g: &self.g, status: &self.status, qd: &self.qd };
        let (i, gmax) = max_violating(candidates, active)?;
        let (qd_i, y_i) = (self.qd[i], f64::from(self.y[i]));
        let q_i = self.q.get_q(i, active);
        let candidates = Candidates { y: &self.y, g: &self.g, status: &self.status, qd: &self.qd };
        match second_order(candidates, active, (gmax, qd_i, y_i), q_i) {
            (Some(j), gmax2) if gmax + gmax2 >= self.eps => Some((i, j)),
            _ => None,
        }
    }
}

impl Solver<'_> {
    fn swap_index(&mut self, i: usize, j: usize) {
        self.q.swap_index(i, j);
        self.y.swap(i, j);
        self.g.swap(i, j);
        self.status.swap(i, j);
        self.qd.swap(i, j);
        self.alpha.swap(i, j);
        self.p.swap(i, j);
        self.active_set.swap(i, j);
        self.g_bar.swap(i, j);
        self.c.swap(i, j);
    }

    /// Rebuilds the gradient of the inactive (shrunk) variables from G_bar and the free ones.
    fn reconstruct_gradient(&mut self) {
        let (active, l) = (self.active_size, self.l);
        if active == l {
            return;
        }
        for j in active..l {
            self.g[j] = self.g_bar[j] + self.p[j];
        }
        let nr_free = (0..active).filter(|&j| self.is_free(j)).count();
        if nr_free * l > 2 * active * (l - active) {
            for i in active..l {
                let q_i = self.q.get_q(i, active);
                let mut g_i = self.g[i];
                for ((q, a), status) in q_i.iter().zip(&self.alpha).zip(&self.status) {
                    if *status == Status::Free {
                        g_i += a * f64::from(*q);
                    }
                }
                self.g[i] = g_i;
            }
        } else {
            for i in 0..active {
                if !self.is_free(i) {
                    continue;
                }
                let alpha_i = self.alpha[i];
                let q_i = self.q.get_q(i, l);
                for (g, q) in self.g[active..].iter_mut().zip(&q_i[active..]) {
                    *g += alpha_i * f64::from(*q);
                }
            }
        }
    }

    fn be_shrunk(&self, i: usize, gmax1: f64, gmax2: f64) -> bool {
        let positive = self.y[i] == 1;
        if self.is_upper(i) {
            -self.g[i] > if positive { gmax1 } else { gmax2 }
        } else if self.is_lower(i) {
            self.g[i] > if positive { gmax2 } else { gmax1 }
        } else {
            false
        }
    }

    fn do_shrinking(&mut self) {
        let mut gmax1 = f64::NEG_INFINITY; // max { -y_i ∇f_i | i in I_up }
        let mut gmax2 = f64::NEG_INFINITY; // max { y_i ∇f_i | i in I_low }
        for i in 0..self.active_size {
            let (up, low) = if self.y[i] == 1 { (-self.g[i], self.g[i]) } else { (self.g[i], -self.g[i]) };
            if self.y[i] == 1 {
                if !self.is_upper(i) {
                    gmax1 = gmax1.max_ge(up);
                }
                if !self.is_lower(i) {
                    gmax2 = gmax2.max_ge(low);
                }
            } else {
                if !self.is_upper(i) {
                    gmax2 = gmax2.max_ge(low);
                }
                if !self.is_lower(i) {
                    gmax1 = gmax1.max_ge(up);
                }
            }
        }
        if !self.unshrink && gmax1 + gmax2 <= self.eps * 10.0 {
            self.unshrink = true;
            self.reconstruct_gradient();
            self.active_size = self.l;
        }
        let mut i = 0;
        while i < self.active_size {
            if self.be_shrunk(i, gmax1, gmax2) {
                self.active_size -= 1;
                while self.active_size > i {
                    if !self.be_shrunk(self.active_size, gmax1, gmax2) {
                        self.swap_index(i, self.active_size);
                        break;
                    }
                    self.active_size -= 1;
                }
            }
            i += 1;
        }
    }

    /// libsvm's rho: the mean of y_i ∇f_i over free variables, else the middle of the bounds.
    fn calculate_rho(&self) -> f64 {
        let (mut ub, mut lb, mut sum_free, mut nr_free) = (f64::INFINITY, f64::NEG_INFINITY, 0.0, 0usize);
        for i in 0..self.active_size {
            let yg = f64::from(self.y[i]) * self.g[i];
            let positive = self.y[i] == 1;
            if self.is_upper(i) {
                if positive {
                    lb = lb.max(yg);
                } else {
                    ub = ub.min(yg);
                }
            } else if self.is_lower(i) {
                if positive {
                    ub = ub.min(yg);
                } else {
                    lb = lb.max(yg);
                }
            } else {
                nr_free += 1;
                sum_free += yg;
            }
        }
        if nr_free > 0 {
            sum_free / nr_free as f64
        } else {
            (ub + lb) / 2.0
        }
    }
}

/// libsvm's `G[k] += Q_i[k]*delta_alpha_i + Q_j[k]*delta_alpha_j` over `g`, in AVX2 lanes where
/// the CPU has them (each value the scalar expression's).
fn update_gradient(g: &mut [f64], q_i: &[f32], q_j: &[f32], deltas: (f64, f64)) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2 (checked just above), all `update_gradient_avx2` needs.
        return unsafe { update_gradient_avx2(g, q_i, q_j, deltas) };
    }
    update_gradient_lanes(g, q_i, q_j, deltas);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn update_gradient_avx2(g: &mut [f64], q_i: &[f32], q_j: &[f32], deltas: (f64, f64)) {
    update_gradient_lanes(g, q_i, q_j, deltas);
}

#[inline(always)]
fn update_gradient_lanes(g: &mut [f64], q_i: &[f32], q_j: &[f32], (di, dj): (f64, f64)) {
    for ((g, qi), qj) in g.iter_mut().zip(q_i).zip(q_j) {
        *g += f64::from(*qi) * di + f64::from(*qj) * dj;
    }
}

/// `if (v >= m) m = v`, libsvm's running maximum.
trait MaxGe {
    fn max_ge(self, v: f64) -> f64;
}

impl MaxGe for f64 {
    fn max_ge(self, v: f64) -> f64 {
        if v >= self {
            v
        } else {
            self
        }
    }
}

/// The new (α_i, α_j) of one SMO step, clipped to the box as libsvm clips it.
fn new_pair(
    (a_i, a_j): (f64, f64),
    (c_i, c_j): (f64, f64),
    (g_i, g_j): (f64, f64),
    opposite: bool,
    (qd_i, qd_j): (f64, f64),
    q_ij: f64,
) -> (f64, f64) {
    let (mut ai, mut aj) = (a_i, a_j);
    if opposite {
        let quad_coef = positive_or_tau(qd_i + qd_j + 2.0 * q_ij);
        let delta = (-g_i - g_j) / quad_coef;
        let diff = ai - aj;
        ai += delta;
        aj += delta;
        if diff > 0.0 {
            if aj < 0.0 {
                (ai, aj) = (diff, 0.0);
            }
        } else if ai < 0.0 {
            (ai, aj) = (0.0, -diff);
        }
        if diff > c_i - c_j {
            if ai > c_i {
                (ai, aj) = (c_i, c_i - diff);
            }
        } else if aj > c_j {
            (ai, aj) = (c_j + diff, c_j);
        }
    } else {
        let quad_coef = positive_or_tau(qd_i + qd_j - 2.0 * q_ij);
        let delta = (g_i - g_j) / quad_coef;
        let sum = ai + aj;
        ai -= delta;
        aj += delta;
        if sum > c_i {
            if ai > c_i {
                (ai, aj) = (c_i, sum - c_i);
            }
        } else if aj < 0.0 {
            (ai, aj) = (sum, 0.0);
        }
        if sum > c_j {
            if aj > c_j {
                (ai, aj) = (sum - c_j, c_j);
            }
        } else if ai < 0.0 {
            (ai, aj) = (0.0, sum);
        }
    }
    (ai, aj)
}

fn positive_or_tau(quad_coef: f64) -> f64 {
    if quad_coef <= 0.0 {
        TAU
    } else {
        quad_coef
    }
}
