"""Runs the shared conformance cases (PyTorch, SciPy, scikit-learn, statsmodels reference values)
through the Python API: every case of every bound op must match; ops not bound are listed."""

import glob
import json
import os
import pathlib

import numpy as np
import pytest

import surprisal as s

HERE = pathlib.Path(__file__).resolve().parent
DATA = HERE.parent.parent / "surprisal" / "tests" / "data" / "conformance"


def _files():
    files = sorted(glob.glob(str(DATA / "*.json")))
    extra = os.environ.get("SURPRISAL_CONFORMANCE_DIR")
    if extra:
        files += sorted(glob.glob(os.path.join(extra, "*.json")))
    return files


def _num(v):
    return {"inf": np.inf, "-inf": -np.inf, "nan": np.nan}.get(v, v) if isinstance(v, str) else v


def _array(a):
    data = [_num(v) for v in a["data"]]
    dtype = np.int64 if a.get("dtype") == "int" else np.float64
    return np.array(data, dtype=dtype).reshape(a["shape"])


class Case:
    def __init__(self, raw):
        self.raw = raw
        self.op = raw["op"]
        self.params = raw.get("params", {})
        self.inputs = {k: _array(v) for k, v in raw.get("inputs", {}).items()}

    def __getitem__(self, name):
        return self.inputs[name]

    def get(self, name):
        return self.inputs.get(name)

    def p(self, name, default=None):
        return self.params.get(name, default)


# --- losses ---------------------------------------------------------------------------------------


def _loss(c, value, grad_name):
    loss, grad = value
    return {"output": loss, "grads": {grad_name: grad}}


def _trailing_weight(c, n_like):
    """torch broadcasts a trailing-shape weight over the batch."""
    w = c.get("weight")
    return None if w is None else np.broadcast_to(w, n_like.shape)


def softmax_cross_entropy(c):
    out = s.cross_entropy(c["logits"], c["target"], weight=c.get("weight"), ignore_index=int(c.p("ignore_index", -100)),
                          label_smoothing=c.p("label_smoothing", 0.0), reduction=c.p("reduction", "mean"), return_grad=True)
    return _loss(c, out, "logits")


def nll(c):
    out = s.nll_loss(c["log_probs"], c["target"], weight=c.get("weight"), ignore_index=int(c.p("ignore_index", -100)),
                     reduction=c.p("reduction", "mean"), return_grad=True)
    return _loss(c, out, "log_probs")


def sigmoid_bce(c):
    out = s.binary_cross_entropy_with_logits(c["logits"], c["target"], weight=_trailing_weight(c, c["logits"]),
                                             pos_weight=c.get("pos_weight"), reduction=c.p("reduction", "mean"), return_grad=True)
    return _loss(c, out, "logits")


def bce(c):
    out = s.binary_cross_entropy(c["probs"], c["target"], weight=_trailing_weight(c, c["probs"]),
                                 reduction=c.p("reduction", "mean"), return_grad=True)
    return _loss(c, out, "probs")


def focal(c):
    out = s.sigmoid_focal_loss(c["logits"], c["target"], alpha=c.p("alpha"), gamma=c.p("gamma"),
                               weight=_trailing_weight(c, c["logits"]), reduction=c.p("reduction", "none"), return_grad=True)
    return _loss(c, out, "logits")


def regression(fn, **fixed):
    def run(c):
        kw = {k: c.p(k) for k in fixed}
        out = fn(c["input"], c["target"], reduction=c.p("reduction", "mean"), return_grad=True, **kw)
        return _loss(c, out, "input")
    return run


def poisson_nll(c):
    out = s.poisson_nll_loss(c["input"], c["target"], log_input=c.p("log_input", True), full=c.p("full", False),
                             eps=c.p("eps", 1e-8), weight=_trailing_weight(c, c["input"]),
                             reduction=c.p("reduction", "mean"), return_grad=True)
    return _loss(c, out, "input")


