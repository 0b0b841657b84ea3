"""Type stubs for surprisal (the functions live in the compiled module surprisal._surprisal)."""

from typing import Any, Dict, List, Literal, Mapping, Optional, Sequence, Tuple, Union, overload

import numpy as np
import numpy.typing as npt

ArrayLike = npt.ArrayLike
Array = npt.NDArray[Any]
Reduction = Literal["mean", "sum", "none"]
DType = Optional[Literal["float64", "float32", "bfloat16"]]
LossValue = Union[float, Array]
LossResult = Union[LossValue, Tuple[LossValue, Array]]

# ----------------------------------------------------------------------------------------------
# Losses. reduction="none" returns the per-element (per-row) array; return_grad=True returns
# (loss, grad) with grad = ∂loss/∂input in the input's shape. dtype="bfloat16" reads a uint16
# array of bfloat16 bit patterns (computed in float32).
# ----------------------------------------------------------------------------------------------

def cross_entropy(logits: ArrayLike, target: ArrayLike, *, weight: Optional[ArrayLike] = None, ignore_index: int = -100, label_smoothing: float = 0.0, reduction: Reduction = "mean", return_grad: bool = False, dtype: DType = None) -> LossResult:
    """Softmax cross-entropy: the Categorical NLL with the softmax link (torch.nn.functional.cross_entropy).

    logits [C], [N, C] or [N, C, d…]; target: class indices (integer, logits' shape without axis 1)
    or probabilities (float, logits' shape).

        loss_i = (1 − ε)·w[y_i]·(logsumexp(z_i) − z_i,y_i) + (ε/C)·Σ_c w_c·(logsumexp(z_i) − z_i,c)
        grad   = (1 − ε)·w[y_i]·(p_i,c − δ_c,y_i) + (ε/C)·(W·p_i,c − w_c),   W = Σ_c w_c
        probabilities q: loss_i = −Σ_c w_c·q'_c·log p_i,c,  q' = (1 − ε)·q + ε/C
        mean = Σ loss_i / Σ w[y_i] over rows not ignored (probabilities: / number of rows)
    """

def nll_loss(log_probs: ArrayLike, target: ArrayLike, *, weight: Optional[ArrayLike] = None, ignore_index: int = -100, reduction: Reduction = "mean", return_grad: bool = False, dtype: DType = None) -> LossResult:
    """NLL of class indices given log-probabilities: loss_i = −w[y_i]·log_probs[i, y_i] (torch nll_loss)."""

def binary_cross_entropy_with_logits(logits: ArrayLike, target: ArrayLike, *, weight: Optional[ArrayLike] = None, pos_weight: Optional[ArrayLike] = None, reduction: Reduction = "mean", return_grad: bool = False, dtype: DType = None) -> LossResult:
    """Bernoulli NLL with the logit link.

        loss = w·(pw·y·softplus(−z) + (1 − y)·softplus(z))      grad = w·(p·(pw·y + 1 − y) − pw·y),  p = σ(z)
    """

def binary_cross_entropy(probs: ArrayLike, target: ArrayLike, *, weight: Optional[ArrayLike] = None, reduction: Reduction = "mean", return_grad: bool = False, dtype: DType = None) -> LossResult:
    """Bernoulli NLL on probabilities: −w·(y·log p + (1 − y)·log(1 − p)), each log clamped at −100 (torch)."""

def sigmoid_focal_loss(logits: ArrayLike, target: ArrayLike, *, alpha: float = 0.25, gamma: float = 2.0, weight: Optional[ArrayLike] = None, reduction: Reduction = "none", return_grad: bool = False, dtype: DType = None) -> LossResult:
    """torchvision's focal loss α_t·(1 − p_t)^γ·BCE (alpha < 0: no α weighting). Not the NLL of any model of y."""

