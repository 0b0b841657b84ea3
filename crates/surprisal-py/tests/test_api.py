"""Shapes, dtypes, errors and the likelihood descriptions of the Python API."""

import numpy as np
import pytest

import surprisal as s

rng = np.random.default_rng(7)


def test_reduction_none_and_grad_shapes():
    x, y = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    per = s.mse_loss(x, y, reduction="none")
    np.testing.assert_allclose(per, (x - y) ** 2)
    loss, grad = s.mse_loss(x, y, return_grad=True)
    assert grad.shape == x.shape
    np.testing.assert_allclose(grad, 2 * (x - y) / x.size)
    assert loss == pytest.approx(((x - y) ** 2).mean())
    z = rng.normal(size=(2, 5, 3))  # [N, C, d]
    t = rng.integers(0, 5, (2, 3))
    per, g = s.cross_entropy(z, t, reduction="none", return_grad=True)
    assert per.shape == (2, 3) and g.shape == z.shape
    zt = np.moveaxis(z, 1, -1).reshape(-1, 5)
    np.testing.assert_allclose(per.ravel(), s.cross_entropy(zt, t.ravel(), reduction="none"))


def test_pinball_and_huber_and_others():
    x, y = rng.normal(size=10), rng.normal(size=10)
    r = y - x
    assert s.pinball_loss(x, y, quantile=0.2) == pytest.approx(np.mean(np.maximum(0.2 * r, -0.8 * r)))
    a = np.abs(x - y)
    assert s.huber_loss(x, y, delta=0.5) == pytest.approx(np.mean(np.where(a <= 0.5, 0.5 * a**2, 0.5 * (a - 0.25))))
    assert s.l1_loss(x, y, reduction="sum") == pytest.approx(a.sum())
    v = rng.uniform(0.5, 2, 10)
    loss, gi, gv = s.gaussian_nll_loss(x, y, v, return_grad=True)
    assert gi.shape == x.shape and gv.shape == v.shape


def test_float32_is_computed_in_float32_and_bf16_bits_are_accepted():
    z = rng.normal(size=(8, 6)).astype(np.float32)
    y = rng.integers(0, 6, 8)
    l32, g32 = s.cross_entropy(z, y, return_grad=True)
    assert g32.dtype == np.float32
    l64 = s.cross_entropy(z.astype(np.float64), y)
    assert l32 == pytest.approx(l64, rel=1e-6)
    # bfloat16 bits: the upper 16 bits of the float32 patterns (round toward zero).
    bits = (z.view(np.uint32) >> 16).astype(np.uint16)
    zb = (bits.astype(np.uint32) << 16).view(np.float32)
    lb, gb = s.cross_entropy(bits, y, dtype="bfloat16", return_grad=True)
    assert gb.dtype == np.float32 and gb.shape == z.shape
    assert lb == pytest.approx(s.cross_entropy(zb, y), rel=1e-6)
    lbce = s.binary_cross_entropy_with_logits(bits[:, 0], (y % 2).astype(float), dtype="bfloat16")
    assert lbce == pytest.approx(s.binary_cross_entropy_with_logits(zb[:, 0].astype(np.float64), (y % 2).astype(float)), rel=1e-6)
    with pytest.raises(TypeError):
        s.cross_entropy(z, y, dtype="bfloat16")


def test_non_contiguous_inputs_are_copied_not_rejected():
    x = rng.normal(size=(6, 4))
    y = rng.normal(size=(6, 4))
    assert s.mse_loss(x.T, y.T) == pytest.approx(s.mse_loss(x, y))
    assert s.mse_loss(x[::2], y[::2]) == pytest.approx(np.mean((x[::2] - y[::2]) ** 2))


def test_errors_carry_the_library_message():
    with pytest.raises(ValueError, match="reduction"):
        s.mse_loss([1.0], [2.0], reduction="avg")
    with pytest.raises(ValueError, match="class index 7"):
        s.cross_entropy(np.zeros((2, 3)), np.array([0, 7]))
    with pytest.raises(ValueError, match="scale"):
        s.log_prob("normal", 0.0, loc=0.0, scale=-1.0)
    with pytest.raises(ValueError):
        s.mse_loss(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="quantile"):
        s.fit_quantile(np.ones((3, 1)), [1.0, 2.0, 3.0], quantile=1.5)
    with pytest.raises(TypeError):
        s.mse_loss(np.zeros(3))  # missing target
    with pytest.raises(TypeError):
        s.log_prob("normal", 0.0, loc=0.0)  # missing scale
    with pytest.raises(TypeError):
        s.cross_entropy(np.zeros((2, 3)), np.array([0, 1]), ignore_index="x")
    with pytest.raises(ValueError, match="unknown family"):
        s.entropy("nope")


def test_explain_describes_the_declared_likelihood():
    e = s.explain("mse")
    assert e["kind"] == "nll" and e["family"] == "normal" and e["link"] == "identity"
    assert set(e) >= {"family", "link", "fixed", "scale", "shift"}
    assert all(isinstance(s.explain(name), dict) for name in s.losses())
    with pytest.raises(ValueError, match="unknown loss"):
        s.explain("no_such_loss")
    fams = s.families()
    assert fams["normal"] == ("loc", "scale") and len(fams) == 21


def test_log_prob_gradient_matches_finite_differences():
    x = rng.normal(size=5)
    lp, g = s.log_prob("student_t", x, df=4.0, loc=0.3, scale=1.5, return_grad=True)
    h = 1e-6
    fd = (s.log_prob("student_t", x, df=4.0, loc=0.3 + h, scale=1.5) - s.log_prob("student_t", x, df=4.0, loc=0.3 - h, scale=1.5)) / (2 * h)
    np.testing.assert_allclose(g["loc"], fd, rtol=1e-6)


