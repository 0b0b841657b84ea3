//! `surprisal fit FILE --target y --features a,b --family poisson`: a regression fitted by maximum
//! likelihood — a GLM (`gaussian`, `bernoulli`, `binomial`, `poisson`, `gamma`,
//! `inverse_gaussian`, `tweedie`, `negative_binomial`), a linear quantile regression
//! (`quantile`, the asymmetric-Laplace likelihood), or a robust regression (`student_t`, `huber`).
//! Prints a summary (or JSON) and optionally saves the model for `surprisal predict`.

use crate::error::{CliError, CliResult};
use crate::input::Table;
use crate::output::write_atomic;
use clap::Args;
use serde_json::{Value, json};
use surprisal::fit::glm::{Glm, GlmFamily};
use surprisal::link::Link;

/// The GLM families by their command-line names.
pub const GLM_FAMILIES: [&str; 8] = [
    "gaussian",
    "bernoulli",
    "binomial",
    "poisson",
    "gamma",
    "inverse_gaussian",
    "tweedie",
    "negative_binomial",
];

/// The other regressions.
pub const OTHER_FAMILIES: [&str; 3] = ["quantile", "student_t", "huber"];

/// The name of the intercept term.
pub const INTERCEPT: &str = "Intercept";

/// Arguments of `surprisal fit`.
#[derive(Args, Debug)]
pub struct FitArgs {
    /// CSV or TSV file with a header row (`-` for standard input).
    pub file: String,
    /// The response column.
    #[arg(long)]
    pub target: String,
    /// Feature columns, comma-separated.
    #[arg(long, value_delimiter = ',', conflicts_with = "all")]
    pub features: Vec<String>,
    /// Use every column except the target, weights, offset and exposure as a feature.
    #[arg(long)]
    pub all: bool,
    /// gaussian, bernoulli, binomial, poisson, gamma, inverse_gaussian, tweedie,
    /// negative_binomial, quantile, student_t or huber.
    #[arg(long, value_parser = crate::input::choice_name)]
    pub family: String,
    /// The link of a GLM (default: the family's canonical link).
    #[arg(long, value_parser = crate::input::choice_name)]
    pub link: Option<String>,
    /// Column of prior (variance) weights.
    #[arg(long)]
    pub weights: Option<String>,
    /// Column of offsets, added to the linear predictor.
    #[arg(long)]
    pub offset: Option<String>,
    /// Column of exposures (offset log e).
    #[arg(long)]
    pub exposure: Option<String>,
    /// The negative binomial's overdispersion α (estimated when not given).
    #[arg(long)]
    pub alpha: Option<f64>,
    /// The Tweedie variance power.
    #[arg(long)]
    pub power: Option<f64>,
    /// The quantile τ in (0, 1) of `--family quantile`.
    #[arg(long)]
    pub quantile: Option<f64>,
    /// The Student-t degrees of freedom ν, held fixed (estimated when not given).
    #[arg(long)]
    pub df: Option<f64>,
    /// Fit without an intercept column.
    #[arg(long)]
    pub no_intercept: bool,
    /// Print JSON instead of a summary.
    #[arg(long)]
    pub json: bool,
    /// Write the fitted model as JSON to this path (atomically).
    #[arg(long)]
    pub save: Option<String>,
}

/// A fitted model as saved for `predict`: η = intercept + Σ βⱼ xⱼ (+ offset, + log exposure),
/// μ = g⁻¹(η).
pub struct SavedModel {
    /// `glm`, `quantile`, `student_t` or `huber`.
    pub kind: String,
    /// The family name.
    pub family: String,
    /// The link name.
    pub link: String,
    /// Feature names (without the intercept).
    pub features: Vec<String>,
    /// One coefficient per feature.
    pub coefficients: Vec<f64>,
    /// Whether there is an intercept.
    pub intercept: bool,
    /// The intercept's value (0 when none).
    pub intercept_value: f64,
    /// The dispersion (scale) of the fit.
    pub dispersion: f64,
    /// The offset column, if one was used.
    pub offset: Option<String>,
    /// The exposure column, if one was used.
    pub exposure: Option<String>,
}

