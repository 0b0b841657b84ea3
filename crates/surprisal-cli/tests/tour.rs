//! End-to-end test of `surprisal tour`: runs from an unrelated working directory on the embedded
//! data, prints every section, writes files that parse, and its key numbers are sane.

mod common;

use std::process::Command;

fn num(v: &serde_json::Value, path: &[&str]) -> f64 {
    let mut cur = v;
    for p in path {
        cur = &cur[*p];
    }
    cur.as_f64().unwrap_or_else(|| panic!("{path:?} is not a number: {cur}"))
}

#[test]
fn tour_runs_anywhere_and_writes_its_files() {
    let base = std::env::temp_dir().join(format!("surprisal-tour-test-{}", std::process::id()));
    let cwd = base.join("elsewhere");
    std::fs::create_dir_all(&cwd).unwrap();
    let out_dir = base.join("out").join("nested");
    let out = Command::new(env!("CARGO_BIN_EXE_surprisal"))
        .args(["tour", "--out", out_dir.to_str().unwrap()])
        .current_dir(&cwd)
        .output()
        .expect("the binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{stdout}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    for section in ["1. Engel", "2. Wine", "3. Longley", "4. Files", "held-out NLL", "Reliability diagram"] {
        assert!(stdout.contains(section), "no `{section}` in:\n{stdout}");
    }
    assert!(stdout.contains("wine_predictions.csv") && stdout.contains("summary.json"));

    // The JSON summary.
    let text = std::fs::read_to_string(out_dir.join("summary.json")).expect("summary.json written");
    let s: serde_json::Value = serde_json::from_str(&text).expect("summary.json parses");

    // Engel: five models, finite held-out NLLs with positive standard errors, ranked; the
    // heavy-tailed models beat the Gaussian; every declared map holds to rounding.
    let models = s["engel"]["models"].as_array().unwrap();
    assert_eq!(models.len(), 5);
    let nll: Vec<f64> = models.iter().map(|m| m["heldout_nll"].as_f64().unwrap()).collect();
    assert!(nll.windows(2).all(|w| w[0] <= w[1]), "not ranked: {nll:?}");
    assert!(models.iter().all(|m| m["heldout_se"].as_f64().unwrap() > 0.0));
    let by = |fam: &str| models.iter().find(|m| m["family"] == fam).unwrap();
    assert!(num(by("laplace"), &["heldout_nll"]) < num(by("normal"), &["heldout_nll"]));
    assert!(num(by("student_t"), &["heldout_nll"]) < num(by("normal"), &["heldout_nll"]));
    // Least squares on Engel (statsmodels OLS): foodexp = 147.4754 + 0.4852·income.
    assert!((num(by("normal"), &["intercept"]) - 147.4754).abs() < 1e-3);
    assert!((num(by("normal"), &["slope"]) - 0.485178).abs() < 1e-5);
    // LAD (R quantreg::rq, τ = ½): 81.48225 + 0.5601806·income.
    assert!((num(by("laplace"), &["intercept"]) - 81.48225).abs() < 1e-3);
    assert!((num(by("laplace"), &["slope"]) - 0.5601806).abs() < 1e-6);
    let maps = s["engel"]["declared_maps"].as_array().unwrap();
    assert_eq!(maps.len(), 5);
    for m in maps {
        assert!(m["max_abs_dev"].as_f64().unwrap() < 1e-8, "declared map off: {m}");
    }

    // Wine: accurate out-of-fold probabilities; temperature scaling does not hurt the NLL and
    // leaves the accuracy alone.
    let w = &s["wine"];
    let acc = num(w, &["before", "accuracy"]);
    assert!(acc > 0.9, "accuracy {acc}");
    assert_eq!(acc, num(w, &["after_temperature", "accuracy"]));
    let (nb, na) = (num(w, &["before", "log_loss_nats"]), num(w, &["after_temperature", "log_loss_nats"]));
    assert!(na <= nb + 1e-3, "temperature-scaled NLL {na} > {nb}");
    assert!((num(w, &["before", "log_loss_bits"]) - nb / std::f64::consts::LN_2).abs() < 1e-12);
    for key in ["before", "after_temperature"] {
        let ece = num(w, &[key, "ece"]);
        let brier = num(w, &[key, "brier"]);
        assert!((0.0..0.2).contains(&ece) && (0.0..0.2).contains(&brier), "{key}: ece {ece}, brier {brier}");
    }
    let temps = w["temperatures"].as_array().unwrap();
    assert_eq!(temps.len(), 5);
    assert!(temps.iter().all(|t| t.as_f64().unwrap() > 0.0));
    let bins = w["reliability_before"].as_array().unwrap();
    let total: u64 = bins.iter().map(|b| b["count"].as_u64().unwrap()).sum();
    assert_eq!(total, 178);

    // Longley: the GLM agrees with least squares and with the exact coefficients (NIST StRD
    // certified values, b6 = 1829.15146461355).
    let l = &s["longley"];
    assert!(num(l, &["max_rel_diff_glm_vs_least_squares"]) < 1e-8);
    assert!(num(l, &["max_rel_err_glm_vs_exact"]) < 1e-8);
    assert!((l["glm_coef"][6].as_f64().unwrap() - 1829.15146461355).abs() < 1e-5);

    // The predictions CSV: a header and 178 rows of probabilities summing to 1.
    let csv = std::fs::read_to_string(out_dir.join("wine_predictions.csv")).expect("predictions written");
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(header[..3], ["row", "fold", "target"]);
    let rows: Vec<Vec<f64>> =
        lines.map(|r| r.split(',').map(|c| c.parse::<f64>().unwrap()).collect()).collect();
    assert_eq!(rows.len(), 178);
    for r in &rows {
        assert_eq!(r.len(), header.len());
        assert!((r[3] + r[4] + r[5] - 1.0).abs() < 1e-9 && (r[6] + r[7] + r[8] - 1.0).abs() < 1e-9);
    }
    // The reliability diagrams: PNG files.
    for name in ["reliability.png", "reliability_temperature.png"] {
        let bytes = std::fs::read(out_dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "{name} is not a PNG");
    }
    // Nothing was written to the working directory.
    assert_eq!(std::fs::read_dir(&cwd).unwrap().count(), 0);
    let _ = std::fs::remove_dir_all(&base);
}

