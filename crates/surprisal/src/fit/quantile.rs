//! Linear quantile regression: the maximum-likelihood fit of β under asymmetric-Laplace noise,
//! solved exactly as a linear program.
//!
//! ```text
//! model      yᵢ = xᵢᵀβ + εᵢ,  εᵢ ~ AsymmetricLaplace(0, σ, τ)   (xᵢᵀβ is the τ-quantile of yᵢ)
//! NLL        Σ wᵢ [ρ_τ(yᵢ − xᵢᵀβ)/σ + log σ − log(τ(1 − τ))],   ρ_τ(u) = u·(τ − 1{u < 0})
//! β̂          argmin_β Σ wᵢ ρ_τ(yᵢ − xᵢᵀβ)        (does not depend on σ; τ = ½: least absolute deviations)
//! σ̂          objective / N,  N = Σ wᵢ             (the scale MLE given β̂)
//! loglike    −N·(1 + log σ̂ − log(τ(1 − τ)))       (the log-likelihood at (β̂, σ̂))
//!
//! primal LP  min  τ·Σ wᵢuᵢ + (1 − τ)·Σ wᵢvᵢ   s.t.  Xβ + u − v = y,  u, v ≥ 0,  β free
//! dual LP    max  yᵀd                          s.t.  Xᵀd = (1 − τ)·Xᵀw,  0 ≤ dᵢ ≤ wᵢ
//!            (dᵢ = wᵢ·(ψᵢ + 1 − τ) with ψᵢ ∈ ∂ρ_τ(rᵢ); the dual objective minus (1 − τ)·yᵀw is the
//!             primal objective at the optimum)
//!
//! optimality (β, d) optimal  ⇔  Xᵀd = (1 − τ)·Xᵀw,  dᵢ = wᵢ if rᵢ > 0,  dᵢ = 0 if rᵢ < 0,
//!            dᵢ ∈ [0, wᵢ] if rᵢ = 0        (rᵢ = yᵢ − xᵢᵀβ)
//! with an intercept column (unit weights, n rows, Z = #{rᵢ = 0} ≥ p at a vertex):
//!            N₋ ≤ nτ ≤ N₋ + Z   and   N₊ ≤ n(1 − τ) ≤ N₊ + Z,   N₋ = #{rᵢ < 0}, N₊ = #{rᵢ > 0}
//!            so τ − Z/n ≤ N₋/n ≤ τ: the fraction of negative residuals is within p/n of τ
//!            (weighted: Σ_{rᵢ<0} wᵢ ≤ τN ≤ Σ_{rᵢ≤0} wᵢ)
//! ```
//!
//! # Algorithm
//!
//! The solver walks the vertices of the primal problem, as Barrodale and Roberts (1973) and
//! Koenker and d'Orey (1987) do (R's `quantreg::rq(method = "br")`): a vertex is a basis h of p
//! rows interpolated exactly (X_h β = y_h); its dual values d_h solve X_hᵀd_h = (1 − τ)Xᵀw −
//! Σ_{i∉h} dᵢxᵢ with dᵢ ∈ {0, wᵢ} on the other rows. The directional derivatives of the objective
//! along the 2p edges leaving h (free one basic row, its residual going negative or positive) are
//! d_k and w_k − d_k, so the vertex is optimal when 0 ≤ d_h ≤ w_h. Otherwise the most violated
//! row leaves and the objective, piecewise linear and convex along that edge, is minimised
//! exactly by walking its kinks in order (a weighted-median search: the long step of
//! Barrodale–Roberts, which passes through many vertices at once; in linear-programming terms a
//! dual simplex step with the bound-flipping ratio test). The row at the minimising kink enters.
//!
//! Degeneracy (more than p zero residuals, common with tied or discrete data) allows steps of
//! length zero, and with them cycling. The walk therefore runs in two phases: phase 1 on
//! yᵢ + εᵢ, with fixed distinct εᵢ ∈ [0.5, 1)·10⁻⁸·(|yᵢ| + mean|y|) (a seeded sequence), where
//! no more than p residuals vanish, so every step strictly lowers the objective and no vertex repeats; phase 2
//! restarts from phase 1's basis on the exact y (a residual that contradicts its side flips it)
//! and usually stops at once. The optimality test 0 ≤ d_h ≤ w_h does not involve y, so a basis
//! optimal for the perturbed y is optimal for y whenever the perturbation changes no residual's
//! sign. In phase 2, after a step of length zero, the lowest-index violated row leaves (Bland's
//! rule).
//!
//! Every iteration recomputes β, the residuals and d_h from the current basis (an LU
//! factorisation of the p × p matrix X_h with partial pivoting), so rounding does not accumulate
//! along the path; the answer is the exact vertex up to one p × p solve.
//!
//! Cost: O(np + p³ + K log K) per iteration (K ≤ n kinks on the edge, sorted), O(np) memory.
//! Each long step passes many vertices, so the number of iterations stays small and grows slowly
//! with n for small p (about 30 for n = 20 000, p = 5 in the `quantile_regression` example,
//! tens of milliseconds in all); like any simplex method the worst case is exponential.
//! The result is deterministic: the same inputs give the same iterates.
//!
//! Reference: statsmodels `QuantReg` (which solves the same problem by iteratively reweighted
//! least squares, approximately), R `quantreg::rq`; Koenker, *Quantile Regression* (2005), §6.2.

use crate::error::{Error, Result};
use ndarray::ArrayView2;

/// Settings of [`quantile_regression`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct QuantileOptions {
    /// Maximum number of simplex iterations; `None` means 50·(n + p).
    pub max_iter: Option<usize>,
}

