//! Helpers shared by the end-to-end tests of the built `surprisal` binary.

use std::process::{Command, Output};

/// Runs the binary with arguments (and optional stdin).
pub fn run(args: &[&str], stdin: Option<&str>) -> Output {
    use std::io::Write;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_surprisal"));
    cmd.args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().expect("the binary runs");
    {
        let mut si = child.stdin.take().unwrap();
        if let Some(s) = stdin {
            si.write_all(s.as_bytes()).unwrap();
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
