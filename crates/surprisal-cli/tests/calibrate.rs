//! End-to-end tests of `surprisal calibrate` on seeded, deliberately miscalibrated data.

mod common;

use common::{Rng, run, stderr_line, tmp_file};
use serde_json::Value;
use surprisal::calibration::{IsotonicRegression, PlattScaling, TemperatureScaling, VectorScaling};

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// Binary rows `id,y,p` with y ~ Bernoulli(σ(t)) and an over-confident p = σ(3t).
fn binary_csv(n: usize, seed: u64) -> String {
    let mut r = Rng(seed);
    let mut s = String::from("id,y,p\n");
    for i in 0..n {
        let t = r.normal();
        let y = u8::from(r.uniform() < sigmoid(t));
        s.push_str(&format!("{i},{y},{}\n", sigmoid(3.0 * t)));
    }
    s
}

/// Wine-like three-class rows: two features, true logits linear in them, labels drawn from the
/// softmax, and over-confident predictions softmax(2.5·true) given as probabilities and logits.
fn multiclass_csv(n: usize, seed: u64) -> String {
    let mut r = Rng(seed);
    let mut s = String::from("alcohol,flavanoids,y,p0,p1,p2,z0,z1,z2\n");
    for _ in 0..n {
        let (a, f) = (13.0 + 0.8 * r.normal(), 2.0 + r.normal());
        let t = [0.9 * (a - 13.0) + 0.6 * (f - 2.0), -0.9 * (a - 13.0), 0.3 - 0.8 * (f - 2.0)];
        let soft = |k: f64| -> Vec<f64> {
            let e: Vec<f64> = t.iter().map(|v| (k * v).exp()).collect();
            let z: f64 = e.iter().sum();
            e.iter().map(|v| v / z).collect()
        };
        let (truth, pred) = (soft(1.0), soft(2.5));
        let u = r.uniform();
        let y = if u < truth[0] {
            0
        } else if u < truth[0] + truth[1] {
            1
        } else {
            2
        };
        let z: Vec<f64> = t.iter().map(|v| 2.5 * v).collect();
        s.push_str(&format!("{a},{f},{y},{},{},{},{},{},{}\n", pred[0], pred[1], pred[2], z[0], z[1], z[2]));
    }
    s
}

/// Parses a CSV text into its header and rows of cells.
fn parse(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut lines = text.lines();
    let header = lines.next().unwrap().split(',').map(str::to_string).collect();
    (header, lines.map(|l| l.split(',').map(str::to_string).collect()).collect())
}

/// A column of a parsed CSV as numbers.
fn col(h: &[String], rows: &[Vec<String>], name: &str) -> Vec<f64> {
    let j = h.iter().position(|c| c == name).unwrap();
    rows.iter().map(|r| r[j].parse().unwrap()).collect()
}

fn labels(h: &[String], rows: &[Vec<String>]) -> Vec<i64> {
    col(h, rows, "y").into_iter().map(|v| v as i64).collect()
}

fn logit(p: f64) -> f64 {
    p.ln() - (-p).ln_1p()
}

/// Runs `calibrate --json` and returns the JSON and the output file's text.
fn calibrate(args: &[&str], out: &str) -> (Value, String) {
    let mut all = vec!["calibrate", "--json", "--out", out];
    all.extend_from_slice(args);
    let o = run(&all, None);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    (v, std::fs::read_to_string(out).unwrap())
}

/// A JSON number equal to `want` up to the last bit (serde_json's default float parsing may be
/// one unit in the last place off).
fn close(got: &Value, want: f64) {
    let g = got.as_f64().unwrap();
    assert!((g - want).abs() <= 4.0 * f64::EPSILON * want.abs(), "{g} vs {want}");
}

fn ece_cut(m: &Value) {
    let (b, a) = (m["ece_before"].as_f64().unwrap(), m["ece_after"].as_f64().unwrap());
    assert!(a < 0.5 * b, "ECE {b} → {a}");
    assert!(m["nll_after"].as_f64().unwrap() < m["nll_before"].as_f64().unwrap());
}

