"""Reference cases for temperature scaling, recorded from scikit-learn.

scikit-learn 1.8+ has `CalibratedClassifierCV(method="temperature")`, whose calibrator
`_TemperatureScaling` minimises the mean multinomial NLL of softmax(beta * logits) over
log(beta) in [-10, 10] with `scipy.optimize.minimize_scalar` (bounded Brent, xatol = 64*eps).
beta = 1/T. Brent locates a minimum from function values only, so its answer is within about
sqrt(2*eps*|L| / L'') of the exact minimiser in log(beta) (L'' the curvature in log(beta)).

Writes the logits (row-major [N, C]), labels and scikit-learn's beta to temperature_case.json.
Run: python3 make_temperature_case.py   (scikit-learn 1.9, numpy, scipy)
"""

import json
import os

import numpy as np
import sklearn
from sklearn.calibration import _TemperatureScaling


def make_case(name, seed, n, c, sigma, inflate):
    rng = np.random.default_rng(seed)
    z = rng.normal(scale=sigma, size=(n, c))
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    y = np.array([rng.choice(c, p=row) for row in p])
    logits = z * inflate
    beta = float(_TemperatureScaling().fit(logits, y).beta_)
    return {
        "name": name,
        "n_classes": c,
        "logits": logits.ravel().tolist(),
        "labels": y.tolist(),
        "sklearn_beta": beta,
        "temperature": 1.0 / beta,
    }


cases = [
    make_case("overconfident", 20261123, 500, 4, 1.5, 3.0),
    make_case("underconfident", 5, 300, 3, 2.0, 0.5),
]
out = {
    "generator": "make_temperature_case.py",
    "sklearn_version": sklearn.__version__,
    "optimiser": "scipy minimize_scalar bounded on log(beta) in [-10, 10], xatol 64*eps",
    "cases": cases,
}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "temperature_case.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
for c in cases:
    print(c["name"], c["temperature"])
