//! A compact L-BFGS minimiser (two-loop recursion, backtracking Armijo line search) for
//! smooth convex objectives such as L2-penalised logistic regression.

/// Why the minimiser stopped.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Stop {
    /// The largest gradient component fell below the tolerance.
    Converged,
    /// The objective stopped decreasing at floating-point resolution.
    NoProgress,
    MaxIterations,
}

pub struct Minimum {
    pub x: Vec<f64>,
    pub value: f64,
    pub stop: Stop,
    pub iterations: usize,
    /// The largest gradient component at `x`.
    pub gradient: f64,
}

const MEMORY: usize = 10;
/// Iterations in a row without progress in the objective or the gradient before giving up.
const STALLS: usize = 20;

fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0f64, |m, x| m.max(x.abs()))
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// L-BFGS's two-loop recursion: the search direction `-H g` from the stored steps.
fn direction(g: &[f64], s_hist: &[Vec<f64>], y_hist: &[Vec<f64>], gmax: f64) -> Vec<f64> {
    let mut q = g.to_vec();
    let mut alphas = Vec::with_capacity(s_hist.len());
    for (s, y) in s_hist.iter().zip(y_hist).rev() {
        let rho = 1.0 / dot(y, s);
        let a = rho * dot(s, &q);
        for (qi, yi) in q.iter_mut().zip(y) {
            *qi -= a * yi;
        }
        alphas.push((a, rho));
    }
    let gamma = match (s_hist.last(), y_hist.last()) {
        (Some(s), Some(y)) => dot(s, y) / dot(y, y),
        _ => 1.0 / gmax.max(1.0),
    };
    for qi in &mut q {
        *qi *= gamma;
    }
    for ((s, y), (a, rho)) in s_hist.iter().zip(y_hist).zip(alphas.into_iter().rev()) {
        let b = rho * dot(y, &q);
        for (qi, si) in q.iter_mut().zip(s) {
            *qi += (a - b) * si;
        }
    }
    q.into_iter().map(|v| -v).collect()
}

/// Minimises `f` (which returns the value and the gradient) from `x0`. Stops when
/// `max |gradient| <= gtol`.
pub fn minimize(mut f: impl FnMut(&[f64]) -> (f64, Vec<f64>), x0: Vec<f64>, gtol: f64, max_iter: usize) -> Minimum {
    let mut x = x0;
    let (mut fx, mut g) = f(&x);
    let mut s_hist: Vec<Vec<f64>> = Vec::new();
    let mut y_hist: Vec<Vec<f64>> = Vec::new();
    let mut iterations = 0;
    let mut stalls = 0;
    loop {
        let gmax = max_abs(&g);
        if gmax <= gtol {
            return Minimum { x, value: fx, stop: Stop::Converged, iterations, gradient: gmax };
        }
        if iterations >= max_iter {
            return Minimum { x, value: fx, stop: Stop::MaxIterations, iterations, gradient: gmax };
        }
        iterations += 1;
        let mut d = direction(&g, &s_hist, &y_hist, gmax);
        let mut slope = dot(&g, &d);
        if slope >= 0.0 {
            // Not a descent direction (rounding): restart from steepest descent.
            s_hist.clear();
            y_hist.clear();
            d = g.iter().map(|v| -v / gmax.max(1.0)).collect();
            slope = dot(&g, &d);
        }
        // Backtracking line search with the Armijo condition. Near the optimum the objective
        // changes below its rounding; a step that keeps it level there and flattens the
        // slope along d is taken too, so the gradient can still be driven down (as scipy's
        // line search does with its curvature test).
        let rounding = 1e-12 * fx.abs();
        let mut step = 1.0;
        let (x_new, f_new, g_new) = loop {
            let trial: Vec<f64> = x.iter().zip(&d).map(|(xi, di)| xi + step * di).collect();
            let (ft, gt) = f(&trial);
            let armijo = ft <= fx + 1e-4 * step * slope;
            let level_and_flatter = ft <= fx + rounding && dot(&gt, &d).abs() <= 0.9 * slope.abs();
            if ft.is_finite() && (armijo || level_and_flatter) {
                break (trial, ft, gt);
            }
            step *= 0.5;
            if step < 1e-20 {
                return Minimum { x, value: fx, stop: Stop::NoProgress, iterations, gradient: gmax };
            }
        };
        let s: Vec<f64> = x_new.iter().zip(&x).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = g_new.iter().zip(&g).map(|(a, b)| a - b).collect();
        let progress = fx - f_new;
        x = x_new;
        g = g_new;
        let previous = fx;
        fx = f_new;
        if dot(&s, &y) > 1e-12 * dot(&y, &y).sqrt() * dot(&s, &s).sqrt() {
            if s_hist.len() == MEMORY {
                s_hist.remove(0);
                y_hist.remove(0);
            }
            s_hist.push(s);
            y_hist.push(y);
        }
        // Stalled: neither the objective nor the gradient improved, STALLS times in a row.
        let stalled = progress <= f64::EPSILON * previous.abs().max(1e-300) * 4.0 && max_abs(&g) >= gmax;
        stalls = if stalled { stalls + 1 } else { 0 };
        if stalls >= STALLS {
            return Minimum { x, value: fx, stop: Stop::NoProgress, iterations, gradient: max_abs(&g) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimises_the_rosenbrock_function() {
        let rosen = |x: &[f64]| {
            let (a, b) = (x[0], x[1]);
            let v = (1.0 - a).powi(2) + 100.0 * (b - a * a).powi(2);
            let g = vec![-2.0 * (1.0 - a) - 400.0 * a * (b - a * a), 200.0 * (b - a * a)];
            (v, g)
        };
        let m = minimize(rosen, vec![-1.2, 1.0], 1e-10, 1000);
        assert_eq!(m.stop, Stop::Converged);
        assert!((m.x[0] - 1.0).abs() < 1e-8 && (m.x[1] - 1.0).abs() < 1e-8, "{:?}", m.x);
    }
}
