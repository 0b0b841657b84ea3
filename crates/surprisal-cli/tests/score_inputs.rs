//! End-to-end tests of `surprisal score` on every kind of input: Parquet (values, wrong column
//! types, nulls, bytes that are not Parquet), CSV split into blocks across threads (quoted fields
//! across block ends, row numbers of late errors, results for every thread count), task
//! detection, logits and quantile tasks, the adaptive calibration error and the deviances, each
//! checked against the library's own functions.

use arrow_array::{ArrayRef, BooleanArray, Float32Array, Float64Array, Int64Array, RecordBatch, StringArray};
use parquet::arrow::ArrowWriter;
use std::sync::Arc;
use surprisal::calibration::{Norm, adaptive_calibration_error, adaptive_multiclass_calibration_error};
use surprisal::score::{
    LogLossOptions, brier_decomposition, log_loss_binary, mean_gamma_deviance, mean_pinball_loss,
    mean_poisson_deviance,
};

mod common;
use common::{Rng, close, json_out as json, run_bytes as run, stderr_line, tmp_file};

fn write_parquet(name: &str, cols: Vec<(&str, ArrayRef)>) -> String {
    let batch = RecordBatch::try_from_iter(cols).unwrap();
    let mut buf = Vec::new();
    let mut w = ArrowWriter::try_new(&mut buf, batch.schema(), None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    tmp_file(name, &buf)
}

/// Parquet and CSV of the same rows give the same scores; the adaptive ECE equals the library's.
#[test]
fn parquet_equals_csv_and_the_library() {
    let mut rng = Rng(11);
    let n = 70_000;
    let p: Vec<f64> = (0..n).map(|_| rng.uniform()).collect();
    let y: Vec<i64> = p.iter().map(|&pi| i64::from(rng.uniform() < pi)).collect();
    let g: Vec<&str> = (0..n).map(|i| ["a", "b"][i % 2]).collect();
    let f = write_parquet(
        "scores.parquet",
        vec![
            ("target", Arc::new(Int64Array::from(y.clone())) as ArrayRef),
            ("prob", Arc::new(Float64Array::from(p.clone())) as ArrayRef),
            ("group", Arc::new(StringArray::from(g.clone())) as ArrayRef),
        ],
    );
    let v = json(&["score", &f, "--target", "target", "--prob", "prob", "--json"], None);
    let o = &v["overall"];
    assert_eq!(o["n"], n as u64);
    close(&o["nll_nats"], log_loss_binary(&y, &p, None, LogLossOptions::default()).unwrap());
    let yf: Vec<f64> = y.iter().map(|&v| v as f64).collect();
    close(&o["adaptive_ece"], adaptive_calibration_error(&p, &yf, 15, Norm::L1).unwrap());

    let mut csv = String::from("target,prob,group\n");
    for i in 0..n {
        csv.push_str(&format!("{},{:?},{}\n", y[i], p[i], g[i]));
    }
    let c = tmp_file("scores_pq.csv", csv.as_bytes());
    let w = json(&["score", &c, "--target", "target", "--prob", "prob", "--by", "group", "--json"], None);
    let u = json(&["score", &f, "--target", "target", "--prob", "prob", "--by", "group", "--json"], None);
    for (k, x) in w["overall"].as_object().unwrap() {
        close(&u["overall"][k], x.as_f64().unwrap());
    }
    assert_eq!(u["groups"]["a"]["n"], (n / 2) as u64);
    close(&u["groups"]["b"]["nll_nats"], w["groups"]["b"]["nll_nats"].as_f64().unwrap());

    // Detected from the column names, as with CSV.
    let d = json(&["score", &f, "--json"], None);
    assert_eq!(d["detected"], "--target target --prob prob");
    // float32 and boolean columns are numbers too.
    let f32p: Vec<f32> = p.iter().map(|&x| x as f32).collect();
    let b: Vec<bool> = y.iter().map(|&v| v == 1).collect();
    let f2 = write_parquet(
        "types.parquet",
        vec![
            ("y", Arc::new(BooleanArray::from(b)) as ArrayRef),
            ("p", Arc::new(Float32Array::from(f32p.clone())) as ArrayRef),
        ],
    );
    let t = json(&["score", &f2, "--target", "y", "--prob", "p", "--json"], None);
    let p32: Vec<f64> = f32p.iter().map(|&x| f64::from(x)).collect();
    close(&t["overall"]["nll_nats"], log_loss_binary(&y, &p32, None, LogLossOptions::default()).unwrap());
}

/// Bad Parquet input: one line naming the file, the column (and row) and the value; exit code 1.
#[test]
fn parquet_bad_input_is_located() {
    let f = write_parquet(
        "text.parquet",
        vec![
            ("y", Arc::new(Int64Array::from(vec![1, 0])) as ArrayRef),
            ("p", Arc::new(StringArray::from(vec!["0.5", "0.2"])) as ArrayRef),
        ],
    );
    let out = run(&["score", &f, "--target", "y", "--prob", "p"], None);
    assert_eq!(out.status.code(), Some(1));
    let e = stderr_line(&out);
    for needle in [f.as_str(), "`p`", "Utf8", "expected numbers"] {
        assert!(e.contains(needle), "`{needle}` missing from {e}");
    }
    assert!(out.stdout.is_empty());

    let f = write_parquet(
        "null.parquet",
        vec![
            ("y", Arc::new(Int64Array::from(vec![1, 0, 1])) as ArrayRef),
            ("p", Arc::new(Float64Array::from(vec![Some(0.5), Some(0.2), None])) as ArrayRef),
        ],
    );
    let e = stderr_line(&run(&["score", &f, "--target", "y", "--prob", "p"], None));
    for needle in ["row 3", "`p`", "null", "missing"] {
        assert!(e.contains(needle), "`{needle}` missing from {e}");
    }
    let f = write_parquet(
        "range.parquet",
        vec![
            ("y", Arc::new(Int64Array::from(vec![1, 2])) as ArrayRef),
            ("p", Arc::new(Float64Array::from(vec![0.5, 0.2])) as ArrayRef),
        ],
    );
    let e = stderr_line(&run(&["score", &f, "--target", "y", "--prob", "p"], None));
    for needle in ["row 2", "`y`", "0 or 1"] {
        assert!(e.contains(needle), "`{needle}` missing from {e}");
    }
    let f = tmp_file("garbage.parquet", b"PAR1 this is not really parquet");
    let out = run(&["score", &f, "--target", "y", "--prob", "p"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr_line(&out).contains("not a readable Parquet file"));
}

/// A CSV of several blocks: the same scores for 1, 2 and 3 threads, quoted fields with line
/// breaks across block ends, and the absolute row of an error in a late block.
#[test]
fn csv_blocks_and_threads() {
    let mut rng = Rng(5);
    let n = 200_000; // about 5 MB: several 1 MiB blocks
    let mut y = Vec::with_capacity(n);
    let mut p = Vec::with_capacity(n);
    let mut csv = String::from("note,target,prob\n");
    for i in 0..n {
        let pi = rng.uniform();
        let yi = i64::from(rng.uniform() < pi);
        // Every 1000th row has a quoted note with a line break and a doubled quote.
        let note = if i % 1000 == 7 { "\"two\nlines, \"\"quoted\"\"\"".to_string() } else { format!("r{i}") };
        csv.push_str(&format!("{note},{yi},{pi:?}\n"));
        y.push(yi);
        p.push(pi);
    }
    let f = tmp_file("blocks.csv", csv.as_bytes());
    let want = log_loss_binary(&y, &p, None, LogLossOptions::default()).unwrap();
    let mut first: Option<serde_json::Value> = None;
    for t in ["1", "2", "3"] {
        let v = json(&["score", &f, "--target", "target", "--prob", "prob", "--threads", t, "--json"], None);
        assert_eq!(v["overall"]["n"], n as u64);
        close(&v["overall"]["nll_nats"], want);
        if let Some(f0) = &first {
            for (k, x) in f0["overall"].as_object().unwrap() {
                close(&v["overall"][k], x.as_f64().unwrap());
            }
        }
        first.get_or_insert(v);
    }
    // Standard input, the same.
    let v = json(&["score", "-", "--target", "target", "--prob", "prob", "--json"], Some(csv.as_bytes()));
    close(&v["overall"]["nll_nats"], want);

    // A bad cell far into the file: its row is counted across blocks (line breaks inside quoted
    // notes do not count as rows).
    let bad_row = 187_654;
    let mut lines: Vec<String> = Vec::new();
    let mut rec = String::new();
    for line in csv.split_inclusive('\n').skip(1) {
        rec.push_str(line);
        if rec.matches('"').count().is_multiple_of(2) {
            lines.push(std::mem::take(&mut rec));
        }
    }
    assert_eq!(lines.len(), n);
    let broken = lines[bad_row - 1].rsplit_once(',').unwrap().0.to_string() + ",0.5x\n";
    lines[bad_row - 1] = broken;
    let bad = String::from("note,target,prob\n") + &lines.concat();
    let f = tmp_file("late.csv", bad.as_bytes());
    for t in ["1", "2", "3"] {
        let out = run(&["score", &f, "--target", "target", "--prob", "prob", "--threads", t], None);
        assert_eq!(out.status.code(), Some(1));
        let e = stderr_line(&out);
        assert!(e.contains(&format!("row {bad_row},")) && e.contains("0.5x"), "{e}");
    }
}

/// Infinite logits follow the library's log_softmax: −inf rules a class out, +inf classes share
/// the mass; a row of only −inf, or NaN, is an error naming the row.
#[test]
fn infinite_logits() {
    let f = tmp_file("inf_logits.csv", b"y,a,b,c\n0,inf,0,0\n1,-inf,0,0\n2,1,2,3\n1,inf,inf,-inf\n");
    let v = json(&["score", &f, "--logits", "a,b,c", "--json"], None);
    // −log p_y: 0, log 2, logsumexp(1, 2, 3) − 3, log 2.
    let want = (2.0 * 2f64.ln() + surprisal::num::logsumexp(&[1.0, 2.0, 3.0]) - 3.0) / 4.0;
    close(&v["overall"]["nll_nats"], want);
    let probs = [1.0, 0.0, 0.0, 0.0, 0.5, 0.5];
    let tail: Vec<f64> =
        [1.0f64, 2.0, 3.0].iter().map(|z| (z - surprisal::num::logsumexp(&[1.0, 2.0, 3.0])).exp()).collect();
    let all: Vec<f64> = probs.iter().chain(&tail).chain(&[0.5, 0.5, 0.0]).copied().collect();
    let d = brier_decomposition(&[0, 1, 2, 1], &all, 3, None, Some(&[0, 1, 2]), 15).unwrap();
    close(&v["overall"]["brier"], d.brier);
    // The label's class ruled out: an infinite log loss, reported as such.
    let g = tmp_file("inf_nll.csv", b"y,a,b,c\n1,0,-inf,0\n");
    let v = json(&["score", &g, "--logits", "a,b,c", "--json"], None);
    assert!(v["overall"]["nll_nats"].is_null(), "{v}");
    for (body, needles) in
        [("0,1,2,3\n0,-inf,-inf,-inf\n", ["row 2", "every logit is −inf"]), ("0,nan,2,3\n", ["row 1", "`a`"])]
    {
        let h = tmp_file("bad_logits.csv", format!("y,a,b,c\n{body}").as_bytes());
        let out = run(&["score", &h, "--logits", "a,b,c"], None);
        assert_eq!(out.status.code(), Some(1));
        let e = stderr_line(&out);
        assert!(needles.iter().all(|n| e.contains(n)), "{e}");
    }
}

/// Logits: −log p_y in log space (finite where exp underflows), the other scores on softmax(z).
#[test]
fn logits_and_detection() {
    let rows =
        [(0i64, [2.0f64, 0.5, -1.0]), (2, [0.1, 0.2, 0.3]), (0, [-800.0, 0.0, 5.0]), (0, [3.0, 3.0, -2.0])];
    let mut csv = String::from("label,logit_0,logit_1,logit_2\n");
    let mut probs = Vec::new();
    let mut nll = 0.0;
    let mut y = Vec::new();
    for (t, z) in &rows {
        csv.push_str(&format!("{t},{},{},{}\n", z[0], z[1], z[2]));
        let lse = surprisal::num::logsumexp(z);
        nll += lse - z[*t as usize];
        probs.extend(z.iter().map(|v| (v - lse).exp()));
        y.push(*t);
    }
    let f = tmp_file("logits.csv", csv.as_bytes());
    let v = json(&["score", &f, "--json"], None);
    assert_eq!(v["detected"], "--target label --logits logit_0,logit_1,logit_2");
    assert_eq!(v["task"], "multiclass (logits)");
    close(&v["overall"]["nll_nats"], nll / rows.len() as f64);
    // Row 3's label logit is 805 below the top: p_y = e^-805 underflows, the NLL does not.
    assert!(v["overall"]["nll_nats"].as_f64().unwrap() > 200.0);
    let d = brier_decomposition(&y, &probs, 3, None, Some(&[0, 1, 2]), 15).unwrap();
    close(&v["overall"]["brier"], d.brier);
    close(
        &v["overall"]["adaptive_ece"],
        adaptive_multiclass_calibration_error(&probs, 3, &y, 15, Norm::L1).unwrap(),
    );
    let w = json(&["score", &f, "--target", "label", "--logits", "logit_0,logit_1,logit_2", "--json"], None);
    assert!(w.get("detected").is_none());
    assert_eq!(w["overall"], v["overall"]);
    // Class indices: a fraction and an index past the last class, each named with its row.
    for (cell, row, needles) in [
        ("1.5", "row 2", ["not a whole number", "0..2"]),
        ("3", "row 2", ["class index outside 0..2", "\"3\""]),
    ] {
        let g = tmp_file(
            "bad_class.csv",
            format!("label,logit_0,logit_1,logit_2\n0,1,2,3\n{cell},1,2,3\n").as_bytes(),
        );
        let out = run(&["score", &g], None);
        assert_eq!(out.status.code(), Some(1));
        let e = stderr_line(&out);
        for needle in needles.iter().chain(&[row, "`label`"]) {
            assert!(e.contains(needle), "`{needle}` missing from {e}");
        }
    }
    // A task flag without --target: the target is still found by its name, and said to be.
    let t = json(&["score", &f, "--logits", "logit_0,logit_1,logit_2", "--json"], None);
    assert_eq!(t["detected"], "--target label");
    assert_eq!(t["overall"], v["overall"]);
    // No column with a target's name: the error lists the names looked for and the columns.
    let g = tmp_file("logits_no_target.csv", b"class,logit_0,logit_1\n0,1,2\n");
    let out = run(&["score", &g, "--logits", "logit_0,logit_1"], None);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr_line(&out);
    assert!(err.contains("give --target COL") && err.contains("columns: class, logit_0, logit_1"), "{err}");
}

/// Quantiles: pinball loss and coverage at each level; deviances of a positive regression.
#[test]
fn quantiles_and_deviances() {
    let mut rng = Rng(3);
    let n = 500;
    let y: Vec<f64> = (0..n).map(|_| 0.1 + 5.0 * rng.uniform()).collect();
    let lo: Vec<f64> = y.iter().map(|v| v - 1.0 + rng.uniform()).collect();
    let hi: Vec<f64> = y.iter().map(|v| v + 1.5 - 2.0 * rng.uniform()).collect();
    let mu: Vec<f64> = y.iter().map(|v| v * (0.5 + rng.uniform())).collect();
    let mut csv = String::from("y,q0.1,q_0.9,mean\n");
    for i in 0..n {
        csv.push_str(&format!("{:?},{:?},{:?},{:?}\n", y[i], lo[i], hi[i], mu[i]));
    }
    let f = tmp_file("quant.csv", csv.as_bytes());
    let v = json(&["score", &f, "--target", "y", "--quantile", "0.9=q_0.9", "0.1=q0.1", "--json"], None);
    let o = &v["overall"];
    close(&o["pinball_0.1"], mean_pinball_loss(&y, &lo, 0.1, None).unwrap());
    close(&o["pinball_0.9"], mean_pinball_loss(&y, &hi, 0.9, None).unwrap());
    let cover = y.iter().zip(&hi).filter(|(a, b)| a <= b).count() as f64 / n as f64;
    close(&o["coverage_0.9"], cover);
    let crossed = lo.iter().zip(&hi).filter(|(a, b)| b < a).count() as f64 / n as f64;
    close(&o["crossing_rate"], crossed);

    let r = json(&["score", &f, "--target", "y", "--mean", "mean", "--json"], None);
    close(&r["overall"]["poisson_deviance"], mean_poisson_deviance(&y, &mu, None).unwrap());
    close(&r["overall"]["gamma_deviance"], mean_gamma_deviance(&y, &mu, None).unwrap());
    // A zero target leaves the Gamma deviance undefined (null), the Poisson one defined.
    let z = tmp_file("zero.csv", b"y,mean\n0,1.5\n2,1.0\n");
    let r = json(&["score", &z, "--target", "y", "--mean", "mean", "--json"], None);
    assert!(r["overall"]["gamma_deviance"].is_null());
    close(&r["overall"]["poisson_deviance"], mean_poisson_deviance(&[0.0, 2.0], &[1.5, 1.0], None).unwrap());
    // A scale so small that the first row has no density: the NLL is +inf (`inf` in the table,
    // null in JSON), the Gamma deviance undefined, the MSE finite.
    let t = tmp_file("tiny_scale.csv", b"y,mean,scale\n0,1,1e-320\n2,1,1\n");
    let out = run(&["score", &t], None);
    assert!(out.status.success());
    let table = String::from_utf8(out.stdout).unwrap();
    let cell = |name: &str| {
        let line = table.lines().find(|l| l.split_whitespace().next() == Some(name)).expect(name);
        line.split_whitespace().nth(1).unwrap().to_string()
    };
    assert_eq!(cell("nll_nats"), "inf", "{table}");
    assert_eq!(cell("gamma_deviance"), "undefined", "{table}");
    assert_eq!(cell("mse"), "1.000000", "{table}");
    let r = json(&["score", &t, "--json"], None);
    assert!(r["overall"]["nll_nats"].is_null() && r["overall"]["gamma_deviance"].is_null());
}

/// `fit` reads Parquet as it reads CSV: the same coefficients on the same rows.
#[test]
fn fit_reads_parquet() {
    let csv = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/data/engel.csv"))
        .unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let rows: Vec<Vec<f64>> = lines.map(|l| l.split(',').map(|c| c.parse().unwrap()).collect()).collect();
    let cols: Vec<(&str, ArrayRef)> = header
        .iter()
        .enumerate()
        .map(|(j, h)| {
            (*h, Arc::new(Float64Array::from(rows.iter().map(|r| r[j]).collect::<Vec<_>>())) as ArrayRef)
        })
        .collect();
    let f = write_parquet("engel.parquet", cols);
    let c = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/data/engel.csv");
    let args = |file: &str| {
        json(
            &["fit", file, "--target", "foodexp", "--features", "income", "--family", "gaussian", "--json"],
            None,
        )
    };
    let (a, b) = (args(&f), args(c));
    assert_eq!(a["coefficients"], b["coefficients"]);
    assert_eq!(a["aic"], b["aic"]);
}
