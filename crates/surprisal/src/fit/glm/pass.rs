//! The fused pass over the design matrix: one read of X gives Σ cᵢ, Σ rᵢ x̃ᵢ and Σ Wᵢ x̃ᵢ x̃ᵢᵀ
//! (the objective, its gradient X̃ᵀr and the Fisher information X̃ᵀWX̃), multi-threaded over a
//! fixed partition of the rows with an ordered reduction, so results are bit-for-bit reproducible
//! for a given thread count.
//!
//! The columns are centred and scaled on the fly, x̃ᵢⱼ = (xᵢⱼ − cⱼ)·sⱼ (no copy of X), which makes
//! the normal equations well conditioned for designs such as Longley's (cond(X) ≈ 5e9 raw, ≈ 200
//! centred and scaled).

use rayon::prelude::*;

/// Rows per block below which the pass is not split further.
const MIN_BLOCK: usize = 2048;

/// The design matrix, row-major n × p, with its centring and scaling.
pub(crate) struct Design<'a> {
    pub x: &'a [f64],
    pub n: usize,
    pub p: usize,
    pub center: Vec<f64>,
    pub scale: Vec<f64>,
}

/// The sums of one pass.
pub(crate) struct Acc {
    /// Σ cᵢ (+inf when a row was invalid).
    pub value: f64,
    /// Σ rᵢ x̃ᵢ.
    pub grad: Vec<f64>,
    /// Σ Wᵢ x̃ᵢ x̃ᵢᵀ, upper triangle filled (row-major p × p); empty when not requested.
    pub hess: Vec<f64>,
}

impl Acc {
    fn zero(p: usize, want_h: bool) -> Acc {
        Acc { value: 0.0, grad: vec![0.0; p], hess: if want_h { vec![0.0; p * p] } else { Vec::new() } }
    }

    fn add(&mut self, o: &Acc) {
        self.value += o.value;
        for (a, b) in self.grad.iter_mut().zip(&o.grad) {
            *a += b;
        }
        for (a, b) in self.hess.iter_mut().zip(&o.hess) {
            *a += b;
        }
    }
}

/// The blocks the rows are split into: contiguous, fixed for a given (n, thread count).
fn blocks(n: usize) -> Vec<(usize, usize)> {
    let threads = rayon::current_num_threads().max(1);
    let k = n.div_ceil(MIN_BLOCK).clamp(1, 4 * threads);
    let size = n.div_ceil(k).max(1);
    (0..k).map(|b| (b * size, ((b + 1) * size).min(n))).filter(|(a, b)| a < b).collect()
}

/// One pass: for every row, `row(i, x̃ᵢ·γ)` gives (cᵢ, rᵢ, Wᵢ) or `None` when the row is outside
/// the domain (the value is then +inf).
pub(crate) fn pass<R>(d: &Design, gamma: &[f64], want_h: bool, row: R) -> Acc
where
    R: Fn(usize, f64) -> Option<(f64, f64, f64)> + Sync,
{
    let p = d.p;
    let parts: Vec<Acc> = blocks(d.n)
        .into_par_iter()
        .map(|(r0, r1)| {
            let mut acc = Acc::zero(p, want_h);
            let mut xt = vec![0.0; p];
            for i in r0..r1 {
                let xi = &d.x[i * p..(i + 1) * p];
                // Four partial sums break the add dependency chain of the dot product.
                let mut s = [0.0f64; 4];
                for (j, ((x, (c, sc)), g)) in
                    xi.iter().zip(d.center.iter().zip(&d.scale)).zip(gamma).enumerate()
                {
                    let v = (x - c) * sc;
                    xt[j] = v;
                    s[j & 3] += v * g;
                }
                let lin = (s[0] + s[1]) + (s[2] + s[3]);
                let Some((c, r, w)) = row(i, lin) else {
                    acc.value = f64::INFINITY;
                    return acc;
                };
                acc.value += c;
                for (g, v) in acc.grad.iter_mut().zip(&xt) {
                    *g += r * v;
                }
                if want_h && w != 0.0 {
                    for a in 0..p {
                        let wa = w * xt[a];
                        let hrow = &mut acc.hess[a * p + a..(a + 1) * p];
                        for (h, v) in hrow.iter_mut().zip(&xt[a..]) {
                            *h += wa * v;
                        }
                    }
                }
            }
            acc
        })
        .collect();
    let mut total = Acc::zero(p, want_h);
    for part in &parts {
        total.add(part);
    }
    if want_h {
        for a in 0..p {
            for b in 0..a {
                total.hess[a * p + b] = total.hess[b * p + a];
            }
        }
    }
    total
}

/// Applies `f(i, x̃ᵢ·γ)` to every row in parallel, writing `out[i]`.
pub(crate) fn map_rows<F>(d: &Design, gamma: &[f64], out: &mut [f64], f: F)
where
    F: Fn(usize, f64) -> f64 + Sync,
{
    let p = d.p;
    out.par_chunks_mut(MIN_BLOCK).enumerate().for_each(|(b, chunk)| {
        for (k, o) in chunk.iter_mut().enumerate() {
            let i = b * MIN_BLOCK + k;
            let xi = &d.x[i * p..(i + 1) * p];
            let mut lin = 0.0;
            for ((x, (c, sc)), g) in xi.iter().zip(d.center.iter().zip(&d.scale)).zip(gamma) {
                lin += (x - c) * sc * g;
            }
            *o = f(i, lin);
        }
    });
}
