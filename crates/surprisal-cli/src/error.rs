//! The command's errors: one line on stderr that names the file, row, column and value.

use std::fmt;

/// An error of the command. `Display` is the one line printed on stderr.
#[derive(Debug)]
pub enum CliError {
    /// Bad input data, located as precisely as known.
    Input {
        /// The file (or `-` for standard input).
        file: String,
        /// 1-based data row (the header is row 0), when known.
        row: Option<u64>,
        /// Column name, when known.
        column: Option<String>,
        /// The offending cell, when there is one.
        value: Option<String>,
        /// What is wrong.
        message: String,
    },
    /// An error from the library, with the context it happened in.
    Library {
        /// What was being done (`fitting the GLM`, …).
        context: String,
        /// The library's error.
        source: surprisal::Error,
    },
    /// An I/O error on a file.
    Io {
        /// The file.
        file: String,
        /// The error.
        source: std::io::Error,
    },
    /// A bad combination of arguments that clap cannot see (exit code 2).
    Usage(String),
}

impl CliError {
    /// An input error at a file, without a location.
    pub fn input(file: &str, message: impl Into<String>) -> Self {
        CliError::Input {
            file: file.to_string(),
            row: None,
            column: None,
            value: None,
            message: message.into(),
        }
    }

    /// A library error with context.
    pub fn library(context: impl Into<String>, source: surprisal::Error) -> Self {
        CliError::Library { context: context.into(), source }
    }

    /// A failed write to standard output.
    pub fn stdout(source: std::io::Error) -> Self {
        CliError::Io { file: "standard output".to_string(), source }
    }

    /// Whether this is a write into a pipe whose reader has gone (`surprisal … | head`): the
    /// command then stops quietly with code 0, as `head` asked for no more.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, CliError::Io { source, .. } if source.kind() == std::io::ErrorKind::BrokenPipe)
    }

    /// The process exit code: 2 for usage errors, 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Usage(_) => 2,
            _ => 1,
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Input { file, row, column, value, message } => {
                write!(f, "{file}")?;
                if let Some(r) = row {
                    write!(f, ", row {r}")?;
                }
                if let Some(c) = column {
                    write!(f, ", column `{c}`")?;
                }
                if let Some(v) = value {
                    write!(f, ", value {v:?}")?;
                }
                write!(f, ": {message}")
            }
            CliError::Library { context, source } => write!(f, "{context}: {source}"),
            CliError::Io { file, source } => write!(f, "{file}: {source}"),
            CliError::Usage(m) => write!(f, "usage: {m}"),
        }
    }
}

impl std::error::Error for CliError {}

/// The command's result type.
pub type CliResult<T> = Result<T, CliError>;
