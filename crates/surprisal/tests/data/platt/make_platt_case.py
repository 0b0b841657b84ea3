"""Reference cases for Platt scaling, recorded from scikit-learn.

Fits `CalibratedClassifierCV(FrozenEstimator(clf), method="sigmoid")` on seeded synthetic data,
where `clf` is a logistic regression fitted on other data, so the calibrator sees the base
model's `decision_function` (scikit-learn's choice of feature for a binary classifier with a
decision function). Writes the scores, labels, optional sample weights, scikit-learn's fitted
slope and intercept (its convention: p = 1 / (1 + exp(a·s + b)), i.e. the negatives of
p = σ(a·s + b)) and the calibrated probabilities to platt_case.json.

scikit-learn's `_sigmoid_calibration` smooths the targets as Platt (1999) does,
t+ = (N+ + 1)/(N+ + 2), t− = 1/(N− + 2) (weighted counts with sample weights), starts from
(a, b) = (0, log((N− + 1)/(N+ + 1))), divides the scores by max|s| when max|s| ≥ 30, and
minimises the summed loss with L-BFGS-B (gtol = 1e-6, ftol = 64·eps). The file also records the
gradient of the summed smoothed NLL at scikit-learn's answer, so a test can bound how far that
answer is from the exact optimum.

Run: python3 make_platt_case.py   (scikit-learn 1.9, numpy, scipy)
"""

import json
import os

import warnings

import numpy as np
import sklearn
from sklearn.calibration import CalibratedClassifierCV
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression


def make_case(name, seed, n, inflate, weighted):
    rng = np.random.default_rng(seed)
    # Two Gaussian classes in 3-D; the base model is fitted on a separate sample.
    def draw(m):
        y = rng.integers(0, 2, size=m)
        X = rng.normal(size=(m, 3)) + np.outer(2 * y - 1, [0.8, -0.5, 0.3])
        return X, y

    X_train, y_train = draw(300)
    clf = LogisticRegression(C=1e4).fit(X_train, y_train)
    # An over-confident base model: its decision values multiplied by `inflate`.
    clf.coef_ *= inflate
    clf.intercept_ *= inflate
    X_cal, y_cal = draw(n)
    w = rng.uniform(0.2, 3.0, size=n) if weighted else None
    cal = CalibratedClassifierCV(FrozenEstimator(clf), method="sigmoid")
    cal.fit(X_cal, y_cal, sample_weight=w)
    sig = cal.calibrated_classifiers_[0].calibrators[0]
    s = clf.decision_function(X_cal)
    p = cal.predict_proba(X_cal)[:, 1]
    a_sk, b_sk = float(sig.a_), float(sig.b_)
    assert np.allclose(p, 1.0 / (1.0 + np.exp(a_sk * s + b_sk)), rtol=0, atol=1e-15)

    # Gradient of the summed smoothed NLL in the p = σ(a·s + b) convention at sklearn's answer.
    ww = np.ones(n) if w is None else w
    n_pos, n_neg = ww[y_cal > 0].sum(), ww[y_cal <= 0].sum()
    t = np.where(y_cal > 0, (n_pos + 1) / (n_pos + 2), 1 / (n_neg + 2))
    a, b = -a_sk, -b_sk
    r = ww * (1 / (1 + np.exp(-(a * s + b))) - t)
    grad = [float(r @ s), float(r.sum())]
    return {
        "name": name,
        "scores": s.tolist(),
        "labels": y_cal.astype(int).tolist(),
        "weights": None if w is None else w.tolist(),
        "sklearn_a": a_sk,
        "sklearn_b": b_sk,
        "a": a,
        "b": b,
        "probabilities": p.tolist(),
        "grad_at_sklearn": grad,
        "max_abs_score": float(np.abs(s).max()),
    }


# FrozenEstimator takes no sample weights; they are meant for the calibrator only here.
warnings.filterwarnings("ignore", message="Since FrozenEstimator")
cases = [
    make_case("decision_values", 20261123, 400, 1.0, False),
    make_case("weighted", 7, 250, 1.0, True),
    # Scores beyond 30: sklearn divides them by max|s| before the fit (no effect on the MLE).
    make_case("large_scores", 11, 300, 8.0, False),
]
out = {
    "generator": "make_platt_case.py",
    "sklearn_version": sklearn.__version__,
    "convention": "p = sigmoid(a*s + b); sklearn_a = -a, sklearn_b = -b",
    "optimiser": "scipy L-BFGS-B, gtol 1e-6 on the summed loss, ftol 64*eps",
    "cases": cases,
}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "platt_case.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
for c in cases:
    print(c["name"], c["a"], c["b"], c["grad_at_sklearn"], c["max_abs_score"])