def test_float_labels_must_be_whole_numbers():
    # Whole floats (a pandas column read as float) are the same labels; 0.5 or NaN is an error
    # naming the argument, index and value, never a silent truncation.
    p = np.array([0.2, 0.9, 0.6])
    assert s.log_loss(np.array([0.0, 1.0, 1.0]), p) == s.log_loss(np.array([0, 1, 1]), p)
    logp = np.log(np.full((2, 3), 1 / 3))
    for call, name in (
        (lambda y: s.log_loss(y, p), "y_true"),
        (lambda y: s.brier_score(y, p), "y_true"),
        (lambda y: s.d2_log_loss_score(y, p), "y_true"),
        (lambda y: s.nll_loss(logp, y[:2]), "target"),
        (lambda y: s.log_prob("categorical", y[:2], logits=np.zeros((2, 3))), "value"),
        (lambda y: s.fit_softmax(np.eye(3), y), "y"),
    ):
        with pytest.raises(ValueError, match=rf"`{name}` holds 0.5 at index 1: labels must be whole numbers"):
            call(np.array([1.0, 0.5, 1.0]))
        with pytest.raises(ValueError, match=rf"`{name}` holds NaN at index 0"):
            call(np.array([np.nan, 1.0, 0.0]))


def test_multivariate_normal_values_must_end_in_its_dimension():
    args = dict(loc=np.zeros(2), covariance=np.eye(2))
    assert s.log_prob("multivariate_normal", np.zeros((3, 2)), **args).shape == (3,)
    assert s.log_prob("multivariate_normal", np.zeros((0, 2)), **args).shape == (0,)
    for shape in [(4,), (3, 4), (), (2, 1)]:
        with pytest.raises(ValueError, match=rf"last dimension must be the 2 of `loc`, got shape \[{', '.join(map(str, shape))}\]"):
            s.log_prob("multivariate_normal", np.zeros(shape), **args)


def test_discrete_information_takes_one_distribution():
    p, q = np.array([[0.5, 0.5], [0.2, 0.8]]), np.full((2, 2), 0.5)
    for call in (lambda: s.entropy_discrete(p), lambda: s.kl_discrete(p, q), lambda: s.cross_entropy_discrete(p, q)):
        with pytest.raises(ValueError, match=r"`p` must be 1-D \(one distribution\), got shape \[2, 2\]"):
            call()
    with pytest.raises(ValueError, match="`q` must be 1-D"):
        s.kl_discrete(p[0], q)
    assert s.kl_discrete(p[1], q[1]) == pytest.approx(0.2 * np.log(0.4) + 0.8 * np.log(1.6), rel=1e-14)


def test_probability_scores_name_both_shapes_on_a_row_mismatch():
    for f in (s.log_loss, s.brier_score, s.d2_log_loss_score):
        with pytest.raises(ValueError, match=r"y_true has shape \[3\] and y_prob \[2\]; they need one row each"):
            f([0, 1, 1], [0.2, 0.9])
        with pytest.raises(ValueError, match=r"y_true has shape \[2\] and y_prob \[3, 3\]"):
            f([0, 1], np.full((3, 3), 1 / 3))
        with pytest.raises(ValueError, match=r"y_true has shape \[2, 2\]"):
            f([[0, 1], [1, 0]], [0.2, 0.9])
    with pytest.raises(ValueError, match=r"y_true has shape \[2\] and y_prob \[3, 3\]"):
        s.calibration_error([0, 2], np.full((3, 3), 1 / 3))
    for f in (s.log_loss, s.brier_score, s.d2_log_loss_score):
        # A column vector of labels reads as scikit-learn reads it.
        assert f([[0], [1]], [0.2, 0.9]) == f([0, 1], [0.2, 0.9])


def test_fits_name_the_labels_and_rows_they_lack():
    X = np.column_stack([np.ones(6), np.arange(6.0)])
    with pytest.raises(ValueError, match=r"`y` holds -1 at index 2: class labels are 0, 1"):
        s.fit_softmax(X, np.array([0, 1, -1, 0, 1, 0]))
    with pytest.raises(ValueError, match=r"`class` = 2: no observation of this class has a positive weight"):
        s.fit_softmax(X, np.array([0, 1, 0, 1, 0, 1]), n_classes=3)
    with pytest.raises(ValueError, match=r"0 of 6 rows have a positive weight"):
        s.fit_glm(X, np.ones(6), family="poisson", weights=np.zeros(6), intercept=0)


def test_errors_name_the_arguments_as_the_caller_wrote_them():
    z, o = np.zeros(3), np.ones(3)
    cases = [
        (lambda: s.pinball_loss(z, o, quantile=1.5), r"`quantile` = 1.5"),
        (lambda: s.crps_ensemble(o[:2], np.ones((2, 2)), weights=np.array([[1, 1], [1, -1.0]])), r"`weights` = -1 at row 1, column 1"),
        (lambda: s.log_loss([0, 1], [0.2, 0.8], sample_weight=[1, -1]), r"`sample_weight` = -1 at index 1"),
        (lambda: s.log_loss([0, 1], [0.2, 1.8]), r"`y_prob` = 1.8"),
        (lambda: s.r2_score([1, 2, 3], [1, 2]), r"`y_pred`"),
        (lambda: s.calibration_curve([0, 2], [0.2, 0.9]), r"`y_true` = 2"),
    ]
    for call, pattern in cases:
        with pytest.raises(ValueError, match=pattern):
            call()
