//! End-to-end tests of the built `surprisal` binary.

mod common;
use common::{run, stderr_line, tmp_file};

#[test]
fn losses_lists_every_named_loss() {
    let out = run(&["losses"], None);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for name in ["mse", "l1", "pinball", "softmax_cross_entropy", "sigmoid_focal"] {
        assert!(text.contains(name), "{name} missing from:\n{text}");
    }
}

#[test]
fn usage_errors_exit_with_code_2() {
    let out = run(&["no-such-command"], None);
    assert_eq!(out.status.code(), Some(2));
}

fn engel() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/data/engel.csv").to_string()
}

#[test]
fn compare_ranks_families_on_engel_and_names_the_loss() {
    let out =
        run(&["compare", &engel(), "--target", "foodexp", "--families", "gaussian,log_normal,gamma"], None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("best by held-out NLL"), "{text}");
    assert!(text.contains("so the loss to train with is"), "{text}");
    let json =
        run(&["compare", &engel(), "--target", "foodexp", "--families", "gaussian,laplace", "--json"], None);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["n"], 235);
    assert_eq!(v["ranked"].as_array().unwrap().len(), 2);
}

/// A family named twice (`normal` and `gaussian` are one) is a usage error naming both spellings.
#[test]
fn compare_refuses_a_family_named_twice() {
    for (families, want) in [
        ("laplace,laplace", "names the family `laplace` twice (as `laplace` and `laplace`)"),
        ("gaussian,laplace,normal", "names the family `normal` twice (as `gaussian` and `normal`)"),
    ] {
        let out = run(&["compare", &engel(), "--target", "foodexp", "--families", families], None);
        assert_eq!(out.status.code(), Some(2), "{out:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains(want), "{out:?}");
    }
}

#[test]
fn compare_reads_standard_input() {
    let csv = "y\n1.0\n2.5\n0.3\n4.1\n2.2\n3.3\n1.7\n0.9\n";
    let out =
        run(&["compare", "-", "--target", "y", "--families", "gaussian,laplace", "--folds", "2"], Some(csv));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn bad_input_gives_one_line_naming_file_row_column_and_value() {
    let missing = run(&["compare", "/no/such/file.csv", "--target", "y"], None);
    assert_eq!(missing.status.code(), Some(1));
    assert!(stderr_line(&missing).contains("/no/such/file.csv"));

    let empty = tmp_file("empty.csv", b"");
    let out = run(&["compare", &empty, "--target", "y"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr_line(&out).contains("empty"));

    let header_only = tmp_file("header.csv", b"y\n");
    let out = run(&["compare", &header_only, "--target", "y"], None);
    assert!(stderr_line(&out).contains("no data rows"));

    let f = tmp_file("cells.csv", b"x,y\n1,2\n3,abc\n");
    let out = run(&["compare", &f, "--target", "y", "--folds", "2"], None);
    let line = stderr_line(&out);
    assert!(line.contains("row 2") && line.contains("`y`") && line.contains("abc"), "{line}");

    let out = run(&["compare", &f, "--target", "z"], None);
    assert!(stderr_line(&out).contains("no column `z`"));

    let f = tmp_file("nan.csv", b"y\n1\nNaN\n3\n");
    let line = stderr_line(&run(&["compare", &f, "--target", "y", "--folds", "2"], None));
    assert!(line.contains("row 2") && line.contains("finite"), "{line}");

    let f = tmp_file("short.csv", b"x,y\n1,2\n3\n");
    let line = stderr_line(&run(&["compare", &f, "--target", "y"], None));
    assert!(line.contains("fields"), "{line}");

    let f = tmp_file("binary.csv", &[b'y', b'\n', 0xff, 0xfe, 0x00, b'\n']);
    let out = run(&["compare", &f, "--target", "y"], None);
    assert_eq!(out.status.code(), Some(1));
    stderr_line(&out);

    let f = tmp_file("ok.csv", b"y\n1\n2\n3\n");
    let out = run(&["compare", &f, "--target", "y", "--folds", "9"], None);
    assert_eq!(out.status.code(), Some(2));
    let out = run(&["compare", &f, "--target", "y", "--families", "nope"], None);
    assert_eq!(out.status.code(), Some(2));
}

/// Runs the binary with standard output going to `stdout`, returning its exit code and stderr.
fn run_with_stdout(args: &[&str], stdout: std::process::Stdio) -> (Option<i32>, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_surprisal"))
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(stdout)
        .output()
        .expect("the binary runs");
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn a_closed_pipe_on_standard_output_ends_every_printing_command_quietly() {
    let model = tmp_file("pipe-model.json", b"");
    let fit = ["fit", &engel(), "--target", "foodexp", "--features", "income", "--family", "gaussian"];
    let saved = run(&[&fit[..], &["--save", &model]].concat(), None);
    assert!(saved.status.success(), "{}", String::from_utf8_lossy(&saved.stderr));
    let commands: [&[&str]; 6] = [
        &["losses"],
        &["explain", "mse"],
        &["explain", "softmax_cross_entropy", "--json"],
        &["compare", &engel(), "--target", "foodexp", "--families", "gaussian,laplace"],
        &fit,
        &["predict", &model, &engel()],
    ];
    for args in commands {
        // The reader is gone before the command writes anything: like `surprisal … | head -0`.
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let (code, stderr) = run_with_stdout(args, writer.into());
        assert_eq!(code, Some(0), "{args:?} exited {code:?}, stderr:\n{stderr}");
        assert!(stderr.is_empty(), "{args:?} wrote to stderr:\n{stderr}");
    }
}

#[cfg(target_os = "linux")]
#[test]
fn a_full_standard_output_is_an_error_on_one_line() {
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
    let (code, stderr) = run_with_stdout(&["explain", "mse"], full.into());
    assert_eq!(code, Some(1), "stderr:\n{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("standard output") && stderr.contains("No space left"), "{stderr}");
}

#[test]
fn a_file_with_another_separator_is_named_as_such() {
    let f = tmp_file("semicolons.csv", b"y;p\n1;0.9\n0;0.2\n");
    for args in [
        vec!["score", f.as_str(), "--prob", "p"],
        vec!["score", f.as_str(), "--target", "y", "--prob", "p"],
        vec!["fit", f.as_str(), "--target", "y", "--all", "--family", "gaussian"],
    ] {
        let out = run(&args, None);
        assert!(!out.status.success(), "{args:?}");
        let line = stderr_line(&out);
        assert!(
            line.contains("columns: y;p: the header is one column") && line.contains("separated by ';'"),
            "{line}"
        );
    }
    // A one-column file without such a character is just listed.
    let f = tmp_file("one_column.csv", b"y\n1\n0\n");
    let line = stderr_line(&run(&["score", &f, "--target", "y", "--prob", "p"], None));
    assert!(line.ends_with("no column `p` (columns: y)\n"), "{line:?}");
}

#[test]
fn dash_is_standard_output_for_predictions_and_refused_for_other_output_files() {
    let dir = std::env::temp_dir().join(format!("surprisal-dash-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let in_dir = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_surprisal"))
            .args(args)
            .current_dir(&dir)
            .output()
            .unwrap()
    };
    let cal = tmp_file("dash-cal.csv", b"y,p\n1,0.9\n0,0.2\n1,0.6\n0,0.4\n");
    let fit = ["fit", &engel(), "--target", "foodexp", "--features", "income", "--family", "gaussian"];
    for (args, option) in [
        (
            vec![
                "calibrate",
                "--fit",
                &cal,
                "--apply",
                &cal,
                "--method",
                "platt",
                "--prob",
                "p",
                "--out",
                "-",
            ],
            "--out",
        ),
        ([&fit[..], &["--save", "-"]].concat(), "--save"),
    ] {
        let out = in_dir(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let line = stderr_line(&out);
        assert!(line.contains(&format!("{option} cannot be `-`")), "{line}");
        assert!(!dir.join("-").exists(), "{args:?} wrote a file named `-`");
    }
    let model = tmp_file("dash-model.json", b"");
    assert!(run(&[&fit[..], &["--save", &model]].concat(), None).status.success());
    let to_stdout = in_dir(&["predict", &model, &engel(), "--out", "-"]);
    assert!(to_stdout.status.success(), "{}", String::from_utf8_lossy(&to_stdout.stderr));
    assert_eq!(to_stdout.stdout, in_dir(&["predict", &model, &engel()]).stdout);
    assert!(to_stdout.stdout.starts_with(b"prediction\n") && !dir.join("-").exists());
}
