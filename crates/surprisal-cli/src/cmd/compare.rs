//! `surprisal compare FILE --target y --families gaussian,laplace,student_t`: which family — which
//! loss — fits this column best, by k-fold held-out NLL (nats per observation, with its standard
//! error) and by AIC.

use crate::error::{CliError, CliResult};
use crate::input::Table;
use clap::Args;
use surprisal::fit::compare::{FAMILIES, compare, loss_for_family};

/// Arguments of `surprisal compare`.
#[derive(Args, Debug)]
pub struct CompareArgs {
    /// CSV or TSV file with a header row (`-` for standard input).
    pub file: String,
    /// The column to model.
    #[arg(long)]
    pub target: String,
    /// Families to compare, comma-separated (e.g. gaussian,laplace,student_t,logistic).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "gaussian,laplace,student_t,logistic",
        value_parser = crate::input::choice_name
    )]
    pub families: Vec<String>,
    /// Number of cross-validation folds.
    #[arg(long, default_value_t = 5)]
    pub folds: usize,
    /// Seed of the fold assignment.
    #[arg(long, default_value_t = 2026)]
    pub seed: u64,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Runs `surprisal compare`.
pub fn run(a: &CompareArgs) -> CliResult<()> {
    let table = Table::read(&a.file)?;
    let y = table.numbers(&a.target)?;
    if a.folds < 2 || a.folds > y.len() {
        return Err(CliError::Usage(format!(
            "--folds must be between 2 and the number of rows ({}), got {}",
            y.len(),
            a.folds
        )));
    }
    // `gaussian` is the normal's other name.
    fn canonical(g: &str) -> &str {
        if g == "gaussian" { "normal" } else { g }
    }
    for (i, f) in a.families.iter().enumerate() {
        if f != "gaussian" && !FAMILIES.contains(&f.as_str()) {
            return Err(CliError::Usage(format!("unknown family `{f}` (families: {})", FAMILIES.join(", "))));
        }
        if let Some(g) = a.families[..i].iter().find(|g| canonical(g) == canonical(f)) {
            return Err(CliError::Usage(format!(
                "--families names the family `{f}` twice (as `{g}` and `{f}`)"
            )));
        }
    }
    let names: Vec<&str> = a.families.iter().map(String::as_str).collect();
    let c = compare(&y, &names, a.folds, a.seed)
        .map_err(|e| CliError::library(format!("{}: comparing families on `{}`", a.file, a.target), e))?;
    if a.json {
        let ranked: Vec<_> = c
            .ranked
            .iter()
            .map(|s| {
                let params: serde_json::Map<String, serde_json::Value> = s
                    .fit
                    .names
                    .iter()
                    .zip(&s.fit.params)
                    .map(|(n, v)| (n.to_string(), (*v).into()))
                    .collect();
                serde_json::json!({
                    "family": s.family,
                    "heldout_nll": s.heldout_nll,
                    "heldout_se": s.heldout_se,
                    "aic": s.fit.aic,
                    "bic": s.fit.bic,
                    "log_likelihood": s.fit.log_likelihood,
                    "params": params,
                    "loss": loss_for_family(s.family).map(|l| l.0),
                })
            })
            .collect();
        let failed: Vec<_> =
            c.failed.iter().map(|(f, why)| serde_json::json!({"family": f, "reason": why})).collect();
        let doc = serde_json::json!({"n": c.n, "folds": c.folds, "target": a.target, "ranked": ranked, "failed": failed});
        outln!("{}", serde_json::to_string_pretty(&doc).expect("JSON of numbers and strings"))?;
        return Ok(());
    }
    outln!("{}: `{}`, n = {}, {}-fold cross-validation (seed {})", a.file, a.target, c.n, c.folds, a.seed)?;
    outln!()?;
    outln!(
        "{:<18} {:>14} {:>10} {:>12} {:>12}   parameters",
        "family",
        "held-out NLL",
        "± SE",
        "AIC",
        "BIC"
    )?;
    for s in &c.ranked {
        let params: Vec<String> =
            s.fit.names.iter().zip(&s.fit.params).map(|(n, v)| format!("{n}={v:.6}")).collect();
        outln!(
            "{:<18} {:>14.6} {:>10.6} {:>12.3} {:>12.3}   {}",
            s.family,
            s.heldout_nll,
            s.heldout_se,
            s.fit.aic,
            s.fit.bic,
            params.join(" ")
        )?;
    }
    for (f, why) in &c.failed {
        outln!("{f:<18} not fitted: {why}")?;
    }
    if let Some(best) = c.ranked.first() {
        outln!()?;
        out!("best by held-out NLL: {}", best.family)?;
        if let Some(aic) = c.best_by_aic()
            && aic.family != best.family
        {
            out!(" (by AIC: {})", aic.family)?;
        }
        outln!()?;
        if let Some((loss, why)) = loss_for_family(best.family) {
            outln!("so the loss to train with is {loss}: {why}")?;
        }
    }
    Ok(())
}
