//! The catalogue of named losses: every loss of this module by name, with its declared likelihood
//! at stated settings, a one-line summary, and an evaluator of one element (or one row), so that a
//! single property test checks every declared map on random inputs, and so that tools can explain
//! any loss by name.

use super::*;
use crate::num::Real;

/// What a loss is evaluated on, for one element or one row.
#[derive(Clone, Debug, PartialEq)]
pub enum Target {
    /// A scalar target (a value, a label, or a class index as f64).
    Value(f64),
    /// A target distribution over classes (soft targets).
    Distribution(Vec<f64>),
}

/// One named loss.
pub struct NamedLoss {
    /// The name, as the function in [`crate::loss`] is called.
    pub name: &'static str,
    /// One line: what it is, as a model.
    pub summary: &'static str,
    /// The settings this entry's declaration and evaluator use (e.g. `"δ = 1"`).
    pub settings: &'static str,
    /// The declared likelihood at those settings.
    pub likelihood: Likelihood,
    /// The loss of one element (raw outputs, target) or one row, through the loss function itself.
    pub evaluate: fn(&[f64], &Target) -> f64,
    /// Maps four uniforms in [0, 1) to a valid (raw outputs, target) point of this loss.
    pub sample: fn([f64; 4]) -> (Vec<f64>, Target),
}

impl std::fmt::Debug for NamedLoss {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NamedLoss")
            .field("name", &self.name)
            .field("settings", &self.settings)
            .field("likelihood", &self.likelihood)
            .finish_non_exhaustive()
    }
}

impl NamedLoss {
    /// What the declaration says the loss is at `(outputs, target)`: scale · NLL + shift (or
    /// scale · E_q\[NLL\] + shift(q)); `None` for a loss that declares no likelihood, or a target of
    /// the wrong kind.
    pub fn declared(&self, outputs: &[f64], target: &Target) -> Option<f64> {
        match (&self.likelihood, target) {
            (Likelihood::Nll(m), Target::Value(y)) => Some(m.predicted_loss(outputs, *y)),
            (Likelihood::ExpectedNll(m), Target::Distribution(q)) => Some(m.predicted_loss(outputs, q)),
            _ => None,
        }
    }
}

fn value(t: &Target) -> f64 {
    match t {
        Target::Value(y) => *y,
        Target::Distribution(_) => f64::NAN,
    }
}

fn dist(t: &Target) -> &[f64] {
    match t {
        Target::Distribution(q) => q,
        Target::Value(_) => &[],
    }
}

/// Sum reduction, no weights: the loss of the single element or row given.
fn sum<F: Real>() -> Options<'static, F> {
    Options::with_reduction(Reduction::Sum)
}

/// A point on the real line from a uniform: (u − ½)·2·r.
fn real(u: f64, r: f64) -> f64 {
    (u - 0.5) * 2.0 * r
}

/// A probability row of 4 classes from uniforms (strictly positive entries).
fn simplex(u: [f64; 4]) -> Vec<f64> {
    let w: Vec<f64> = u.iter().map(|v| 0.05 + v).collect();
    let s: f64 = w.iter().sum();
    w.iter().map(|v| v / s).collect()
}

fn logits(u: [f64; 4]) -> Vec<f64> {
    u.iter().map(|&v| real(v, 6.0)).collect()
}

