//! numpy's legacy `RandomState`: MT19937 seeded with `init_genrand(seed)`, and the
//! masked-rejection Fisher-Yates shuffle of `RandomState.shuffle` / `permutation`.
//! Reproducing it bit for bit is what makes our splits equal scikit-learn's.

use rand_mt::Mt;

/// numpy's `random_interval` mask: the smallest all-ones bit mask at least `max`.
pub fn interval_mask(max: u64) -> u64 {
    let mut mask = max;
    for shift in [1, 2, 4, 8, 16, 32] {
        mask |= mask >> shift;
    }
    mask
}

pub struct RandomState {
    mt: Mt,
}

impl RandomState {
    pub fn new(seed: u32) -> Self {
        RandomState { mt: Mt::new(seed) }
    }

    fn next_u64(&mut self) -> u64 {
        let hi = u64::from(self.mt.next_u32());
        let lo = u64::from(self.mt.next_u32());
        (hi << 32) | lo
    }

    /// numpy's `random_interval(max)`: uniform in `[0, max]` by masked rejection.
    fn random_interval(&mut self, max: u64) -> u64 {
        if max == 0 {
            return 0;
        }
        let mask = interval_mask(max);
        if max <= u64::from(u32::MAX) {
            loop {
                let v = u64::from(self.mt.next_u32()) & mask;
                if v <= max {
                    return v;
                }
            }
        }
        loop {
            let v = self.next_u64() & mask;
            if v <= max {
                return v;
            }
        }
    }

    /// An integer in `[low, high)`, as the legacy `RandomState.randint(low, high)`.
    pub fn randint(&mut self, low: u64, high: u64) -> u64 {
        low + self.random_interval(high - 1 - low)
    }

    /// A double in [0, 1), as numpy's `random_sample`.
    pub fn next_f64(&mut self) -> f64 {
        let a = f64::from(self.mt.next_u32() >> 5);
        let b = f64::from(self.mt.next_u32() >> 6);
        (a * 67_108_864.0 + b) / 9_007_199_254_740_992.0
    }

    /// A standard normal draw (Box-Muller).
    pub fn next_normal(&mut self) -> f64 {
        let u1 = 1.0 - self.next_f64();
        let u2 = self.next_f64();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }

    /// `RandomState.shuffle(x)` for a 1-d array.
    pub fn shuffle<T>(&mut self, x: &mut [T]) {
        for i in (1..x.len()).rev() {
            let j = self.random_interval(i as u64) as usize;
            x.swap(i, j);
        }
    }

    /// `RandomState.permutation(n)`.
    pub fn permutation(&mut self, n: usize) -> Vec<usize> {
        let mut v: Vec<usize> = (0..n).collect();
        self.shuffle(&mut v);
        v
    }

    /// scikit-learn's `sample_without_replacement(n_population, n_samples, method="auto",
    /// random_state=self)`, in its order (not sorted).
    pub fn sample_without_replacement(&mut self, population: usize, samples: usize) -> Vec<usize> {
        let ratio = if population == 0 { 1.0 } else { samples as f64 / population as f64 };
        if ratio > 0.01 && ratio < 0.99 {
            return self.permutation(population)[..samples].to_vec();
        }
        if ratio < 0.2 {
            // Tracking selection: redraw until unseen.
            let mut chosen = std::collections::HashSet::new();
            let mut out = Vec::with_capacity(samples);
            for _ in 0..samples {
                let mut j = self.randint(0, population as u64) as usize;
                while !chosen.insert(j) {
                    j = self.randint(0, population as u64) as usize;
                }
                out.push(j);
            }
            return out;
        }
        // Reservoir sampling.
        let mut out: Vec<usize> = (0..samples).collect();
        for i in samples..population {
            let j = self.randint(0, i as u64 + 1) as usize;
            if j < samples {
                out[j] = i;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permutation_matches_numpy() {
        // numpy.random.RandomState(0).permutation(10)
        assert_eq!(RandomState::new(0).permutation(10), vec![2, 8, 4, 9, 1, 6, 7, 3, 0, 5]);
        // numpy.random.RandomState(42).permutation(5)
        assert_eq!(RandomState::new(42).permutation(5), vec![1, 4, 2, 0, 3]);
    }
}