def gaussian_nll(c):
    var = c["var"]
    if var.ndim == c["input"].ndim - 1:
        var = var[..., None]
    loss, gi, gv = s.gaussian_nll_loss(c["input"], c["target"], var, full=c.p("full", False), eps=c.p("eps", 1e-6),
                                       reduction=c.p("reduction", "mean"), return_grad=True)
    return {"output": loss, "grads": {"input": gi, "var": gv.reshape(c["var"].shape)}}


def kl_div(c):
    out = s.kl_div(c["input"], c["target"], reduction=c.p("reduction", "mean"), log_target=c.p("log_target", False), return_grad=True)
    return _loss(c, out, "input")


def distillation(c):
    out = s.distillation_kl(c["student_logits"], c["teacher_logits"], temperature=c.p("temperature"), return_grad=True)
    return _loss(c, out, "student_logits")


# --- families -------------------------------------------------------------------------------------


def _family_params(c, names):
    return {k: v for k, v in c.inputs.items() if k in names}


def log_prob(c):
    fam = c.p("family")
    names = set(s.families()[{"weibull": "weibull"}.get(fam, fam)]) | {"concentration"}
    params = _family_params(c, names)
    lp, grads = s.log_prob(fam, c["value"], return_grad=True, **params)
    out_grads = {}
    for k, g in grads.items():
        shape = c[k].shape
        g = np.asarray(g)
        if fam not in ("multivariate_normal", "categorical") and g.shape != shape:
            # A broadcast parameter's gradient is the sum over the elements it was broadcast to.
            g = g.sum() if np.prod(shape) == 1 else g
        out_grads[k] = g
    return {"output": lp, "grads": out_grads}


def entropy(c):
    fam = c.p("family")
    return {"output": s.entropy(fam, **c.inputs)}


def kl(c):
    fam = c.p("family")
    q_fam = c.p("q_family", fam)
    for pair in ("laplace_normal", "exponential_normal", "gamma_normal", "beta_normal", "poisson_binomial"):
        if fam == pair:
            fam, q_fam = pair.split("_", 1)
    p = {k[2:]: v for k, v in c.inputs.items() if k.startswith("p_")}
    q = {k[2:]: v for k, v in c.inputs.items() if k.startswith("q_")}
    return {"output": s.kl(fam, p, q, q_family=q_fam)}


# --- calibration and scores -----------------------------------------------------------------------


def _kept(c, target):
    ig = c.p("ignore_index")
    return np.ones(len(target), bool) if ig is None else target != ig


def binary_calibration(c):
    p, y = c["probs"], c["target"]
    keep = _kept(c, y)
    p, y = p[keep], y[keep]
    if not np.all((p >= 0) & (p <= 1)):
        p = 1 / (1 + np.exp(-p))
    return {"output": s.calibration_error(y, p, n_bins=int(c.p("n_bins")), norm=c.p("norm", "l1"))}


def multiclass_calibration(c):
    p, y = c["probs"], c["target"]
    keep = _kept(c, y)
    p, y = p[keep], y[keep]
    if not np.all((p >= 0) & (p <= 1)):
        p = np.exp(s.log_softmax(p))
    # torchmetrics computes the top-label statistics in float32.
    return {"output": s.calibration_error(y, p.astype(np.float32), n_bins=int(c.p("n_bins")), norm=c.p("norm", "l1"))}


def curve(c):
    t, p = s.calibration_curve(c["target"], c["probs"], n_bins=int(c.p("n_bins")), strategy=c.p("strategy", "uniform"))
    return {"output": {"prob_true": t, "prob_pred": p}}


def _labels(c):
    if c.get("labels") is not None:
        return list(c["labels"])
    lab = c.p("labels")
    return list(lab) if isinstance(lab, list) else None


def log_loss(c):
    return {"output": s.log_loss(c["target"], c["probs"], sample_weight=c.get("sample_weight"),
                                 normalize=c.p("normalize", True), labels=_labels(c))}


