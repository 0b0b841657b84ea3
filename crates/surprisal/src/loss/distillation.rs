//! Knowledge distillation: the student's categorical NLL under the teacher's softened distribution.
//!
//! ```text
//! qᵢ = softmax(teacherᵢ / T),  pᵢ = softmax(studentᵢ / T)
//! loss      = T² · (1/N) Σᵢ KL(qᵢ ‖ pᵢ)
//!           = T² · (1/N) Σᵢ [H(qᵢ, pᵢ) − H(qᵢ)]            (cross-entropy minus teacher entropy)
//! gradient  ∂loss/∂studentᵢ,c = (T / N)·(pᵢ,c − qᵢ,c)
//! ```
//!
//! The T² factor (Hinton et al. 2015) keeps the gradient's scale independent of T: each logit's
//! gradient is (p − q)/T before it. Since H(q) does not depend on the student, the loss is, up to
//! that constant, the cross-entropy H(q, p): the expected Categorical NLL of the student when the
//! targets are drawn from the teacher (soft targets).
//!
//! **PyTorch**: equals `T**2 * kl_div(log_softmax(s/T), softmax(t/T), reduction="batchmean")`.
//!
//! **Edges**: a teacher probability of 0 (logit −inf) contributes 0 to the entropy and the KL
//! (0·log 0 = 0); a student probability of 0 where the teacher has mass gives KL = +inf (with a
//! finite gradient); +inf logits share the mass as in [`crate::num::log_softmax`]; a student row of
//! all −inf logits gives KL = +inf and gradient 0; a teacher row of all −inf logits is an error (no
//! distribution to distil). N = 0 gives zeros.

use super::rows::{self, RowSoftmax};
use super::{ExpectedNllMap, Likelihood, categorical_expected_nll, target_entropy};
use crate::error::{Error, Result, check};
use crate::link::Link;
use crate::num::{Real, Widen};

/// The result of [`distillation`].
#[derive(Clone, Debug, PartialEq)]
pub struct Distillation<F> {
    /// T² · mean over rows of KL(teacher_T ‖ student_T): the loss.
    pub value: F,
    /// Mean over rows of KL(teacher_T ‖ student_T) (no T² factor), in nats.
    pub kl: F,
    /// Mean over rows of the teacher's entropy H(teacher_T), in nats.
    pub teacher_entropy: F,
    /// Mean over rows of the cross-entropy H(teacher_T, student_T) = entropy + KL, in nats.
    pub cross_entropy: F,
    /// KL(teacher_T ‖ student_T) of each row.
    pub per_row_kl: Vec<F>,
    /// ∂value/∂student logits, N·C entries.
    pub grad: Vec<F>,
}