/// The result of [`quantile_regression`].
#[derive(Clone, Debug, PartialEq)]
pub struct QuantileFit {
    /// β̂, one coefficient per column of X.
    pub coef: Vec<f64>,
    /// The quantile level τ.
    pub quantile: f64,
    /// Σ wᵢ ρ_τ(yᵢ − xᵢᵀβ̂), the minimised (weighted) pinball loss.
    pub objective: f64,
    /// N = Σ wᵢ (the number of observations for unit weights).
    pub n_obs: f64,
    /// σ̂ = objective / N, the maximum-likelihood scale of the asymmetric Laplace.
    pub scale: f64,
    /// The log-likelihood at (β̂, σ̂): −N·(1 + log σ̂ − log(τ(1 − τ))); +inf for a perfect fit.
    pub loglike: f64,
    /// Simplex iterations taken.
    pub iterations: usize,
    /// The p rows interpolated by the fit (a basis of the final vertex), in X's row numbering.
    pub basis: Vec<usize>,
    /// Whether the solver reached an optimal vertex (false: the iteration limit stopped it).
    pub converged: bool,
    /// False when the minimiser is provably not unique: some edge leaving the optimal vertex has
    /// zero slope (a dual value dₖ at a bound, and, at a degenerate vertex, a zero true one-sided
    /// slope), so a segment of coefficients attains the minimum. Exact at a non-degenerate vertex;
    /// at a degenerate one a flat direction that is not an edge is not detected.
    pub unique: bool,
    /// Whether the optimal vertex is degenerate: more than p residuals are zero (the dual
    /// solution d is then not unique, though β̂ may be).
    pub degenerate: bool,
}

/// Fits the linear τ-quantile regression of `y` on the columns of `x` (n × p, include a column
/// of ones for an intercept) by solving the linear program exactly; see the [module
/// documentation](self) for the LP, its dual, the optimality conditions and the algorithm.
///
/// `weights` (length n, finite, ≥ 0) weigh the pinball loss of each row (frequency weights: N =
/// Σ wᵢ in the scale and the log-likelihood); rows of weight 0 are ignored.
///
/// # Errors
/// [`Error::InvalidParameter`] if `tau` is not in (0, 1) or a weight is negative or non-finite
/// (with its row); [`Error::ShapeMismatch`] if `y` or `weights` do not have n entries;
/// [`Error::Empty`] if there are no rows (or no row of positive weight);
/// [`Error::InvalidEntry`] for a non-finite entry of `x` or `y`, naming its row (and column);
/// [`Error::Numerical`] if the rows of positive weight do not span p dimensions
/// (a rank-deficient design).
///
/// # Example
/// ```
/// use ndarray::array;
/// use surprisal::fit::quantile::{quantile_regression, QuantileOptions};
/// // The τ = ¼ regression of y on (1, x). An optimal vertex of an LP with p = 2 is a line through
/// // two data points; trying all 15 pairs with exact fractions gives a unique best, the line
/// // through (0, 1) and (4, 5): y = 1 + x, with Σ ρ_¼(rᵢ) = 9/4 (the runner-up has 19/8).
/// let x = array![[1.0, 0.0], [1.0, 1.0], [1.0, 2.0], [1.0, 3.0], [1.0, 4.0], [1.0, 5.0]];
/// let y = [1.0, 3.0, 2.0, 6.0, 5.0, 9.0];
/// let fit = quantile_regression(x.view(), &y, 0.25, None, &QuantileOptions::default()).unwrap();
/// assert!((fit.objective - 2.25).abs() < 1e-12);
/// assert!((fit.coef[0] - 1.0).abs() < 1e-12 && (fit.coef[1] - 1.0).abs() < 1e-12);
/// assert!(fit.unique && fit.converged);
/// // The same search in the doctest: every line through two data points, its summed pinball loss.
/// let rho = |u: f64| if u < 0.0 { (0.25 - 1.0) * u } else { 0.25 * u };
/// let mut best = f64::INFINITY;
/// for i in 0..6 {
///     for j in i + 1..6 {
///         let (xi, xj) = (x[[i, 1]], x[[j, 1]]);
///         let b = (y[j] - y[i]) / (xj - xi);
///         let a = y[i] - b * xi;
///         best = best.min((0..6).map(|k| rho(y[k] - a - b * x[[k, 1]])).sum());
///     }
/// }
/// assert!((fit.objective - best).abs() < 1e-12);
/// // σ̂ = 2.25/6; loglike = −6·(1 + log σ̂ − log(3/16)) (mpmath: −10.1588830833597)
/// assert!((fit.loglike - -10.1588830833597).abs() < 1e-12);
/// ```
pub fn quantile_regression(
    x: ArrayView2<'_, f64>,
    y: &[f64],
    tau: f64,
    weights: Option<&[f64]>,
    opts: &QuantileOptions,
) -> Result<QuantileFit> {
    let (n, p) = x.dim();
    if !(tau > 0.0 && tau < 1.0) {
        return Err(Error::param("quantile", tau, "must be in (0, 1)"));
    }
    crate::error::check::same_len("y", n, y.len())?;
    crate::error::check::weights(weights, n)?;
    if n == 0 {
        return Err(Error::Empty { name: "x" });
    }
    for (i, row) in x.rows().into_iter().enumerate() {
        if let Some(j) = row.iter().position(|v| !v.is_finite()) {
            return Err(Error::InvalidEntry {
                name: "x",
                value: row[j],
                row: i,
                col: Some(j),
                reason: "must be finite",
            });
        }
    }
    if let Some(i) = y.iter().position(|v| !v.is_finite()) {
        return Err(Error::InvalidEntry {
            name: "y",
            value: y[i],
            row: i,
            col: None,
            reason: "must be finite",
        });
    }

    // The rows of positive weight, copied row-major.
    let rows: Vec<usize> = (0..n).filter(|&i| weights.is_none_or(|w| w[i] > 0.0)).collect();
    if rows.is_empty() {
        return Err(Error::Empty { name: "rows of positive weight" });
    }
    let m = rows.len();
    let mut xa = Vec::with_capacity(m * p);
    for &i in &rows {
        xa.extend(x.row(i).iter());
    }
    let ya: Vec<f64> = rows.iter().map(|&i| y[i]).collect();
    let wa: Vec<f64> = rows.iter().map(|&i| weights.map_or(1.0, |w| w[i])).collect();

    let lp = Lp { x: &xa, w: &wa, m, p, tau };
    let max_iter = opts.max_iter.unwrap_or(50 * (m + p));
    // Phase 1 on y perturbed by distinct tiny amounts, where no more than p residuals vanish, so
    // every step is strictly improving and the walk cannot cycle; phase 2 continues from that
    // basis (and those sides) on the exact y, and usually stops at once.
    let y_scale = (ya.iter().map(|v| v.abs()).sum::<f64>() / m as f64).max(f64::MIN_POSITIVE);
    let mut state = 0x5EED_u64;
    let yp: Vec<f64> =
        ya.iter().map(|v| v + 1e-8 * (v.abs() + y_scale) * (0.5 + 0.5 * splitmix_unit(&mut state))).collect();
    let start = lp.initial_basis()?;
    let first = lp.solve(&yp, start, None, max_iter)?;
    let left = max_iter.saturating_sub(first.iterations);
    let mut sol = lp.solve(&ya, first.basis, Some(first.upper), left)?;
    sol.iterations += first.iterations;

    let n_obs: f64 = wa.iter().sum();
    let objective: f64 =
        (0..m).map(|i| wa[i] * pinball(ya[i] - dot(&xa[i * p..(i + 1) * p], &sol.beta), tau)).sum();
    let scale = objective / n_obs;
    let loglike = -n_obs * (1.0 + scale.ln() - (tau.ln() + (-tau).ln_1p()));
    Ok(QuantileFit {
        coef: sol.beta,
        quantile: tau,
        objective,
        n_obs,
        scale,
        loglike,
        iterations: sol.iterations,
        basis: sol.basis.iter().map(|&k| rows[k]).collect(),
        converged: sol.converged,
        unique: sol.unique,
        degenerate: sol.degenerate,
    })
}