impl SavedModel {
    /// The model as JSON.
    pub fn to_json(&self) -> Value {
        json!({
            "format": "surprisal-model",
            "version": 1,
            "kind": self.kind,
            "family": self.family,
            "link": self.link,
            "features": self.features,
            "coefficients": self.coefficients,
            "intercept": self.intercept,
            "intercept_value": self.intercept_value,
            "dispersion": self.dispersion,
            "offset": self.offset,
            "exposure": self.exposure,
        })
    }

    /// Reads a model from JSON; errors name the missing or malformed field.
    pub fn from_json(file: &str, v: &Value) -> CliResult<SavedModel> {
        let bad = |field: &str, what: &str| CliError::input(file, format!("model field `{field}`: {what}"));
        let string = |field: &str| -> CliResult<String> {
            v.get(field)
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| bad(field, "missing or not a string"))
        };
        let number = |field: &str| -> CliResult<f64> {
            v.get(field).and_then(Value::as_f64).ok_or_else(|| bad(field, "missing or not a number"))
        };
        let opt_string = |field: &str| -> CliResult<Option<String>> {
            match v.get(field) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(bad(field, "not a string")),
            }
        };
        if string("format")? != "surprisal-model" {
            return Err(bad("format", "expected \"surprisal-model\""));
        }
        let features: Vec<String> = v
            .get("features")
            .and_then(Value::as_array)
            .ok_or_else(|| bad("features", "missing or not an array"))?
            .iter()
            .map(|s| {
                s.as_str().map(str::to_string).ok_or_else(|| bad("features", "an entry is not a string"))
            })
            .collect::<CliResult<_>>()?;
        let coefficients: Vec<f64> = v
            .get("coefficients")
            .and_then(Value::as_array)
            .ok_or_else(|| bad("coefficients", "missing or not an array"))?
            .iter()
            .map(|s| s.as_f64().ok_or_else(|| bad("coefficients", "an entry is not a number")))
            .collect::<CliResult<_>>()?;
        if coefficients.len() != features.len() {
            return Err(bad(
                "coefficients",
                &format!("{} coefficients for {} features", coefficients.len(), features.len()),
            ));
        }
        let link = string("link")?;
        Link::parse(&link).map_err(|e| bad("link", &e.to_string()))?;
        let intercept = v
            .get("intercept")
            .and_then(Value::as_bool)
            .ok_or_else(|| bad("intercept", "missing or not a boolean"))?;
        Ok(SavedModel {
            kind: string("kind")?,
            family: string("family")?,
            link,
            features,
            coefficients,
            intercept,
            intercept_value: if intercept { number("intercept_value")? } else { 0.0 },
            dispersion: number("dispersion")?,
            offset: opt_string("offset")?,
            exposure: opt_string("exposure")?,
        })
    }
}

/// The design: row-major n × p, with column names.
struct Design {
    x: Vec<f64>,
    names: Vec<String>,
}

fn design(table: &Table, features: &[String], intercept: bool) -> CliResult<Design> {
    let cols: Vec<Vec<f64>> = features.iter().map(|f| table.numbers(f)).collect::<CliResult<_>>()?;
    let n = table.rows.len();
    let p = cols.len() + usize::from(intercept);
    let mut x = Vec::with_capacity(n * p);
    for i in 0..n {
        if intercept {
            x.push(1.0);
        }
        x.extend(cols.iter().map(|c| c[i]));
    }
    let mut names: Vec<String> = Vec::with_capacity(p);
    if intercept {
        names.push(INTERCEPT.to_string());
    }
    names.extend(features.iter().cloned());
    Ok(Design { x, names })
}