def mse_loss(input: ArrayLike, target: ArrayLike, *, weight: Optional[ArrayLike] = None, reduction: Reduction = "mean", return_grad: bool = False, dtype: DType = None) -> LossResult:
    """Mean squared error (μ − y)², the Normal NLL with σ² = ½ up to ½·log π; grad 2(μ − y)."""

def l1_loss(input: ArrayLike, target: ArrayLike, *, weight: Optional[ArrayLike] = None, reduction: Reduction = "mean", return_grad: bool = False, dtype: DType = None) -> LossResult:
    """|μ − y|, the Laplace NLL with b = 1 up to log 2; grad sign(μ − y)."""

def log_cosh_loss(input: ArrayLike, target: ArrayLike, *, weight: Optional[ArrayLike] = None, reduction: Reduction = "mean", return_grad: bool = False, dtype: DType = None) -> LossResult:
    """log cosh(μ − y); grad tanh(μ − y)."""

def huber_loss(input: ArrayLike, target: ArrayLike, *, delta: float = 1.0, weight: Optional[ArrayLike] = None, reduction: Reduction = "mean", return_grad: bool = False, dtype: DType = None) -> LossResult:
    """½r² for |r| ≤ δ, δ(|r| − ½δ) beyond, r = μ − y; grad clip(r, −δ, δ)."""

def smooth_l1_loss(input: ArrayLike, target: ArrayLike, *, beta: float = 1.0, weight: Optional[ArrayLike] = None, reduction: Reduction = "mean", return_grad: bool = False, dtype: DType = None) -> LossResult:
    """½r²/β for |r| < β, |r| − ½β beyond (huber / β)."""

def pinball_loss(input: ArrayLike, target: ArrayLike, *, quantile: float, weight: Optional[ArrayLike] = None, reduction: Reduction = "mean", return_grad: bool = False, dtype: DType = None) -> LossResult:
    """ρ_τ(y − μ) = max(τ(y − μ), (τ − 1)(y − μ)), the asymmetric-Laplace NLL; grad 1{y < μ} − τ."""

def poisson_nll_loss(input: ArrayLike, target: ArrayLike, *, log_input: bool = True, full: bool = False, eps: float = 1e-8, weight: Optional[ArrayLike] = None, reduction: Reduction = "mean", return_grad: bool = False, dtype: DType = None) -> LossResult:
    """Poisson NLL: exp(x) − y·x (log_input) or λ − y·log(λ + eps); full adds Stirling's log y! for y > 1."""

@overload
def gaussian_nll_loss(input: ArrayLike, target: ArrayLike, var: ArrayLike, *, full: bool = False, eps: float = 1e-6, weight: Optional[ArrayLike] = None, reduction: Reduction = "mean", return_grad: Literal[False] = False, dtype: DType = None) -> LossValue: ...
@overload
def gaussian_nll_loss(input: ArrayLike, target: ArrayLike, var: ArrayLike, *, full: bool = False, eps: float = 1e-6, weight: Optional[ArrayLike] = None, reduction: Reduction = "mean", return_grad: Literal[True], dtype: DType = None) -> Tuple[LossValue, Array, Array]:
    """Normal NLL with a predicted variance: ½(log v + (μ − y)²/v) (+ ½ log 2π with full), v = max(var, eps).

    With return_grad: (loss, ∂/∂input, ∂/∂var); ∂/∂μ = (μ − y)/v, ∂/∂v = ½(1/v − (y − μ)²/v²).
    """

def kl_div(input: ArrayLike, target: ArrayLike, *, reduction: Literal["mean", "sum", "none", "batchmean"] = "mean", log_target: bool = False, return_grad: bool = False, dtype: DType = None) -> LossResult:
    """torch.nn.functional.kl_div: input holds log q; loss = t·(log t − input) (0 where t = 0); batchmean divides by the first dimension."""

def distillation_kl(student_logits: ArrayLike, teacher_logits: ArrayLike, *, temperature: float = 1.0, return_grad: bool = False, dtype: DType = None) -> Union[float, Tuple[float, Array]]:
    """T²·KL(softmax(teacher/T) ‖ softmax(student/T)), mean over rows; grad T·(p_student − p_teacher)/N."""

