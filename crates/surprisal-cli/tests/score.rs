//! End-to-end tests of `surprisal score`: values equal the library's own functions on the same
//! data, every bad input gives one located line and exit code 1, usage errors exit with code 2.

use surprisal::calibration::{Norm, binary_calibration_error, multiclass_calibration_error};
use surprisal::family::{Laplace, Normal};
use surprisal::score::{
    LogLossOptions, accuracy, accuracy_binary, brier_decomposition, brier_decomposition_binary,
    crps_gaussian, crps_laplace, log_loss, log_loss_binary, log_score, mean_absolute_error,
    mean_squared_error, r2_score,
};

mod common;
use common::{Rng, close, json_out, run_bytes as run, stderr_line, tmp_file};

fn json(args: &[&str]) -> serde_json::Value {
    json_out(args, None)
}

/// Binary rows: more than one 65,536-row batch, so batches are combined.
fn binary_data(n: usize, seed: u64) -> (Vec<i64>, Vec<f64>, Vec<String>) {
    let mut rng = Rng(seed);
    let mut y = Vec::with_capacity(n);
    let mut p = Vec::with_capacity(n);
    let mut g = Vec::with_capacity(n);
    for i in 0..n {
        let pi = rng.uniform();
        p.push(pi);
        y.push(i64::from(rng.uniform() < pi * pi));
        g.push(["north", "south", "east"][i % 3].to_string());
    }
    // Edge probabilities are legal.
    p[0] = 0.0;
    p[1] = 1.0;
    (y, p, g)
}

fn binary_csv(y: &[i64], p: &[f64], g: &[String]) -> Vec<u8> {
    let mut s = String::from("region,target,prob\n");
    for i in 0..y.len() {
        s.push_str(&format!("{},{},{:?}\n", g[i], y[i], p[i]));
    }
    s.into_bytes()
}

fn check_binary(v: &serde_json::Value, y: &[i64], p: &[f64], bins: usize) {
    let yf: Vec<f64> = y.iter().map(|&t| t as f64).collect();
    let nats = log_loss_binary(y, p, None, LogLossOptions::default()).unwrap();
    assert_eq!(v["n"], y.len() as u64);
    close(&v["nll_nats"], nats);
    close(&v["nll_bits"], nats / std::f64::consts::LN_2);
    let d = brier_decomposition_binary(y, p, None, bins).unwrap();
    close(&v["brier"], d.brier);
    close(&v["brier_reliability"], d.reliability);
    close(&v["brier_resolution"], d.resolution);
    close(&v["brier_uncertainty"], d.uncertainty);
    close(&v["brier_within_bin"], d.residual());
    close(&v["ece"], binary_calibration_error(p, &yf, bins, Norm::L1).unwrap());
    close(&v["mce"], binary_calibration_error(p, &yf, bins, Norm::Max).unwrap());
    close(&v["accuracy"], accuracy_binary(y, p, None).unwrap());
}

#[test]
fn score_binary_equals_the_library_overall_and_by_group() {
    let (y, p, g) = binary_data(70_000, 7);
    let f = tmp_file("binary.csv", &binary_csv(&y, &p, &g));
    let v = json(&["score", &f, "--target", "target", "--prob", "prob", "--json"]);
    assert_eq!(v["task"], "binary");
    check_binary(&v["overall"], &y, &p, 15);

    let v = json(&[
        "score", &f, "--target", "target", "--prob", "prob", "--bins", "7", "--by", "region", "--json",
    ]);
    check_binary(&v["overall"], &y, &p, 7);
    let groups = v["groups"].as_object().unwrap();
    assert_eq!(groups.len(), 3);
    for name in ["north", "south", "east"] {
        let idx: Vec<usize> = (0..y.len()).filter(|&i| g[i] == name).collect();
        let yg: Vec<i64> = idx.iter().map(|&i| y[i]).collect();
        let pg: Vec<f64> = idx.iter().map(|&i| p[i]).collect();
        check_binary(&groups[name], &yg, &pg, 7);
    }

    // The table names every score and every group.
    let out = run(&["score", &f, "--target", "target", "--prob", "prob", "--by", "region"], None);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for word in ["nll_nats", "nll_bits", "brier_reliability", "ece", "mce", "accuracy", "overall", "north"] {
        assert!(text.contains(word), "{word} missing from:\n{text}");
    }
}