/// Every named loss of the crate, with its declaration at the settings given.
pub fn catalogue() -> Vec<NamedLoss> {
    let scalar = |u: [f64; 4]| (vec![real(u[0], 50.0)], Target::Value(real(u[1], 50.0)));
    vec![
        NamedLoss {
            name: "mse",
            summary: "squared error: Normal NLL with σ² = ½, identity link",
            settings: "",
            likelihood: mse::likelihood(),
            evaluate: |o, t| mse(o, &[value(t)], &sum()).map_or(f64::NAN, |r| r.value),
            sample: scalar,
        },
        NamedLoss {
            name: "l1",
            summary: "absolute error: Laplace NLL with b = 1, identity link",
            settings: "",
            likelihood: l1::likelihood(),
            evaluate: |o, t| l1(o, &[value(t)], &sum()).map_or(f64::NAN, |r| r.value),
            sample: scalar,
        },
        NamedLoss {
            name: "huber",
            summary: "Huber loss: NLL of the Huber density, identity link",
            settings: "δ = 1.5",
            likelihood: huber::likelihood(1.5).expect("valid δ"),
            evaluate: |o, t| huber(o, &[value(t)], 1.5, &sum()).map_or(f64::NAN, |r| r.value),
            sample: |u| (vec![real(u[0], 5.0)], Target::Value(real(u[1], 5.0))),
        },
        NamedLoss {
            name: "smooth_l1",
            summary: "smooth L1 = huber(β)/β: a scaled Huber-density NLL",
            settings: "β = 0.7",
            likelihood: smooth_l1::likelihood(0.7).expect("valid β"),
            evaluate: |o, t| smooth_l1(o, &[value(t)], 0.7, &sum()).map_or(f64::NAN, |r| r.value),
            sample: |u| (vec![real(u[0], 5.0)], Target::Value(real(u[1], 5.0))),
        },
        NamedLoss {
            name: "log_cosh",
            summary: "log cosh of the residual: hyperbolic-secant NLL, identity link",
            settings: "",
            likelihood: log_cosh::likelihood(),
            evaluate: |o, t| log_cosh(o, &[value(t)], &sum()).map_or(f64::NAN, |r| r.value),
            sample: scalar,
        },
        NamedLoss {
            name: "pinball",
            summary: "quantile (pinball) loss: asymmetric-Laplace NLL, identity link",
            settings: "τ = 0.8",
            likelihood: pinball::likelihood(0.8).expect("valid τ"),
            evaluate: |o, t| pinball(o, &[value(t)], 0.8, &sum()).map_or(f64::NAN, |r| r.value),
            sample: scalar,
        },
        NamedLoss {
            name: "gaussian_nll",
            summary: "Normal NLL with a predicted variance (outputs: mean, variance)",
            settings: "full = true, eps = 1e-6",
            likelihood: gaussian_nll::likelihood(true),
            evaluate: |o, t| {
                gaussian_nll(&o[..1], &[value(t)], &o[1..2], true, 1e-6, &sum()).map_or(f64::NAN, |r| r.value)
            },
            sample: |u| (vec![real(u[0], 10.0), 0.01 + 5.0 * u[2]], Target::Value(real(u[1], 10.0))),
        },
        NamedLoss {
            name: "student_t_nll",
            summary: "Student-t NLL with a predicted scale (outputs: location, scale)",
            settings: "ν = 3",
            likelihood: student_t_nll::likelihood(3.0).expect("valid ν"),
            evaluate: |o, t| {
                student_t_nll(&o[..1], &[value(t)], &o[1..2], 3.0, &sum()).map_or(f64::NAN, |r| r.value)
            },
            sample: |u| (vec![real(u[0], 10.0), 0.01 + 5.0 * u[2]], Target::Value(real(u[1], 10.0))),
        },
        NamedLoss {
            name: "poisson_nll",
            summary: "Poisson NLL on a log-rate, dropping log y!",
            settings: "log_input = true, full = false",
            likelihood: poisson_nll::likelihood(&PoissonNllConfig::default()),
            evaluate: |o, t| {
                poisson_nll(o, &[value(t)], &PoissonNllConfig::default(), &sum())
                    .map_or(f64::NAN, |r| r.value)
            },
            sample: |u| (vec![real(u[0], 4.0)], Target::Value((u[1] * 30.0).floor())),
        },
        NamedLoss {
            name: "poisson_deviance",
            summary: "Poisson deviance on a log link: 2·(NLL − saturated NLL)",
            settings: "",
            likelihood: deviance::poisson_deviance_likelihood(),
            evaluate: |o, t| poisson_deviance(o, &[value(t)], &sum()).map_or(f64::NAN, |r| r.value),
            sample: |u| (vec![real(u[0], 4.0)], Target::Value((u[1] * 30.0).floor())),
        },
        NamedLoss {
            name: "gamma_deviance",
            summary: "Gamma deviance on a log link: 2·(NLL − saturated NLL), unit shape",
            settings: "",
            likelihood: deviance::gamma_deviance_likelihood(),
            evaluate: |o, t| gamma_deviance(o, &[value(t)], &sum()).map_or(f64::NAN, |r| r.value),
            sample: |u| (vec![real(u[0], 4.0)], Target::Value(0.01 + 20.0 * u[1])),
        },
        NamedLoss {
            name: "tweedie_deviance",
            summary: "Tweedie deviance on a log link (power 1.5: compound Poisson–Gamma)",
            settings: "power = 1.5",
            likelihood: deviance::tweedie_deviance_likelihood(1.5),
            evaluate: |o, t| tweedie_deviance(o, &[value(t)], 1.5, &sum()).map_or(f64::NAN, |r| r.value),
            sample: |u| (vec![real(u[0], 4.0)], Target::Value(20.0 * u[1])),
        },
        NamedLoss {
            name: "sigmoid_binary_cross_entropy",
            summary: "binary cross-entropy on logits: Bernoulli NLL, logit link (∂/∂η = p − y)",
            settings: "pos_weight = 1",
            likelihood: sigmoid_binary_cross_entropy::likelihood(),
            evaluate: |o, t| {
                sigmoid_binary_cross_entropy::<f64, f64>(o, &[value(t)], None, &sum())
                    .map_or(f64::NAN, |r| r.value)
            },
            sample: |u| (vec![real(u[0], 12.0)], Target::Value(u[1])),
        },
        NamedLoss {
            name: "binary_cross_entropy",
            summary: "binary cross-entropy on probabilities: Bernoulli NLL, identity link on p",
            settings: "clamp_log = true",
            likelihood: binary_cross_entropy::likelihood(),
            evaluate: |o, t| binary_cross_entropy(o, &[value(t)], true, &sum()).map_or(f64::NAN, |r| r.value),
            sample: |u| (vec![0.001 + 0.998 * u[0]], Target::Value(u[1])),
        },
        NamedLoss {
            name: "sigmoid_focal",
            summary: "focal loss: a reweighted Bernoulli NLL, not the NLL of any model of y",
            settings: "α = 0.25, γ = 2",
            likelihood: sigmoid_focal::likelihood(),
            evaluate: |o, t| sigmoid_focal(o, &[value(t)], 0.25, 2.0, &sum()).map_or(f64::NAN, |r| r.value),
            sample: |u| (vec![real(u[0], 12.0)], Target::Value((u[1] * 2.0).floor())),
        },
        NamedLoss {
            name: "softmax_cross_entropy",
            summary: "softmax cross-entropy: Categorical NLL, softmax link (∂/∂η = p − y)",
            settings: "4 classes",
            likelihood: softmax_cross_entropy::likelihood(),
            evaluate: |o, t| {
                let opts = CrossEntropyOptions::with_reduction(Reduction::Sum);
                softmax_cross_entropy(o, o.len(), &[value(t) as i64], &opts).map_or(f64::NAN, |r| r.value)
            },
            sample: |u| (logits(u), Target::Value((u[0] * 4.0).floor())),
        },
        NamedLoss {
            name: "softmax_cross_entropy_smoothed",
            summary: "label-smoothed softmax cross-entropy: Categorical NLL under the mixture target",
            settings: "4 classes, ε = 0.1",
            likelihood: softmax_cross_entropy::likelihood_smoothed(0.1),
            evaluate: |o, t| {
                let opts = CrossEntropyOptions::with_reduction(Reduction::Sum).label_smoothing(0.1);
                softmax_cross_entropy(o, o.len(), &[value(t) as i64], &opts).map_or(f64::NAN, |r| r.value)
            },
            sample: |u| (logits(u), Target::Value((u[1] * 4.0).floor())),
        },
        NamedLoss {
            name: "softmax_cross_entropy_probs",
            summary: "cross-entropy with probability targets: expected Categorical NLL, H(q) + KL(q ‖ p)",
            settings: "4 classes",
            likelihood: softmax_cross_entropy::likelihood_probs(0.0),
            evaluate: |o, t| {
                let opts = CrossEntropyOptions::with_reduction(Reduction::Sum);
                softmax_cross_entropy_probs(o, o.len(), dist(t), &opts).map_or(f64::NAN, |r| r.value)
            },
            sample: |u| (logits(u), Target::Distribution(simplex([u[3], u[1], u[0], u[2]]))),
        },
        NamedLoss {
            name: "nll",
            summary: "NLL of log-probabilities: Categorical NLL (log link)",
            settings: "4 classes",
            likelihood: nll::likelihood(),
            evaluate: |o, t| {
                let opts = NllOptions::with_reduction(Reduction::Sum);
                nll(o, o.len(), &[value(t) as i64], &opts).map_or(f64::NAN, |r| r.value)
            },
            sample: |u| {
                let mut lp = vec![0.0; 4];
                crate::num::log_softmax_unchecked(&logits(u), &mut lp);
                (lp, Target::Value((u[2] * 4.0).floor()))
            },
        },
        NamedLoss {
            name: "kl_div",
            summary: "KL(q ‖ p) on log-probabilities: expected Categorical NLL minus H(q)",
            settings: "4 classes",
            likelihood: kl_div::likelihood(),
            evaluate: |o, t| {
                kl_div(o, o.len(), dist(t), &KlDivOptions::with_reduction(Reduction::Sum))
                    .map_or(f64::NAN, |r| r.value)
            },
            sample: |u| {
                let mut lp = vec![0.0; 4];
                crate::num::log_softmax_unchecked(&logits(u), &mut lp);
                (lp, Target::Distribution(simplex([u[2], u[0], u[3], u[1]])))
            },
        },
        NamedLoss {
            name: "distillation",
            summary: "distillation: T²·KL(teacher_T ‖ student_T), expected Categorical NLL at temperature T",
            settings: "4 classes, T = 2",
            likelihood: distillation::likelihood(2.0),
            evaluate: |o, t| {
                // The teacher logits whose softmax at T = 2 is q: 2·log q.
                let teacher: Vec<f64> = dist(t).iter().map(|q| 2.0 * q.ln()).collect();
                distillation(o, &teacher, o.len(), 2.0).map_or(f64::NAN, |r| r.value)
            },
            sample: |u| (logits(u), Target::Distribution(simplex([u[1], u[3], u[2], u[0]]))),
        },
    ]
}