/// SplitMix64, mapped to [0, 1): the fixed sequence of perturbations of phase 1.
fn splitmix_unit(state: &mut u64) -> f64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
}

/// ρ_τ(u) = u·(τ − 1{u < 0}).
#[inline]
fn pinball(u: f64, tau: f64) -> f64 {
    if u < 0.0 { (tau - 1.0) * u } else { tau * u }
}

#[inline]
fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(u, v)| u * v).sum()
}

/// The LP on the rows of positive weight (row-major x, m × p).
struct Lp<'a> {
    x: &'a [f64],
    w: &'a [f64],
    m: usize,
    p: usize,
    tau: f64,
}

struct Solution {
    beta: Vec<f64>,
    basis: Vec<usize>,
    /// Side of each row: dᵢ = wᵢ (residual ≥ 0) when true, dᵢ = 0 (residual ≤ 0) when false.
    upper: Vec<bool>,
    iterations: usize,
    converged: bool,
    unique: bool,
    degenerate: bool,
}

impl Lp<'_> {
    fn row(&self, i: usize) -> &[f64] {
        &self.x[i * self.p..(i + 1) * self.p]
    }

    /// The simplex walk on the responses `y` from `basis`, with the sides of the non-basic rows
    /// taken from `sides` (flipped where a residual contradicts them) or from the residual signs.
    fn solve(
        &self,
        y: &[f64],
        mut basis: Vec<usize>,
        sides: Option<Vec<bool>>,
        max_iter: usize,
    ) -> Result<Solution> {
        let (m, p, tau) = (self.m, self.p, self.tau);
        let mut in_basis = vec![false; m];
        basis.iter().for_each(|&k| in_basis[k] = true);
        // Target of the dual constraint, (1 − τ)·Xᵀw, and the scale of the dual values.
        let mut target = vec![0.0; p];
        for i in 0..m {
            for (t, xv) in target.iter_mut().zip(self.row(i)) {
                *t += (1.0 - tau) * self.w[i] * xv;
            }
        }
        let row_norm: Vec<f64> = (0..m).map(|i| self.row(i).iter().map(|v| v.abs()).sum()).collect();
        let w_sum: f64 = self.w.iter().sum();
        let w_max = self.w.iter().fold(0.0f64, |a, &b| a.max(b));
        let tol = 1e-10 * w_sum.max(w_max);

        let mut beta = vec![0.0; p];
        let mut resid = vec![0.0; m];
        let mut first = sides.is_none();
        let mut upper = sides.unwrap_or_else(|| vec![false; m]);
        let mut d = vec![0.0; p];
        let mut delta = vec![0.0; p];
        let mut kinks: Vec<(f64, usize, f64)> = Vec::new();
        let mut bland = false;
        let mut iterations = 0;
        let mut lu = Lu::new(p);
        loop {
            // β from the basis: X_h β = y_h.
            let xh: Vec<f64> = basis.iter().flat_map(|&k| self.row(k).iter().copied()).collect();
            if !lu.factor(&xh) {
                return Err(Error::Numerical {
                    what: "quantile regression",
                    reason: "the basis matrix became singular".into(),
                });
            }
            basis.iter().zip(beta.iter_mut()).for_each(|(&k, b)| *b = y[k]);
            lu.solve(&mut beta);
            for i in 0..m {
                resid[i] = if in_basis[i] { 0.0 } else { y[i] - dot(self.row(i), &beta) };
            }
            if first {
                // Sides of the non-basic rows from the signs of their residuals (0 goes low).
                (0..m).for_each(|i| upper[i] = resid[i] > 0.0);
                first = false;
            } else if iterations == 0 {
                // Sides carried over from the perturbed problem: keep them where the residual is
                // zero or agrees, flip them where it clearly disagrees.
                for i in 0..m {
                    if !in_basis[i] && (upper[i] && resid[i] < 0.0 || !upper[i] && resid[i] > 0.0) {
                        upper[i] = resid[i] > 0.0;
                    }
                }
            }
            // Dual values of the basic rows: X_hᵀ d_h = (1 − τ)Xᵀw − Σ_{upper} wᵢxᵢ.
            d.copy_from_slice(&target);
            for i in 0..m {
                if !in_basis[i] && upper[i] {
                    for (dv, xv) in d.iter_mut().zip(self.row(i)) {
                        *dv -= self.w[i] * xv;
                    }
                }
            }
            lu.solve_t(&mut d);

            // Leaving row: the most violated bound (or the lowest-index violated one after a
            // degenerate step).
            let mut leave: Option<(usize, f64)> = None;
            for (pos, &k) in basis.iter().enumerate() {
                let viol = (-d[pos]).max(d[pos] - self.w[k]);
                if viol > tol {
                    let better = match leave {
                        None => true,
                        Some((best, v)) => {
                            if bland {
                                k < basis[best]
                            } else {
                                viol > v
                            }
                        }
                    };
                    if better {
                        leave = Some((pos, viol));
                    }
                }
            }
            let Some((pos, _)) = leave else {
                let degenerate = self.count_zero_residuals(y, &resid, &beta) > p;
                // An edge with slope d_k = 0 or w_k − d_k = 0 is flat (a segment of minimisers)
                // unless, at a degenerate vertex, rows with zero residual make its true one-sided
                // slope positive.
                let unique = basis.iter().enumerate().all(|(q, &k)| {
                    for (sigma, slope) in [(1.0, d[q]), (-1.0, self.w[k] - d[q])] {
                        if slope <= tol {
                            if !degenerate {
                                return false;
                            }
                            delta.iter_mut().for_each(|v| *v = 0.0);
                            delta[q] = sigma;
                            lu.solve(&mut delta);
                            if self.edge_slope(y, &resid, &beta, &in_basis, &delta, k, sigma) <= tol {
                                return false;
                            }
                        }
                    }
                    true
                });
                return Ok(Solution { beta, basis, upper, iterations, converged: true, unique, degenerate });
            };
            if iterations >= max_iter {
                let degenerate = self.count_zero_residuals(y, &resid, &beta) > p;
                return Ok(Solution {
                    beta,
                    basis,
                    upper,
                    iterations,
                    converged: false,
                    unique: false,
                    degenerate,
                });
            }
            let k = basis[pos];
            // Edge: free row k, its residual going negative (σ = +1, slope d_k) when d_k < 0, or
            // positive (σ = −1, slope w_k − d_k) when d_k > w_k.
            let (sigma, mut slope) = if d[pos] < 0.0 { (1.0, d[pos]) } else { (-1.0, self.w[k] - d[pos]) };
            delta.iter_mut().for_each(|v| *v = 0.0);
            delta[pos] = sigma;
            lu.solve(&mut delta);
            // Kinks: row i's residual rᵢ − t·aᵢ crosses zero at t = rᵢ/aᵢ ≥ 0, raising the slope
            // by wᵢ|aᵢ|.
            let delta_norm = delta.iter().fold(0.0f64, |s, v| s.max(v.abs()));
            kinks.clear();
            for i in 0..m {
                if in_basis[i] {
                    continue;
                }
                let a = dot(self.row(i), &delta);
                // aᵢ at rounding level is 0: row i is parallel to the edge (its residual does not
                // move), and a nearly dependent row must not enter the basis.
                if a.abs() <= 1e-13 * row_norm[i] * delta_norm {
                    continue;
                }
                if upper[i] && a > 0.0 {
                    kinks.push((resid[i].max(0.0) / a, i, self.w[i] * a));
                } else if !upper[i] && a < 0.0 {
                    kinks.push((resid[i].min(0.0) / a, i, -self.w[i] * a));
                }
            }
            kinks.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            let mut enter = None;
            for (j, &(_, _, dslope)) in kinks.iter().enumerate() {
                slope += dslope;
                if slope >= -tol {
                    enter = Some(j);
                    break;
                }
            }
            let Some(j) = enter else {
                return Err(Error::Numerical {
                    what: "quantile regression",
                    reason: format!("no kink stops the descent along the edge freeing row {k}"),
                });
            };
            // The rows passed before the entering one change the sign of their residual.
            for &(_, i, _) in &kinks[..j] {
                upper[i] = !upper[i];
            }
            let (t_star, i_enter, _) = kinks[j];
            bland = t_star == 0.0;
            in_basis[k] = false;
            upper[k] = sigma < 0.0;
            in_basis[i_enter] = true;
            basis[pos] = i_enter;
            iterations += 1;
        }
    }

    /// Residuals that vanish up to rounding.
    fn count_zero_residuals(&self, y: &[f64], resid: &[f64], beta: &[f64]) -> usize {
        (0..self.m).filter(|&i| self.is_zero_residual(y, resid, beta, i)).count()
    }

    fn is_zero_residual(&self, y: &[f64], resid: &[f64], beta: &[f64], i: usize) -> bool {
        let scale = y[i].abs() + self.row(i).iter().zip(beta).map(|(a, b)| (a * b).abs()).sum::<f64>();
        resid[i].abs() <= 1e-12 * scale
    }

    /// The true one-sided derivative of the objective at β along the edge δ that frees the basic
    /// row k (its residual moving as −σt), rows with zero residual counted by their one-sided
    /// pinball slopes.
    #[allow(clippy::too_many_arguments)]
    fn edge_slope(
        &self,
        y: &[f64],
        resid: &[f64],
        beta: &[f64],
        in_basis: &[bool],
        delta: &[f64],
        k: usize,
        sigma: f64,
    ) -> f64 {
        let tau = self.tau;
        let mut g = self.w[k] * if sigma > 0.0 { 1.0 - tau } else { tau };
        for i in 0..self.m {
            if in_basis[i] {
                continue;
            }
            let a = dot(self.row(i), delta);
            // Residual rᵢ − t·aᵢ.
            g += self.w[i]
                * if self.is_zero_residual(y, resid, beta, i) {
                    tau * (-a).max(0.0) + (1.0 - tau) * a.max(0.0)
                } else if resid[i] > 0.0 {
                    -tau * a
                } else {
                    (1.0 - tau) * a
                };
        }
        g
    }

    /// p rows spanning ℝᵖ, chosen by a pivoted Gram–Schmidt on the rows (largest remaining norm
    /// first, so the starting basis is well conditioned).
    fn initial_basis(&self) -> Result<Vec<usize>> {
        let (m, p) = (self.m, self.p);
        let mut rem: Vec<f64> = self.x.to_vec();
        let mut norms: Vec<f64> =
            (0..m).map(|i| dot(&rem[i * p..(i + 1) * p], &rem[i * p..(i + 1) * p])).collect();
        let max0 = norms.iter().fold(0.0f64, |a, &b| a.max(b));
        let mut chosen = Vec::with_capacity(p);
        let mut taken = vec![false; m];
        let mut q = vec![0.0; p];
        for rank in 0..p {
            let mut best = None;
            for i in 0..m {
                if !taken[i] && best.is_none_or(|b: usize| norms[i] > norms[b]) {
                    best = Some(i);
                }
            }
            let b = match best {
                Some(b) if norms[b] > 1e-20 * max0 && max0 > 0.0 => b,
                _ => {
                    return Err(Error::Numerical {
                        what: "quantile regression",
                        reason: format!(
                            "the rows of positive weight span {rank} of {p} dimensions (rank-deficient X)"
                        ),
                    });
                }
            };
            taken[b] = true;
            chosen.push(b);
            let nb = norms[b].sqrt();
            q.iter_mut().zip(&rem[b * p..(b + 1) * p]).for_each(|(qv, r)| *qv = r / nb);
            for i in 0..m {
                if taken[i] {
                    continue;
                }
                let r = &mut rem[i * p..(i + 1) * p];
                let c = dot(r, &q);
                r.iter_mut().zip(&q).for_each(|(rv, qv)| *rv -= c * qv);
                norms[i] = dot(r, r);
            }
        }
        chosen.sort_unstable();
        Ok(chosen)
    }
}

