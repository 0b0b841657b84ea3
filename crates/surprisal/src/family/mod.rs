//! Distribution families: one file per distribution, each with the same surface.
//!
//! Every univariate family implements [`Family`]: a validated constructor from its parameters
//! (named as in `torch.distributions` or SciPy), the log density or mass, its gradient with respect
//! to every continuous parameter, the entropy, the mean and the variance. The batched functions of
//! this module ([`log_prob`], [`log_prob_grad`], [`entropy`]) run a family over slices with
//! broadcasting of length-1 inputs, validating every parameter first (typed errors naming the
//! parameter, value and index) and then calling the unchecked per-element kernels.
//!
//! Values outside the support have log_prob = −inf (an infinite surprisal), as in SciPy; a NaN
//! value propagates.
//!
//! Vector-valued families have their own batched surface: [`categorical`] (rows of logits) and
//! [`multivariate_normal`] (full covariance through its Cholesky factor).
//!
//! Closed-form KL divergences between families are implementations of
//! [`crate::divergence::KlDivergence`], next to the family they start from.

use crate::error::{Error, Result};
use crate::num::Real;

pub mod asymmetric_laplace;
pub mod bernoulli;
pub mod beta;
pub mod binomial;
pub mod categorical;
pub mod cauchy;
pub mod exponential;
pub mod gamma;
pub mod geometric;
pub mod gumbel;
pub mod half_normal;
pub mod inverse_gaussian;
pub mod laplace;
pub mod log_normal;
pub mod logistic;
pub mod multivariate_normal;
pub mod negative_binomial;
pub mod normal;
pub mod poisson;
pub mod student_t;
pub mod weibull;

pub use asymmetric_laplace::AsymmetricLaplace;
pub use bernoulli::Bernoulli;
pub use beta::Beta;
pub use binomial::Binomial;
pub use categorical::Categorical;
pub use cauchy::Cauchy;
pub use exponential::Exponential;
pub use gamma::Gamma;
pub use geometric::Geometric;
pub use gumbel::Gumbel;
pub use half_normal::HalfNormal;
pub use inverse_gaussian::InverseGaussian;
pub use laplace::Laplace;
pub use log_normal::LogNormal;
pub use logistic::Logistic;
pub use multivariate_normal::MultivariateNormal;
pub use negative_binomial::NegativeBinomial;
pub use normal::Normal;
pub use poisson::Poisson;
pub use student_t::StudentT;
pub use weibull::Weibull;

/// a·b with the convention 0·b = 0 for every b, ±inf included (a weight times a log that may be
/// −inf: `0·log 0 = 0`). NaN in `b` still propagates when a ≠ 0.
#[inline]
pub(crate) fn xmul<F: Real>(a: F, b: F) -> F {
    if a == F::zero() { F::zero() } else { a * b }
}

/// KL(p ‖ q) = +inf for families p that put mass outside the support of every q of the listed
/// families (the pairs `torch.distributions.kl` registers as infinite):
/// `kl_infinite!(Normal => Exponential, Gamma)`.
macro_rules! kl_infinite {
    ($p:ident => $($q:ident),+) => {
        $(
            impl<F: crate::num::Real> crate::divergence::KlDivergence<$q<F>> for $p<F> {
                type Output = F;
                /// +inf: p puts mass outside the support of q.
                fn kl(&self, _q: &$q<F>) -> F {
                    F::infinity()
                }
            }
        )+
    };
}
pub(crate) use kl_infinite;

/// −Σ_{k=lo}^{hi} p(k) log p(k) for integer k, given log p (terms with p(k) = 0 count as 0).
/// Summed in f64 with Kahan compensation, so long supports keep double precision.
pub(crate) fn discrete_entropy(log_prob: impl Fn(f64) -> f64, lo: f64, hi: f64) -> f64 {
    let (mut s, mut c) = (0.0f64, 0.0f64);
    let mut k = lo;
    while k <= hi {
        let lp = log_prob(k);
        if lp > f64::NEG_INFINITY {
            let y = -lp * lp.exp() - c;
            let t = s + y;
            c = (t - s) - y;
            s = t;
        }
        k += 1.0;
    }
    s
}

