//! `surprisal bench cross-entropy`: argument validation and the JSON report (tiny sizes; no
//! timing is asserted).

mod common;
use common::run;

#[test]
fn bench_reports_every_field_as_json() {
    for dtype in ["f32", "bf16"] {
        let out = run(
            &[
                "bench",
                "cross-entropy",
                "--rows",
                "5",
                "--classes",
                "77",
                "--dtype",
                dtype,
                "--threads",
                "2",
                "--repeats",
                "1",
                "--json",
            ],
            None,
        );
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["rows"], 5);
        assert_eq!(v["classes"], 77);
        assert_eq!(v["dtype"], dtype);
        assert_eq!(v["grad_dtype"], dtype);
        assert_eq!(v["threads"], 2);
        for k in ["copy_ms", "fused_ms", "naive_ms", "fused_over_copy", "naive_over_copy"] {
            assert!(v[k].as_f64().is_some_and(|x| x > 0.0), "{k}: {}", v[k]);
        }
        assert!(v.get("candle_ms").is_some());
        // The fused and three-pass mean losses agree.
        let (a, b) = (v["fused_loss"].as_f64().unwrap(), v["naive_loss"].as_f64().unwrap());
        assert!((a - b).abs() < 1e-3 * b, "{a} vs {b}");
    }
    let out = run(&["bench", "cross-entropy", "--rows", "3", "--classes", "40", "--repeats", "1"], None);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("copy") && text.contains("fused") && text.contains("× copy"), "{text}");
}

#[test]
fn bad_sizes_are_usage_errors() {
    for args in [
        &["bench", "cross-entropy", "--rows", "0", "--classes", "10"][..],
        &["bench", "cross-entropy", "--rows", "10", "--classes", "0"],
        &["bench", "cross-entropy", "--rows", "10", "--classes", "10", "--threads", "0"],
        &["bench", "cross-entropy", "--rows", "10", "--classes", "10", "--repeats", "0"],
        &["bench", "cross-entropy", "--rows", "100000000000", "--classes", "100000000000"],
        &["bench", "cross-entropy", "--rows", "10", "--classes", "10", "--dtype", "f64"],
    ] {
        let out = run(args, None);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(!out.stderr.is_empty());
    }
    // Sizes that do not fit in memory name the size.
    let out = run(&["bench", "cross-entropy", "--rows", "1000000", "--classes", "1000000"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("GiB"));
}