def brier(c):
    sbh = c.p("scale_by_half")
    if sbh is None and c.p("multiclass", False) and c["probs"].ndim == 2:
        sbh = False
    return {"output": s.brier_score(c["target"], c["probs"], sample_weight=c.get("sample_weight"), labels=_labels(c),
                                    scale_by_half=sbh)}


def d2_log_loss(c):
    return {"output": s.d2_log_loss_score(c["target"], c["probs"], sample_weight=c.get("sample_weight"), labels=_labels(c))}


def pair(fn, *names):
    def run(c):
        kw = {n: c.p(n) for n in names}
        return {"output": fn(c["target"], c["prediction"], sample_weight=c.get("sample_weight"), **kw)}
    return run


def crps_ensemble(c):
    return {"output": s.crps_ensemble(c["target"], c["ensemble"], weights=c.get("weights"), fair=c.p("fair", False))}


def _base(c):
    b = c.p("base", "e")
    return None if b == "e" else float(b)


# --- fits -----------------------------------------------------------------------------------------

LINKS = {"inverse_power": "inverse", "inversepower": "inverse", "clog_log": "cloglog", "inversesquared": "inverse_squared"}


def glm_fit(c):
    link = c.p("link")
    if link is not None:
        link = LINKS.get(link.lower(), link.lower())
    fit = s.fit_glm(c["X"], c["y"], family=c.p("family"), link=link, weights=c.get("weights"), offset=c.get("offset"),
                    exposure=c.get("exposure"), intercept=c.p("intercept_column"),
                    power=c.p("power", c.p("var_power")), alpha=c.p("alpha"))
    return {"output": {"coef": fit.coef, "stderr": fit.stderr, "deviance": fit.deviance, "loglike": fit.loglike,
                       "null_deviance": fit.null_deviance, "aic": fit.aic, "pearson_chi2": fit.pearson_chi2}}


def quantile_fit(c):
    fit = s.fit_quantile(c["X"], c["y"], quantile=c.p("quantile"), weights=c.get("weights"))
    return {"output": {"coef": fit.coef, "objective": fit.objective}}


def softmax_fit(c):
    fit = s.fit_softmax(c["X"], c["y"], l2=c.p("l2"), fit_intercept=c.p("fit_intercept", True),
                        sample_weight=c.get("sample_weight"), n_classes=c.p("n_classes"))
    assert fit.converged
    return {"output": {"coef": fit.coef.ravel(), "intercept": fit.intercept, "objective": fit.objective,
                       "loglike": fit.loglike}}