# ----------------------------------------------------------------------------------------------
# Scores (scikit-learn argument order) and calibration.
# ----------------------------------------------------------------------------------------------

def log_loss(y_true: ArrayLike, y_prob: ArrayLike, *, sample_weight: Optional[ArrayLike] = None, normalize: bool = True, labels: Optional[Sequence[int]] = None) -> float:
    """−Σ w_i log p_i,y_i / Σ w_i (p clipped to [ε, 1 − ε]); 1-D y_prob is P(positive class) (sklearn.metrics.log_loss). 2-D rows that do not sum to one are scored as given, with a UserWarning naming how many and the first (as log_loss, d2_log_loss_score and brier_score all do)."""

def d2_log_loss_score(y_true: ArrayLike, y_prob: ArrayLike, *, sample_weight: Optional[ArrayLike] = None, labels: Optional[Sequence[int]] = None) -> float:
    """1 − log_loss(model) / log_loss(class frequencies)."""

def brier_score(y_true: ArrayLike, y_prob: ArrayLike, *, sample_weight: Optional[ArrayLike] = None, labels: Optional[Sequence[int]] = None, scale_by_half: Union[bool, Literal["auto"], None] = None) -> float:
    """Σ_c (1[y = c] − p_c)², halved for two classes ("auto", the default; sklearn brier_score_loss): binary (y − p)²."""

def calibration_error(y_true: ArrayLike, y_prob: ArrayLike, *, n_bins: int = 15, norm: Literal["l1", "l2", "max"] = "l1") -> float:
    """Binned calibration error (torchmetrics): Σ_b (n_b/n)·|acc_b − conf_b| (l1 = ECE, max = MCE, l2 = RMS).

    1-D y_prob: binary (the positive-class probability is binned); 2-D: top-label confidence vs accuracy.
    """

def calibration_curve(y_true: ArrayLike, y_prob: ArrayLike, *, n_bins: int = 5, strategy: Literal["uniform", "quantile"] = "uniform") -> Tuple[Array, Array]:
    """(prob_true, prob_pred) per non-empty bin (sklearn.calibration.calibration_curve)."""

def mean_squared_error(y_true: ArrayLike, y_pred: ArrayLike, *, sample_weight: Optional[ArrayLike] = None) -> float:
    """Σ w (y − ŷ)² / Σ w."""

def mean_absolute_error(y_true: ArrayLike, y_pred: ArrayLike, *, sample_weight: Optional[ArrayLike] = None) -> float:
    """Σ w |y − ŷ| / Σ w."""

def r2_score(y_true: ArrayLike, y_pred: ArrayLike, *, sample_weight: Optional[ArrayLike] = None) -> float:
    """1 − Σ w (y − ŷ)² / Σ w (y − ȳ)²."""

def mean_poisson_deviance(y_true: ArrayLike, y_pred: ArrayLike, *, sample_weight: Optional[ArrayLike] = None) -> float:
    """mean 2(y log(y/μ) − y + μ)."""

def mean_gamma_deviance(y_true: ArrayLike, y_pred: ArrayLike, *, sample_weight: Optional[ArrayLike] = None) -> float:
    """mean 2(log(μ/y) + y/μ − 1)."""

def mean_tweedie_deviance(y_true: ArrayLike, y_pred: ArrayLike, *, sample_weight: Optional[ArrayLike] = None, power: float = 0.0) -> float:
    """mean 2(y^{2−p}/((1−p)(2−p)) − y μ^{1−p}/(1−p) + μ^{2−p}/(2−p))."""

def d2_tweedie_score(y_true: ArrayLike, y_pred: ArrayLike, *, sample_weight: Optional[ArrayLike] = None, power: float = 0.0) -> float:
    """1 − deviance(model) / deviance(weighted mean)."""

