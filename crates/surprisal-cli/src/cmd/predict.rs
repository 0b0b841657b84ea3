//! `surprisal predict model.json FILE [--out OUT.csv]`: the mean μ = g⁻¹(η) of a model saved by
//! `surprisal fit --save`, with η = intercept + Σ βⱼ xⱼ (+ offset, + log exposure), for each row of
//! FILE (feature columns found by name). Writes CSV to standard output, or atomically to OUT.

use crate::cmd::fit::SavedModel;
use crate::error::{CliError, CliResult};
use crate::input::Table;
use crate::output::write_atomic;
use clap::Args;
use surprisal::link::Link;

/// Arguments of `surprisal predict`.
#[derive(Args, Debug)]
pub struct PredictArgs {
    /// The model file written by `surprisal fit --save`.
    pub model: String,
    /// CSV or TSV file with the feature columns (`-` for standard input).
    pub file: String,
    /// Write the predictions here (atomically) instead of standard output (`-`: standard output).
    #[arg(long)]
    pub out: Option<String>,
}

/// Runs `surprisal predict`.
pub fn run(a: &PredictArgs) -> CliResult<()> {
    let text =
        std::fs::read_to_string(&a.model).map_err(|e| CliError::Io { file: a.model.clone(), source: e })?;
    let v: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| CliError::input(&a.model, format!("not a model file: invalid JSON ({e})")))?;
    let m = SavedModel::from_json(&a.model, &v)?;
    let link =
        Link::parse(&m.link).map_err(|e| CliError::input(&a.model, format!("model field `link`: {e}")))?;
    let table = Table::read(&a.file)?;
    let cols: Vec<Vec<f64>> = m.features.iter().map(|f| table.numbers(f)).collect::<CliResult<_>>()?;
    let off = m.offset.as_deref().map(|c| table.numbers(c)).transpose()?;
    let exp = match m.exposure.as_deref() {
        None => None,
        Some(c) => {
            let e = table.numbers(c)?;
            if let Some(i) = e.iter().position(|v| *v <= 0.0) {
                return Err(CliError::Input {
                    file: a.file.clone(),
                    row: Some(i as u64 + 1),
                    column: Some(c.to_string()),
                    value: Some(e[i].to_string()),
                    message: "an exposure must be > 0".into(),
                });
            }
            Some(e)
        }
    };
    let mut out = String::from("prediction\n");
    for i in 0..table.rows.len() {
        let mut eta = m.intercept_value;
        for (c, b) in cols.iter().zip(&m.coefficients) {
            eta += b * c[i];
        }
        if let Some(o) = &off {
            eta += o[i];
        }
        if let Some(e) = &exp {
            eta += e[i].ln();
        }
        let mu: f64 = link.inverse(eta);
        out.push_str(&format!("{mu}\n"));
    }
    match a.out.as_deref() {
        Some(path) if path != "-" => write_atomic(path, out.as_bytes()),
        _ => {
            use std::io::Write;
            let mut so = std::io::stdout().lock();
            so.write_all(out.as_bytes()).map_err(CliError::stdout)
        }
    }
}
