//! Linear quantile regression (`quantile_fit`): the exact LP solution of the asymmetric-Laplace
//! maximum-likelihood problem, against statsmodels `QuantReg`.

use crate::Handler;
use crate::case::{Case, Fail, Got};
use surprisal::fit::quantile::{QuantileOptions, quantile_regression};

pub fn handlers() -> Vec<(&'static str, Handler)> {
    vec![("quantile_fit", quantile_fit as Handler)]
}

/// `X` (n × p, holding the intercept column), `y`, optional `weights`; `params.quantile` is τ.
/// Outputs `coef` and `objective` (the summed, weighted pinball loss).
fn quantile_fit(c: &Case) -> Result<Got, Fail> {
    let x = c.input("X")?;
    let y = c.input("y")?;
    let tau = c.f64_param("quantile")?;
    if x.shape.len() != 2 {
        return Err(format!("X must be 2-D, got shape {:?}", x.shape).into());
    }
    let xv = ndarray::ArrayView2::from_shape((x.shape[0], x.shape[1]), &x.data).map_err(|e| e.to_string())?;
    let w = c.opt_input("weights").map(|w| w.data.as_slice());
    let fit = quantile_regression(xv, &y.data, tau, w, &QuantileOptions::default())?;
    let mut got = Got::default();
    got.named.insert("coef".into(), fit.coef);
    got.named.insert("objective".into(), vec![fit.objective]);
    Ok(got)
}
