//! The numerical pieces PowerTransformer's lambda search goes through, as numpy and scipy
//! compute them: numpy's pairwise sum and variance, scipy's `logsumexp`, `optimize.bracket`,
//! `optimize.brent` and `optimize.fminbound`. Step for step, so the searches visit the same
//! points (up to the last-bit differences of numpy's SIMD `exp`/`log` against libm).

/// numpy's `np.sum` of a 1-d array: `0 + pairwise_sum` (blocks of 8 accumulators up to 128
/// values, halves beyond).
pub fn sum(a: &[f64]) -> f64 {
    0.0 + pairwise(a)
}

fn pairwise(a: &[f64]) -> f64 {
    let n = a.len();
    if n < 8 {
        return a.iter().fold(0.0, |s, v| s + v);
    }
    if n <= 128 {
        let mut r: [f64; 8] = a[..8].try_into().expect("eight values");
        let whole = n - n % 8;
        for chunk in a[8..whole].chunks_exact(8) {
            r.iter_mut().zip(chunk).for_each(|(acc, v)| *acc += v);
        }
        let res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        return a[whole..].iter().fold(res, |s, v| s + v);
    }
    let half = n / 2 - (n / 2) % 8;
    pairwise(&a[..half]) + pairwise(&a[half..])
}

/// `np.var(a)`: the mean by `sum / n`, then the summed squared deviations over `n`.
pub fn var(a: &[f64]) -> f64 {
    let n = a.len() as f64;
    let mean = sum(a) / n;
    let squares: Vec<f64> = a.iter().map(|v| (v - mean) * (v - mean)).collect();
    sum(&squares) / n
}

/// `scipy.special.logsumexp(a)` of a 1-d array: log Σ exp(a), shifted by the largest value
/// (counted `m` times when repeated); its plain form when that is not finite.
pub fn logsumexp(a: &[f64]) -> f64 {
    let max = a.iter().fold(f64::NEG_INFINITY, |m, &v| if v > m { v } else { m });
    let m = a.iter().filter(|&&v| v == max).count() as f64;
    let terms: Vec<f64> = a.iter().map(|&v| if v == max { 0.0 } else { (v - max).exp() }).collect();
    let s = sum(&terms);
    let s = if s == 0.0 { s } else { s / m };
    let out = s.ln_1p() + m.ln() + max;
    if out.is_finite() {
        return out;
    }
    let plain: Vec<f64> = a.iter().map(|v| v.exp()).collect();
    sum(&plain).ln()
}

/// `logsumexp([a, b], b=[1, -1], return_sign=True)[0]`: log |exp(a) − exp(b)|.
pub fn log_diff_exp(a: f64, b: f64) -> f64 {
    let max = a.max(b);
    if a == b {
        return f64::NEG_INFINITY;
    }
    let s = -((a.min(b) - max).exp());
    let out = s.ln_1p() + 0.0 + max;
    if out.is_finite() {
        out
    } else {
        (a.exp() - b.exp()).abs().ln()
    }
}

const GOLDEN: f64 = 1.618034;

/// `scipy.optimize.bracket(f, xa, xb)` (grow_limit 110, maxiter 1000): three points with the
/// middle one lowest, or `None` where scipy raises.
fn bracket(f: &mut dyn FnMut(f64) -> f64, xa: f64, xb: f64) -> Option<[(f64, f64); 3]> {
    let (mut a, mut b) = ((xa, f(xa)), (xb, f(xb)));
    if a.1 < b.1 {
        std::mem::swap(&mut a, &mut b);
    }
    let mut c = (b.0 + GOLDEN * (b.0 - a.0), 0.0);
    c.1 = f(c.0);
    let mut iter = 0;
    while c.1 < b.1 {
        let tmp1 = (b.0 - a.0) * (b.1 - c.1);
        let tmp2 = (b.0 - c.0) * (b.1 - a.1);
        let val = tmp2 - tmp1;
        let denom = if val.abs() < 1e-21 { 2.0 * 1e-21 } else { 2.0 * val };
        let mut w = b.0 - ((b.0 - c.0) * tmp2 - (b.0 - a.0) * tmp1) / denom;
        let wlim = b.0 + 110.0 * (c.0 - b.0);
        if iter > 1000 {
            return None;
        }
        iter += 1;
        let fw;
        if (w - c.0) * (b.0 - w) > 0.0 {
            let fw0 = f(w);
            if fw0 < c.1 {
                return valid([b, (w, fw0), c]);
            } else if fw0 > b.1 {
                return valid([a, b, (w, fw0)]);
            }
            w = c.0 + GOLDEN * (c.0 - b.0);
            fw = f(w);
        } else if (w - wlim) * (wlim - c.0) >= 0.0 {
            w = wlim;
            fw = f(w);
        } else if (w - wlim) * (c.0 - w) > 0.0 {
            let fw0 = f(w);
            if fw0 < c.1 {
                (b, c) = (c, (w, fw0));
                w = c.0 + GOLDEN * (c.0 - b.0);
                fw = f(w);
            } else {
                fw = fw0;
            }
        } else {
            w = c.0 + GOLDEN * (c.0 - b.0);
            fw = f(w);
        }
        (a, b, c) = (b, c, (w, fw));
    }
    valid([a, b, c])
}