#[test]
fn tour_default_out_is_created_in_the_working_directory() {
    let cwd = std::env::temp_dir().join(format!("surprisal-tour-default-{}", std::process::id()));
    std::fs::create_dir_all(&cwd).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_surprisal")).arg("tour").current_dir(&cwd).output().unwrap();
    assert!(out.status.success());
    assert!(cwd.join("surprisal-tour").join("summary.json").is_file());
    assert!(cwd.join("surprisal-tour").join("wine_predictions.csv").is_file());
    let _ = std::fs::remove_dir_all(&cwd);
}

#[test]
fn tour_reports_an_unwritable_out_dir_on_one_line() {
    // A regular file where the folder should be.
    let file = common::tmp_file("tour-not-a-dir", b"x");
    let out = common::run(&["tour", "--out", &format!("{file}/sub")], None);
    assert_eq!(out.status.code(), Some(1));
    let e = common::stderr_line(&out);
    assert!(e.contains("tour-not-a-dir"), "{e}");
    // The file itself as --out: said before the tour's work, with nothing on standard output.
    let out = common::run(&["tour", "--out", &file], None);
    assert_eq!(out.status.code(), Some(1));
    let e = common::stderr_line(&out);
    assert!(e.contains("tour-not-a-dir: exists and is not a folder"), "{e}");
    assert!(out.stdout.is_empty(), "{}", String::from_utf8_lossy(&out.stdout));
}
