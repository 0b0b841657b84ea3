//! `surprisal`: score predictions, fit and compare models by maximum likelihood, and explain any
//! loss as the negative log-likelihood of a named model.
//!
//! Every failure prints one line on stderr naming the file, row, column and value, and exits with
//! code 1 (2 for usage errors); nothing panics and no partial output file is left behind. When the
//! reader of standard output goes away (`surprisal tour | head`), the command stops quietly with
//! code 0, as the reader asked.

/// `print!` to standard output that returns the write error as a [`error::CliError`] instead of
/// panicking, so that a closed pipe ends the command cleanly.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        write!(std::io::stdout().lock(), $($arg)*).map_err($crate::error::CliError::stdout)
    }};
}

/// `println!` to standard output that returns the write error as a [`error::CliError`] instead
/// of panicking, so that a closed pipe ends the command cleanly.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*).map_err($crate::error::CliError::stdout)
    }};
}

mod cmd;
mod error;
mod input;
mod output;
mod parquet;
mod plot;

use clap::{Parser, Subcommand};
use error::CliResult;

/// Losses are likelihoods: score, fit, compare and explain.
#[derive(Parser, Debug)]
#[command(name = "surprisal", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// List the named losses and the model each one is the NLL of.
    Losses,
    /// Rank families (hence losses) for a column by k-fold held-out NLL and AIC.
    Compare(cmd::compare::CompareArgs),
    /// Score predictions (binary, multiclass or regression) in one streaming pass.
    Score(cmd::score::ScoreArgs),
    /// Explain a loss as the NLL of a model, with numbers computed through the library.
    Explain(cmd::explain::ExplainArgs),
    /// Fit a regression (GLM, quantile, Student-t, Huber) by maximum likelihood.
    Fit(cmd::fit::FitArgs),
    /// Predict the mean from a model saved by `fit --save`.
    Predict(cmd::predict::PredictArgs),
    /// Fit a recalibration map (temperature, Platt, isotonic, vector) and apply it to a file.
    Calibrate(cmd::calibrate::CalibrateArgs),
    /// A tour on embedded data: losses as likelihoods, held-out NLL, calibration, a GLM.
    Tour(cmd::tour::TourArgs),
    /// Time the fused kernels against a memory copy of the same bytes.
    Bench(cmd::bench::BenchArgs),
}

fn run(cli: Cli) -> CliResult<()> {
    match cli.command {
        Command::Losses => {
            for l in surprisal::loss::catalogue() {
                outln!("{:<32} {}", l.name, l.summary)?;
            }
            Ok(())
        }
        Command::Compare(a) => cmd::compare::run(&a),
        Command::Score(a) => cmd::score::run(&a),
        Command::Explain(a) => cmd::explain::run(&a),
        Command::Fit(a) => cmd::fit::run(&a),
        Command::Predict(a) => cmd::predict::run(&a),
        Command::Calibrate(a) => cmd::calibrate::run(&a),
        Command::Tour(a) => cmd::tour::run(&a),
        Command::Bench(a) => cmd::bench::run(&a),
    }
}

fn main() {
    let cli = Cli::parse();
    if let Err(e) = run(cli) {
        if e.is_broken_pipe() {
            // The reader has all it wanted; there is nothing to report.
            std::process::exit(0);
        }
        eprintln!("surprisal: {e}");
        std::process::exit(e.exit_code());
    }
}