/// LU factorisation with partial pivoting of a small dense p × p matrix (row-major).
struct Lu {
    p: usize,
    lu: Vec<f64>,
    perm: Vec<usize>,
}

impl Lu {
    fn new(p: usize) -> Self {
        Lu { p, lu: vec![0.0; p * p], perm: (0..p).collect() }
    }

    /// Factors A = Pᵀ L U; false if A is singular to working precision.
    fn factor(&mut self, a: &[f64]) -> bool {
        let p = self.p;
        self.lu.copy_from_slice(a);
        self.perm.iter_mut().enumerate().for_each(|(i, v)| *v = i);
        let scale = a.iter().fold(0.0f64, |s, v| s.max(v.abs()));
        for c in 0..p {
            let piv = (c..p).max_by(|&i, &j| self.lu[i * p + c].abs().total_cmp(&self.lu[j * p + c].abs()));
            let Some(r) = piv else { return false };
            // Written so that a NaN pivot also counts as singular.
            let pivot_ok = self.lu[r * p + c].abs() > 1e-14 * scale;
            if !pivot_ok {
                return false;
            }
            if r != c {
                for j in 0..p {
                    self.lu.swap(r * p + j, c * p + j);
                }
                self.perm.swap(r, c);
            }
            let pv = self.lu[c * p + c];
            for i in c + 1..p {
                let f = self.lu[i * p + c] / pv;
                self.lu[i * p + c] = f;
                for j in c + 1..p {
                    self.lu[i * p + j] -= f * self.lu[c * p + j];
                }
            }
        }
        true
    }

