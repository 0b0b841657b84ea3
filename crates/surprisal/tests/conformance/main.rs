//! The conformance runner: every case of every op this library implements, from the project's copy
//! of the reference files (`tests/data/conformance/*.json`) and from `$SURPRISAL_CONFORMANCE_DIR`.
//!
//! - fails on any mismatch (`|got − want| ≤ atol + rtol·|want|` element by element, outputs and
//!   every listed gradient);
//! - prints a table per op (passed, failed, unsupported);
//! - lists the ops it does not implement, and fails on them when `SURPRISAL_CONFORMANCE_STRICT=1`;
//! - writes a JSON report to `$SURPRISAL_CONFORMANCE_REPORT` when set.

mod calibration;
mod case;
mod families;
mod fits;
mod fits_quantile;
mod fits_softmax;
mod losses;
mod losses_binary;
mod losses_regression;
mod losses_softmax;
mod num_ops;
mod scores_classification;
mod scores_regression;

use case::{Case, Fail, Got, Outcome};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A handler computes a case's outputs (and gradients) or says why it cannot.
pub type Handler = fn(&Case) -> Result<Got, Fail>;

fn registry() -> BTreeMap<&'static str, Handler> {
    let mut r: BTreeMap<&'static str, Handler> = BTreeMap::new();
    for (op, h) in num_ops::handlers()
        .into_iter()
        .chain(families::handlers())
        .chain(losses::handlers())
        .chain(losses_binary::handlers())
        .chain(losses_regression::handlers())
        .chain(losses_softmax::handlers())
        .chain(scores_regression::handlers())
        .chain(scores_classification::handlers())
        .chain(calibration::handlers())
        .chain(fits_quantile::handlers())
        .chain(fits_softmax::handlers())
        .chain(fits::handlers())
    {
        assert!(r.insert(op, h).is_none(), "op {op} registered twice");
    }
    r
}

fn case_files() -> Vec<PathBuf> {
    let mut dirs = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/conformance")];
    if let Ok(extra) = std::env::var("SURPRISAL_CONFORMANCE_DIR") {
        dirs.push(PathBuf::from(extra));
    }
    let mut files = Vec::new();
    for d in dirs {
        let entries = std::fs::read_dir(&d).unwrap_or_else(|e| panic!("cannot read {}: {e}", d.display()));
        let mut here: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        here.sort();
        files.extend(here);
    }
    files
}

#[derive(Default)]
struct Tally {
    passed: usize,
    failed: usize,
    unsupported: usize,
}

fn main() {
    let registry = registry();
    let strict = std::env::var("SURPRISAL_CONFORMANCE_STRICT").is_ok_and(|v| v == "1");
    let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
    let mut failures: Vec<(String, String, String)> = Vec::new();
    let mut total_cases = 0usize;
    let mut missing = std::collections::BTreeSet::new();
    for file in case_files() {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let cases = match case::load(&file) {
            Ok(c) => c,
            Err(e) => {
                failures.push((name.clone(), "<file>".into(), e));
                continue;
            }
        };
        for c in cases {
            total_cases += 1;
            let t = tallies.entry(c.op.clone()).or_default();
            let outcome = match registry.get(c.op.as_str()) {
                None => {
                    missing.insert(c.op.clone());
                    Outcome::Unsupported
                }
                Some(h) => match std::panic::catch_unwind(|| h(&c)) {
                    Ok(Ok(got)) => case::compare(&c, &got),
                    Ok(Err(Fail::Error(e))) => Outcome::Failed(e),
                    Ok(Err(Fail::Unsupported(what))) => {
                        missing.insert(format!("{} ({what})", c.op));
                        Outcome::Unsupported
                    }
                    Err(_) => Outcome::Failed("handler panicked".into()),
                },
            };
            match outcome {
                Outcome::Passed => t.passed += 1,
                Outcome::Unsupported => t.unsupported += 1,
                Outcome::Failed(detail) => {
                    t.failed += 1;
                    failures.push((name.clone(), c.id.clone(), detail));
                }
            }
        }
    }

    println!("\n{:<32} {:>7} {:>7} {:>12}", "op", "passed", "failed", "unsupported");
    println!("{}", "-".repeat(62));
    for (op, t) in &tallies {
        println!("{op:<32} {:>7} {:>7} {:>12}", t.passed, t.failed, t.unsupported);
    }
    let (p, f, u) =
        tallies.values().fold((0, 0, 0), |a, t| (a.0 + t.passed, a.1 + t.failed, a.2 + t.unsupported));
    println!("{}", "-".repeat(62));
    println!("{:<32} {p:>7} {f:>7} {u:>12}   ({total_cases} cases)", "total");
    if !missing.is_empty() {
        println!("\nnot implemented: {}", missing.iter().map(String::as_str).collect::<Vec<_>>().join(", "));
    }
    for (file, id, detail) in &failures {
        println!("FAIL {file} {id}: {detail}");
    }

    if let Ok(path) = std::env::var("SURPRISAL_CONFORMANCE_REPORT") {
        let ops: serde_json::Map<String, serde_json::Value> = tallies
            .iter()
            .map(|(op, t)| {
                (
                    op.clone(),
                    serde_json::json!({"passed": t.passed, "failed": t.failed, "unsupported": t.unsupported}),
                )
            })
            .collect();
        let fails: Vec<_> = failures
            .iter()
            .map(|(file, id, detail)| serde_json::json!({"file": file, "id": id, "detail": detail}))
            .collect();
        let report = serde_json::json!({"ops": ops, "failures": fails});
        std::fs::write(&path, serde_json::to_string_pretty(&report).unwrap())
            .unwrap_or_else(|e| panic!("cannot write report {path}: {e}"));
    }

    let failed_strict = strict && u > 0;
    // The closing line counts cases as a test runner would.
    println!("\nconformance: {p} passed, {f} failed, {u} skipped");
    if f > 0 || !failures.is_empty() || failed_strict || total_cases == 0 {
        if failed_strict {
            println!("strict mode: {u} cases of unimplemented ops");
        }
        std::process::exit(1);
    }
}