#[test]
fn platt_and_temperature_cut_the_ece_and_write_the_library_map() {
    let (cal_text, app_text) = (binary_csv(3000, 1), binary_csv(2000, 2));
    let cal = tmp_file("cal_bin.csv", cal_text.as_bytes());
    let app = tmp_file("app_bin.csv", app_text.as_bytes());
    let (ch, crows) = parse(&cal_text);
    let (ah, arows) = parse(&app_text);
    let cz: Vec<f64> = col(&ch, &crows, "p").into_iter().map(logit).collect();
    let az: Vec<f64> = col(&ah, &arows, "p").into_iter().map(logit).collect();

    let out = tmp_file("platt_out.csv", b"");
    let (v, text) = calibrate(&["--fit", &cal, "--apply", &app, "--method", "platt", "--prob", "p"], &out);
    ece_cut(&v["fit"]["metrics"]);
    ece_cut(&v["apply"]["metrics"]);
    let lib = PlattScaling::fit(&cz, &labels(&ch, &crows)).unwrap();
    close(&v["parameters"]["a"], lib.a());
    let r = lib.report().unwrap();
    close(&v["fit"]["metrics"]["ece_after"], r.ece_after);
    close(&v["fit"]["metrics"]["nll_before"], r.nll_before);
    let (oh, orows) = parse(&text);
    assert_eq!(oh, ["id", "y", "p", "p_calibrated"]);
    assert_eq!(orows.len(), 2000);
    for (o, a) in orows.iter().zip(&arows) {
        assert_eq!(o[..3], a[..]);
    }
    assert_eq!(col(&oh, &orows, "p_calibrated"), lib.apply(&az));

    let out = tmp_file("temp_out.csv", b"");
    let (v, text) =
        calibrate(&["--fit", &cal, "--apply", &app, "--method", "temperature", "--prob", "p"], &out);
    ece_cut(&v["fit"]["metrics"]);
    ece_cut(&v["apply"]["metrics"]);
    let two = |z: &[f64]| -> Vec<f64> { z.iter().flat_map(|&x| [0.0, x]).collect() };
    let lib = TemperatureScaling::fit(&two(&cz), 2, &labels(&ch, &crows)).unwrap();
    // p = σ(3t): T ≈ 3.
    assert!((lib.temperature() - 3.0).abs() < 0.3, "T = {}", lib.temperature());
    close(&v["parameters"]["temperature"], lib.temperature());
    let want: Vec<f64> = lib.probabilities(&two(&az)).unwrap().chunks(2).map(|r| r[1]).collect();
    let (oh, orows) = parse(&text);
    assert_eq!(col(&oh, &orows, "p_calibrated"), want);
}

