//! numpy's float64 reductions, summed in its order: `np.sum` is a pairwise sum (8
//! accumulators in blocks of 128), `np.mean` that sum over the count.

/// `np.add.reduce` of a contiguous float64 array.
pub fn pairwise_sum(a: &[f64]) -> f64 {
    let n = a.len();
    if n < 8 {
        a.iter().fold(0.0, |s, &v| s + v)
    } else if n <= 128 {
        let mut r = [0.0; 8];
        r.copy_from_slice(&a[..8]);
        let mut i = 8;
        while i < n - n % 8 {
            for j in 0..8 {
                r[j] += a[i + j];
            }
            i += 8;
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for &v in &a[i..] {
            res += v;
        }
        res
    } else {
        let mut n2 = n / 2;
        n2 -= n2 % 8;
        pairwise_sum(&a[..n2]) + pairwise_sum(&a[n2..])
    }
}

/// `np.average(values, weights=weights)`.
pub fn average(values: &[f64], weights: Option<&[f64]>) -> f64 {
    match weights {
        None => pairwise_sum(values) / values.len() as f64,
        Some(w) => {
            let products: Vec<f64> = values.iter().zip(w).map(|(v, w)| v * w).collect();
            pairwise_sum(&products) / pairwise_sum(w)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairwise_sum_blocks_as_numpy_does() {
        // Rounding shows the order: np.sum of 1e16 followed by 300 ones.
        let mut a = vec![1e16];
        a.extend(std::iter::repeat_n(1.0, 300));
        assert_eq!(pairwise_sum(&a), 1.0000000000000292e16);
    }
}
