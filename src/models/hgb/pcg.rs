//! numpy's `default_rng(seed)`: PCG64 seeded through `SeedSequence`, and `Generator.shuffle`,
//! which scikit-learn's HGB uses to draw the features each split may use (`max_features`).

const MULTIPLIER: u128 = 0x2360_ED05_1FC6_5DA4_4385_DF64_9FCC_F645;
const INIT_A: u32 = 0x43b0_d7e5;
const MULT_A: u32 = 0x931e_8875;
const INIT_B: u32 = 0x8b51_f9dd;
const MULT_B: u32 = 0x58f3_8ded;
const MIX_MULT_L: u32 = 0xca01_f9dd;
const MIX_MULT_R: u32 = 0x4973_f715;
const POOL_SIZE: usize = 4;

pub struct Pcg64 {
    state: u128,
    inc: u128,
    /// The high half of the last 64-bit draw, not yet used (`has_uint32`, `uinteger`).
    spare: Option<u32>,
}

fn hashmix(value: u32, hash_const: &mut u32) -> u32 {
    let mut v = value ^ *hash_const;
    *hash_const = hash_const.wrapping_mul(MULT_A);
    v = v.wrapping_mul(*hash_const);
    v ^ (v >> 16)
}

fn mix(x: u32, y: u32) -> u32 {
    let r = MIX_MULT_L.wrapping_mul(x).wrapping_sub(MIX_MULT_R.wrapping_mul(y));
    r ^ (r >> 16)
}

/// `SeedSequence(seed).generate_state(4, np.uint64)` for a seed below 2**32.
fn seed_words(seed: u32) -> [u64; 4] {
    let mut pool = [0u32; POOL_SIZE];
    let mut hash_const = INIT_A;
    for (i, p) in pool.iter_mut().enumerate() {
        *p = hashmix(if i == 0 { seed } else { 0 }, &mut hash_const);
    }
    for src in 0..POOL_SIZE {
        for dst in 0..POOL_SIZE {
            if src != dst {
                let v = hashmix(pool[src], &mut hash_const);
                pool[dst] = mix(pool[dst], v);
            }
        }
    }
    let mut hash_const = INIT_B;
    let mut words = [0u32; 8];
    for (i, w) in words.iter_mut().enumerate() {
        let mut v = pool[i % POOL_SIZE] ^ hash_const;
        hash_const = hash_const.wrapping_mul(MULT_B);
        v = v.wrapping_mul(hash_const);
        *w = v ^ (v >> 16);
    }
    std::array::from_fn(|i| u64::from(words[2 * i]) | (u64::from(words[2 * i + 1]) << 32))
}

impl Pcg64 {
    pub fn new(seed: u32) -> Self {
        let s = seed_words(seed);
        let initstate = (u128::from(s[0]) << 64) | u128::from(s[1]);
        let initseq = (u128::from(s[2]) << 64) | u128::from(s[3]);
        let mut rng = Pcg64 { state: 0, inc: (initseq << 1) | 1, spare: None };
        rng.step();
        rng.state = rng.state.wrapping_add(initstate);
        rng.step();
        rng
    }

    fn step(&mut self) {
        self.state = self.state.wrapping_mul(MULTIPLIER).wrapping_add(self.inc);
    }

    fn next_u64(&mut self) -> u64 {
        self.step();
        let s = self.state;
        ((s >> 64) as u64 ^ s as u64).rotate_right((s >> 122) as u32)
    }

    fn next_u32(&mut self) -> u32 {
        if let Some(v) = self.spare.take() {
            return v;
        }
        let next = self.next_u64();
        self.spare = Some((next >> 32) as u32);
        next as u32
    }

    /// numpy's `random_interval(max)`: uniform in `[0, max]` by masked rejection.
    fn interval(&mut self, max: u64) -> u64 {
        if max == 0 {
            return 0;
        }
        let mask = crate::random::interval_mask(max);
        loop {
            let v = if max <= u64::from(u32::MAX) { u64::from(self.next_u32()) & mask } else { self.next_u64() & mask };
            if v <= max {
                return v;
            }
        }
    }

    /// `Generator.shuffle` of a 1-d array.
    pub fn shuffle<T>(&mut self, x: &mut [T]) {
        for i in (1..x.len()).rev() {
            let j = self.interval(i as u64) as usize;
            x.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shuffle_matches_numpys_default_rng() {
        // rng = np.random.default_rng(42); a = np.arange(10); rng.shuffle(a); rng.shuffle(a)
        let mut rng = Pcg64::new(42);
        let mut a: Vec<usize> = (0..10).collect();
        rng.shuffle(&mut a);
        let first = a.clone();
        rng.shuffle(&mut a);
        assert_eq!(first, vec![5, 6, 0, 7, 3, 2, 4, 9, 1, 8]);
        assert_eq!(a, vec![3, 1, 0, 4, 2, 8, 9, 7, 5, 6]);
    }
}
