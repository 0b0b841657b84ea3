//! Penalised softmax and logistic regression (scikit-learn `LogisticRegression`).

use crate::Handler;
use crate::case::{Case, Fail, Got};
use surprisal::fit::{LogisticOptions, logistic_regression, softmax_regression};

pub fn handlers() -> Vec<(&'static str, Handler)> {
    vec![("softmax_regression_fit", softmax_fit as Handler)]
}

/// `params.objective`: Σᵢ NLLᵢ + ½·l2·‖coef‖², intercept unpenalised; two classes use one
/// coefficient vector (logistic), three or more the softmax with Σ_k intercept_k = 0.
fn softmax_fit(c: &Case) -> Result<Got, Fail> {
    let x = c.input("X")?;
    if x.shape.len() != 2 {
        return Err(format!("X must be 2-D, got shape {:?}", x.shape).into());
    }
    let p = x.shape[1];
    let y = c.input("y")?.ints();
    let n_classes = match c.f64_param("n_classes") {
        Ok(k) => k as usize,
        Err(_) => y.iter().copied().max().map_or(0, |m| m as usize + 1),
    };
    let l2 = c.f64_param("l2")?;
    let fit_intercept = c.bool_param("fit_intercept", true);
    let w = c.opt_input("sample_weight").map(|a| a.data.clone());
    let mut opts = LogisticOptions { l2, fit_intercept, ..Default::default() };
    opts.sample_weight = w.as_deref();
    let mut got = Got::default();
    let (coef, intercept, nll, objective) = if n_classes == 2 {
        let f = logistic_regression(&x.data, p, &y, &opts)?;
        if !f.report.converged() {
            return Err(format!("not converged: {:?}", f.report).into());
        }
        (f.coef, vec![f.intercept], f.nll, f.objective)
    } else {
        let f = softmax_regression(&x.data, p, &y, n_classes, &opts)?;
        if !f.report.converged() {
            return Err(format!("not converged: {:?}", f.report).into());
        }
        (f.coef, f.intercept, f.nll, f.objective)
    };
    got.named.insert("coef".into(), coef);
    got.named.insert("intercept".into(), intercept);
    got.named.insert("objective".into(), vec![objective]);
    got.named.insert("loglike".into(), vec![-nll]);
    Ok(got)
}
