//! Maximum-likelihood fits on real data (statsmodels, scikit-learn), through `surprisal::fit`.
//!
//! One handler per op; each reads its inputs and parameters, fits, and returns the named outputs
//! the case lists (`coef`, `deviance`, `stderr`, `loglike`, ...).

use crate::Handler;
use crate::case::{Case, Fail, Got};
use surprisal::fit::glm::{Glm, GlmFamily};
use surprisal::link::Link;

pub fn handlers() -> Vec<(&'static str, Handler)> {
    vec![("glm_fit", glm_fit)]
}

/// A numeric parameter that may be absent.
fn opt_f64(c: &Case, name: &str) -> Option<f64> {
    c.params.get(name).and_then(serde_json::Value::as_f64)
}

/// statsmodels `GLM(y, X, family, offset, exposure, var_weights).fit()`.
fn glm_fit(c: &Case) -> Result<Got, Fail> {
    let x = c.input("X")?;
    let y = &c.input("y")?.data;
    let p = x.cols();
    // statsmodels' defaults: Tweedie(var_power=1), NegativeBinomial(alpha=1).
    let power = opt_f64(c, "power").or(opt_f64(c, "var_power")).or(Some(1.0));
    let alpha = opt_f64(c, "alpha").or(Some(1.0));
    let family = GlmFamily::parse(&c.str_param("family")?.to_lowercase(), power, alpha)?;
    let mut glm = Glm::new(family);
    if let Ok(link) = c.str_param("link") {
        // statsmodels' class names as well as ours.
        let name = match link.to_lowercase().as_str() {
            "inverse_power" | "inversepower" => "inverse".to_string(),
            "cloglog" | "clog_log" => "cloglog".to_string(),
            "inversesquared" => "inverse_squared".to_string(),
            other => other.to_string(),
        };
        glm = glm.link(Link::parse(&name)?);
    }
    if let Some(j) = c.params.get("intercept_column").and_then(serde_json::Value::as_u64) {
        glm = glm.intercept(j as usize);
    }
    if let Some(w) = c.opt_input("weights") {
        glm = glm.weights(&w.data);
    }
    if let Some(o) = c.opt_input("offset") {
        glm = glm.offset(&o.data);
    }
    if let Some(e) = c.opt_input("exposure") {
        glm = glm.exposure(&e.data);
    }
    let fit = glm.fit(&x.data, p, y)?;
    let mut got = Got::default();
    got.named.insert("coef".into(), fit.coef.clone());
    got.named.insert("stderr".into(), fit.stderr.clone());
    got.named.insert("deviance".into(), vec![fit.deviance]);
    got.named.insert("loglike".into(), vec![fit.loglike]);
    got.named.insert("null_deviance".into(), vec![fit.null_deviance]);
    got.named.insert("aic".into(), vec![fit.aic]);
    got.named.insert("pearson_chi2".into(), vec![fit.pearson_chi2]);
    Ok(got)
}
