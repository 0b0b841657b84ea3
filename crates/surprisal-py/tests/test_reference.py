"""The Python API against SciPy and scikit-learn on fresh, seeded random inputs."""

import warnings

import numpy as np
import pytest
import scipy.special as sp
import scipy.stats as st
from sklearn.calibration import calibration_curve
from sklearn.linear_model import LogisticRegression, PoissonRegressor
from sklearn.metrics import brier_score_loss, log_loss, mean_pinball_loss, mean_tweedie_deviance

import surprisal as s

rng = np.random.default_rng(20261123)


@pytest.mark.parametrize(
    "family, params, dist, value",
    [
        ("normal", dict(loc=0.3, scale=1.7), st.norm(0.3, 1.7), rng.normal(size=50)),
        ("laplace", dict(loc=-1.0, scale=0.5), st.laplace(-1.0, 0.5), rng.normal(size=50)),
        ("student_t", dict(df=3.5, loc=0.2, scale=2.0), st.t(3.5, 0.2, 2.0), rng.normal(size=50)),
        ("cauchy", dict(loc=0.1, scale=0.7), st.cauchy(0.1, 0.7), rng.normal(size=50)),
        ("logistic", dict(loc=0.1, scale=0.7), st.logistic(0.1, 0.7), rng.normal(size=50)),
        ("gumbel", dict(loc=0.1, scale=0.7), st.gumbel_r(0.1, 0.7), rng.normal(size=50)),
        ("gamma", dict(concentration=2.5, rate=1.5), st.gamma(2.5, scale=1 / 1.5), rng.gamma(2.0, size=50)),
        ("exponential", dict(rate=0.8), st.expon(scale=1 / 0.8), rng.gamma(1.0, size=50)),
        ("beta", dict(concentration1=2.0, concentration0=3.0), st.beta(2.0, 3.0), rng.uniform(0.01, 0.99, 50)),
        ("log_normal", dict(loc=0.2, scale=0.6), st.lognorm(0.6, scale=np.exp(0.2)), rng.gamma(2.0, size=50)),
        ("half_normal", dict(scale=1.3), st.halfnorm(scale=1.3), np.abs(rng.normal(size=50))),
        ("weibull", dict(shape=1.7, scale=2.0), st.weibull_min(1.7, scale=2.0), rng.gamma(2.0, size=50)),
        ("poisson", dict(rate=3.2), st.poisson(3.2), rng.poisson(3.0, 50).astype(float)),
        ("poisson", dict(rate=0.0), st.poisson(0.0), np.array([0.0, 1.0, 2.0, 0.0])),
        ("geometric", dict(probs=0.3), st.geom(0.3, loc=-1), rng.poisson(2.0, 50).astype(float)),
    ],
)
def test_log_prob_and_entropy_match_scipy(family, params, dist, value):
    lp = s.log_prob(family, value, **params)
    ref = dist.logpmf(value) if hasattr(dist, "logpmf") else dist.logpdf(value)
    np.testing.assert_allclose(lp, ref, rtol=1e-10, atol=1e-12)
    if family not in ("poisson", "geometric") or params == dict(rate=0.0):
        np.testing.assert_allclose(s.entropy(family, **params), dist.entropy(), rtol=1e-9, atol=1e-15)


def test_log_prob_broadcasts_arrays_and_scalars():
    x = rng.normal(size=(4, 1))
    loc = rng.normal(size=(1, 3))
    scale = np.array([0.5, 1.0, 2.0])
    lp = s.log_prob("normal", x, loc=loc, scale=scale)
    assert lp.shape == (4, 3)
    np.testing.assert_allclose(lp, st.norm.logpdf(x, loc, scale), rtol=1e-12)
    assert isinstance(s.log_prob("normal", 0.5, loc=0.0, scale=1.0), float)


