//! The categorical distribution over classes 0..C with the softmax link, batched over rows.
//!
//! ```text
//! log p(c | η) = η_c − logsumexp(η)          = log_softmax(η)_c
//! ∂/∂η_j       = 1[j = c] − softmax(η)_j       (one-hot minus probabilities; the NLL's gradient
//!                                              is its negative, softmax − one-hot)
//! H(η)         = −Σ_j p_j log p_j,              p = softmax(η), 0·log 0 = 0
//! KL(η ‖ ζ)    = Σ_j p_j (log p_j − log q_j),   q = softmax(ζ)
//! ```
//!
//! Its NLL is the softmax cross-entropy. This is a vector-valued family, so it does not implement
//! [`crate::family::Family`]: the batched functions take row-major logits of shape
//! `[rows, n_classes]` and write one value per row into a caller-provided `out`; [`Categorical`]
//! holds a single distribution.
//!
//! Edges: −inf logits are allowed (zero-probability classes): they contribute nothing to the
//! entropy or to the KL, the log-probability of such a class is −inf, and the KL is +inf when p
//! puts mass on a class where q has none. +inf logits share the mass equally. A row whose logits
//! are all −inf, or any NaN logit, is an [`Error::InvalidParameter`].
//!
//! Reference: `torch.distributions.Categorical(logits=η)`, `torch.distributions.kl_divergence`.

use crate::divergence::KlDivergence;
use crate::error::{Error, Result, check};
use crate::family::xmul;
use crate::num::Real;

/// One categorical distribution, stored as its normalised log-probabilities.
///
/// ```
/// use surprisal::family::Categorical;
/// let d = Categorical::from_logits(&[1.0f64, 2.0, 3.0]).unwrap();
/// // mpmath: 1 − log(e + e² + e³), and −Σ p log p
/// assert!((d.log_prob(0).unwrap() - -2.407605964444380304).abs() < 1e-15);
/// assert!((d.entropy() - 0.832395581839938873).abs() < 1e-15);
/// assert!(d.log_prob(3).is_err());
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Categorical<F> {
    log_probs: Vec<F>,
}

impl<F: Real> Categorical<F> {
    /// From unnormalised log-probabilities (any shift is irrelevant).
    ///
    /// # Errors
    /// [`Error::Empty`] for no classes; [`Error::InvalidParameter`] for a NaN logit or all −inf.
    pub fn from_logits(logits: &[F]) -> Result<Self> {
        if logits.is_empty() {
            return Err(Error::Empty { name: "logits" });
        }
        check_row(logits)?;
        let mut log_probs = vec![F::zero(); logits.len()];
        log_softmax_unchecked(logits, &mut log_probs);
        Ok(Self { log_probs })
    }
    /// From probabilities (normalised by their sum, as torch does).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a negative or non-finite entry, or a zero sum.
    pub fn from_probs(probs: &[F]) -> Result<Self> {
        for &p in probs {
            if !(p >= F::zero() && p.is_finite()) {
                return Err(Error::param("probs", p.to_f64_lossy(), "must be finite and >= 0"));
            }
        }
        let logits: Vec<F> = probs.iter().map(|p| p.ln()).collect();
        Self::from_logits(&logits)
    }
    /// Number of classes.
    pub fn n_classes(&self) -> usize {
        self.log_probs.len()
    }
    /// The normalised log-probabilities.
    pub fn log_probs(&self) -> &[F] {
        &self.log_probs
    }
    /// log p(class).
    ///
    /// # Errors
    /// [`Error::ClassOutOfRange`] for `class >= n_classes`.
    pub fn log_prob(&self, class: usize) -> Result<F> {
        self.log_probs.get(class).copied().ok_or(Error::ClassOutOfRange {
            row: 0,
            value: class as i64,
            n_classes: self.log_probs.len(),
        })
    }
    /// Entropy in nats.
    pub fn entropy(&self) -> F {
        row_entropy(&self.log_probs)
    }
}

impl<F: Real> KlDivergence<Categorical<F>> for Categorical<F> {
    type Output = Result<F>;
    /// KL(self ‖ q); [`Error::ShapeMismatch`] if the class counts differ.
    fn kl(&self, q: &Categorical<F>) -> Result<F> {
        check::same_len("q_logits", self.log_probs.len(), q.log_probs.len())?;
        Ok(row_kl(&self.log_probs, &q.log_probs))
    }
}