/// scipy's closing check of `bracket`.
fn valid([a, b, c]: [(f64, f64); 3]) -> Option<[(f64, f64); 3]> {
    let lowest = (b.1 < c.1 && b.1 <= a.1) || (b.1 < a.1 && b.1 <= c.1);
    let between = (a.0 < b.0 && b.0 < c.0) || (c.0 < b.0 && b.0 < a.0);
    let finite = a.0.is_finite() && b.0.is_finite() && c.0.is_finite();
    (lowest && between && finite).then_some([a, b, c])
}

/// `scipy.optimize.brent(f, brack=(xa, xb))` (tol 1.48e-8, maxiter 500): the minimiser, or
/// `None` when no bracket is found.
pub fn brent(f: &mut dyn FnMut(f64) -> f64, xa: f64, xb: f64) -> Option<f64> {
    const TOL: f64 = 1.48e-8;
    const CG: f64 = 0.3819660;
    let [pa, pb, pc] = bracket(f, xa, xb)?;
    let (mut x, mut w, mut v) = (pb.0, pb.0, pb.0);
    let (mut fx, mut fw, mut fv) = (pb.1, pb.1, pb.1);
    let (mut a, mut b) = if pa.0 < pc.0 { (pa.0, pc.0) } else { (pc.0, pa.0) };
    let (mut deltax, mut rat) = (0.0f64, 0.0f64);
    for _ in 0..500 {
        let tol1 = TOL * x.abs() + 1.0e-11;
        let tol2 = 2.0 * tol1;
        let xmid = 0.5 * (a + b);
        if (x - xmid).abs() < tol2 - 0.5 * (b - a) {
            break;
        }
        let golden = |x: f64| if x >= xmid { a - x } else { b - x };
        if deltax.abs() <= tol1 {
            deltax = golden(x);
            rat = CG * deltax;
        } else {
            let tmp1 = (x - w) * (fx - fv);
            let tmp2 = (x - v) * (fx - fw);
            let mut p = (x - v) * tmp2 - (x - w) * tmp1;
            let mut tmp2 = 2.0 * (tmp2 - tmp1);
            if tmp2 > 0.0 {
                p = -p;
            }
            tmp2 = tmp2.abs();
            let dx_temp = deltax;
            deltax = rat;
            if p > tmp2 * (a - x) && p < tmp2 * (b - x) && p.abs() < (0.5 * tmp2 * dx_temp).abs() {
                rat = p * 1.0 / tmp2;
                let u = x + rat;
                if (u - a) < tol2 || (b - u) < tol2 {
                    rat = if xmid - x >= 0.0 { tol1 } else { -tol1 };
                }
            } else {
                deltax = golden(x);
                rat = CG * deltax;
            }
        }
        let u = if rat.abs() < tol1 {
            if rat >= 0.0 {
                x + tol1
            } else {
                x - tol1
            }
        } else {
            x + rat
        };
        let fu = f(u);
        if fu > fx {
            if u < x {
                a = u;
            } else {
                b = u;
            }
            if fu <= fw || w == x {
                (v, fv, w, fw) = (w, fw, u, fu);
            } else if fu <= fv || v == x || v == w {
                (v, fv) = (u, fu);
            }
        } else {
            if u >= x {
                a = x;
            } else {
                b = x;
            }
            (v, fv, w, fw, x, fx) = (w, fw, x, fx, u, fu);
        }
    }
    Some(x)
}