#[test]
fn score_reads_standard_input_and_tsv() {
    let csv = b"target,prob\n1,0.8\n0,0.3\n1,0.6\n0,0.1\n";
    let out = run(&["score", "-", "--target", "target", "--prob", "prob", "--json"], Some(csv));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    check_binary(&v["overall"], &[1, 0, 1, 0], &[0.8, 0.3, 0.6, 0.1], 15);
    let f = tmp_file("binary.tsv", b"target\tprob\n1\t0.8\n0\t0.3\n1\t0.6\n0\t0.1\n");
    let v = json(&["score", &f, "--target", "target", "--prob", "prob", "--json"]);
    check_binary(&v["overall"], &[1, 0, 1, 0], &[0.8, 0.3, 0.6, 0.1], 15);
}

/// Wine: class probabilities from a softmax over negative squared distances to the standardized
/// class centroids.
fn wine_probs() -> (Vec<i64>, Vec<f64>) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/data/wine.csv");
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let t = header.iter().position(|h| *h == "target").unwrap();
    let mut x: Vec<Vec<f64>> = Vec::new();
    let mut y = Vec::new();
    for line in lines.filter(|l| !l.trim().is_empty()) {
        let cells: Vec<f64> = line.split(',').map(|c| c.parse().unwrap()).collect();
        y.push(cells[t] as i64);
        x.push(cells.iter().enumerate().filter(|&(j, _)| j != t).map(|(_, v)| *v).collect());
    }
    let (n, d) = (x.len(), x[0].len());
    for j in 0..d {
        let m = x.iter().map(|r| r[j]).sum::<f64>() / n as f64;
        let s = (x.iter().map(|r| (r[j] - m).powi(2)).sum::<f64>() / n as f64).sqrt();
        for r in &mut x {
            r[j] = (r[j] - m) / s;
        }
    }
    let mut centroid = vec![vec![0.0; d]; 3];
    let mut count = [0.0; 3];
    for (r, &c) in x.iter().zip(&y) {
        count[c as usize] += 1.0;
        for j in 0..d {
            centroid[c as usize][j] += r[j];
        }
    }
    for c in 0..3 {
        for v in &mut centroid[c] {
            *v /= count[c];
        }
    }
    let mut probs = Vec::with_capacity(3 * n);
    for r in &x {
        let logits: Vec<f64> = centroid
            .iter()
            .map(|m| -0.1 * m.iter().zip(r).map(|(a, b)| (a - b) * (a - b)).sum::<f64>())
            .collect();
        let top = logits.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let z: f64 = logits.iter().map(|l| (l - top).exp()).sum();
        probs.extend(logits.iter().map(|l| (l - top).exp() / z));
    }
    (y, probs)
}

#[test]
fn score_multiclass_on_wine_equals_the_library() {
    let (y, probs) = wine_probs();
    let mut s = String::from("label,p0,p1,p2\n");
    for (i, row) in probs.chunks(3).enumerate() {
        s.push_str(&format!("{},{:?},{:?},{:?}\n", y[i], row[0], row[1], row[2]));
    }
    let f = tmp_file("wine_probs.csv", s.as_bytes());
    let v = json(&["score", &f, "--target", "label", "--probs", "p0,p1,p2", "--bins", "10", "--json"]);
    assert_eq!(v["task"], "multiclass");
    let o = &v["overall"];
    assert_eq!(o["n"], 178);
    let labels: &[i64] = &[0, 1, 2];
    let nats = log_loss(&y, &probs, 3, None, Some(labels), LogLossOptions::default()).unwrap();
    close(&o["nll_nats"], nats);
    close(&o["nll_bits"], nats / std::f64::consts::LN_2);
    let d = brier_decomposition(&y, &probs, 3, None, Some(labels), 10).unwrap();
    close(&o["brier"], d.brier);
    close(&o["brier_reliability"], d.reliability);
    close(&o["brier_resolution"], d.resolution);
    close(&o["brier_uncertainty"], d.uncertainty);
    close(&o["ece"], multiclass_calibration_error(&probs, 3, &y, 10, Norm::L1).unwrap());
    close(&o["mce"], multiclass_calibration_error(&probs, 3, &y, 10, Norm::Max).unwrap());
    close(&o["accuracy"], accuracy(&y, &probs, 3, None, Some(labels)).unwrap());
    assert!(o["accuracy"].as_f64().unwrap() > 0.9);
}