/// Distillation loss T²·KL(softmax(teacher/T) ‖ softmax(student/T)), batch mean, with the teacher
/// entropy, the KL and the gradient with respect to the student logits.
///
/// Shapes: `student` and `teacher` row-major `[N, C]`, `C = n_classes`; they may have different
/// storage types (e.g. a bf16 teacher).
///
/// # Errors
/// [`Error::ShapeMismatch`] for inconsistent lengths; [`Error::InvalidParameter`] for a temperature
/// that is not finite and > 0; [`Error::InvalidValue`] for a teacher row of all −inf logits;
/// [`Error::InvalidOption`] for C = 0.
///
/// # Example
/// ```
/// use surprisal::loss::distillation;
/// let out = distillation(&[1.0f64, 0.0], &[0.0, 1.0], 2, 2.0).unwrap();
/// // q = softmax((0, ½)), p = softmax((½, 0)); 4·KL(q ‖ p), mpmath
/// assert!((out.value - 0.4898373248074183).abs() < 1e-15);
/// assert!((out.cross_entropy - out.teacher_entropy - out.kl).abs() < 1e-15);
/// ```
pub fn distillation<S: Widen<F>, U: Widen<F>, F: Real>(
    student: &[S],
    teacher: &[U],
    n_classes: usize,
    temperature: F,
) -> Result<Distillation<F>> {
    let c = n_classes;
    let n = rows::n_rows("student", student.len(), c)?;
    check::same_len("teacher", student.len(), teacher.len())?;
    let t = check::positive("temperature", temperature)?;
    let mut grad = vec![F::zero(); n * c];
    let mut per_row_kl = vec![F::zero(); n];
    if n == 0 {
        let z = F::zero();
        return Ok(Distillation { value: z, kl: z, teacher_entropy: z, cross_entropy: z, per_row_kl, grad });
    }
    let inv_t = t.recip();
    let k = t / F::lit(n as f64); // gradient factor T²·(1/N)·(1/T)
    let mut sq = RowSoftmax::<F>::new(c);
    let mut sp = RowSoftmax::<F>::new(c);
    let (mut kl_sum, mut h_sum) = (F::zero(), F::zero());
    for (i, row_kl) in per_row_kl.iter_mut().enumerate() {
        let rows = i * c..(i + 1) * c;
        let Some((lsq, inv_sq)) = sq.load(&teacher[rows.clone()], inv_t) else {
            return Err(Error::InvalidValue {
                name: "teacher",
                value: f64::NEG_INFINITY,
                index: Some(i),
                reason: "a teacher row of all −inf logits has no distribution",
            });
        };
        let student_row = sp.load(&student[rows.clone()], inv_t);
        let (mut kl, mut h) = (F::zero(), F::zero());
        for cl in 0..c {
            let q = sq.e[cl] * inv_sq;
            if q == F::zero() {
                continue; // 0·log 0 = 0 in both the entropy and the KL
            }
            let log_q = sq.d[cl] - lsq;
            h = h - q * log_q;
            match student_row {
                Some((lsp, _)) => {
                    let log_p = sp.d[cl] - lsp;
                    kl = kl + q * (log_q - log_p);
                }
                None => kl = F::infinity(),
            }
        }
        if let Some((_, inv_sp)) = student_row {
            for (cl, g) in grad[rows].iter_mut().enumerate() {
                *g = k * (sp.e[cl] * inv_sp - sq.e[cl] * inv_sq);
            }
        }
        *row_kl = kl;
        kl_sum = kl_sum + kl;
        h_sum = h_sum + h;
    }
    let inv_n = F::lit(n as f64).recip();
    let kl = kl_sum * inv_n;
    let teacher_entropy = h_sum * inv_n;
    Ok(Distillation {
        value: t * t * kl,
        kl,
        teacher_entropy,
        cross_entropy: teacher_entropy + kl,
        per_row_kl,
        grad,
    })
}

