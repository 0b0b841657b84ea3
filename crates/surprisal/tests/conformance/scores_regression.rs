//! Regression scores (scikit-learn) and the CRPS (properscoring), through `surprisal::score`.

use crate::Handler;
use crate::case::{Case, Fail, Got};
use surprisal::score;

pub fn handlers() -> Vec<(&'static str, Handler)> {
    vec![
        ("mean_squared_error", |c| pair(c, score::mean_squared_error::<f64>) as Result<Got, Fail>),
        ("mean_absolute_error", |c| pair(c, score::mean_absolute_error::<f64>)),
        ("r2_score", |c| pair(c, score::r2_score::<f64>)),
        ("mean_pinball_loss", |c| {
            let a = c.f64_param("alpha")?;
            pair(c, |y, p, w| score::mean_pinball_loss(y, p, a, w))
        }),
        ("d2_pinball_score", |c| {
            let a = c.f64_param("alpha")?;
            pair(c, |y, p, w| score::d2_pinball_score(y, p, a, w))
        }),
        ("mean_poisson_deviance", |c| pair(c, score::mean_poisson_deviance::<f64>)),
        ("mean_gamma_deviance", |c| pair(c, score::mean_gamma_deviance::<f64>)),
        ("mean_tweedie_deviance", |c| {
            let power = c.f64_param("power")?;
            pair(c, |y, p, w| score::mean_tweedie_deviance(y, p, power, w))
        }),
        ("d2_tweedie_score", |c| {
            let power = c.f64_param("power")?;
            pair(c, |y, p, w| score::d2_tweedie_score(y, p, power, w))
        }),
        ("crps_gaussian", crps_gaussian),
        ("crps_ensemble", crps_ensemble),
    ]
}

/// A scalar score of (target, prediction, optional sample_weight).
fn pair(c: &Case, f: impl Fn(&[f64], &[f64], Option<&[f64]>) -> surprisal::Result<f64>) -> Result<Got, Fail> {
    let y = &c.input("target")?.data;
    let p = &c.input("prediction")?.data;
    let w = c.opt_input("sample_weight").map(|a| a.data.as_slice());
    Ok(Got::value(vec![f(y, p, w)?]))
}

fn crps_gaussian(c: &Case) -> Result<Got, Fail> {
    let y = &c.input("target")?.data;
    let out = score::crps_gaussian(y, &c.input("loc")?.data, &c.input("scale")?.data)?;
    Ok(Got::value(out))
}

fn crps_ensemble(c: &Case) -> Result<Got, Fail> {
    let y = &c.input("target")?.data;
    let ens = c.input("ensemble")?;
    let w = c.opt_input("weights").map(|a| a.data.as_slice());
    let fair = c.bool_param("fair", false);
    if ens.shape.len() != 2 || ens.shape[0] != y.len() {
        return Err(Fail::Error(format!("ensemble shape {:?} for {} targets", ens.shape, y.len())));
    }
    Ok(Got::value(score::crps_ensemble(y, &ens.data, w, fair)?))
}