/// Turns a library error into a located one where it names an input row.
fn located(
    file: &str,
    context: &str,
    columns: &[(&str, String)],
    design: &[String],
    e: surprisal::Error,
) -> CliError {
    use surprisal::Error as E;
    let column_of = |name: &str| columns.iter().find(|(n, _)| *n == name).map(|(_, c)| c.clone());
    match e {
        E::InvalidValue { name, value, index: Some(i), reason } if column_of(name).is_some() => {
            CliError::Input {
                file: file.to_string(),
                row: Some(i as u64 + 1),
                column: column_of(name),
                value: Some(value.to_string()),
                message: reason.to_string(),
            }
        }
        E::InvalidEntry { name: "X", row, col, value, reason } => CliError::Input {
            file: file.to_string(),
            row: Some(row as u64 + 1),
            column: col.and_then(|j| design.get(j).cloned()),
            value: Some(value.to_string()),
            message: reason.to_string(),
        },
        E::InvalidEntry { name, row, value, reason, .. } if column_of(name).is_some() => CliError::Input {
            file: file.to_string(),
            row: Some(row as u64 + 1),
            column: column_of(name),
            value: Some(value.to_string()),
            message: reason.to_string(),
        },
        e => CliError::library(format!("{file}: {context}"), e),
    }
}

fn print_json(v: &Value) -> CliResult<()> {
    outln!("{}", serde_json::to_string_pretty(v).expect("JSON of numbers and strings"))
}

fn by_name(names: &[String], values: &[f64]) -> Value {
    Value::Object(names.iter().zip(values).map(|(n, v)| (n.clone(), json!(v))).collect())
}

fn save(a: &FitArgs, m: &SavedModel) -> CliResult<()> {
    if let Some(path) = &a.save {
        let text = serde_json::to_string_pretty(&m.to_json()).expect("JSON of numbers and strings");
        write_atomic(path, format!("{text}\n").as_bytes())?;
    }
    Ok(())
}

