//! The multivariate normal distribution N(μ, Σ) in d dimensions, with full covariance handled
//! through its Cholesky factor Σ = L Lᵀ (L lower triangular with a positive diagonal).
//!
//! ```text
//! log p(x | μ, Σ) = −½ |z|² − Σᵢ log Lᵢᵢ − (d/2) log 2π,     z = L⁻¹ (x − μ)
//! ∂/∂μ            = Σ⁻¹ (x − μ) = L⁻ᵀ z
//! H               = (d/2)(1 + log 2π) + Σᵢ log Lᵢᵢ
//! KL(N(μ₁, Σ₁) ‖ N(μ₂, Σ₂)) = Σᵢ log L₂ᵢᵢ − Σᵢ log L₁ᵢᵢ
//!                            + ½ ( ‖L₂⁻¹ L₁‖²_F + |L₂⁻¹ (μ₂ − μ₁)|² − d )
//! mean μ, covariance Σ
//! ```
//!
//! Matrices are plain row-major `d × d` slices. The Cholesky factorisation is computed once, in
//! the constructor; a covariance that is not symmetric positive definite is an error, never a NaN.
//! Only the lower triangle is read by the factorisation, after a symmetry check.
//!
//! Reference: `torch.distributions.MultivariateNormal(loc, covariance_matrix)`,
//! `scipy.stats.multivariate_normal`.

use crate::divergence::KlDivergence;
use crate::error::{Error, Result, check};
use crate::num::Real;
use crate::num::linalg::{backward_solve_t, cholesky, forward_solve};

/// N(loc, covariance) with a full, symmetric positive definite covariance.
///
/// ```
/// use surprisal::family::MultivariateNormal;
/// let d = MultivariateNormal::new(&[0.0f64, 1.0], &[2.0, 0.5, 0.5, 1.0]).unwrap();
/// // mpmath: −½ (x−μ)ᵀ Σ⁻¹ (x−μ) − ½ log det Σ − log 2π at x = (0.5, 0.5), and the entropy
/// assert!((d.log_prob(&[0.5, 0.5]).unwrap() - -2.403399246091342541).abs() < 1e-15);
/// assert!((d.entropy() - 3.117684960377056827).abs() < 1e-15);
/// assert!(MultivariateNormal::new(&[0.0f64, 0.0], &[1.0, 2.0, 2.0, 1.0]).is_err());
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct MultivariateNormal<F> {
    loc: Vec<F>,
    covariance: Vec<F>,
    /// Row-major lower-triangular Cholesky factor (upper triangle zero).
    chol: Vec<F>,
}

impl<F: Real> MultivariateNormal<F> {
    /// Validated constructor: `loc` of length d, `covariance` row-major d × d.
    ///
    /// # Errors
    /// [`Error::Empty`] for d = 0; [`Error::ShapeMismatch`] if `covariance.len() != d²`;
    /// [`Error::InvalidParameter`] for a non-finite entry or an asymmetric covariance;
    /// [`Error::Numerical`] if the covariance is not positive definite.
    pub fn new(loc: &[F], covariance: &[F]) -> Result<Self> {
        let d = loc.len();
        if d == 0 {
            return Err(Error::Empty { name: "loc" });
        }
        check::same_len("covariance", d * d, covariance.len())?;
        for &v in loc {
            check::finite("loc", v)?;
        }
        for &v in covariance {
            check::finite("covariance", v)?;
        }
        for i in 0..d {
            for j in 0..i {
                let (a, b) = (covariance[i * d + j], covariance[j * d + i]);
                let tol = F::epsilon() * F::lit(64.0) * (a.abs() + b.abs());
                if (a - b).abs() > tol {
                    return Err(Error::param("covariance", (a - b).to_f64_lossy(), "must be symmetric"));
                }
            }
        }
        let chol = cholesky(covariance, d).map_err(|e| match e {
            Error::ShapeMismatch { expected, got, .. } => {
                Error::ShapeMismatch { name: "covariance", expected, got }
            }
            Error::Numerical { reason, .. } => {
                Error::Numerical { what: "Cholesky factorisation of covariance", reason }
            }
            other => other,
        })?;
        Ok(Self { loc: loc.to_vec(), covariance: covariance.to_vec(), chol })
    }
    /// The dimension d.
    pub fn dim(&self) -> usize {
        self.loc.len()
    }
    /// μ.
    pub fn mean(&self) -> &[F] {
        &self.loc
    }
    /// Σ, row-major.
    pub fn covariance(&self) -> &[F] {
        &self.covariance
    }
    /// L with Σ = L Lᵀ, row-major lower triangular.
    pub fn scale_tril(&self) -> &[F] {
        &self.chol
    }
    fn half_log_det(&self) -> F {
        let d = self.dim();
        (0..d).map(|i| self.chol[i * d + i].ln()).sum()
    }