def mean_pinball_loss(y_true: ArrayLike, y_pred: ArrayLike, *, sample_weight: Optional[ArrayLike] = None, alpha: float = 0.5) -> float:
    """mean ρ_α(y − ŷ)."""

def d2_pinball_score(y_true: ArrayLike, y_pred: ArrayLike, *, sample_weight: Optional[ArrayLike] = None, alpha: float = 0.5) -> float:
    """1 − pinball(model) / pinball(weighted α-quantile)."""

def crps_gaussian(y_true: ArrayLike, loc: ArrayLike, scale: ArrayLike) -> Array:
    """σ(z(2Φ(z) − 1) + 2φ(z) − 1/√π), z = (y − μ)/σ, per row (properscoring)."""

def crps_ensemble(y_true: ArrayLike, ensemble: ArrayLike, *, weights: Optional[ArrayLike] = None, fair: bool = False) -> Array:
    """E|X − y| − ½E|X − X'| over the ensemble members, per row (properscoring)."""

def entropy_discrete(p: ArrayLike, *, base: Optional[float] = None) -> float:
    """H(p) = −Σ p log p after normalising p (scipy.stats.entropy), for one 1-D distribution p."""

def kl_discrete(p: ArrayLike, q: ArrayLike, *, base: Optional[float] = None) -> float:
    """KL(p ‖ q) = Σ p log(p/q) after normalising p and q (1-D, of one length)."""

def cross_entropy_discrete(p: ArrayLike, q: ArrayLike, *, base: Optional[float] = None) -> float:
    """H(p, q) = −Σ p log q = H(p) + KL(p ‖ q)."""

def logsumexp(x: ArrayLike) -> LossValue:
    """log Σ exp(x) over the last axis, computed as m + log Σ exp(x − m)."""

def log_softmax(x: ArrayLike) -> Array:
    """x − logsumexp(x) over the last axis."""

def log_sigmoid(x: ArrayLike) -> LossValue:
    """log σ(x) = −softplus(−x)."""

def softplus(x: ArrayLike) -> LossValue:
    """log(1 + eˣ) = max(x, 0) + log1p(e^{−|x|})."""

# ----------------------------------------------------------------------------------------------
# Fits.
# ----------------------------------------------------------------------------------------------

class GlmFit:
    """A fitted GLM (statsmodels' conventions for the dispersion, log-likelihood and AIC)."""
    @property
    def coef(self) -> Array: ...
    @property
    def stderr(self) -> Array: ...
    @property
    def z(self) -> Array: ...
    @property
    def p_values(self) -> Array: ...
    @property
    def mu(self) -> Array: ...
    @property
    def deviance(self) -> float: ...
    @property
    def null_deviance(self) -> float: ...
    @property
    def loglike(self) -> float: ...
    @property
    def aic(self) -> float: ...
    @property
    def bic(self) -> float: ...
    @property
    def pearson_chi2(self) -> float: ...
    @property
    def scale(self) -> float: ...
    @property
    def iterations(self) -> int: ...
    @property
    def converged(self) -> bool: ...
    @property
    def fitted_at_bounds(self) -> int:
        """Rows fitted at probability 0 or 1 within 10ε (binomial families): possible separation."""
    def summary(self, names: Optional[Sequence[str]] = None) -> str: ...

def fit_glm(X: ArrayLike, y: ArrayLike, *, family: str, link: Optional[str] = None, weights: Optional[ArrayLike] = None, offset: Optional[ArrayLike] = None, exposure: Optional[ArrayLike] = None, intercept: Optional[int] = None, l2: float = 0.0, power: Optional[float] = None, alpha: Optional[float] = None) -> GlmFit:
    """Maximum-likelihood GLM by Newton-IRLS: g(μ) = Xβ + offset, y ~ family(μ, φ/w).

    family: gaussian, binomial, poisson, gamma, inverse_gaussian, negative_binomial (alpha), tweedie (power).
    X holds the intercept column itself (declare it with intercept=j to leave it unpenalised).
    A binomial fit with rows at probability 0 or 1 (separated classes) warns (RuntimeWarning).
    """