fn check_row<F: Real>(row: &[F]) -> Result<()> {
    if let Some(v) = row.iter().find(|v| v.is_nan()) {
        return Err(Error::param("logits", v.to_f64_lossy(), "must not be NaN"));
    }
    if row.iter().all(|&v| v == F::neg_infinity()) {
        return Err(Error::param("logits", f64::NEG_INFINITY, "a row must not be all −inf"));
    }
    Ok(())
}

/// Validates the batch shape and every row; returns the number of rows.
fn rows<F: Real>(name: &'static str, logits: &[F], n_classes: usize) -> Result<usize> {
    if n_classes == 0 {
        return Err(Error::Empty { name: "n_classes" });
    }
    if !logits.len().is_multiple_of(n_classes) {
        return Err(Error::shape(name, &[logits.len() / n_classes + 1, n_classes], &[logits.len()]));
    }
    for (i, row) in logits.chunks_exact(n_classes).enumerate() {
        check_row(row).map_err(|e| e.at_index(i))?;
    }
    Ok(logits.len() / n_classes)
}

/// log softmax of one row as (x − max) − log Σ e^{x − max}: unlike x − logsumexp(x), the
/// subtraction of the maximum is exact, so logits shifted by 1e6 in f32 keep full precision.
/// +inf entries share the mass (−log k each, −inf elsewhere). The row is not all −inf.
fn log_softmax_unchecked<F: Real>(x: &[F], out: &mut [F]) {
    let m = x.iter().copied().fold(F::neg_infinity(), F::max);
    if m == F::infinity() {
        let k = F::lit(x.iter().filter(|v| **v == F::infinity()).count() as f64);
        for (o, &v) in out.iter_mut().zip(x) {
            *o = if v == F::infinity() { -k.ln() } else { F::neg_infinity() };
        }
        return;
    }
    let s: F = x.iter().map(|&v| (v - m).exp()).sum();
    let ls = s.ln();
    for (o, &v) in out.iter_mut().zip(x) {
        *o = (v - m) - ls;
    }
}

/// −Σ p log p of normalised log-probabilities, with 0·log 0 = 0.
fn row_entropy<F: Real>(ls: &[F]) -> F {
    -ls.iter().map(|&l| xmul(l.exp(), l)).sum::<F>()
}

/// Σ p (log p − log q), with 0·(anything) = 0 and +inf where q = 0 < p.
fn row_kl<F: Real>(lp: &[F], lq: &[F]) -> F {
    lp.iter().zip(lq).map(|(&a, &b)| xmul(a.exp(), a - b)).sum()
}

/// Batched log p(class): `out[i] = log_softmax(logits[i, :])[classes[i]]`.
///
/// `logits` is row-major `[rows, n_classes]`; `classes` and `out` have length `rows`.
///
/// # Errors
/// [`Error::ShapeMismatch`] for inconsistent lengths; [`Error::ClassOutOfRange`] for a class
/// `>= n_classes`; [`Error::InvalidParameter`] (with the row) for a NaN or all −inf row.
///
/// ```
/// use surprisal::family::categorical;
/// let mut out = [0.0f64; 2];
/// categorical::log_prob(&[1.0, 2.0, 3.0, 0.0, 0.0, 0.0], 3, &[0, 2], &mut out).unwrap();
/// // mpmath: 1 − log(e + e² + e³), −log 3
/// assert!((out[0] - -2.407605964444380304).abs() < 1e-15);
/// assert!((out[1] - -(3.0f64).ln()).abs() < 1e-15);
/// ```
pub fn log_prob<F: Real>(logits: &[F], n_classes: usize, classes: &[usize], out: &mut [F]) -> Result<()> {
    let n = check_classes(logits, n_classes, classes, out.len())?;
    let mut ls = vec![F::zero(); n_classes];
    for i in 0..n {
        log_softmax_unchecked(&logits[i * n_classes..(i + 1) * n_classes], &mut ls);
        out[i] = ls[classes[i]];
    }
    Ok(())
}