/// The catalogue entry for `name`, if there is one.
pub fn lookup(name: &str) -> Option<NamedLoss> {
    catalogue().into_iter().find(|l| l.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]
        /// Every declared map of every named loss holds on random inputs.
        #[test]
        fn every_declared_map_holds(u in prop::array::uniform4(0.0f64..1.0)) {
            for entry in catalogue() {
                let (outputs, target) = (entry.sample)(u);
                let got = (entry.evaluate)(&outputs, &target);
                prop_assert!(got.is_finite(), "{}: loss {got} at {outputs:?}, {target:?}", entry.name);
                match entry.declared(&outputs, &target) {
                    Some(want) => prop_assert!(
                        (got - want).abs() <= 1e-9 * want.abs().max(1.0),
                        "{} ({}): loss {got} vs declared {want} at {outputs:?}, {target:?}",
                        entry.name, entry.settings
                    ),
                    None => prop_assert!(
                        matches!(entry.likelihood, Likelihood::NotNll { .. }),
                        "{}: declaration does not fit its target kind", entry.name
                    ),
                }
            }
        }
    }

    #[test]
    fn names_are_unique_and_lookup_finds_them() {
        let all = catalogue();
        for (i, a) in all.iter().enumerate() {
            assert!(all[i + 1..].iter().all(|b| b.name != a.name), "duplicate {}", a.name);
            assert_eq!(lookup(a.name).unwrap().name, a.name);
        }
        assert!(lookup("no_such_loss").is_none());
    }
}