    /// log p(x) for one point x of length d.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] if `x.len() != d`.
    pub fn log_prob(&self, x: &[F]) -> Result<F> {
        check::same_len("value", self.dim(), x.len())?;
        let mut z: Vec<F> = x.iter().zip(&self.loc).map(|(&a, &m)| a - m).collect();
        forward_solve(&self.chol, self.dim(), &mut z);
        Ok(self.log_prob_from_z(&z))
    }

    /// log p(x) and its gradient with respect to `loc`, Σ⁻¹(x − μ), written to `grad_loc`.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] if `x` or `grad_loc` is not of length d.
    pub fn log_prob_grad_loc(&self, x: &[F], grad_loc: &mut [F]) -> Result<F> {
        let d = self.dim();
        check::same_len("value", d, x.len())?;
        check::same_len("grad_loc", d, grad_loc.len())?;
        for ((g, &a), &m) in grad_loc.iter_mut().zip(x).zip(&self.loc) {
            *g = a - m;
        }
        forward_solve(&self.chol, d, grad_loc);
        let lp = self.log_prob_from_z(grad_loc);
        backward_solve_t(&self.chol, d, grad_loc);
        Ok(lp)
    }

    /// log p(x) with its gradients with respect to `loc` (length d) and `covariance` (d × d):
    ///
    /// ```text
    /// ∂/∂μ = a,   ∂/∂Σ = ½ (a aᵀ − Σ⁻¹),   a = Σ⁻¹ (x − μ)
    /// ```
    ///
    /// The covariance gradient is the symmetric one (Σ varies over symmetric matrices), as
    /// `torch.distributions.MultivariateNormal` reports it.
    ///
    /// # Errors
    /// [`Error::ShapeMismatch`] for buffers of the wrong length.
    pub fn log_prob_grad(&self, x: &[F], grad_loc: &mut [F], grad_cov: &mut [F]) -> Result<F> {
        let d = self.dim();
        check::same_len("grad_covariance", d * d, grad_cov.len())?;
        let lp = self.log_prob_grad_loc(x, grad_loc)?;
        let inv = self.precision();
        let half = F::lit(0.5);
        for i in 0..d {
            for j in 0..d {
                grad_cov[i * d + j] = half * (grad_loc[i] * grad_loc[j] - inv[i * d + j]);
            }
        }
        Ok(lp)
    }

    /// Σ⁻¹ (row-major, exactly symmetric), from the Cholesky factor: one pair of triangular
    /// solves per column.
    pub fn precision(&self) -> Vec<F> {
        let d = self.dim();
        let mut inv = vec![F::zero(); d * d];
        let mut col = vec![F::zero(); d];
        for j in 0..d {
            for (i, c) in col.iter_mut().enumerate() {
                *c = if i == j { F::one() } else { F::zero() };
            }
            forward_solve(&self.chol, d, &mut col);
            backward_solve_t(&self.chol, d, &mut col);
            for (i, &c) in col.iter().enumerate() {
                inv[i * d + j] = c;
            }
        }
        // Exactly symmetric: average the two rounding-different halves.
        for i in 0..d {
            for j in 0..i {
                let m = F::lit(0.5) * (inv[i * d + j] + inv[j * d + i]);
                inv[i * d + j] = m;
                inv[j * d + i] = m;
            }
        }
        inv
    }

    fn log_prob_from_z(&self, z: &[F]) -> F {
        let q: F = z.iter().map(|&v| v * v).sum();
        let d = F::lit(self.dim() as f64);
        -F::lit(0.5) * q - self.half_log_det() - d * F::lit(super::normal::HALF_LN_2PI)
    }

    /// Entropy in nats.
    pub fn entropy(&self) -> F {
        let d = F::lit(self.dim() as f64);
        d * F::lit(0.5 + super::normal::HALF_LN_2PI) + self.half_log_det()
    }
}