def test_kl_normal_closed_form():
    mp, sp_, mq, sq = 0.3, 1.2, -0.5, 0.7
    want = np.log(sq / sp_) + (sp_**2 + (mp - mq) ** 2) / (2 * sq**2) - 0.5
    assert s.kl("normal", dict(loc=mp, scale=sp_), dict(loc=mq, scale=sq)) == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize(
    "pf, p, pd, qf, q, qd, lo, hi",
    [
        ("gumbel", dict(loc=0.3, scale=1.2), st.gumbel_r(0.3, 1.2), "gumbel", dict(loc=-0.5, scale=0.7), st.gumbel_r(-0.5, 0.7), -np.inf, np.inf),
        ("gumbel", dict(loc=0.3, scale=1.2), st.gumbel_r(0.3, 1.2), "normal", dict(loc=1.0, scale=2.5), st.norm(1.0, 2.5), -np.inf, np.inf),
        ("normal", dict(loc=0.4, scale=0.8), st.norm(0.4, 0.8), "gumbel", dict(loc=-0.2, scale=1.5), st.gumbel_r(-0.2, 1.5), -np.inf, np.inf),
        ("exponential", dict(rate=1.3), st.expon(scale=1 / 1.3), "gamma", dict(concentration=2.5, rate=0.8), st.gamma(2.5, scale=1 / 0.8), 0, np.inf),
        ("exponential", dict(rate=1.3), st.expon(scale=1 / 1.3), "gumbel", dict(loc=0.5, scale=1.5), st.gumbel_r(0.5, 1.5), 0, np.inf),
        ("gamma", dict(concentration=2.5, rate=1.5), st.gamma(2.5, scale=1 / 1.5), "exponential", dict(rate=0.8), st.expon(scale=1 / 0.8), 0, np.inf),
        ("gamma", dict(concentration=2.5, rate=1.5), st.gamma(2.5, scale=1 / 1.5), "gumbel", dict(loc=-1.0, scale=0.6), st.gumbel_r(-1.0, 0.6), 0, np.inf),
        ("beta", dict(concentration1=2.3, concentration0=3.7), st.beta(2.3, 3.7), "exponential", dict(rate=1.7), st.expon(scale=1 / 1.7), 0, 1),
        ("beta", dict(concentration1=2.3, concentration0=3.7), st.beta(2.3, 3.7), "gamma", dict(concentration=0.6, rate=2.0), st.gamma(0.6, scale=0.5), 0, 1),
        ("half_normal", dict(scale=1.3), st.halfnorm(scale=1.3), "half_normal", dict(scale=0.4), st.halfnorm(scale=0.4), 0, np.inf),
        ("cauchy", dict(loc=0.3, scale=1.2), st.cauchy(0.3, 1.2), "cauchy", dict(loc=-2.0, scale=0.5), st.cauchy(-2.0, 0.5), -np.inf, np.inf),
        ("log_normal", dict(loc=0.2, scale=0.6), st.lognorm(0.6, scale=np.exp(0.2)), "log_normal", dict(loc=-0.5, scale=1.1), st.lognorm(1.1, scale=np.exp(-0.5)), 0, np.inf),
        ("inverse_gaussian", dict(mean=2.0, shape=3.0), st.invgauss(2.0 / 3.0, scale=3.0), "inverse_gaussian", dict(mean=1.0, shape=0.7), st.invgauss(1.0 / 0.7, scale=0.7), 0, np.inf),
        ("weibull", dict(shape=1.7, scale=2.0), st.weibull_min(1.7, scale=2.0), "weibull", dict(shape=0.8, scale=1.0), st.weibull_min(0.8, scale=1.0), 0, np.inf),
    ],
)
def test_cross_family_kl_matches_scipy_quadrature(pf, p, pd, qf, q, qd, lo, hi):
    from scipy.integrate import quad

    with np.errstate(over="ignore"):  # SciPy's Gumbel logpdf overflows to −inf far left, as it should
        want, _ = quad(lambda x: pd.pdf(x) * (pd.logpdf(x) - qd.logpdf(x)) if pd.pdf(x) > 0 else 0.0, lo, hi, epsabs=1e-13, epsrel=1e-12, limit=200)
    assert s.kl(pf, p, q, q_family=qf) == pytest.approx(want, rel=1e-8, abs=1e-10)


def test_discrete_and_infinite_kl_pairs():
    k = np.arange(400)
    p, q = st.geom(0.3, loc=-1), st.geom(0.7, loc=-1)
    want = np.sum(p.pmf(k) * (p.logpmf(k) - q.logpmf(k)))
    assert s.kl("geometric", dict(probs=0.3), dict(probs=0.7)) == pytest.approx(want, rel=1e-12)
    pb, qp = st.bernoulli(sp.expit(0.4)), st.poisson(1.5)
    want = np.sum(pb.pmf([0, 1]) * (pb.logpmf([0, 1]) - qp.logpmf([0, 1])))
    assert s.kl("bernoulli", dict(logits=0.4), dict(rate=1.5), q_family="poisson") == pytest.approx(want, rel=1e-12)
    assert s.kl("poisson", dict(rate=2.0), dict(logits=0.4), q_family="bernoulli") == np.inf
    for pf, pp in (("normal", dict(loc=0.0, scale=1.0)), ("laplace", dict(loc=0.0, scale=1.0)), ("gumbel", dict(loc=0.0, scale=1.0))):
        for qf, qp in (("exponential", dict(rate=1.0)), ("gamma", dict(concentration=2.0, rate=1.0)), ("beta", dict(concentration1=2.0, concentration0=1.0))):
            assert s.kl(pf, pp, qp, q_family=qf) == np.inf
    with pytest.raises(ValueError, match="scale"):
        s.kl("normal", dict(loc=0.0, scale=-1.0), dict(rate=1.0), q_family="exponential")


