"""Reference cases for Huber regression with concomitant scale, recorded from scikit-learn.

Fits `HuberRegressor(epsilon, alpha)` on seeded synthetic data (a linear model with Gaussian
noise, 10 % of the responses replaced by gross outliers, optional sample weights) and writes the
data, scikit-learn's `coef_`, `intercept_`, `scale_`, and the gradient of its objective
(`_huber_loss_and_gradient`) at that answer to huber_case.json.

scikit-learn minimises, over (w, c, σ) with σ ≥ 10·eps,

    Σᵢ sᵢ·[σ + H_ε((yᵢ − xᵢ·w − c)/σ)·σ] + α‖w‖²,
    H_ε(z) = z² (|z| ≤ ε),  2ε|z| − ε² (|z| > ε),

with L-BFGS-B from (w, c, σ) = (0, 0, 1), stopping when the projected gradient's largest entry
is below `tol` (default 1e-5), when the relative decrease of the objective falls below SciPy's
default `ftol` (about 2.2e-9), or after `max_iter` (default 100) iterations. In practice the
`ftol` test stops it first (a tighter `tol` gives the same answer), so its answer is only near
the optimum: the recorded gradient there lets a test bound the distance to the exact minimiser
by a Newton step.

Run: python3 make_huber_case.py   (scikit-learn 1.9, numpy)
"""

import json
import os

import numpy as np
import sklearn
from sklearn.linear_model import HuberRegressor
from sklearn.linear_model._huber import _huber_loss_and_gradient


def make_data(seed, n, weighted):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3)) * np.array([1.0, 2.0, 0.5])
    y = X @ np.array([1.5, -0.7, 2.0]) + 0.8 + 0.5 * rng.normal(size=n)
    out = rng.choice(n, size=n // 10, replace=False)
    y[out] += rng.choice([-1.0, 1.0], size=out.size) * rng.uniform(5.0, 20.0, size=out.size)
    w = rng.uniform(0.2, 3.0, size=n) if weighted else None
    return X, y, w


def fit(name, X, y, w, epsilon, alpha):
    est = HuberRegressor(epsilon=epsilon, alpha=alpha).fit(X, y, sample_weight=w)
    theta = np.concatenate([est.coef_, [est.intercept_, est.scale_]])
    sw = np.ones(len(y)) if w is None else w
    _, grad = _huber_loss_and_gradient(theta, X, y, epsilon, alpha, sw)
    case = {
        "name": name,
        "epsilon": epsilon,
        "alpha": alpha,
        "n_iter": int(est.n_iter_),
        "X": X.tolist(),
        "y": y.tolist(),
        "coef": est.coef_.tolist(),
        "intercept": float(est.intercept_),
        "scale": float(est.scale_),
        "grad_at_reference": grad.tolist(),
    }
    if w is not None:
        case["sample_weight"] = w.tolist()
    return case


def main():
    cases = []
    for name, seed, n, weighted, epsilon, alpha in [
        ("outliers", 7, 200, False, 1.35, 1e-4),
        ("weighted_wide", 8, 150, True, 1.8, 0.5),
    ]:
        X, y, w = make_data(seed, n, weighted)
        cases.append(fit(name, X, y, w, epsilon, alpha))
    doc = {"generator": f"scikit-learn {sklearn.__version__}, numpy {np.__version__}", "cases": cases}
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "huber_case.json")
    with open(path, "w") as f:
        json.dump(doc, f, indent=1)


if __name__ == "__main__":
    main()