HANDLERS = {
    "softmax_cross_entropy": softmax_cross_entropy,
    "softmax_cross_entropy_probs": softmax_cross_entropy,
    "nll": nll,
    "sigmoid_binary_cross_entropy": sigmoid_bce,
    "binary_cross_entropy": bce,
    "sigmoid_focal": focal,
    "mse": regression(s.mse_loss),
    "l1": regression(s.l1_loss),
    "smooth_l1": regression(s.smooth_l1_loss, beta=None),
    "huber": regression(s.huber_loss, delta=None),
    "poisson_nll": poisson_nll,
    "gaussian_nll": gaussian_nll,
    "kl_div": kl_div,
    "distillation_kl": distillation,
    "log_prob": log_prob,
    "entropy": entropy,
    "kl": kl,
    "binary_calibration_error": binary_calibration,
    "multiclass_calibration_error": multiclass_calibration,
    "calibration_curve": curve,
    "log_loss": log_loss,
    "brier_score": brier,
    "d2_log_loss_score": d2_log_loss,
    "mean_squared_error": pair(s.mean_squared_error),
    "mean_absolute_error": pair(s.mean_absolute_error),
    "r2_score": pair(s.r2_score),
    "mean_pinball_loss": pair(s.mean_pinball_loss, "alpha"),
    "d2_pinball_score": pair(s.d2_pinball_score, "alpha"),
    "mean_poisson_deviance": pair(s.mean_poisson_deviance),
    "mean_gamma_deviance": pair(s.mean_gamma_deviance),
    "mean_tweedie_deviance": pair(s.mean_tweedie_deviance, "power"),
    "d2_tweedie_score": pair(s.d2_tweedie_score, "power"),
    "crps_gaussian": lambda c: {"output": s.crps_gaussian(c["target"], c["loc"], c["scale"])},
    "crps_ensemble": crps_ensemble,
    "entropy_discrete": lambda c: {"output": s.entropy_discrete(c["p"], base=_base(c))},
    "kl_discrete": lambda c: {"output": s.kl_discrete(c["p"], c["q"], base=_base(c))},
    "cross_entropy_discrete": lambda c: {"output": s.cross_entropy_discrete(c["p"], c["q"], base=_base(c))},
    "logsumexp": lambda c: {"output": s.logsumexp(c["x"])},
    "log_softmax": lambda c: {"output": s.log_softmax(c["x"])},
    "log_sigmoid": lambda c: {"output": s.log_sigmoid(c["x"])},
    "softplus": lambda c: {"output": s.softplus(c["x"])},
    "glm_fit": glm_fit,
    "quantile_fit": quantile_fit,
    "softmax_regression_fit": softmax_fit,
}


def _close(got, want, rtol, atol):
    got = np.asarray(got, dtype=np.float64).ravel()
    want = np.asarray(want, dtype=np.float64).ravel()
    if got.shape != want.shape:
        return f"shape {got.shape} vs {want.shape}"
    both_nan = np.isnan(got) & np.isnan(want)
    same_inf = np.isinf(want) & (got == want)
    ok = both_nan | same_inf | (np.abs(got - want) <= atol + rtol * np.abs(want))
    if not ok.all():
        i = int(np.argmin(ok))
        return f"element {i}: got {got[i]!r}, want {want[i]!r}"
    return None


def _check(raw):
    c = Case(raw)
    got = HANDLERS[c.op](c)
    rtol, atol = raw.get("rtol", 1e-9), raw.get("atol", 1e-12)
    errors = []
    want = raw["output"]
    if "shape" in want:
        e = _close(got["output"], _array(want), rtol, atol)
        if e:
            errors.append(f"output: {e}")
    else:
        # Named outputs (fits, calibration_curve): compare the ones the API returns.
        for name, arr in want.items():
            if name in got["output"]:
                e = _close(got["output"][name], _array(arr), rtol, atol)
                if e:
                    errors.append(f"{name}: {e}")
    for name, arr in raw.get("grads", {}).items():
        g = got.get("grads", {}).get(name)
        if g is None:
            errors.append(f"grad {name}: not returned")
            continue
        e = _close(g, _array(arr), rtol, atol)
        if e:
            errors.append(f"grad {name}: {e}")
    return errors


def _cases():
    out = []
    for f in _files():
        with open(f) as fh:
            for raw in json.load(fh)["cases"]:
                out.append(pytest.param(raw, id=f"{pathlib.Path(f).stem}:{raw['id']}"))
    return out


ALL_CASES = _cases()


def test_unbound_ops_are_listed():
    ops = {p.values[0]["op"] for p in ALL_CASES}
    unbound = sorted(ops - set(HANDLERS))
    print(f"conformance: {len(ALL_CASES)} cases, {len(ops)} ops, unbound ops: {unbound or 'none'}")
    assert unbound == [], f"ops not bound in the Python API: {unbound}"


@pytest.mark.parametrize("raw", ALL_CASES)
def test_case(raw):
    if raw["op"] not in HANDLERS:
        pytest.fail(f"op {raw['op']} is not bound in the Python API")
    errors = _check(raw)
    assert not errors, f"{raw['id']} ({raw.get('ref', '')}): " + "; ".join(errors)