/// A univariate distribution family with scalar parameters.
///
/// Implementors are small `Copy` structs built by a validating constructor; the methods are the
/// unchecked per-element kernels, safe to call in hot loops.
pub trait Family<F: Real>: Sized + Copy + std::fmt::Debug {
    /// The family's name, as used by the conformance files and the command line (`"normal"`).
    const NAME: &'static str;
    /// The parameters in the order [`Family::from_params`] and the gradient use them.
    const PARAMS: &'static [&'static str];
    /// Parameters that take integer values only (e.g. the binomial `total_count`): their gradient
    /// slot is always 0.
    const INTEGER_PARAMS: &'static [&'static str] = &[];

    /// Validated constructor from the parameters in [`Family::PARAMS`] order.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] naming the first parameter outside its domain;
    /// [`Error::ShapeMismatch`] if `params.len() != PARAMS.len()`.
    fn from_params(params: &[F]) -> Result<Self>;

    /// log p(x): the log density (continuous) or log mass (discrete); −inf outside the support.
    fn log_prob(&self, x: F) -> F;

    /// log p(x) together with ∂ log p(x)/∂θ for each parameter θ in [`Family::PARAMS`] order,
    /// written to `grad` (`grad.len() == PARAMS.len()`).
    fn log_prob_grad(&self, x: F, grad: &mut [F]) -> F;

    /// Entropy in nats, H = E[−log p(X)].
    fn entropy(&self) -> F;

    /// E\[X\] (may be +inf or NaN where it does not exist, e.g. Cauchy: NaN).
    fn mean(&self) -> F;

    /// Var\[X\] (+inf or NaN where it does not exist).
    fn variance(&self) -> F;
}

