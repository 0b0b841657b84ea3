"""Reference cases for isotonic regression, recorded from scikit-learn.

Fits `IsotonicRegression(out_of_bounds="clip")` (the `method="isotonic"` calibrator of
`CalibratedClassifierCV`) on seeded data with exact ties, ties within float64 resolution (1e-15),
zero weights and unsorted input, and records the fitted thresholds and predictions at query
points inside, between, at and outside the fitted range. Writes isotonic_case.json.

Run: python3 make_isotonic_case.py   (scikit-learn 1.9, numpy)
"""

import json
import os

import numpy as np
import sklearn
from sklearn.isotonic import IsotonicRegression


def make_case(name, x, y, w, queries):
    fit = IsotonicRegression(out_of_bounds="clip").fit(x, y, sample_weight=w)
    return {
        "name": name,
        "x": list(map(float, x)),
        "y": list(map(float, y)),
        "weights": None if w is None else list(map(float, w)),
        "x_thresholds": fit.X_thresholds_.tolist(),
        "y_thresholds": fit.y_thresholds_.tolist(),
        "queries": list(map(float, queries)),
        "predictions": fit.predict(queries).tolist(),
    }


rng = np.random.default_rng(20261123)
n = 200
# Probabilities rounded to 2 decimals: many exact ties; labels drawn from p^2.
s = np.round(rng.uniform(size=n), 2)
lab = (rng.uniform(size=n) < s**2).astype(float)
q = np.concatenate([[-0.5, 0.0, 1.0, 1.5], rng.uniform(size=40), np.unique(s)[:20]])
eps = np.finfo(float).eps
x2 = np.array([0.3, 0.3 + 2 * eps, 0.3 + 8 * eps, 0.31, 0.5, 0.5, 0.7, 0.2, 0.9])
y2 = np.array([1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 1.0, 1.0])
w2 = np.array([1.0, 2.0, 0.5, 1.0, 0.0, 3.0, 1.0, 1.0, 2.0])
cases = [
    make_case("rounded_probabilities", s, lab, None, q),
    make_case("weighted", s, lab, rng.uniform(0.0, 2.0, size=n), q),
    make_case("near_ties_and_zero_weight", x2, y2, w2, [0.0, 0.3, 0.3 + eps, 0.305, 0.6, 0.95]),
    make_case("real_targets", rng.normal(size=50), rng.normal(size=50), None, rng.normal(size=20) * 2),
]
out = {"generator": "make_isotonic_case.py", "sklearn_version": sklearn.__version__, "cases": cases}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "isotonic_case.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
for c in cases:
    print(c["name"], len(c["x_thresholds"]))