/// Runs `surprisal fit`.
pub fn run(a: &FitArgs) -> CliResult<()> {
    if let Some(path) = &a.save {
        crate::output::refuse_stdout("--save", path)?;
    }
    let fam = a.family.as_str();
    if !GLM_FAMILIES.contains(&fam) && !OTHER_FAMILIES.contains(&fam) {
        return Err(CliError::Usage(format!(
            "unknown family `{fam}` (families: {}, {})",
            GLM_FAMILIES.join(", "),
            OTHER_FAMILIES.join(", ")
        )));
    }
    let link = match &a.link {
        None => None,
        Some(l) => Some(Link::parse(l).map_err(|e| CliError::Usage(format!("--link {l}: {e}")))?),
    };
    if !a.all && a.features.is_empty() {
        return Err(CliError::Usage("give --features a,b,… or --all".into()));
    }
    if fam == "quantile" && a.quantile.is_none() {
        return Err(CliError::Usage("--family quantile needs --quantile τ".into()));
    }
    if OTHER_FAMILIES.contains(&fam) && (a.offset.is_some() || a.exposure.is_some() || link.is_some()) {
        return Err(CliError::Usage(format!(
            "--offset, --exposure and --link apply to GLM families, not `{fam}`"
        )));
    }
    let table = Table::read(&a.file)?;
    let extra: Vec<&String> = [&a.weights, &a.offset, &a.exposure].into_iter().flatten().collect();
    let features: Vec<String> = if a.all {
        table.header.iter().filter(|h| **h != a.target && !extra.contains(h)).cloned().collect()
    } else {
        a.features.clone()
    };
    if features.is_empty() && a.no_intercept {
        return Err(CliError::Usage("no features and no intercept: nothing to fit".into()));
    }
    // A feature named twice is a collinear design, and the target among the features fits it
    // exactly: both are mistakes in the command, said as such.
    for (i, f) in features.iter().enumerate() {
        if features[..i].contains(f) {
            return Err(CliError::Usage(format!("--features names `{f}` twice")));
        }
        if *f == a.target {
            return Err(CliError::Usage(format!(
                "`{f}` is the --target column; it cannot also be a feature"
            )));
        }
    }
    let y = table.numbers(&a.target)?;
    let w = a.weights.as_deref().map(|c| table.numbers(c)).transpose()?;
    let mut columns: Vec<(&str, String)> = vec![("y", a.target.clone())];
    if let Some(c) = &a.weights {
        columns.push(("weights", c.clone()));
    }
    let intercept = !a.no_intercept;
    match fam {
        "quantile" => fit_quantile(a, &table, &features, intercept, &y, w.as_deref(), &columns),
        "student_t" | "huber" => fit_robust(a, &table, &features, intercept, &y, w.as_deref(), &columns),
        _ => {
            let off = a.offset.as_deref().map(|c| table.numbers(c)).transpose()?;
            let exp = a.exposure.as_deref().map(|c| table.numbers(c)).transpose()?;
            if let Some(c) = &a.offset {
                columns.push(("offset", c.clone()));
            }
            if let Some(c) = &a.exposure {
                columns.push(("exposure", c.clone()));
            }
            let family = GlmFamily::parse(fam, a.power, a.alpha)
                .map_err(|e| CliError::Usage(format!("--family {fam}: {e}")))?;
            let link = link.unwrap_or(family.default_link());
            if !family.links().contains(&link) {
                let ok: Vec<&str> = family.links().iter().map(|l| l.name()).collect();
                return Err(CliError::Usage(format!(
                    "--link {}: not a link of the {fam} family (links: {})",
                    link.name(),
                    ok.join(", ")
                )));
            }
            let d = design(&table, &features, intercept)?;
            let p = d.names.len();
            let mut glm = Glm::new(family).link(link);
            glm = if intercept { glm.intercept(0) } else { glm.no_intercept() };
            if let Some(w) = &w {
                glm = glm.weights(w);
            }
            if let Some(o) = &off {
                glm = glm.offset(o);
            }
            if let Some(e) = &exp {
                glm = glm.exposure(e);
            }
            let r = glm.fit(&d.x, p, &y).map_err(|e| {
                located(&a.file, &format!("fitting the {fam} GLM of `{}`", a.target), &columns, &d.names, e)
            })?;
            let model = SavedModel {
                kind: "glm".into(),
                family: fam.into(),
                link: link.name().into(),
                features: features.clone(),
                coefficients: r.coef[usize::from(intercept)..].to_vec(),
                intercept,
                intercept_value: if intercept { r.coef[0] } else { 0.0 },
                dispersion: r.scale,
                offset: a.offset.clone(),
                exposure: a.exposure.clone(),
            };
            if a.json {
                let lo: Vec<f64> = r.conf_int.iter().map(|c| c[0]).collect();
                let hi: Vec<f64> = r.conf_int.iter().map(|c| c[1]).collect();
                print_json(&json!({
                    "family": fam,
                    "link": link.name(),
                    "nobs": r.nobs,
                    "df_resid": r.df_resid,
                    "df_model": r.df_model,
                    "terms": d.names,
                    "coefficients": by_name(&d.names, &r.coef),
                    "std_errors": by_name(&d.names, &r.stderr),
                    "z": by_name(&d.names, &r.z),
                    "p_values": by_name(&d.names, &r.p_values),
                    "conf_int_lower": by_name(&d.names, &lo),
                    "conf_int_upper": by_name(&d.names, &hi),
                    "deviance": r.deviance,
                    "null_deviance": r.null_deviance,
                    "log_likelihood": r.loglike,
                    "aic": r.aic,
                    "bic": r.bic,
                    "bic_llf": r.bic_llf,
                    "pearson_chi2": r.pearson_chi2,
                    "scale": r.scale,
                    "alpha": r.alpha,
                    "iterations": r.iterations,
                    "converged": r.converged,
                    "fitted_probabilities_0_or_1": r.fitted_at_bounds(),
                }))?;
            } else {
                let names: Vec<&str> = d.names.iter().map(String::as_str).collect();
                out!("{}", r.summary(Some(&names)))?;
                if !r.converged {
                    outln!("warning: the fit did not converge in {} iterations", r.iterations)?;
                }
                if let Some(w) = r.separation_warning() {
                    outln!("warning: {w}")?;
                }
            }
            save(a, &model)
        }
    }
}