#[test]
fn score_regression_equals_the_library() {
    let mut rng = Rng(11);
    let n = 500;
    let (mut y, mut mu, mut sd) = (Vec::new(), Vec::new(), Vec::new());
    let mut s = String::from("y,mu,sd,var\n");
    for _ in 0..n {
        let m = 10.0 * rng.uniform() - 5.0;
        let sc = 0.5 + 2.0 * rng.uniform();
        let yi = m + sc * (2.0 * rng.uniform() - 1.0) * 1.7;
        s.push_str(&format!("{yi:?},{m:?},{sc:?},{:?}\n", sc * sc));
        y.push(yi);
        mu.push(m);
        sd.push(sc);
    }
    let f = tmp_file("regression.csv", s.as_bytes());
    let mean = |v: Vec<f64>| v.iter().sum::<f64>() / v.len() as f64;

    let v = json(&["score", &f, "--target", "y", "--mean", "mu", "--scale", "sd", "--json"]);
    assert_eq!(v["task"], "regression");
    let o = &v["overall"];
    assert_eq!(o["n"], n as u64);
    close(&o["mse"], mean_squared_error(&y, &mu, None).unwrap());
    close(&o["mae"], mean_absolute_error(&y, &mu, None).unwrap());
    close(&o["r2"], r2_score(&y, &mu, None).unwrap());
    let ls = log_score::<f64, Normal<f64>>(&[&mu, &sd], &y, None).unwrap();
    close(&o["nll_nats"], ls.nats);
    close(&o["nll_bits"], ls.bits);
    close(&o["crps"], mean(crps_gaussian(&y, &mu, &sd).unwrap()));

    // The variance column gives the same Gaussian scores (to rounding of √var).
    let w = json(&["score", &f, "--target", "y", "--mean", "mu", "--var", "var", "--json"]);
    close(&w["overall"]["nll_nats"], ls.nats);
    close(&w["overall"]["crps"], mean(crps_gaussian(&y, &mu, &sd).unwrap()));

    let l = json(&[
        "score", &f, "--target", "y", "--mean", "mu", "--scale", "sd", "--family", "laplace", "--json",
    ]);
    let ls = log_score::<f64, Laplace<f64>>(&[&mu, &sd], &y, None).unwrap();
    close(&l["overall"]["nll_nats"], ls.nats);
    close(&l["overall"]["crps"], mean(crps_laplace(&y, &mu, &sd).unwrap()));

    // Point predictions only: no log score, no CRPS.
    let p = json(&["score", &f, "--target", "y", "--mean", "mu", "--json"]);
    assert!(p["overall"].get("nll_nats").is_none() && p["overall"].get("crps").is_none());
    let t = json(&[
        "score",
        &f,
        "--target",
        "y",
        "--mean",
        "mu",
        "--scale",
        "sd",
        "--family",
        "student_t",
        "--df",
        "4",
        "--json",
    ]);
    assert!(t["overall"]["nll_nats"].as_f64().unwrap().is_finite());
    // ν far beyond any data: the Student-t log score is the normal's (it was nats off from
    // ν ≈ 1e15 on, where log Γ((ν+1)/2) − log Γ(ν/2) lost every digit).
    let normal = json(&["score", &f, "--target", "y", "--mean", "mu", "--scale", "sd", "--json"]);
    for df in ["1e15", "1e17", "1e300"] {
        let args = ["score", &f, "--target", "y", "--mean", "mu", "--scale", "sd", "--family", "student_t"];
        let t = json(&[&args[..], &["--df", df, "--json"]].concat());
        close(&t["overall"]["nll_nats"], normal["overall"]["nll_nats"].as_f64().unwrap());
    }
}

/// Runs a failing command: exit code 1, and one stderr line containing every `needle`.
fn fails(args: &[&str], needles: &[&str]) {
    let out = run(args, None);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
    assert!(out.stdout.is_empty(), "partial output for {args:?}");
    assert_eq!(err.trim_end().lines().count(), 1, "expected one line on stderr, got:\n{err}");
    for n in needles {
        assert!(err.contains(n), "`{n}` missing from: {err}");
    }
}

