//! Seeded random draws shared by the unit tests (SplitMix64), so every test is reproducible.

/// A small seeded generator: SplitMix64 with the draws the tests need.
pub(crate) struct Rng(pub u64);

impl Rng {
    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform on [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform on the open interval (0, 1): safe under `ln`.
    pub fn uniform_open(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform();
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Uniform integer in `0..k`.
    pub fn below(&mut self, k: usize) -> usize {
        (self.next_u64() % k as u64) as usize
    }

    /// Shuffles `v` in place (Fisher–Yates).
    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i + 1);
            v.swap(i, j);
        }
    }

    /// A class drawn from the probabilities `p`.
    pub fn categorical(&mut self, p: &[f64]) -> usize {
        let u = self.uniform();
        let mut acc = 0.0;
        for (k, &pk) in p.iter().enumerate() {
            acc += pk;
            if u < acc {
                return k;
            }
        }
        p.len() - 1
    }

    /// A random distribution over `c` classes (normalised exponentials plus `floor`).
    pub fn simplex(&mut self, c: usize, floor: f64) -> Vec<f64> {
        let v: Vec<f64> = (0..c).map(|_| -(1.0 - self.uniform()).ln() + floor).collect();
        let s: f64 = v.iter().sum();
        v.iter().map(|x| x / s).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::Rng;

    #[test]
    fn shuffle_is_the_permutation_of_the_fold_assignment() {
        // `fit::compare::fold_assignment` deals the same seeded Fisher–Yates order round-robin.
        let (n, folds, seed) = (37, 5, 11);
        let mut order: Vec<usize> = (0..n).collect();
        Rng(seed).shuffle(&mut order);
        let mut sorted = order.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..n).collect::<Vec<_>>());
        let fold = crate::fit::compare::fold_assignment(n, folds, seed);
        for (rank, &row) in order.iter().enumerate() {
            assert_eq!(fold[row], rank % folds);
        }
    }

    #[test]
    fn draws_lie_in_their_ranges() {
        let mut rng = Rng(5);
        for _ in 0..1000 {
            let (u, v) = (rng.uniform(), rng.uniform_open());
            assert!((0.0..1.0).contains(&u) && v > 0.0 && v < 1.0);
            assert!(rng.below(7) < 7);
            assert!(rng.categorical(&[0.2, 0.3, 0.5]) < 3);
        }
        let p = rng.simplex(4, 0.1);
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12 && p.iter().all(|&x| x > 0.0));
    }
}