/// Batched log p(class) and its gradient: `grad[i, j] = 1[j = classes[i]] − softmax(logits[i])_j`
/// (the gradient of log p; the NLL's gradient is its negative). `grad` has the shape of `logits`.
///
/// # Errors
/// As [`log_prob`], and [`Error::ShapeMismatch`] for a `grad` of another length.
pub fn log_prob_grad<F: Real>(
    logits: &[F],
    n_classes: usize,
    classes: &[usize],
    out: &mut [F],
    grad: &mut [F],
) -> Result<()> {
    let n = check_classes(logits, n_classes, classes, out.len())?;
    check::same_len("grad", logits.len(), grad.len())?;
    for i in 0..n {
        let g = &mut grad[i * n_classes..(i + 1) * n_classes];
        log_softmax_unchecked(&logits[i * n_classes..(i + 1) * n_classes], g);
        out[i] = g[classes[i]];
        for (j, gj) in g.iter_mut().enumerate() {
            let onehot = if j == classes[i] { F::one() } else { F::zero() };
            *gj = onehot - gj.exp();
        }
    }
    Ok(())
}

fn check_classes<F: Real>(logits: &[F], n_classes: usize, classes: &[usize], n_out: usize) -> Result<usize> {
    let n = rows("logits", logits, n_classes)?;
    check::same_len("classes", n, classes.len())?;
    check::same_len("out", n, n_out)?;
    for (row, &c) in classes.iter().enumerate() {
        if c >= n_classes {
            return Err(Error::ClassOutOfRange { row, value: c as i64, n_classes });
        }
    }
    Ok(n)
}

/// Batched entropy: `out[i] = H(softmax(logits[i, :]))`.
///
/// # Errors
/// As [`log_prob`] (without the class checks).
pub fn entropy<F: Real>(logits: &[F], n_classes: usize, out: &mut [F]) -> Result<()> {
    let n = rows("logits", logits, n_classes)?;
    check::same_len("out", n, out.len())?;
    let mut ls = vec![F::zero(); n_classes];
    for (o, row) in out.iter_mut().zip(logits.chunks_exact(n_classes)) {
        log_softmax_unchecked(row, &mut ls);
        *o = row_entropy(&ls);
    }
    Ok(())
}