/// numpy's `sign(v) + (v == 0)`: 1 for zero.
fn sign_or_one(v: f64) -> f64 {
    if v > 0.0 {
        1.0
    } else if v < 0.0 {
        -1.0
    } else if v == 0.0 {
        1.0
    } else {
        v
    }
}

/// `scipy.optimize.fminbound(f, x1, x2, xtol)` (maxfun 500): Brent's bounded minimisation.
pub fn fminbound(f: &mut dyn FnMut(f64) -> f64, x1: f64, x2: f64, xtol: f64) -> f64 {
    let sqrt_eps = 2.2e-16f64.sqrt();
    let golden_mean = 0.5 * (3.0 - 5.0f64.sqrt());
    let (mut a, mut b) = (x1, x2);
    let mut fulc = a + golden_mean * (b - a);
    let (mut nfc, mut xf) = (fulc, fulc);
    let (mut rat, mut e) = (0.0f64, 0.0f64);
    let mut fx = f(xf);
    let mut num = 1;
    let (mut ffulc, mut fnfc) = (fx, fx);
    let mut xm = 0.5 * (a + b);
    let mut tol1 = sqrt_eps * xf.abs() + xtol / 3.0;
    let mut tol2 = 2.0 * tol1;
    while (xf - xm).abs() > tol2 - 0.5 * (b - a) {
        let mut golden = true;
        if e.abs() > tol1 {
            golden = false;
            let mut r = (xf - nfc) * (fx - ffulc);
            let mut q = (xf - fulc) * (fx - fnfc);
            let mut p = (xf - fulc) * q - (xf - nfc) * r;
            q = 2.0 * (q - r);
            if q > 0.0 {
                p = -p;
            }
            q = q.abs();
            r = e;
            e = rat;
            if p.abs() < (0.5 * q * r).abs() && p > q * (a - xf) && p < q * (b - xf) {
                rat = (p + 0.0) / q;
                let x = xf + rat;
                if (x - a) < tol2 || (b - x) < tol2 {
                    rat = tol1 * sign_or_one(xm - xf);
                }
            } else {
                golden = true;
            }
        }
        if golden {
            e = if xf >= xm { a - xf } else { b - xf };
            rat = golden_mean * e;
        }
        let x = xf + sign_or_one(rat) * rat.abs().max(tol1);
        let fu = f(x);
        num += 1;
        if fu <= fx {
            if x >= xf {
                a = xf;
            } else {
                b = xf;
            }
            (fulc, ffulc, nfc, fnfc, xf, fx) = (nfc, fnfc, xf, fx, x, fu);
        } else {
            if x < xf {
                a = x;
            } else {
                b = x;
            }
            if fu <= fnfc || nfc == xf {
                (fulc, ffulc, nfc, fnfc) = (nfc, fnfc, x, fu);
            } else if fu <= ffulc || fulc == xf || fulc == nfc {
                (fulc, ffulc) = (x, fu);
            }
        }
        xm = 0.5 * (a + b);
        tol1 = sqrt_eps * xf.abs() + xtol / 3.0;
        tol2 = 2.0 * tol1;
        if num >= 500 {
            break;
        }
    }
    xf
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairwise_sum_rounds_as_numpy() {
        // 1 then 200 × 1e-16: np.sum gives 1.0000000000000189 (a running sum stays at 1).
        let mut a = vec![1.0];
        a.extend(std::iter::repeat_n(1e-16, 200));
        assert_eq!(sum(&a), 1.0000000000000189);
        assert_eq!(var(&[1.0, 2.0, 3.0, 4.0]), 1.25);
    }

    #[test]
    fn optimisers_visit_scipys_points() {
        // scipy: brent(f, brack=(-2, 2)) = 0.7000000103699997, fminbound(f, -3, 5) = 0.7.
        let mut f = |x: f64| (x - 0.7) * (x - 0.7) + 1.0;
        assert_eq!(brent(&mut f, -2.0, 2.0), Some(0.7000000103699997));
        assert_eq!(fminbound(&mut f, -3.0, 5.0, 1.48e-8), 0.7);
        assert!((logsumexp(&[1.0, 2.0, 2.0]) - (1f64.exp() + 2.0 * 2f64.exp()).ln()).abs() < 1e-15);
        assert!((log_diff_exp(0.5, 2.0) - (2f64.exp() - 0.5f64.exp()).ln()).abs() < 1e-15);
    }
}