impl<F: Real> KlDivergence<MultivariateNormal<F>> for MultivariateNormal<F> {
    type Output = Result<F>;
    /// KL(self ‖ q); [`Error::ShapeMismatch`] if the dimensions differ.
    fn kl(&self, q: &MultivariateNormal<F>) -> Result<F> {
        let d = self.dim();
        check::same_len("q_loc", d, q.dim())?;
        // ‖L₂⁻¹ L₁‖²_F, one column of L₁ at a time.
        let mut trace = F::zero();
        let mut col = vec![F::zero(); d];
        for j in 0..d {
            for (i, c) in col.iter_mut().enumerate() {
                *c = self.chol[i * d + j];
            }
            forward_solve(&q.chol, d, &mut col);
            trace = trace + col.iter().map(|&v| v * v).sum::<F>();
        }
        let mut diff: Vec<F> = q.loc.iter().zip(&self.loc).map(|(&a, &b)| a - b).collect();
        forward_solve(&q.chol, d, &mut diff);
        let maha: F = diff.iter().map(|&v| v * v).sum();
        Ok(q.half_log_det() - self.half_log_det() + F::lit(0.5) * (trace + maha - F::lit(d as f64)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::family::{Family, Normal};

    /// Σ over a 2-D grid of f(x, y)·h² (the integrands decay fast, so the midpoint rule is enough).
    fn grid(f: impl Fn(f64, f64) -> f64, lo: f64, hi: f64, n: usize) -> f64 {
        let h = (hi - lo) / n as f64;
        let mut s = 0.0;
        for i in 0..n {
            for j in 0..n {
                s += f(lo + (i as f64 + 0.5) * h, lo + (j as f64 + 0.5) * h);
            }
        }
        s * h * h
    }

    #[test]
    fn density_integrates_to_one_and_entropy_is_expected_nll() {
        let d = MultivariateNormal::new(&[0.0f64, 1.0], &[2.0, 0.5, 0.5, 1.0]).unwrap();
        let lp = |x: f64, y: f64| d.log_prob(&[x, y]).unwrap();
        let mass = grid(|x, y| lp(x, y).exp(), -12.0, 12.0, 1200);
        assert!((mass - 1.0).abs() < 1e-10, "{mass}");
        let h = grid(|x, y| -lp(x, y) * lp(x, y).exp(), -12.0, 12.0, 1200);
        assert!((h - d.entropy()).abs() < 1e-9);
    }

    #[test]
    fn one_dimension_is_the_normal() {
        let m = MultivariateNormal::new(&[0.5f64], &[4.0]).unwrap();
        let n = Normal::new(0.5f64, 2.0).unwrap();
        assert!((m.log_prob(&[1.7]).unwrap() - n.log_prob(1.7)).abs() < 1e-15);
        assert!((m.entropy() - n.entropy()).abs() < 1e-15);
        let m2 = MultivariateNormal::new(&[-1.0f64], &[0.25]).unwrap();
        let n2 = Normal::new(-1.0f64, 0.5).unwrap();
        assert!((m.kl(&m2).unwrap() - n.kl(&n2)).abs() < 1e-14);
    }

    #[test]
    fn gradient_wrt_loc_matches_central_differences() {
        let cov = [2.0f64, 0.5, 0.1, 0.5, 1.0, -0.2, 0.1, -0.2, 0.7];
        let loc = [0.1f64, -0.3, 0.4];
        let x = [1.0f64, 0.5, -0.5];
        let d = MultivariateNormal::new(&loc, &cov).unwrap();
        let mut g = [0.0; 3];
        let lp = d.log_prob_grad_loc(&x, &mut g).unwrap();
        assert!((lp - d.log_prob(&x).unwrap()).abs() < 1e-15);
        let h = f64::EPSILON.cbrt();
        for k in 0..3 {
            let (mut up, mut dn) = (loc, loc);
            up[k] += h;
            dn[k] -= h;
            let fd = (MultivariateNormal::new(&up, &cov).unwrap().log_prob(&x).unwrap()
                - MultivariateNormal::new(&dn, &cov).unwrap().log_prob(&x).unwrap())
                / (2.0 * h);
            assert!((g[k] - fd).abs() < 1e-9, "{k}: {} vs {fd}", g[k]);
        }
    }

    #[test]
    fn covariance_gradient_matches_central_differences() {
        // Perturb Σ symmetrically (both (i, j) and (j, i)); the symmetric gradient then gives
        // d log p = g_ij + g_ji for i ≠ j and g_ii on the diagonal.
        let cov = [2.0f64, 0.5, 0.1, 0.5, 1.0, -0.2, 0.1, -0.2, 0.7];
        let loc = [0.1f64, -0.3, 0.4];
        let x = [1.0f64, 0.5, -0.5];
        let d = MultivariateNormal::new(&loc, &cov).unwrap();
        let (mut gl, mut gc) = ([0.0; 3], [0.0; 9]);
        d.log_prob_grad(&x, &mut gl, &mut gc).unwrap();
        let h = f64::EPSILON.cbrt();
        for i in 0..3 {
            for j in 0..=i {
                let (mut up, mut dn) = (cov, cov);
                up[i * 3 + j] += h;
                dn[i * 3 + j] -= h;
                if i != j {
                    up[j * 3 + i] += h;
                    dn[j * 3 + i] -= h;
                }
                let fd = (MultivariateNormal::new(&loc, &up).unwrap().log_prob(&x).unwrap()
                    - MultivariateNormal::new(&loc, &dn).unwrap().log_prob(&x).unwrap())
                    / (2.0 * h);
                let g = if i == j { gc[i * 3 + i] } else { gc[i * 3 + j] + gc[j * 3 + i] };
                assert!((g - fd).abs() < 1e-8, "({i},{j}): {g} vs {fd}");
                assert_eq!(gc[i * 3 + j], gc[j * 3 + i]);
            }
        }
        // Σ⁻¹ Σ = I
        let inv = d.precision();
        for i in 0..3 {
            for j in 0..3 {
                let e: f64 = (0..3).map(|k| inv[i * 3 + k] * cov[k * 3 + j]).sum();
                assert!((e - if i == j { 1.0 } else { 0.0 }).abs() < 1e-14);
            }
        }
    }

    #[test]
    fn kl_is_zero_at_equality_positive_and_matches_quadrature() {
        let p = MultivariateNormal::new(&[0.0f64, 1.0], &[2.0, 0.5, 0.5, 1.0]).unwrap();
        let q = MultivariateNormal::new(&[1.0f64, -1.0], &[1.0, 0.0, 0.0, 3.0]).unwrap();
        assert!(p.kl(&p).unwrap().abs() < 1e-15);
        // mpmath: ½(tr(Σ₂⁻¹Σ₁) + Δᵀ Σ₂⁻¹ Δ − d + log(det Σ₂ / det Σ₁))
        assert!((p.kl(&q).unwrap() - 1.602_831_583_699_677).abs() < 1e-14);
        assert!(q.kl(&p).unwrap() > 0.0);
        let quad = grid(
            |x, y| {
                let a = p.log_prob(&[x, y]).unwrap();
                a.exp() * (a - q.log_prob(&[x, y]).unwrap())
            },
            -14.0,
            14.0,
            1400,
        );
        assert!((quad - p.kl(&q).unwrap()).abs() < 1e-9);
        let one = MultivariateNormal::new(&[0.0f64], &[1.0]).unwrap();
        assert!(p.kl(&one).is_err());
    }

    #[test]
    fn invalid_covariances_are_typed_errors() {
        assert!(matches!(
            MultivariateNormal::new(&[0.0f64, 0.0], &[1.0, 2.0, 2.0, 1.0]),
            Err(Error::Numerical { .. })
        ));
        assert!(matches!(
            MultivariateNormal::new(&[0.0f64, 0.0], &[1.0, 0.5, 0.4, 1.0]),
            Err(Error::InvalidParameter { .. })
        ));
        assert!(matches!(MultivariateNormal::new(&[0.0f64], &[1.0, 0.0]), Err(Error::ShapeMismatch { .. })));
        assert!(MultivariateNormal::new(&[0.0f64], &[f64::NAN]).is_err());
        assert!(MultivariateNormal::<f64>::new(&[], &[]).is_err());
        let d = MultivariateNormal::new(&[0.0f64, 0.0], &[1.0, 0.0, 0.0, 1.0]).unwrap();
        assert!(d.log_prob(&[0.0]).is_err());
    }

    #[test]
    fn f32_agrees_with_f64() {
        let d32 = MultivariateNormal::new(&[0.0f32, 1.0], &[2.0, 0.5, 0.5, 1.0]).unwrap();
        let d64 = MultivariateNormal::new(&[0.0f64, 1.0], &[2.0, 0.5, 0.5, 1.0]).unwrap();
        assert!(
            (d32.log_prob(&[0.5, 0.5]).unwrap() as f64 - d64.log_prob(&[0.5, 0.5]).unwrap()).abs() < 1e-6
        );
        assert!((d32.entropy() as f64 - d64.entropy()).abs() < 1e-6);
    }
}