class QuantileFit:
    coef: List[float]
    quantile: float
    objective: float
    loglike: float
    scale: float
    converged: bool

def fit_quantile(X: ArrayLike, y: ArrayLike, *, quantile: float, weights: Optional[ArrayLike] = None) -> QuantileFit:
    """Linear quantile regression: the exact minimiser of Σ w_i ρ_τ(y_i − x_iᵀβ) (asymmetric-Laplace ML)."""

class SoftmaxFit:
    @property
    def coef(self) -> Array: ...
    @property
    def intercept(self) -> Array: ...
    @property
    def nll(self) -> float: ...
    @property
    def objective(self) -> float: ...
    @property
    def loglike(self) -> float: ...
    @property
    def converged(self) -> bool: ...

def fit_softmax(X: ArrayLike, y: ArrayLike, *, l2: float = 1.0, fit_intercept: bool = True, sample_weight: Optional[ArrayLike] = None, n_classes: Optional[int] = None) -> SoftmaxFit:
    """Minimises Σ s_i·(−log p_i,y_i) + ½·l2·‖W‖² (sklearn LogisticRegression with C = 1/l2); two classes: logistic."""

class TemperatureScaling:
    @property
    def temperature(self) -> float: ...
    @property
    def nll(self) -> Optional[Tuple[float, float]]: ...
    def apply(self, logits: ArrayLike) -> Array: ...
    def probabilities(self, logits: ArrayLike) -> Array: ...

def temperature_scale(logits: ArrayLike, y: ArrayLike) -> TemperatureScaling:
    """T > 0 minimising the mean NLL of softmax(z / T), by Newton's method on log T."""

# ----------------------------------------------------------------------------------------------
# Families and the catalogue.
# ----------------------------------------------------------------------------------------------

def log_prob(family: str, value: ArrayLike, *, return_grad: bool = False, **params: ArrayLike) -> Union[LossValue, Tuple[LossValue, Dict[str, Array]]]:
    """log p(value | params), NumPy-broadcast over value and parameters (e.g. log_prob("normal", x, loc=0.0, scale=1.0)).

    return_grad: (log p, {param: ∂ log p / ∂ param}) in the broadcast shape. See families().
    """

def entropy(family: str, **params: ArrayLike) -> LossValue:
    """H = E[−log p(X)] in nats, broadcast over the parameters."""

def kl(family: str, p: Mapping[str, ArrayLike], q: Mapping[str, ArrayLike], *, q_family: Optional[str] = None) -> LossValue:
    """Closed-form KL(p ‖ q), e.g. kl("normal", dict(loc=0, scale=1), dict(loc=1, scale=2)).

    Pairs (those torch.distributions.kl_divergence registers among these families, and more):
    each family with itself (normal, laplace, gumbel, exponential, gamma, beta, half_normal,
    cauchy, log_normal, weibull, inverse_gaussian, poisson, geometric, binomial, bernoulli,
    categorical, multivariate_normal); to normal from laplace,
    exponential, gamma, beta and gumbel; gumbel from normal, exponential and gamma; exponential
    ↔ gamma; beta to exponential and gamma; bernoulli ↔ poisson; poisson to binomial. +inf where
    p has mass outside q's support (normal, laplace, gumbel to exponential, gamma, beta, …).
    """

def families() -> Dict[str, Tuple[str, ...]]:
    """Every family name with its parameter names."""

def explain(loss_name: str) -> Dict[str, Any]:
    """A loss's declared likelihood: loss = scale·NLL_family(y | link⁻¹(output), fixed) + shift.

    Keys: name, summary, settings, kind ("nll", "expected_nll", "not_nll"), family, link, fixed, scale, shift (or why).
    """

def losses() -> List[str]:
    """The names of the catalogued losses (for explain)."""
