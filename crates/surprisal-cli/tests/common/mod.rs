//! Helpers shared by the end-to-end tests of the built `surprisal` binary (each test file uses
//! some of them).
#![allow(dead_code)]

use std::process::{Command, Output};

/// Runs the binary with arguments (and optional text on stdin).
pub fn run(args: &[&str], stdin: Option<&str>) -> Output {
    run_bytes(args, stdin.map(str::as_bytes))
}

/// Runs the binary with arguments (and optional bytes on stdin).
pub fn run_bytes(args: &[&str], stdin: Option<&[u8]>) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_surprisal"))
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary runs");
    {
        let mut si = child.stdin.take().unwrap();
        if let Some(s) = stdin {
            si.write_all(s).unwrap();
        }
    }
    child.wait_with_output().unwrap()
}

/// A file with the given contents in this process's temporary folder; returns its path.
pub fn tmp_file(name: &str, contents: &[u8]) -> String {
    let dir = std::env::temp_dir().join(format!("surprisal-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, contents).unwrap();
    p.to_string_lossy().into_owned()
}

/// The single line on stderr (asserting there is exactly one).
pub fn stderr_line(out: &Output) -> String {
    let e = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(e.trim_end().lines().count(), 1, "expected one line on stderr, got:\n{e}");
    e
}