/// Batched KL: `out[i] = KL(softmax(p_logits[i, :]) ‖ softmax(q_logits[i, :]))`.
///
/// # Errors
/// As [`entropy`], for both inputs, and [`Error::ShapeMismatch`] if their lengths differ.
pub fn kl<F: Real>(p_logits: &[F], q_logits: &[F], n_classes: usize, out: &mut [F]) -> Result<()> {
    let n = rows("p_logits", p_logits, n_classes)?;
    rows("q_logits", q_logits, n_classes)?;
    check::same_len("q_logits", p_logits.len(), q_logits.len())?;
    check::same_len("out", n, out.len())?;
    let mut lp = vec![F::zero(); n_classes];
    let mut lq = vec![F::zero(); n_classes];
    for (i, o) in out.iter_mut().enumerate() {
        log_softmax_unchecked(&p_logits[i * n_classes..(i + 1) * n_classes], &mut lp);
        log_softmax_unchecked(&q_logits[i * n_classes..(i + 1) * n_classes], &mut lq);
        *o = row_kl(&lp, &lq);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gradient_matches_central_differences() {
        let logits = [0.3f64, -1.2, 2.0, 0.0, 5.0, -3.0, 1.0, 1.0];
        let classes = [2usize, 3];
        let mut out = [0.0; 2];
        let mut grad = [0.0; 8];
        log_prob_grad(&logits, 4, &classes, &mut out, &mut grad).unwrap();
        let h = f64::EPSILON.cbrt();
        for j in 0..8 {
            let (mut up, mut dn) = (logits, logits);
            up[j] += h;
            dn[j] -= h;
            let (mut ou, mut od) = ([0.0; 2], [0.0; 2]);
            log_prob(&up, 4, &classes, &mut ou).unwrap();
            log_prob(&dn, 4, &classes, &mut od).unwrap();
            let fd = (ou[j / 4] - od[j / 4]) / (2.0 * h);
            assert!((grad[j] - fd).abs() < 1e-9, "{j}: {} vs {fd}", grad[j]);
        }
    }

    #[test]
    fn mass_sums_to_one_and_entropy_is_expected_nll() {
        let d = Categorical::from_logits(&[0.5f64, -2.0, 3.0, 1.0]).unwrap();
        let total: f64 = d.log_probs().iter().map(|l| l.exp()).sum();
        assert!((total - 1.0).abs() < 1e-15);
        let h: f64 = (0..4).map(|c| -d.log_prob(c).unwrap() * d.log_prob(c).unwrap().exp()).sum();
        assert!((h - d.entropy()).abs() < 1e-15);
    }

    #[test]
    fn negative_infinite_logits() {
        let ninf = f64::NEG_INFINITY;
        let mut out = [0.0; 1];
        entropy(&[0.0, ninf, 0.0], 3, &mut out).unwrap();
        assert!((out[0] - 2.0f64.ln()).abs() < 1e-15);
        // p has no mass where q has none: finite; p has mass where q has none: +inf.
        kl(&[0.0, ninf, 0.0], &[0.0, 1.0, 0.0], 3, &mut out).unwrap();
        assert!(out[0].is_finite() && out[0] > 0.0);
        kl(&[0.0, 1.0, 0.0], &[0.0, ninf, 0.0], 3, &mut out).unwrap();
        assert_eq!(out[0], f64::INFINITY);
        kl(&[0.0, ninf, 0.0], &[0.0, ninf, 0.0], 3, &mut out).unwrap();
        assert_eq!(out[0], 0.0);
        let mut lp = [0.0; 1];
        log_prob(&[0.0, ninf], 2, &[1], &mut lp).unwrap();
        assert_eq!(lp[0], ninf);
        assert!(entropy(&[ninf, ninf], 2, &mut out).is_err());
        assert!(entropy(&[0.0, f64::NAN], 2, &mut out).is_err());
    }

    #[test]
    fn shifted_logits_are_stable() {
        let d = Categorical::from_logits(&[1e6f32, 1e6 + 1.0, 1e6 - 2.0]).unwrap();
        let r = Categorical::from_logits(&[0.0f32, 1.0, -2.0]).unwrap();
        assert!((d.entropy() - r.entropy()).abs() < 1e-6);
        assert!(d.kl(&r).unwrap().abs() < 1e-6);
    }

    #[test]
    fn kl_is_nonnegative_and_matches_reference() {
        let p = Categorical::from_logits(&[1.0f64, 2.0, 3.0]).unwrap();
        let q = Categorical::from_logits(&[0.0f64, 0.0, 1.0]).unwrap();
        assert_eq!(p.kl(&p).unwrap(), 0.0);
        // mpmath: Σ p (log p − log q)
        assert!((p.kl(&q).unwrap() - 0.053_808_176_317_290_325).abs() < 1e-15);
        assert!(q.kl(&p).unwrap() > 0.0);
        let two = Categorical::from_logits(&[0.0f64, 0.0]).unwrap();
        assert!(p.kl(&two).is_err());
    }

    #[test]
    fn errors_name_the_input() {
        let mut out = [0.0; 1];
        assert!(matches!(log_prob(&[0.0f64, 1.0], 2, &[2], &mut out), Err(Error::ClassOutOfRange { .. })));
        assert!(matches!(entropy(&[0.0f64, 1.0, 2.0], 2, &mut out), Err(Error::ShapeMismatch { .. })));
        assert!(Categorical::<f64>::from_logits(&[]).is_err());
        assert!(Categorical::from_probs(&[0.5f64, -0.1]).is_err());
        let d = Categorical::from_probs(&[1.0f64, 3.0]).unwrap();
        assert!((d.log_prob(1).unwrap() - 0.75f64.ln()).abs() < 1e-15);
    }

    #[test]
    fn f32_agrees_with_f64() {
        let mut o32 = [0.0f32; 1];
        let mut o64 = [0.0f64; 1];
        entropy(&[0.3f32, -1.0, 2.0], 3, &mut o32).unwrap();
        entropy(&[0.3f64, -1.0, 2.0], 3, &mut o64).unwrap();
        assert!((o32[0] as f64 - o64[0]).abs() < 1e-6);
    }
}
