//! `surprisal explain LOSS`.

use crate::error::CliResult;
use clap::Args;

/// Arguments of `surprisal explain`.
#[derive(Args, Debug)]
pub struct ExplainArgs {
    /// The loss's name (see `surprisal losses`).
    pub loss: String,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `surprisal explain`.
pub fn run(_a: &ExplainArgs) -> CliResult<()> {
    Ok(())
}