def test_primitives_match_scipy_special():
    x = rng.normal(scale=30, size=(6, 9))
    np.testing.assert_allclose(s.logsumexp(x), sp.logsumexp(x, axis=-1), rtol=1e-13)
    np.testing.assert_allclose(s.log_softmax(x), sp.log_softmax(x, axis=-1), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(s.softplus(x), np.logaddexp(0, x), rtol=1e-13)
    np.testing.assert_allclose(s.log_sigmoid(x), sp.log_expit(x), rtol=1e-12)
    p, q = rng.dirichlet(np.ones(7)), rng.dirichlet(np.ones(7))
    assert s.entropy_discrete(p) == pytest.approx(st.entropy(p), rel=1e-12)
    assert s.kl_discrete(p, q, base=2) == pytest.approx(st.entropy(p, q, base=2), rel=1e-12)


def test_cross_entropy_matches_scipy_log_softmax():
    z = rng.normal(size=(20, 5))
    y = rng.integers(0, 5, 20)
    lsm = sp.log_softmax(z, axis=1)
    loss, grad = s.cross_entropy(z, y, return_grad=True)
    assert loss == pytest.approx(-lsm[np.arange(20), y].mean(), rel=1e-12)
    onehot = np.eye(5)[y]
    np.testing.assert_allclose(grad, (np.exp(lsm) - onehot) / 20, atol=1e-14)


def test_scores_match_sklearn():
    n = 200
    y = rng.integers(0, 2, n)
    p = rng.uniform(0.01, 0.99, n)
    w = rng.uniform(0.5, 2.0, n)
    assert s.log_loss(y, p) == pytest.approx(log_loss(y, p), rel=1e-12)
    assert s.log_loss(y, p, sample_weight=w) == pytest.approx(log_loss(y, p, sample_weight=w), rel=1e-12)
    assert s.log_loss(y, p, normalize=False) == pytest.approx(log_loss(y, p, normalize=False), rel=1e-12)
    assert s.brier_score(y, p) == pytest.approx(brier_score_loss(y, p), rel=1e-12)
    assert s.brier_score(y, p, sample_weight=w) == pytest.approx(brier_score_loss(y, p, sample_weight=w), rel=1e-12)
    probs = rng.dirichlet(np.ones(4), n)
    yk = rng.integers(0, 4, n)
    assert s.log_loss(yk, probs) == pytest.approx(log_loss(yk, probs), rel=1e-12)
    for strategy in ("uniform", "quantile"):
        t, q = s.calibration_curve(y, p, n_bins=7, strategy=strategy)
        tr, qr = calibration_curve(y, p, n_bins=7, strategy=strategy)
        np.testing.assert_allclose(t, tr, rtol=1e-12)
        np.testing.assert_allclose(q, qr, rtol=1e-12)
    yr = rng.gamma(2.0, size=n)
    mu = rng.gamma(2.0, size=n)
    assert s.mean_tweedie_deviance(yr, mu, power=1.5) == pytest.approx(mean_tweedie_deviance(yr, mu, power=1.5), rel=1e-12)
    assert s.mean_pinball_loss(yr, mu, alpha=0.3) == pytest.approx(mean_pinball_loss(yr, mu, alpha=0.3), rel=1e-12)


def test_unnormalised_probability_rows_warn_as_sklearn():
    yk = rng.integers(0, 3, 50)
    probs = rng.dirichlet(np.ones(3), 50)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for f in (s.log_loss, s.d2_log_loss_score, s.brier_score):
            f(yk, probs)
    off = probs.copy()
    off[[7, 30]] *= 1.5
    ref = {s.log_loss: log_loss, s.brier_score: brier_score_loss}
    for f in (s.log_loss, s.d2_log_loss_score, s.brier_score):
        with pytest.warns(UserWarning, match=r"do not sum to one in 2 of 50 rows \(row 7 sums to 1\.5"):
            got = f(yk, off)
        if f in ref:
            with pytest.warns(UserWarning, match="do not sum to one"):
                assert got == pytest.approx(ref[f](yk, off, labels=[0, 1, 2]), rel=1e-12)


def test_fit_glm_poisson_matches_sklearn_unpenalised():
    n = 300
    x = rng.normal(size=(n, 2))
    y = rng.poisson(np.exp(0.3 + x @ [0.5, -0.2])).astype(float)
    X = np.column_stack([np.ones(n), x])
    fit = s.fit_glm(X, y, family="poisson", intercept=0)
    ref = PoissonRegressor(alpha=0, tol=1e-12, max_iter=1000).fit(x, y)
    np.testing.assert_allclose(fit.coef, np.r_[ref.intercept_, ref.coef_], rtol=1e-6, atol=1e-8)
    assert fit.converged and fit.deviance > 0 and np.all(fit.stderr > 0)
    assert "Generalized Linear Model" in fit.summary()
    assert fit.aic == pytest.approx(-2 * fit.loglike + 2 * 3, rel=1e-12)


def test_fit_glm_warns_of_separated_classes():
    X = np.column_stack([np.ones(4), [1.0, 2.0, 3.0, 4.0]])
    with pytest.warns(RuntimeWarning, match="numerically 0 or 1 in [1-4] of 4 rows"):
        fit = s.fit_glm(X, np.array([0.0, 0.0, 1.0, 1.0]), family="binomial", intercept=0)
    assert 1 <= fit.fitted_at_bounds <= 4
    assert 0 <= fit.deviance < 1e-6 and 0 <= fit.pearson_chi2 < 1e-6
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = s.fit_glm(X, np.array([0.0, 1.0, 0.0, 1.0]), family="binomial", intercept=0)
    assert fit.fitted_at_bounds == 0


def test_fit_glm_gaussian_is_least_squares():
    n = 100
    X = np.column_stack([np.ones(n), rng.normal(size=(n, 3))])
    y = X @ [1.0, 2.0, -1.0, 0.5] + rng.normal(size=n)
    fit = s.fit_glm(X, y, family="gaussian")
    np.testing.assert_allclose(fit.coef, np.linalg.lstsq(X, y, rcond=None)[0], rtol=1e-9)


def test_fit_softmax_matches_sklearn_unpenalised():
    n = 300
    x = rng.normal(size=(n, 2))
    logits = np.column_stack([np.zeros(n), x @ [1.0, -1.0], x @ [-0.5, 0.8]])
    y = np.array([rng.choice(3, p=pp) for pp in np.exp(sp.log_softmax(logits, axis=1))])
    fit = s.fit_softmax(x, y, l2=0.0)
    ref = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10000).fit(x, y)
    np.testing.assert_allclose(fit.coef, ref.coef_, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(fit.intercept, ref.intercept_, rtol=1e-5, atol=1e-6)
    yb = (y == 0).astype(int)
    fb = s.fit_softmax(x, yb, l2=0.0)
    rb = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10000).fit(x, yb)
    np.testing.assert_allclose(fb.coef, rb.coef_, rtol=1e-5, atol=1e-6)


def test_fit_quantile_minimises_pinball():
    n = 80
    X = np.column_stack([np.ones(n), rng.normal(size=n)])
    y = X @ [1.0, 2.0] + rng.standard_t(3, size=n)
    fit = s.fit_quantile(X, y, quantile=0.3)
    obj = lambda b: mean_pinball_loss(y, X @ b, alpha=0.3) * n  # noqa: E731
    assert fit.objective == pytest.approx(obj(np.array(fit.coef)), rel=1e-10)
    for d in ([1e-3, 0], [0, 1e-3], [-1e-3, 0], [0, -1e-3]):
        assert obj(np.array(fit.coef) + d) >= fit.objective - 1e-9


def test_temperature_scale_minimises_nll():
    z = rng.normal(scale=3, size=(200, 4))
    y = np.array([rng.choice(4, p=pp) for pp in np.exp(sp.log_softmax(z / 2.5, axis=1))])
    t = s.temperature_scale(z, y).temperature
    nll = lambda T: -sp.log_softmax(z / T, axis=1)[np.arange(200), y].mean()  # noqa: E731
    assert nll(t) <= min(nll(t * 1.01), nll(t / 1.01))