fn fit_quantile(
    a: &FitArgs,
    table: &Table,
    features: &[String],
    intercept: bool,
    y: &[f64],
    w: Option<&[f64]>,
    columns: &[(&str, String)],
) -> CliResult<()> {
    use surprisal::fit::quantile::{QuantileOptions, quantile_regression};
    let tau = a.quantile.expect("checked by run");
    if !(tau > 0.0 && tau < 1.0) {
        return Err(CliError::Usage(format!("--quantile must be in (0, 1), got {tau}")));
    }
    let d = design(table, features, intercept)?;
    let p = d.names.len();
    let x = ndarray::ArrayView2::from_shape((y.len(), p), &d.x).expect("n × p design");
    let r = quantile_regression(x, y, tau, w, &QuantileOptions::default()).map_err(|e| {
        located(&a.file, &format!("fitting the τ = {tau} quantile regression"), columns, &d.names, e)
    })?;
    if a.json {
        print_json(&json!({
            "family": "quantile",
            "quantile": tau,
            "terms": d.names,
            "coefficients": by_name(&d.names, &r.coef),
            "objective": r.objective,
            "scale": r.scale,
            "log_likelihood": r.loglike,
            "iterations": r.iterations,
            "converged": r.converged,
            "unique": r.unique,
        }))?;
    } else {
        outln!("Linear quantile regression (asymmetric-Laplace likelihood), τ = {tau}")?;
        outln!("{}: `{}`, n = {}", a.file, a.target, y.len())?;
        outln!()?;
        outln!("{:<24} {:>14}", "", "coef")?;
        for (n, c) in d.names.iter().zip(&r.coef) {
            outln!("{n:<24} {c:>14.6}")?;
        }
        outln!()?;
        outln!(
            "pinball objective {:.6}, scale σ̂ {:.6}, log-likelihood {:.4}",
            r.objective,
            r.scale,
            r.loglike
        )?;
        if !r.unique {
            outln!("note: the solution is not unique (a face of optimal solutions)")?;
        }
    }
    save(
        a,
        &SavedModel {
            kind: "quantile".into(),
            family: "quantile".into(),
            link: "identity".into(),
            features: features.to_vec(),
            coefficients: r.coef[usize::from(intercept)..].to_vec(),
            intercept,
            intercept_value: if intercept { r.coef[0] } else { 0.0 },
            dispersion: r.scale,
            offset: None,
            exposure: None,
        },
    )
}

