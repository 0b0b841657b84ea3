//! Maximum-likelihood fitting.
//!
//! Every fit here minimises a negative log-likelihood (plus, where stated, a penalty): choosing the
//! loss is choosing the model, and this module is the engine that fits it.
//!
//! The optimisers work on one fused value-and-gradient [`Objective`], with the Hessian (or the
//! Fisher information, for Fisher scoring / IRLS) where the objective can give it:
//!
//! ```text
//! Newton (IRLS when H is the Fisher information):  θ ← θ − t·H⁻¹∇f,  t halved until f decreases
//! L-BFGS:                                          θ ← θ + t·d, d from the last m (s, y) pairs,
//!                                                   t from a strong-Wolfe line search
//! ```
//!
//! Both are deterministic (same inputs, same iterates) and return a [`Report`] saying how they
//! stopped.

pub mod compare;
pub mod distribution;
pub mod glm;
pub mod lbfgs;
pub mod logistic;
pub mod newton;
pub mod quantile;
mod regressors;
pub mod robust;

pub use distribution::{DistributionFit, MaximumLikelihood};

/// The degrees of freedom beyond which a Student-t fit (of a sample or a regression's residuals)
/// that stopped unconverged with ν learned is read as heading to the normal, its limit ν → ∞
/// (on normal samples the optimiser stops at ν > 10⁵, while every converged ν̂ is < 10³).
pub const STUDENT_T_NORMAL_LIMIT: f64 = 1e4;
pub use lbfgs::{LbfgsOptions, lbfgs};
pub use logistic::{LogisticFit, LogisticOptions, SoftmaxFit, logistic_regression, softmax_regression};
pub use newton::{NewtonOptions, newton};
pub use quantile::{QuantileFit, QuantileOptions, quantile_regression};

/// A twice-differentiable objective f: ℝᵖ → ℝ to minimise (an NLL, plus a penalty where stated).
///
/// The value and the gradient come from one call ([`Objective::value_grad`]) because for
/// likelihoods they share all the expensive work (one pass over the data).
pub trait Objective {
    /// The number of parameters p.
    fn dim(&self) -> usize;

    /// f(θ), writing ∇f(θ) to `grad` (length p). Non-finite values mean θ is outside the domain
    /// (the optimisers then shorten the step).
    fn value_grad(&mut self, theta: &[f64], grad: &mut [f64]) -> f64;

    /// f(θ) alone; by default through [`Objective::value_grad`].
    fn value(&mut self, theta: &[f64]) -> f64 {
        let mut g = vec![0.0; self.dim()];
        self.value_grad(theta, &mut g)
    }

    /// Writes the Hessian ∇²f(θ), or a positive definite stand-in such as the Fisher information
    /// (row-major p × p), to `hess` and returns `true`; returns `false` when the objective has
    /// none (then Newton cannot be used).
    fn hessian(&mut self, theta: &[f64], hess: &mut [f64]) -> bool {
        let _ = (theta, hess);
        false
    }
}

/// Why an optimiser stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// ‖∇f‖∞ fell below the gradient tolerance.
    GradientTolerance,
    /// The relative change of f fell below the objective tolerance.
    ObjectiveTolerance,
    /// The iteration limit was reached before convergence.
    MaxIterations,
    /// No step along the search direction decreased f (step halving or line search exhausted).
    LineSearchFailed,
    /// The Hessian was not positive definite (Newton), even after regularisation.
    IndefiniteHessian,
    /// The objective or its gradient was not finite at the starting point.
    NonFiniteStart,
    /// A parameter ran off towards a limit of the model where the likelihood keeps rising and
    /// has no maximum (Student-t ν → ∞, the normal); the point returned is on the way there.
    AtLimit,
}

impl Stop {
    /// Whether this stop means convergence.
    pub fn converged(self) -> bool {
        matches!(self, Stop::GradientTolerance | Stop::ObjectiveTolerance)
    }
}

/// How an optimisation ended.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// Iterations taken (accepted steps).
    pub iterations: usize,
    /// Objective evaluations (value or value-and-gradient calls).
    pub evaluations: usize,
    /// f at the returned point.
    pub value: f64,
    /// ‖∇f‖∞ at the returned point.
    pub grad_norm: f64,
    /// |f_k − f_{k−1}| at the last accepted step.
    pub objective_change: f64,
    /// Why it stopped.
    pub stop: Stop,
}

impl Report {
    /// Whether the optimiser converged.
    pub fn converged(&self) -> bool {
        self.stop.converged()
    }

    /// The report at the start of a run, after the one evaluation of f (`value`) and its gradient
    /// `grad`: [`Stop::NonFiniteStart`] when either is not finite, else [`Stop::MaxIterations`]
    /// until the optimiser says otherwise.
    pub(crate) fn start(value: f64, grad: &[f64]) -> Self {
        let grad_norm = inf_norm(grad);
        let stop = if value.is_finite() && grad_norm.is_finite() {
            Stop::MaxIterations
        } else {
            Stop::NonFiniteStart
        };
        Report { iterations: 0, evaluations: 1, value, grad_norm, objective_change: f64::INFINITY, stop }
    }
}

/// ‖g‖∞.
pub(crate) fn inf_norm(g: &[f64]) -> f64 {
    g.iter().fold(0.0, |m, v| m.max(v.abs()))
}