/// Per row, distillation at temperature T is T²·KL(q ‖ p_T) = T²·E_{y∼q}[−log p_T(y)] − T²·H(q),
/// with q = softmax(teacher/T) the soft target and p_T = softmax(student/T): the expected
/// Categorical NLL of the student with the softmax link at temperature T, scaled by T² and shifted
/// by −T²·H(q). The `q` passed to the map is the softened teacher distribution.
pub fn likelihood(temperature: f64) -> Likelihood {
    let t = temperature;
    Likelihood::ExpectedNll(ExpectedNllMap {
        family: "categorical",
        link: Link::Softmax,
        fixed: vec![("temperature", t)],
        scale: t * t,
        shift_formula: "−T²·H(q)",
        shift: Box::new(move |q| -t * t * target_entropy(q)),
        expected_nll: Box::new(move |student, q| {
            let scaled: Vec<f64> = student.iter().map(|s| s / t).collect();
            categorical_expected_nll(&scaled, q)
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loss::testing::check_grad_fd;

    #[test]
    fn gradient_matches_central_differences_at_several_temperatures() {
        let s = [0.3, -1.2, 2.5, 7.0, -0.01, 1.0, 0.0, 0.0, 0.5];
        let te = [1.0, 0.2, -0.5, 2.0, 2.0, -3.0, 0.1, 4.0, 0.0];
        for t in [0.5, 1.0, 2.0, 4.0] {
            let out = distillation(&s, &te, 3, t).unwrap();
            check_grad_fd(&s, &out.grad, |v| distillation(v, &te, 3, t).unwrap().value, 1e-7);
        }
    }

    #[test]
    fn decomposition_and_zero_at_equal_logits() {
        let s = [0.3, -1.2, 2.5, 7.0, -0.01, 1.0];
        let out = distillation(&s, &s, 3, 3.0f64).unwrap();
        assert!(out.value.abs() < 1e-15 && out.grad.iter().all(|g| g.abs() < 1e-16));
        assert!((out.cross_entropy - out.teacher_entropy).abs() < 1e-15);
        // The cross-entropy is the mean soft-target cross-entropy of the student at temperature T.
        let te = [1.0, 0.2, -0.5, 2.0, 2.0, -3.0];
        let out = distillation(&s, &te, 3, 2.0).unwrap();
        let mut q = [0.0; 6];
        for i in 0..2 {
            let scaled: Vec<f64> = te[3 * i..3 * i + 3].iter().map(|v| v / 2.0).collect();
            crate::num::softmax(&scaled, &mut q[3 * i..3 * i + 3]).unwrap();
        }
        let s_t: Vec<f64> = s.iter().map(|v| v / 2.0).collect();
        let ce = crate::loss::softmax_cross_entropy_probs(&s_t, 3, &q, &Default::default()).unwrap();
        assert!((ce.value - out.cross_entropy).abs() < 1e-14);
        assert!(out.kl > 0.0 && (out.value - 4.0 * out.kl).abs() < 1e-14);
    }

    #[test]
    fn edges_infinities_bf16_and_errors() {
        let ninf = f64::NEG_INFINITY;
        // Teacher gives class 2 no mass: the student's −inf there costs nothing.
        let out = distillation(&[0.0, 1.0, ninf], &[0.0, 1.0, ninf], 3, 1.0).unwrap();
        assert_eq!(out.value, 0.0);
        assert!(out.grad.iter().all(|g| *g == 0.0));
        let out = distillation(&[0.0, ninf, 1.0], &[0.0, 1.0, ninf], 3, 1.0).unwrap();
        assert_eq!(out.value, f64::INFINITY);
        assert!(out.grad.iter().all(|g| g.is_finite()));
        let out = distillation(&[ninf, ninf], &[0.0, 1.0], 2, 1.0).unwrap();
        assert_eq!(out.kl, f64::INFINITY);
        assert!(distillation(&[0.0, 1.0], &[ninf, ninf], 2, 1.0).is_err());
        assert!(distillation(&[0.0, 1.0], &[0.0, 1.0], 2, 0.0).is_err());
        assert!(distillation(&[0.0, 1.0], &[0.0], 2, 1.0).is_err());
        let s = [0.3f64, -1.2, 2.5, 7.0];
        let te = [1.0f64, 0.2, -0.5, 2.0];
        let want = distillation(&s, &te, 2, 2.0).unwrap().value;
        let sb: Vec<half::bf16> = s.iter().map(|&v| half::bf16::from_f64(v)).collect();
        let tb: Vec<half::bf16> = te.iter().map(|&v| half::bf16::from_f64(v)).collect();
        let got: f32 = distillation(&sb, &tb, 2, 2.0f32).unwrap().value;
        assert!((got as f64 - want).abs() < 1e-2 * want);
    }

    #[test]
    fn entropy_and_kl_agree_with_the_categorical_family() {
        use crate::family::categorical;
        let s = [0.3, -1.2, 2.5, 7.0, -0.01, 1.0, 0.0, 0.0, 0.5];
        let te = [1.0, 0.2, -0.5, 2.0, 2.0, -3.0, 0.1, 4.0, f64::NEG_INFINITY];
        let t = 1.7;
        let out = distillation(&s, &te, 3, t).unwrap();
        let st: Vec<f64> = s.iter().map(|v| v / t).collect();
        let tt: Vec<f64> = te.iter().map(|v| v / t).collect();
        let (mut h, mut kl) = ([0.0; 3], [0.0; 3]);
        categorical::entropy(&tt, 3, &mut h).unwrap();
        categorical::kl(&tt, &st, 3, &mut kl).unwrap();
        assert!((out.teacher_entropy - h.iter().sum::<f64>() / 3.0).abs() < 1e-14);
        for (a, b) in out.per_row_kl.iter().zip(&kl) {
            assert!((a - b).abs() < 1e-14);
        }
        assert!((out.value - t * t * kl.iter().sum::<f64>() / 3.0).abs() < 1e-13);
    }

    proptest::proptest! {
        #[test]
        fn declared_expected_nll_map_holds(
            s in proptest::collection::vec(-8.0f64..8.0, 5),
            tz in proptest::collection::vec(-8.0f64..8.0, 5),
            t in 0.5f64..4.0,
        ) {
            let tt: Vec<f64> = tz.iter().map(|v| v / t).collect();
            let mut q = vec![0.0; 5];
            crate::num::softmax(&tt, &mut q).unwrap();
            let row = |student: &[f64], _q: &[f64]| distillation(student, &tz, 5, t).unwrap().value;
            crate::loss::testing::check_expected_map(&likelihood(t), &[(s.clone(), q)], row, 1e-11);
        }
    }
}