#[test]
fn isotonic_is_monotone_and_cuts_the_ece() {
    let (cal_text, app_text) = (binary_csv(3000, 3), binary_csv(1000, 4));
    let cal = tmp_file("cal_iso.csv", cal_text.as_bytes());
    let app = tmp_file("app_iso.csv", app_text.as_bytes());
    let out = tmp_file("iso_out.tsv", b"");
    let o = run(
        &["calibrate", "--fit", &cal, "--apply", &app, "--method", "isotonic", "--prob", "p", "--out", &out],
        None,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let summary = String::from_utf8_lossy(&o.stdout);
    assert!(summary.contains("isotonic") && summary.contains("ece"), "{summary}");
    // A `.tsv` output is tab-separated.
    let text = std::fs::read_to_string(&out).unwrap().replace('\t', ",");
    let (oh, orows) = parse(&text);
    let (ch, crows) = parse(&cal_text);
    let lib =
        IsotonicRegression::fit_calibration(&col(&ch, &crows, "p"), &labels(&ch, &crows), None).unwrap();
    let p = col(&oh, &orows, "p");
    let q = col(&oh, &orows, "p_calibrated");
    assert_eq!(q, lib.apply(&p));
    let mut pairs: Vec<(f64, f64)> = p.into_iter().zip(q).collect();
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    assert!(pairs.windows(2).all(|w| w[0].1 <= w[1].1));
    let r = lib.report().unwrap();
    assert!(r.ece_after < 0.5 * r.ece_before);

    // Separable rows: isotonic regression fits them exactly, an NLL of +0 (never printed −0).
    let sep = tmp_file("iso_sep.csv", b"y,p\n0,0.1\n0,0.3\n1,0.6\n1,0.9\n");
    let out = tmp_file("iso_sep_out.csv", b"");
    let o = run(
        &["calibrate", "--fit", &sep, "--apply", &sep, "--method", "isotonic", "--prob", "p", "--out", &out],
        None,
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let summary = String::from_utf8_lossy(&o.stdout);
    let nll_rows: Vec<&str> =
        summary.lines().filter(|l| l.split_whitespace().nth(1) == Some("nll")).collect();
    assert_eq!(nll_rows.len(), 2, "{summary}");
    for l in nll_rows {
        assert_eq!(l.split_whitespace().nth(3), Some("0.000000"), "{summary}");
    }
}

#[test]
fn multiclass_temperature_and_vector_scaling() {
    let (cal_text, app_text) = (multiclass_csv(2000, 5), multiclass_csv(800, 6));
    let cal = tmp_file("cal_wine.csv", cal_text.as_bytes());
    let app = tmp_file("app_wine.csv", app_text.as_bytes());
    let (ch, crows) = parse(&cal_text);
    let (ah, arows) = parse(&app_text);
    let logs = |h: &[String], rows: &[Vec<String>]| -> Vec<f64> {
        let cols: Vec<Vec<f64>> = ["p0", "p1", "p2"].iter().map(|c| col(h, rows, c)).collect();
        (0..rows.len()).flat_map(|i| cols.iter().map(move |c| c[i].ln()).collect::<Vec<_>>()).collect()
    };

    let out = tmp_file("wine_temp.csv", b"");
    let (v, text) =
        calibrate(&["--fit", &cal, "--apply", &app, "--method", "temperature", "--probs", "p0,p1,p2"], &out);
    assert_eq!(v["n_classes"], 3);
    ece_cut(&v["fit"]["metrics"]);
    ece_cut(&v["apply"]["metrics"]);
    let lib = TemperatureScaling::fit(&logs(&ch, &crows), 3, &labels(&ch, &crows)).unwrap();
    assert!((lib.temperature() - 2.5).abs() < 0.3, "T = {}", lib.temperature());
    let want = lib.probabilities(&logs(&ah, &arows)).unwrap();
    let (oh, orows) = parse(&text);
    assert_eq!(&oh[9..], ["p_calibrated_0", "p_calibrated_1", "p_calibrated_2"]);
    let got: Vec<Vec<f64>> = (0..3).map(|k| col(&oh, &orows, &format!("p_calibrated_{k}"))).collect();
    for i in 0..orows.len() {
        for k in 0..3 {
            assert_eq!(got[k][i], want[3 * i + k]);
        }
        assert!((got.iter().map(|g| g[i]).sum::<f64>() - 1.0).abs() < 1e-12);
    }

    // Vector scaling on the logit columns; FILE without the target: no scores after applying.
    let app_no_y: String = app_text
        .lines()
        .map(|l| {
            l.split(',').enumerate().filter(|(j, _)| *j != 2).map(|(_, c)| c).collect::<Vec<_>>().join(",")
        })
        .collect::<Vec<_>>()
        .join("\n");
    let app2 = tmp_file("app_wine_no_y.csv", app_no_y.as_bytes());
    let out = tmp_file("wine_vec.csv", b"");
    let (v, text) =
        calibrate(&["--fit", &cal, "--apply", &app2, "--method", "vector", "--logits", "z0,z1,z2"], &out);
    ece_cut(&v["fit"]["metrics"]);
    assert!(v["apply"]["metrics"].is_null());
    let zs = |h: &[String], rows: &[Vec<String>]| -> Vec<f64> {
        let cols: Vec<Vec<f64>> = ["z0", "z1", "z2"].iter().map(|c| col(h, rows, c)).collect();
        (0..rows.len()).flat_map(|i| cols.iter().map(move |c| c[i]).collect::<Vec<_>>()).collect()
    };
    let lib = VectorScaling::fit(&zs(&ch, &crows), 3, &labels(&ch, &crows)).unwrap();
    let want = lib.probabilities(&zs(&ah, &arows)).unwrap();
    let (oh, orows) = parse(&text);
    assert_eq!(oh.len(), 8 + 3);
    assert_eq!(
        col(&oh, &orows, "p_calibrated_1"),
        want.iter().skip(1).step_by(3).copied().collect::<Vec<_>>()
    );
}

#[test]
fn bad_inputs_fail_with_one_located_line_and_leave_no_output() {
    let good = binary_csv(200, 7);
    let cal = tmp_file("cal_ok.csv", good.as_bytes());
    let wine = tmp_file("cal_wine_small.csv", multiclass_csv(100, 8).as_bytes());
    let bad_p = tmp_file("bad_p.csv", b"y,p\n1,0.9\n0,1.5\n");
    let bad_y = tmp_file("bad_y.csv", b"y,p\n1,0.9\n2,0.4\n");
    let edge = tmp_file("edge_p.csv", b"y,p\n1,0.9\n0,0\n");
    let bad_sum = tmp_file("bad_sum.csv", b"y,p0,p1,p2\n0,0.5,0.3,0.2\n1,0.5,0.3,0.3\n");
    let cases: Vec<(Vec<&str>, i32, Vec<&str>)> = vec![
        (vec!["--fit", &cal, "--apply", &cal, "--method", "platt", "--prob", "q"], 1, vec!["no column `q`"]),
        (
            vec!["--fit", &bad_p, "--apply", &cal, "--method", "platt", "--prob", "p"],
            1,
            vec!["row 2", "column `p`", "\"1.5\"", "outside [0, 1]"],
        ),
        (vec!["--fit", &cal, "--apply", &bad_p, "--method", "isotonic", "--prob", "p"], 1, vec!["row 2"]),
        (
            vec!["--fit", &bad_y, "--apply", &cal, "--method", "temperature", "--prob", "p"],
            1,
            vec!["row 2", "column `y`", "0 or 1"],
        ),
        (
            vec!["--fit", &edge, "--apply", &cal, "--method", "platt", "--prob", "p"],
            1,
            vec!["row 2", "no finite logit"],
        ),
        (
            vec!["--fit", &bad_sum, "--apply", &bad_sum, "--method", "temperature", "--probs", "p0,p1,p2"],
            1,
            vec!["row 2", "sum to"],
        ),
        (vec!["--fit", &cal, "--apply", &cal, "--method", "beta", "--prob", "p"], 2, vec!["unknown method"]),
        (vec!["--fit", &cal, "--apply", &cal, "--method", "vector", "--prob", "p"], 2, vec!["binary"]),
        (
            vec!["--fit", &wine, "--apply", &wine, "--method", "platt", "--probs", "p0,p1,p2"],
            2,
            vec!["multiclass"],
        ),
        (vec!["--fit", &cal, "--apply", &cal, "--method", "platt"], 2, vec!["--prob"]),
    ];
    for (i, (args, code, needles)) in cases.into_iter().enumerate() {
        let out = std::env::temp_dir().join(format!("surprisal-cal-bad-{}-{i}.csv", std::process::id()));
        let out = out.to_string_lossy().into_owned();
        let mut all = vec!["calibrate", "--out", &out];
        all.extend(args);
        let o = run(&all, None);
        assert_eq!(o.status.code(), Some(code), "case {i}: {}", String::from_utf8_lossy(&o.stderr));
        let line = stderr_line(&o);
        for n in needles {
            assert!(line.contains(n), "case {i}: `{n}` not in {line}");
        }
        assert!(!std::path::Path::new(&out).exists(), "case {i} left {out}");
        assert!(o.stdout.is_empty(), "case {i} printed {}", String::from_utf8_lossy(&o.stdout));
    }
}