    /// Solves A z = b in place.
    fn solve(&self, b: &mut [f64]) {
        let p = self.p;
        let mut z: Vec<f64> = self.perm.iter().map(|&i| b[i]).collect();
        for i in 0..p {
            for j in 0..i {
                z[i] -= self.lu[i * p + j] * z[j];
            }
        }
        for i in (0..p).rev() {
            for j in i + 1..p {
                z[i] -= self.lu[i * p + j] * z[j];
            }
            z[i] /= self.lu[i * p + i];
        }
        b.copy_from_slice(&z);
    }

    /// Solves Aᵀ z = b in place (A = PᵀLU, so Aᵀ = UᵀLᵀP).
    fn solve_t(&self, b: &mut [f64]) {
        let p = self.p;
        let mut z = b.to_vec();
        for i in 0..p {
            for j in 0..i {
                z[i] -= self.lu[j * p + i] * z[j];
            }
            z[i] /= self.lu[i * p + i];
        }
        for i in (0..p).rev() {
            for j in i + 1..p {
                z[i] -= self.lu[j * p + i] * z[j];
            }
        }
        for (i, &pi) in self.perm.iter().enumerate() {
            b[pi] = z[i];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::family::{AsymmetricLaplace, Family, Laplace};
    use crate::testing::Rng;
    use ndarray::Array2;

    /// Heavy-ish tailed noise: a difference of exponentials (Laplace) with a skew.
    fn noise(rng: &mut Rng) -> f64 {
        -(1.0 - rng.uniform()).ln() + 0.5 * (1.0 - rng.uniform()).ln()
    }

    fn opts() -> QuantileOptions {
        QuantileOptions::default()
    }

    /// A design with an intercept and p − 1 uniform regressors, and y linear plus noise.
    fn data(rng: &mut Rng, n: usize, p: usize) -> (Array2<f64>, Vec<f64>) {
        let mut x = Array2::zeros((n, p));
        let mut y = vec![0.0; n];
        for i in 0..n {
            x[[i, 0]] = 1.0;
            let mut mean = 1.0;
            for j in 1..p {
                x[[i, j]] = 10.0 * rng.uniform() - 3.0;
                mean += (j as f64) * 0.5 * x[[i, j]];
            }
            y[i] = mean + 2.0 * noise(rng);
        }
        (x, y)
    }

    fn objective(x: &Array2<f64>, y: &[f64], w: Option<&[f64]>, beta: &[f64], tau: f64) -> f64 {
        (0..y.len())
            .map(|i| {
                let r = y[i] - x.row(i).iter().zip(beta).map(|(a, b)| a * b).sum::<f64>();
                w.map_or(1.0, |w| w[i]) * pinball(r, tau)
            })
            .sum()
    }

    /// The best objective over all vertices: the β interpolating each p-subset of rows.
    fn brute_force(x: &Array2<f64>, y: &[f64], tau: f64) -> f64 {
        vertices(x, y, tau).iter().fold(f64::INFINITY, |a, v| a.min(v.0))
    }

    /// Every vertex (objective, β): the β interpolating each p-subset of rows.
    fn vertices(x: &Array2<f64>, y: &[f64], tau: f64) -> Vec<(f64, Vec<f64>)> {
        let (n, p) = x.dim();
        let mut out = Vec::new();
        let mut idx: Vec<usize> = (0..p).collect();
        loop {
            let xh: Vec<f64> = idx.iter().flat_map(|&k| x.row(k).to_vec()).collect();
            let mut lu = Lu::new(p);
            if lu.factor(&xh) {
                let mut beta: Vec<f64> = idx.iter().map(|&k| y[k]).collect();
                lu.solve(&mut beta);
                out.push((objective(x, y, None, &beta, tau), beta));
            }
            // Next p-subset in lexicographic order.
            let Some(i) = (0..p).rev().find(|&i| idx[i] < n - p + i) else { return out };
            idx[i] += 1;
            for j in i + 1..p {
                idx[j] = idx[j - 1] + 1;
            }
        }
    }

    #[test]
    fn matches_brute_force_over_all_vertices() {
        let mut rng = Rng(7);
        for &(n, p) in &[(9, 2), (14, 2), (12, 3), (10, 1)] {
            for &tau in &[0.1, 0.25, 0.5, 0.77, 0.95] {
                let (x, y) = data(&mut rng, n, p);
                let fit = quantile_regression(x.view(), &y, tau, None, &opts()).unwrap();
                let want = brute_force(&x, &y, tau);
                assert!(fit.converged);
                assert!((fit.objective - want).abs() <= 1e-10 * want.max(1.0), "n {n} p {p} τ {tau}");
                // The reported objective is the objective at the reported coefficients.
                let at_coef = objective(&x, &y, None, &fit.coef, tau);
                assert!((fit.objective - at_coef).abs() <= 1e-12 * at_coef.max(1.0));
            }
        }
    }

    /// The uniqueness flag against all vertices: the minimiser is unique iff every optimal vertex
    /// is the same β (the optimal set is the convex hull of the optimal vertices).
    #[test]
    fn uniqueness_flag_matches_the_optimal_vertices() {
        let mut rng = Rng(31);
        let (mut flagged, mut checked) = (0, 0);
        for trial in 0..80 {
            let n = 6 + trial % 5;
            let mut x = Array2::ones((n, 2));
            for i in 0..n {
                x[[i, 1]] = (rng.next_u64() % 4) as f64;
            }
            let y: Vec<f64> = (0..n).map(|_| (rng.next_u64() % 4) as f64).collect();
            let tau = [0.5, 0.25, 0.75][trial % 3];
            let Ok(fit) = quantile_regression(x.view(), &y, tau, None, &opts()) else { continue };
            let vs = vertices(&x, &y, tau);
            let best = vs.iter().fold(f64::INFINITY, |a, v| a.min(v.0));
            let optimal: Vec<&Vec<f64>> = vs.iter().filter(|v| v.0 <= best + 1e-10).map(|v| &v.1).collect();
            let same = optimal.iter().all(|b| b.iter().zip(&fit.coef).all(|(u, v)| (u - v).abs() <= 1e-9));
            if !fit.unique {
                assert!(!same, "trial {trial}: flagged not unique, but one optimal β");
                flagged += 1;
            } else if !fit.degenerate {
                assert!(same, "trial {trial}: flagged unique, but several optimal β");
            }
            checked += 1;
        }
        assert!(flagged > 5 && checked > 40, "{flagged} {checked}");
    }

    /// A gross outlier in y (1e9) and responses near 0 leave the answer exact.
    #[test]
    fn outliers_and_tiny_responses_match_brute_force() {
        let mut rng = Rng(29);
        for trial in 0..12 {
            let (mut x, mut y) = data(&mut rng, 13, 2 + trial % 2);
            y[trial % 13] = 1e9;
            if trial % 3 == 0 {
                y.iter_mut().for_each(|v| *v *= 1e-12);
                x.iter_mut().for_each(|v| *v *= 1e3);
            }
            let tau = [0.5, 0.2, 0.9][trial % 3];
            let fit = quantile_regression(x.view(), &y, tau, None, &opts()).unwrap();
            let want = brute_force(&x, &y, tau);
            assert!(fit.converged);
            assert!(
                (fit.objective - want).abs() <= 1e-9 * want,
                "trial {trial}: {} vs {want}",
                fit.objective
            );
        }
    }

    /// Small integer data: many ties, many zero residuals, degenerate vertices and zero-length
    /// steps; the optimum still matches the best vertex.
    #[test]
    fn degenerate_integer_data_match_brute_force() {
        let mut rng = Rng(13);
        let mut degenerate_seen = 0;
        for trial in 0..60 {
            let (n, p) = (8 + trial % 7, 2 + trial % 2);
            let mut x = Array2::ones((n, p));
            for i in 0..n {
                for j in 1..p {
                    x[[i, j]] = (rng.next_u64() % 4) as f64;
                }
            }
            let y: Vec<f64> = (0..n).map(|_| (rng.next_u64() % 5) as f64).collect();
            let tau = [0.5, 0.25, 0.75, 0.4][trial % 4];
            let fit = match quantile_regression(x.view(), &y, tau, None, &opts()) {
                Ok(f) => f,
                // A draw whose regressor is constant is rank deficient.
                Err(Error::Numerical { .. }) => continue,
                Err(e) => panic!("{e}"),
            };
            assert!(fit.converged);
            let want = brute_force(&x, &y, tau);
            assert!((fit.objective - want).abs() <= 1e-10 * want.max(1.0), "trial {trial}");
            degenerate_seen += usize::from(fit.degenerate);
        }
        assert!(degenerate_seen > 10);
    }

    /// Heavily tied data at a larger size: the walk converges and no perturbation does better.
    #[test]
    fn large_tied_data_converge_to_an_optimum() {
        let mut rng = Rng(17);
        let (n, p) = (3000, 3);
        let mut x = Array2::ones((n, p));
        for i in 0..n {
            for j in 1..p {
                x[[i, j]] = (rng.next_u64() % 5) as f64;
            }
        }
        let y: Vec<f64> = (0..n).map(|i| (rng.next_u64() % 7) as f64 + x[[i, 1]]).collect();
        for tau in [0.3, 0.5] {
            let fit = quantile_regression(x.view(), &y, tau, None, &opts()).unwrap();
            assert!(fit.converged && fit.degenerate);
            for scale in [1e-4, 1e-2, 1.0] {
                for _ in 0..30 {
                    let b: Vec<f64> =
                        fit.coef.iter().map(|c| c + scale * (2.0 * rng.uniform() - 1.0)).collect();
                    assert!(fit.objective <= objective(&x, &y, None, &b, tau) * (1.0 + 1e-12));
                }
            }
        }
    }

    #[test]
    fn intercept_only_median_is_the_laplace_mle() {
        let mut rng = Rng(11);
        for n in [1usize, 2, 5, 8, 21, 40] {
            let y: Vec<f64> = (0..n).map(|_| 3.0 + noise(&mut rng)).collect();
            let x = Array2::ones((n, 1));
            let fit = quantile_regression(x.view(), &y, 0.5, None, &opts()).unwrap();
            let mut s = y.clone();
            s.sort_by(f64::total_cmp);
            let median = if n % 2 == 1 { s[n / 2] } else { 0.5 * (s[n / 2 - 1] + s[n / 2]) };
            let median_obj = objective(&x, &y, None, &[median], 0.5);
            assert!((fit.objective - median_obj).abs() <= 1e-12 * median_obj.max(1.0));
            if n % 2 == 1 {
                assert_eq!(fit.coef[0], median);
                assert!(fit.unique || n == 1);
            } else {
                // Any point between the middle two order statistics is a median: not unique.
                assert!(s[n / 2 - 1] <= fit.coef[0] && fit.coef[0] <= s[n / 2]);
                assert!(!fit.unique);
            }
            if n == 1 {
                continue;
            }
            // Laplace MLE: location = median, scale b = mean |y − median| = 2σ̂; the fit's
            // log-likelihood is the Laplace log-likelihood there.
            let b = y.iter().map(|v| (v - fit.coef[0]).abs()).sum::<f64>() / n as f64;
            assert!((b - 2.0 * fit.scale).abs() <= 1e-12 * b);
            let lap = Laplace::new(fit.coef[0], b).unwrap();
            let ll: f64 = y.iter().map(|&v| lap.log_prob(v)).sum();
            assert!((fit.loglike - ll).abs() <= 1e-10 * ll.abs(), "{} vs {ll}", fit.loglike);
            // And no other location does better under the Laplace likelihood with that scale.
            for shift in [-1e-3, 1e-3, -0.3, 0.3] {
                let other = Laplace::new(fit.coef[0] + shift, b).unwrap();
                assert!(y.iter().map(|&v| other.log_prob(v)).sum::<f64>() <= ll + 1e-12 * ll.abs());
            }
        }
    }

    #[test]
    fn intercept_only_fit_is_the_tau_quantile() {
        let mut rng = Rng(5);
        for &(n, tau) in &[(11usize, 0.3), (20, 0.13), (7, 0.9), (50, 0.51), (33, 0.02)] {
            let y: Vec<f64> = (0..n).map(|_| noise(&mut rng)).collect();
            let x = Array2::ones((n, 1));
            let fit = quantile_regression(x.view(), &y, tau, None, &opts()).unwrap();
            let mut s = y.clone();
            s.sort_by(f64::total_cmp);
            // nτ is not an integer in these cases: the τ-quantile is the ⌈nτ⌉-th order statistic.
            let k = (n as f64 * tau).ceil() as usize;
            assert_eq!(fit.coef[0], s[k - 1], "n {n} τ {tau}");
            assert!(fit.unique);
        }
    }

    #[test]
    fn loglike_is_the_asymmetric_laplace_loglike_at_the_fit() {
        let mut rng = Rng(3);
        let (x, y) = data(&mut rng, 60, 3);
        for tau in [0.2, 0.5, 0.8] {
            let fit = quantile_regression(x.view(), &y, tau, None, &opts()).unwrap();
            let ll: f64 = (0..y.len())
                .map(|i| {
                    let mu = x.row(i).iter().zip(&fit.coef).map(|(a, b)| a * b).sum::<f64>();
                    AsymmetricLaplace::new(mu, fit.scale, tau).unwrap().log_prob(y[i])
                })
                .sum();
            assert!((fit.loglike - ll).abs() <= 1e-10 * ll.abs());
            assert!((fit.scale - fit.objective / 60.0).abs() <= 1e-15 * fit.scale);
            // σ̂ maximises the likelihood in σ.
            for f in [0.9, 1.1] {
                let ll_s: f64 = (0..y.len())
                    .map(|i| {
                        let mu = x.row(i).iter().zip(&fit.coef).map(|(a, b)| a * b).sum::<f64>();
                        AsymmetricLaplace::new(mu, f * fit.scale, tau).unwrap().log_prob(y[i])
                    })
                    .sum();
                assert!(ll_s < ll);
            }
        }
    }

    #[test]
    fn no_perturbation_beats_the_lp_solution() {
        let mut rng = Rng(42);
        for &(n, p, tau) in &[(200usize, 3usize, 0.5), (300, 4, 0.1), (150, 5, 0.85)] {
            let (x, y) = data(&mut rng, n, p);
            let fit = quantile_regression(x.view(), &y, tau, None, &opts()).unwrap();
            assert!(fit.converged);
            for scale in [1e-6, 1e-3, 1e-1, 1.0] {
                for _ in 0..50 {
                    let b: Vec<f64> =
                        fit.coef.iter().map(|c| c + scale * (2.0 * rng.uniform() - 1.0)).collect();
                    let f = objective(&x, &y, None, &b, tau);
                    assert!(fit.objective <= f * (1.0 + 1e-12), "{} > {f}", fit.objective);
                }
            }
        }
    }

    /// N₋ ≤ nτ ≤ N₋ + Z and N₊ ≤ n(1 − τ) ≤ N₊ + Z (Z zero residuals, Z ≥ p at a vertex).
    #[test]
    #[allow(clippy::needless_range_loop)]
    fn residual_signs_satisfy_the_optimality_bounds() {
        let mut rng = Rng(9);
        for &(n, p, tau) in &[(500usize, 3usize, 0.5), (400, 2, 0.1), (333, 4, 0.9), (1000, 5, 0.37)] {
            let (x, y) = data(&mut rng, n, p);
            let fit = quantile_regression(x.view(), &y, tau, None, &opts()).unwrap();
            let (mut neg, mut pos, mut zero) = (0usize, 0usize, 0usize);
            for i in 0..n {
                let mu = x.row(i).iter().zip(&fit.coef).map(|(a, b)| a * b).sum::<f64>();
                let r = y[i] - mu;
                if r.abs() <= 1e-9 * (y[i].abs() + mu.abs()) {
                    zero += 1;
                } else if r < 0.0 {
                    neg += 1;
                } else {
                    pos += 1;
                }
            }
            let nt = n as f64 * tau;
            assert!(zero >= p, "a vertex interpolates p rows");
            assert!(neg as f64 <= nt && nt <= (neg + zero) as f64, "N₋ {neg} Z {zero} nτ {nt}");
            let n1t = n as f64 * (1.0 - tau);
            assert!(pos as f64 <= n1t && n1t <= (pos + zero) as f64, "N₊ {pos} Z {zero}");
            // Hence |N₋/n − τ| ≤ p/n when the vertex is not degenerate.
            if !fit.degenerate {
                assert!((neg as f64 / n as f64 - tau).abs() <= p as f64 / n as f64);
            }
        }
    }

    #[test]
    #[allow(clippy::needless_range_loop)]
    fn integer_weights_equal_repeated_rows() {
        let mut rng = Rng(21);
        let (x, y) = data(&mut rng, 40, 3);
        let w: Vec<f64> = (0..40).map(|i| (i % 4) as f64).collect();
        let fit = quantile_regression(x.view(), &y, 0.3, Some(&w), &opts()).unwrap();
        let (mut xr, mut yr) = (Vec::new(), Vec::new());
        for i in 0..40 {
            for _ in 0..(i % 4) {
                xr.extend(x.row(i).iter());
                yr.push(y[i]);
            }
        }
        let xr = Array2::from_shape_vec((yr.len(), 3), xr).unwrap();
        let rep = quantile_regression(xr.view(), &yr, 0.3, None, &opts()).unwrap();
        assert!((fit.objective - rep.objective).abs() <= 1e-10 * rep.objective);
        assert!((fit.n_obs - yr.len() as f64).abs() == 0.0);
        assert!((fit.loglike - rep.loglike).abs() <= 1e-10 * rep.loglike.abs());
        // Zero-weight rows are ignored: the basis never holds one.
        assert!(fit.basis.iter().all(|&i| w[i] > 0.0));
        // Weighted optimality: Σ_{r<0} w ≤ τN ≤ Σ_{r≤0} w.
        let (mut wneg, mut wle) = (0.0, 0.0);
        for i in 0..40 {
            let r = y[i] - x.row(i).iter().zip(&fit.coef).map(|(a, b)| a * b).sum::<f64>();
            if r < -1e-9 {
                wneg += w[i];
            }
            if r <= 1e-9 {
                wle += w[i];
            }
        }
        assert!(wneg <= 0.3 * fit.n_obs && 0.3 * fit.n_obs <= wle);
    }

    #[test]
    fn flags_degenerate_and_exact_fits() {
        // Three points on the line y = 1 + x: a degenerate vertex; the exact line is optimal.
        let x = ndarray::array![[1.0, 0.0], [1.0, 1.0], [1.0, 2.0], [1.0, 3.0], [1.0, 4.0]];
        let y = [1.0, 2.0, 4.0, 6.0, 5.0];
        let fit = quantile_regression(x.view(), &y, 0.5, None, &opts()).unwrap();
        assert_eq!(fit.objective, 1.5);
        assert!(fit.degenerate);
        // A perfect fit: objective 0, σ̂ = 0, log-likelihood +inf.
        let y = [1.0, 2.0, 3.0, 4.0, 5.0];
        let fit = quantile_regression(x.view(), &y, 0.3, None, &opts()).unwrap();
        assert_eq!(fit.objective, 0.0);
        assert_eq!(fit.scale, 0.0);
        assert_eq!(fit.loglike, f64::INFINITY);
        assert!(fit.degenerate);
    }

    #[test]
    fn errors_are_typed() {
        let x = ndarray::array![[1.0, 0.0], [1.0, 1.0], [1.0, 2.0]];
        let y = [1.0, 2.0, 0.5];
        for tau in [0.0, 1.0, -0.5, 1.5, f64::NAN] {
            let e = quantile_regression(x.view(), &y, tau, None, &opts()).unwrap_err();
            assert!(matches!(e, Error::InvalidParameter { name: "quantile", .. }), "{e}");
        }
        let e = quantile_regression(x.view(), &y[..2], 0.5, None, &opts()).unwrap_err();
        assert_eq!(e, Error::shape("y", &[3], &[2]));
        let e = quantile_regression(x.view(), &y, 0.5, Some(&[1.0, 1.0]), &opts()).unwrap_err();
        assert_eq!(e, Error::shape("weight", &[3], &[2]));
        let e = quantile_regression(x.view(), &y, 0.5, Some(&[1.0, -1.0, 1.0]), &opts()).unwrap_err();
        assert!(matches!(e, Error::InvalidParameter { name: "weight", index: Some(1), .. }));
        let mut xb = x.clone();
        xb[[2, 1]] = f64::NAN;
        let e = quantile_regression(xb.view(), &y, 0.5, None, &opts()).unwrap_err();
        assert!(matches!(e, Error::InvalidEntry { name: "x", row: 2, col: Some(1), .. }), "{e}");
        xb[[2, 1]] = 2.0;
        xb[[1, 0]] = f64::INFINITY;
        let e = quantile_regression(xb.view(), &y, 0.5, None, &opts()).unwrap_err();
        assert_eq!(
            e,
            Error::InvalidEntry {
                name: "x",
                value: f64::INFINITY,
                row: 1,
                col: Some(0),
                reason: "must be finite"
            }
        );
        let e =
            quantile_regression(x.view(), &[1.0, f64::NEG_INFINITY, 0.0], 0.5, None, &opts()).unwrap_err();
        assert_eq!(
            e,
            Error::InvalidEntry {
                name: "y",
                value: f64::NEG_INFINITY,
                row: 1,
                col: None,
                reason: "must be finite"
            }
        );
        let empty = Array2::<f64>::zeros((0, 2));
        let e = quantile_regression(empty.view(), &[], 0.5, None, &opts()).unwrap_err();
        assert!(matches!(e, Error::Empty { .. }));
        let e = quantile_regression(x.view(), &y, 0.5, Some(&[0.0, 0.0, 0.0]), &opts()).unwrap_err();
        assert!(matches!(e, Error::Empty { .. }));
        // Rank deficient: the second column is twice the first.
        let xr = ndarray::array![[1.0, 2.0], [1.0, 2.0], [1.0, 2.0]];
        let e = quantile_regression(xr.view(), &y, 0.5, None, &opts()).unwrap_err();
        assert!(matches!(e, Error::Numerical { .. }), "{e}");
        // Fewer positive-weight rows than columns.
        let e = quantile_regression(x.view(), &y, 0.5, Some(&[1.0, 0.0, 0.0]), &opts()).unwrap_err();
        assert!(matches!(e, Error::Numerical { .. }), "{e}");
    }

    #[test]
    fn no_columns_is_the_constant_zero_model() {
        let x = Array2::<f64>::zeros((3, 0));
        let fit = quantile_regression(x.view(), &[1.0, -2.0, 0.5], 0.25, None, &opts()).unwrap();
        assert!(fit.coef.is_empty());
        assert!((fit.objective - (0.25 * 1.5 + 0.75 * 2.0)).abs() < 1e-15);
    }
}