/// Checks that every input has length `n` or 1 and returns `n`.
fn broadcast_len(inputs: &[(&'static str, usize)], n: usize) -> Result<()> {
    for &(name, len) in inputs {
        if len != n && len != 1 {
            return Err(Error::shape(name, &[n], &[len]));
        }
    }
    Ok(())
}

#[inline]
fn at<F: Copy>(x: &[F], i: usize) -> F {
    if x.len() == 1 { x[0] } else { x[i] }
}

fn params_shape<F: Real, D: Family<F>>(params: &[&[F]], n: usize) -> Result<()> {
    if params.len() != D::PARAMS.len() {
        return Err(Error::shape("params", &[D::PARAMS.len()], &[params.len()]));
    }
    let named: Vec<_> = D::PARAMS.iter().zip(params).map(|(name, p)| (*name, p.len())).collect();
    broadcast_len(&named, n)
}

/// Builds the distribution for element `i`, validating its parameters.
fn build<F: Real, D: Family<F>>(params: &[&[F]], i: usize, scratch: &mut [F]) -> Result<D> {
    for (s, p) in scratch.iter_mut().zip(params) {
        *s = at(p, i);
    }
    D::from_params(scratch).map_err(|e| e.at_index(i))
}

/// Batched log p(x): `out[i] = log p(value[i] | params[·][i])`.
///
/// `params` holds one slice per parameter, in [`Family::PARAMS`] order; each slice, and `value`,
/// has length `out.len()` or 1 (broadcast).
///
/// # Errors
/// [`Error::ShapeMismatch`] for inputs of another length; [`Error::InvalidParameter`] with the
/// element index for a parameter outside its domain.
///
/// # Example
/// ```
/// use surprisal::family::{self, Normal};
/// let mut out = [0.0; 2];
/// family::log_prob::<f64, Normal<f64>>(&[&[0.0], &[1.0, 2.0]], &[0.5], &mut out).unwrap();
/// // SciPy: norm(0, 1).logpdf(0.5), norm(0, 2).logpdf(0.5)
/// assert!((out[0] - -1.0439385332046727).abs() < 1e-15);
/// assert!((out[1] - -1.6433357137646178).abs() < 1e-15);
/// ```
pub fn log_prob<F: Real, D: Family<F>>(params: &[&[F]], value: &[F], out: &mut [F]) -> Result<()> {
    let n = out.len();
    params_shape::<F, D>(params, n)?;
    broadcast_len(&[("value", value.len())], n)?;
    let mut scratch = vec![F::zero(); params.len()];
    for (i, o) in out.iter_mut().enumerate() {
        let d: D = build(params, i, &mut scratch)?;
        *o = d.log_prob(at(value, i));
    }
    Ok(())
}

/// Batched log p(x) with gradients: like [`log_prob`], and `grads[k][i] = ∂ out[i] / ∂ θₖ[i]`
/// for each parameter θₖ in [`Family::PARAMS`] order (each `grads[k]` has length `out.len()`;
/// to get the gradient of a broadcast parameter, sum its slice).
///
/// # Errors
/// As [`log_prob`], and [`Error::ShapeMismatch`] for a gradient buffer of the wrong length.
pub fn log_prob_grad<F: Real, D: Family<F>>(
    params: &[&[F]],
    value: &[F],
    out: &mut [F],
    grads: &mut [&mut [F]],
) -> Result<()> {
    let n = out.len();
    params_shape::<F, D>(params, n)?;
    broadcast_len(&[("value", value.len())], n)?;
    if grads.len() != D::PARAMS.len() {
        return Err(Error::shape("grads", &[D::PARAMS.len()], &[grads.len()]));
    }
    for (g, name) in grads.iter().zip(D::PARAMS) {
        if g.len() != n {
            return Err(Error::shape(name, &[n], &[g.len()]));
        }
    }
    let k = params.len();
    let mut scratch = vec![F::zero(); k];
    let mut g = vec![F::zero(); k];
    for (i, o) in out.iter_mut().enumerate() {
        let d: D = build(params, i, &mut scratch)?;
        *o = d.log_prob_grad(at(value, i), &mut g);
        for (buf, gk) in grads.iter_mut().zip(&g) {
            buf[i] = *gk;
        }
    }
    Ok(())
}

/// Batched entropy: `out[i] = H(params[·][i])`, with the broadcasting and errors of [`log_prob`].
pub fn entropy<F: Real, D: Family<F>>(params: &[&[F]], out: &mut [F]) -> Result<()> {
    let n = out.len();
    params_shape::<F, D>(params, n)?;
    let mut scratch = vec![F::zero(); params.len()];
    for (i, o) in out.iter_mut().enumerate() {
        let d: D = build(params, i, &mut scratch)?;
        *o = d.entropy();
    }
    Ok(())
}

/// [`log_prob`] over ndarray views: one 1-D view per parameter (length n or 1) and the values;
/// returns a new array of log-probabilities. Views need not be contiguous.
///
/// # Errors
/// As [`log_prob`].
///
/// # Example
/// ```
/// use ndarray::array;
/// use surprisal::family::{self, Normal};
/// let x = array![0.5f64, 1.5];
/// let lp = family::log_prob_view::<f64, Normal<f64>>(&[array![0.0].view(), array![1.0].view()], x.view())
///     .unwrap();
/// // SciPy: norm.logpdf([0.5, 1.5])
/// assert!((lp[0] - -1.0439385332046727).abs() < 1e-15);
/// assert!((lp[1] - -2.0439385332046727).abs() < 1e-15);
/// ```
pub fn log_prob_view<F: Real, D: Family<F>>(
    params: &[ndarray::ArrayView1<'_, F>],
    value: ndarray::ArrayView1<'_, F>,
) -> Result<ndarray::Array1<F>> {
    let owned: Vec<Vec<F>> = params.iter().map(|p| p.iter().copied().collect()).collect();
    let refs: Vec<&[F]> = owned.iter().map(Vec::as_slice).collect();
    let value: Vec<F> = value.iter().copied().collect();
    let n = refs.iter().map(|p| p.len()).chain([value.len()]).max().unwrap_or(0);
    let mut out = vec![F::zero(); n];
    log_prob::<F, D>(&refs, &value, &mut out)?;
    Ok(ndarray::Array1::from(out))
}

#[cfg(test)]
pub(crate) mod testing {
    //! Shared checks for every family: central differences of the analytic gradient, and the
    //! law that the density integrates (or the mass sums) to one.
    use super::Family;

    /// Central-difference check of `log_prob_grad` against `log_prob` at `x`, with a step
    /// ∝ ε^(1/3) scaled by the parameter's magnitude.
    pub fn check_gradient<D: Family<f64>>(params: &[f64], x: f64, tol: f64) {
        let d = D::from_params(params).unwrap();
        let mut g = vec![0.0; params.len()];
        let lp = d.log_prob_grad(x, &mut g);
        assert!((lp - d.log_prob(x)).abs() <= 1e-12 * lp.abs().max(1.0), "{} value", D::NAME);
        for k in 0..params.len() {
            if D::INTEGER_PARAMS.contains(&D::PARAMS[k]) {
                assert_eq!(g[k], 0.0);
                continue;
            }
            let h = f64::EPSILON.cbrt() * params[k].abs().max(1.0);
            let mut p = params.to_vec();
            p[k] += h;
            let up = D::from_params(&p).unwrap().log_prob(x);
            p[k] -= 2.0 * h;
            let down = D::from_params(&p).unwrap().log_prob(x);
            let fd = (up - down) / (2.0 * h);
            assert!(
                (g[k] - fd).abs() <= tol * fd.abs().max(1.0),
                "{}: d/d{} at x = {x}, params {params:?}: analytic {} vs finite difference {fd}",
                D::NAME,
                D::PARAMS[k],
                g[k]
            );
        }
    }

    /// Checks that a family's f32 and f64 instances agree: `log_prob` at each of `xs` to
    /// `tol`, and the entropy to `entropy_tol` (absolute).
    pub fn check_f32_agrees<A: Family<f32>, B: Family<f64>>(
        d32: &A,
        d64: &B,
        xs: &[f64],
        tol: f64,
        entropy_tol: f64,
    ) {
        for &x in xs {
            let (a, b) = (d32.log_prob(x as f32) as f64, d64.log_prob(x));
            assert!((a - b).abs() < tol, "{} log_prob at x = {x}: f32 {a} vs f64 {b}", B::NAME);
        }
        let (a, b) = (d32.entropy() as f64, d64.entropy());
        assert!((a - b).abs() < entropy_tol, "{} entropy: f32 {a} vs f64 {b}", B::NAME);
    }

    /// Checks that x = ±∞ has log density −∞ and that `log_prob_grad` writes a zero (not NaN)
    /// parameter gradient there (over a buffer that starts non-zero).
    pub fn check_infinite_x_gives_minus_inf<D: Family<f64>>(d: &D) {
        for x in [f64::INFINITY, f64::NEG_INFINITY] {
            let mut g = vec![1.0; D::PARAMS.len()];
            assert_eq!(d.log_prob(x), f64::NEG_INFINITY, "{} at x = {x}", D::NAME);
            assert_eq!(d.log_prob_grad(x, &mut g), f64::NEG_INFINITY, "{} at x = {x}", D::NAME);
            assert!(g.iter().all(|&v| v == 0.0), "{} gradient at x = {x}: {g:?}", D::NAME);
        }
    }

    /// ∫ f(x) dx over [lo, hi] by composite Simpson with `n` (even) panels.
    pub fn simpson(f: impl Fn(f64) -> f64, lo: f64, hi: f64, n: usize) -> f64 {
        let h = (hi - lo) / n as f64;
        let mut s = f(lo) + f(hi);
        for i in 1..n {
            let w = if i % 2 == 1 { 4.0 } else { 2.0 };
            s += w * f(lo + i as f64 * h);
        }
        s * h / 3.0
    }

    /// ∫ f(x) dx after the substitution x = φ(t), dx = φ′(t) dt, by Simpson in t over
    /// [lo, hi]; `phi` returns (φ(t), φ′(t)).
    pub fn simpson_substituted(
        f: impl Fn(f64) -> f64,
        phi: impl Fn(f64) -> (f64, f64),
        lo: f64,
        hi: f64,
        n: usize,
    ) -> f64 {
        simpson(
            |t| {
                let (x, dx) = phi(t);
                f(x) * dx
            },
            lo,
            hi,
            n,
        )
    }

    /// The substitution x = eᵗ (dx = eᵗ dt), for densities on (0, ∞) that are smooth in log x.
    pub fn exp_substitution(t: f64) -> (f64, f64) {
        let x = t.exp();
        (x, x)
    }

    /// x ↦ p(x).
    pub fn density<D: Family<f64>>(d: &D) -> impl Fn(f64) -> f64 + '_ {
        move |x| d.log_prob(x).exp()
    }

    /// x ↦ −log p(x) · p(x), zero where p(x) = 0: the integrand of the entropy.
    pub fn entropy_density<D: Family<f64>>(d: &D) -> impl Fn(f64) -> f64 + '_ {
        move |x| {
            let lp = d.log_prob(x);
            if lp == f64::NEG_INFINITY { 0.0 } else { -lp * lp.exp() }
        }
    }

    /// ∫ p(x) dx over [lo, hi] by composite Simpson with `n` (even) panels.
    pub fn integrate_density<D: Family<f64>>(d: &D, lo: f64, hi: f64, n: usize) -> f64 {
        simpson(density(d), lo, hi, n)
    }

    /// ∫ (−log p(x)) p(x) dx over [lo, hi]: the entropy by quadrature.
    pub fn integrate_entropy<D: Family<f64>>(d: &D, lo: f64, hi: f64, n: usize) -> f64 {
        simpson(entropy_density(d), lo, hi, n)
    }

    /// ∫ xᵏ p(x) dx over [lo, hi]: the k-th raw moment by quadrature.
    pub fn integrate_moment<D: Family<f64>>(d: &D, k: i32, lo: f64, hi: f64, n: usize) -> f64 {
        let p = density(d);
        simpson(|x| x.powi(k) * p(x), lo, hi, n)
    }

    /// Σ f(k) over the counts k = 0, 1, …, n − 1.
    pub fn sum_counts(f: impl Fn(f64) -> f64, n: usize) -> f64 {
        (0..n).map(|k| f(k as f64)).sum()
    }

    /// KL(p ‖ q) = Σ p(k) (log p(k) − log q(k)) over k = 0, …, n − 1, with 0 · log 0 = 0.
    pub fn kl_by_sum<P: Family<f64>, Q: Family<f64>>(p: &P, q: &Q, n: usize) -> f64 {
        sum_counts(|k| kl_density(p, q, k), n)
    }

    /// p(x) (log p(x) − log q(x)), zero where p(x) = 0: the integrand of KL(p ‖ q).
    fn kl_density<P: Family<f64>, Q: Family<f64>>(p: &P, q: &Q, x: f64) -> f64 {
        let lp = p.log_prob(x);
        if lp == f64::NEG_INFINITY { 0.0 } else { lp.exp() * (lp - q.log_prob(x)) }
    }

    /// KL(p ‖ q) over x = eᵗ, t ∈ [lo, hi], by Simpson: for p on (0, ∞), whose integrand may
    /// have a log singularity at 0.
    pub fn kl_by_log_quadrature<P: Family<f64>, Q: Family<f64>>(
        p: &P,
        q: &Q,
        lo: f64,
        hi: f64,
        n: usize,
    ) -> f64 {
        simpson_substituted(|x| kl_density(p, q, x), exp_substitution, lo, hi, n)
    }

    /// KL(p ‖ q) = ∫ p (log p − log q) dx over [lo, hi] by Simpson, with 0 · log 0 = 0.
    pub fn kl_by_quadrature<P: Family<f64>, Q: Family<f64>>(p: &P, q: &Q, lo: f64, hi: f64, n: usize) -> f64 {
        simpson(|x| kl_density(p, q, x), lo, hi, n)
    }
}