#[test]
fn score_bad_cells_give_one_located_line() {
    let bin = ["--target", "y", "--prob", "p"];
    let cases: &[(&str, &[u8], &[&str])] = &[
        ("nonnum.csv", b"y,p\n1,0.5\n0,abc\n", &["row 2", "`p`", "\"abc\"", "not a number"]),
        ("nan.csv", b"y,p\n1,0.5\n0,0.2\n1,NaN\n", &["row 3", "`p`", "NaN", "finite"]),
        ("inf.csv", b"y,p\n1,inf\n", &["row 1", "`p`", "inf", "finite"]),
        ("range.csv", b"y,p\n1,0.5\n0,1.5\n", &["row 2", "`p`", "1.5", "outside [0, 1]"]),
        ("neg.csv", b"y,p\n1,-0.1\n", &["row 1", "`p`", "-0.1", "outside [0, 1]"]),
        ("target.csv", b"y,p\n1,0.5\n2,0.5\n", &["row 2", "`y`", "\"2\"", "0 or 1"]),
        ("target_text.csv", b"y,p\nyes,0.5\n", &["row 1", "`y`", "yes"]),
        ("short.csv", b"y,p\n1,0.5\n0\n", &["row 2", "fields"]),
        ("long.csv", b"y,p\n1,0.5\n0,0.5,9\n", &["row 2", "fields"]),
        ("utf8.csv", b"y,p\n1,0.\xff5\n", &["row 1", "`p`", "UTF-8"]),
        ("empty.csv", b"", &["empty"]),
        ("header.csv", b"y,p\n", &["no data rows"]),
        ("bytes.csv", &[0xff, 0xfe, 0x00, b'\n', 0x01, 0x02], &["UTF-8"]),
    ];
    for (name, contents, needles) in cases {
        let f = tmp_file(name, contents);
        let mut args = vec!["score", f.as_str()];
        args.extend(bin);
        let mut needles = needles.to_vec();
        needles.push(&f);
        fails(&args, &needles);
    }
    let f = tmp_file("ok.csv", b"y,p\n1,0.5\n");
    fails(&["score", &f, "--target", "y", "--prob", "q"], &[&f, "no column `q`"]);
    fails(&["score", &f, "--target", "z", "--prob", "p"], &["no column `z`"]);
    fails(&["score", "/no/such/scores.csv", "--target", "y", "--prob", "p"], &["/no/such/scores.csv"]);

    let multi = ["--target", "y", "--probs", "a,b,c"];
    let f = tmp_file("class.csv", b"y,a,b,c\n0,0.2,0.3,0.5\n3,0.2,0.3,0.5\n");
    fails(&[&["score", f.as_str()][..], &multi].concat(), &[&f, "row 2", "`y`", "\"3\"", "0..2"]);
    let f = tmp_file("sum.csv", b"y,a,b,c\n0,0.2,0.3,0.5\n1,0.2,0.3,0.4\n");
    fails(&[&["score", f.as_str()][..], &multi].concat(), &[&f, "row 2", "a+b+c", "0.9", "sum"]);
    let loose = [&["score", f.as_str()][..], &multi, &["--sum-tolerance", "0.2"]].concat();
    assert!(run(&loose, None).status.success());

    let reg = ["--target", "y", "--mean", "m", "--scale", "s"];
    let f = tmp_file("scale.csv", b"y,m,s\n1,0.5,1\n2,1.5,0\n");
    fails(&[&["score", f.as_str()][..], &reg].concat(), &[&f, "row 2", "`s`", "\"0\"", "> 0"]);
    let f = tmp_file("regnan.csv", b"y,m,s\n1,0.5,1\nnan,1.5,2\n");
    fails(&[&["score", f.as_str()][..], &reg].concat(), &[&f, "row 2", "`y`", "nan"]);
}

#[test]
fn score_usage_errors_exit_with_code_2() {
    let f = tmp_file("usage.csv", b"y,p,q,m,s\n1,0.5,0.5,1,1\n");
    // Nothing to detect the task or the target from.
    let g = tmp_file("undetectable.csv", b"obs,a,b\n1,0.5,0.5\n");
    for args in [
        vec!["score", &g, "--target", "obs"],
        vec!["score", &g, "--prob", "a"],
        vec!["score", &f, "--target", "y", "--quantile", "1.5=p"],
        vec!["score", &f, "--target", "y", "--quantile", "0.5"],
        vec!["score", &f, "--target", "y", "--quantile", "0.5=p", "0.5=q"],
        vec!["score", &f, "--target", "y", "--logits", "p"],
        vec!["score", &f, "--target", "y", "--prob", "p", "--family", "laplace"],
        vec!["score", &f, "--target", "y", "--prob", "p", "--probs", "p,q"],
        vec!["score", &f, "--target", "y", "--prob", "p", "--bins", "0"],
        vec!["score", &f, "--target", "y", "--probs", "p"],
        vec!["score", &f, "--target", "y", "--mean", "m", "--var", "s", "--family", "laplace"],
        vec!["score", &f, "--target", "y", "--mean", "m", "--scale", "s", "--family", "student_t"],
        vec!["score", &f, "--target", "y", "--mean", "m", "--scale", "s", "--family", "cauchy"],
    ] {
        let out = run(&args, None);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let out = run(&["score", &f, "--target", "y", "--quantile", "0.5=p", "0.5=q"], None);
    let line = stderr_line(&out);
    assert!(line.contains("0.5 is given for `p` and for `q`"), "{line}");
}
