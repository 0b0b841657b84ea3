//! `--plot` of `score` and `explain`: each kind of plot as a valid PNG and SVG, an unwritable path
//! as one located line (exit 1, no file left), an unknown extension as a usage error (exit 2).

mod common;

use common::{run, stderr_line, tmp_file};
use std::path::Path;

const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];

fn binary_csv() -> String {
    let mut s = String::from("y,p\n");
    for i in 0..200 {
        let p = (i as f64 + 0.5) / 200.0;
        let y = u8::from((i * 7919) % 200 < (p * p * 200.0) as usize);
        s.push_str(&format!("{y},{p}\n"));
    }
    s
}

fn multiclass_csv() -> String {
    let mut s = String::from("y,a,b,c\n");
    for i in 0..90 {
        let a = 0.2 + 0.6 * (i % 10) as f64 / 10.0;
        let b = (1.0 - a) / 2.0;
        s.push_str(&format!("{},{a},{b},{}\n", i % 3, 1.0 - a - b));
    }
    s
}

fn regression_csv() -> String {
    let mut s = String::from("y,m,s\n");
    for i in 0..150 {
        let m = i as f64 / 10.0;
        let y = m + ((i * 37) % 21) as f64 / 10.0 - 1.0;
        s.push_str(&format!("{y},{m},1.5\n"));
    }
    s
}

/// A fresh output path in the tests' temporary folder (no file there yet).
fn out_path(name: &str) -> String {
    let p = tmp_file(name, b"");
    std::fs::remove_file(&p).unwrap();
    p
}

/// Runs the command with `--plot` into a .png and a .svg and checks both files.
fn check_both(args: &[&str], name: &str) {
    for ext in ["png", "svg"] {
        let out = out_path(&format!("{name}.{ext}"));
        let mut a: Vec<&str> = args.to_vec();
        a.extend(["--plot", out.as_str()]);
        let o = run(&a, None);
        assert!(o.status.success(), "{a:?}: {}", String::from_utf8_lossy(&o.stderr));
        let bytes = std::fs::read(&out).unwrap();
        if ext == "png" {
            assert_eq!(bytes[..8], PNG_SIGNATURE, "{name}");
            assert!(bytes.len() > 10_000, "{name}: {} bytes", bytes.len());
        } else {
            let text = String::from_utf8(bytes).unwrap();
            assert!(text.contains("<svg"), "{name}");
            assert!(text.contains("<text"), "{name}: the SVG has its labels");
        }
        let dir = Path::new(&out).parent().unwrap();
        let prefix = format!(".{name}.{ext}.");
        let leftovers: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
            .collect();
        assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
    }
}

#[test]
fn reliability_diagrams_of_binary_and_multiclass_scores() {
    let bin = tmp_file("plot-binary.csv", binary_csv().as_bytes());
    check_both(&["score", &bin, "--target", "y", "--prob", "p"], "reliability-binary");
    let multi = tmp_file("plot-multi.csv", multiclass_csv().as_bytes());
    check_both(&["score", &multi, "--target", "y", "--probs", "a,b,c"], "reliability-multi");
}

#[test]
fn pit_and_residual_histograms_of_regression_scores() {
    let reg = tmp_file("plot-reg.csv", regression_csv().as_bytes());
    check_both(&["score", &reg, "--target", "y", "--mean", "m", "--scale", "s"], "pit-normal");
    check_both(
        &["score", &reg, "--target", "y", "--mean", "m", "--scale", "s", "--family", "laplace"],
        "pit-laplace",
    );
    check_both(&["score", &reg, "--target", "y", "--mean", "m"], "residuals");
}

#[test]
fn explain_plots_gradients_and_loss_curves() {
    check_both(&["explain", "sigmoid_binary_cross_entropy"], "explain-sigmoid");
    check_both(&["explain", "mse"], "explain-mse");
    check_both(&["explain", "huber"], "explain-huber");
    check_both(&["explain", "softmax_cross_entropy_probs"], "explain-soft");
}

#[test]
fn an_unwritable_path_is_one_located_line_and_no_file() {
    let bin = tmp_file("plot-binary-unwritable.csv", binary_csv().as_bytes());
    let dir = Path::new(&bin).parent().unwrap().join("no-such-folder");
    let out = dir.join("diagram.png").to_string_lossy().into_owned();
    for args in [
        vec!["score", bin.as_str(), "--target", "y", "--prob", "p", "--plot", out.as_str()],
        vec!["explain", "mse", "--plot", out.as_str()],
    ] {
        let o = run(&args, None);
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        let line = stderr_line(&o);
        assert!(line.contains(&out), "{line}");
        assert!(o.stdout.is_empty(), "nothing printed before the plot is written");
        assert!(!dir.exists());
    }
}

#[test]
fn an_unknown_extension_is_a_usage_error_before_any_work() {
    let bin = tmp_file("plot-binary-ext.csv", binary_csv().as_bytes());
    let out = out_path("diagram.jpg");
    for args in [
        vec!["score", bin.as_str(), "--target", "y", "--prob", "p", "--plot", out.as_str()],
        vec!["explain", "mse", "--plot", out.as_str()],
        vec!["score", "/no/such/input.csv", "--target", "y", "--prob", "p", "--plot", out.as_str()],
    ] {
        let o = run(&args, None);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let line = stderr_line(&o);
        assert!(line.contains(".png or .svg"), "{line}");
        assert!(!Path::new(&out).exists());
    }
}