fn fit_robust(
    a: &FitArgs,
    table: &Table,
    features: &[String],
    intercept: bool,
    y: &[f64],
    w: Option<&[f64]>,
    columns: &[(&str, String)],
) -> CliResult<()> {
    use surprisal::fit::robust::{HuberOptions, StudentTOptions, huber_regression, student_t_regression};
    let d = design(table, features, false)?;
    let k = features.len();
    let fam = a.family.as_str();
    let ctx = format!("fitting the {fam} regression of `{}`", a.target);
    // Terms in the order printed: intercept first.
    let mut names: Vec<String> = Vec::new();
    if intercept {
        names.push(INTERCEPT.into());
    }
    names.extend(features.iter().cloned());
    // `limit`: why an unconverged fit did not converge, where that is known.
    let (coef, intercept_value, scale, se, extra, converged, limit) = if fam == "student_t" {
        let mut opts = StudentTOptions { fit_intercept: intercept, sample_weight: w, ..Default::default() };
        if let Some(nu) = a.df {
            opts.df = surprisal::fit::robust::Df::Fixed(nu);
        }
        let r = student_t_regression(&d.x, k, y, &opts)
            .map_err(|e| located(&a.file, &ctx, columns, &d.names, e))?;
        // θ = [β, (intercept), log σ, (log ν)]: reorder the standard errors to intercept first.
        let mut se: Vec<f64> = Vec::new();
        if intercept {
            se.push(r.stderr[k]);
        }
        se.extend_from_slice(&r.stderr[..k]);
        let limit = (a.df.is_none() && r.df_at_normal_limit()).then(|| {
            format!(
                ": the likelihood keeps rising as ν → ∞ (ν = {:.3e} where it stopped), so the residuals' \
                 tails are no heavier than the normal's and the fit tends to least squares (--family \
                 gaussian); --df holds ν fixed",
                r.df
            )
        });
        let extra = json!({"df": r.df, "nll": r.nll});
        (r.coef, r.intercept, r.scale, Some(se), extra, r.report.converged(), limit)
    } else {
        let opts = HuberOptions { fit_intercept: intercept, sample_weight: w, ..Default::default() };
        let r =
            huber_regression(&d.x, k, y, &opts).map_err(|e| located(&a.file, &ctx, columns, &d.names, e))?;
        let outliers = r.outliers.iter().filter(|o| **o).count();
        (
            r.coef,
            r.intercept,
            r.scale,
            None,
            json!({"objective": r.objective, "outliers": outliers}),
            r.report.converged(),
            None,
        )
    };
    let mut all = Vec::new();
    if intercept {
        all.push(intercept_value);
    }
    all.extend_from_slice(&coef);
    if a.json {
        let mut doc = json!({
            "family": fam,
            "terms": names,
            "coefficients": by_name(&names, &all),
            "scale": scale,
            "converged": converged,
            "details": extra,
        });
        if let Some(se) = &se {
            doc["std_errors"] = by_name(&names, se);
        }
        print_json(&doc)?;
    } else {
        let what =
            if fam == "student_t" { "Student-t regression (maximum likelihood)" } else { "Huber regression" };
        outln!("{what}")?;
        outln!("{}: `{}`, n = {}", a.file, a.target, y.len())?;
        outln!()?;
        outln!("{:<24} {:>14} {:>12}", "", "coef", "std err")?;
        for (i, (n, c)) in names.iter().zip(&all).enumerate() {
            let s = se.as_ref().map_or("-".to_string(), |s| format!("{:.6}", s[i]));
            outln!("{n:<24} {c:>14.6} {s:>12}")?;
        }
        outln!()?;
        let details = if fam == "student_t" {
            let (df, nll) =
                (extra["df"].as_f64().unwrap_or(f64::NAN), extra["nll"].as_f64().unwrap_or(f64::NAN));
            let nu = match (a.df.is_some(), df < 1e5) {
                (true, _) => format!("{df} (fixed)"),
                (false, true) => format!("{df:.4} (estimated)"),
                (false, false) => format!("{df:.3e} (estimated)"),
            };
            format!("ν {nu}; NLL {nll:.6}")
        } else {
            let objective = extra["objective"].as_f64().unwrap_or(f64::NAN);
            format!(
                "objective {objective:.6}; {} of the {} rows outliers (|r| > εσ̂)",
                extra["outliers"],
                y.len()
            )
        };
        outln!("scale σ̂ {scale:.6}; {details}")?;
        if !converged {
            outln!("warning: the fit did not converge{}", limit.unwrap_or_default())?;
        }
    }
    save(
        a,
        &SavedModel {
            kind: fam.into(),
            family: fam.into(),
            link: "identity".into(),
            features: features.to_vec(),
            coefficients: coef,
            intercept,
            intercept_value,
            dispersion: scale,
            offset: None,
            exposure: None,
        },
    )
}
