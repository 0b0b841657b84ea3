//! Reading tables: CSV, TSV (by extension `.tsv` / `.tab`) or CSV on standard input (`-`), with a
//! header row. Cells are parsed as numbers column by column on demand; every failure names the
//! file, the 1-based data row, the column and the cell.

use crate::error::{CliError, CliResult};
use std::io::Read;

/// A whole table held as text cells (for the small data sets that fits and comparisons use; the
/// scoring command streams instead).
#[derive(Debug, Clone)]
pub struct Table {
    /// The file name as given (`-` for standard input).
    pub file: String,
    /// Column names from the header row.
    pub header: Vec<String>,
    /// Data rows, each with exactly `header.len()` cells.
    pub rows: Vec<Vec<String>>,
}

/// The field delimiter for a path: tab for `.tsv` / `.tab`, comma otherwise.
pub fn delimiter_for(path: &str) -> u8 {
    if path.ends_with(".tsv") || path.ends_with(".tab") { b'\t' } else { b',' }
}

/// Opens a path (or `-` for standard input) as a CSV reader with a header row.
pub fn reader(path: &str) -> CliResult<csv::Reader<Box<dyn Read>>> {
    let source: Box<dyn Read> = if path == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        let f = std::fs::File::open(path).map_err(|e| CliError::Io { file: path.to_string(), source: e })?;
        Box::new(f)
    };
    // The reader buffers itself (1 MiB): no second buffer in between.
    Ok(csv::ReaderBuilder::new()
        .delimiter(delimiter_for(path))
        .has_headers(true)
        .buffer_capacity(1 << 20)
        .from_reader(source))
}

/// Turns a csv error into a located input error.
pub fn csv_error(file: &str, e: csv::Error) -> CliError {
    let row = e.position().map(|p| p.record().saturating_sub(0));
    let message = match e.kind() {
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            format!("row has {len} fields, the header has {expected_len}")
        }
        csv::ErrorKind::Utf8 { .. } => "not valid UTF-8 text (is this a CSV file?)".to_string(),
        csv::ErrorKind::Io(io) => io.to_string(),
        _ => e.to_string(),
    };
    CliError::Input { file: file.to_string(), row, column: None, value: None, message }
}

/// The header of a reader, checked to be non-empty.
pub fn header(file: &str, r: &mut csv::Reader<Box<dyn Read>>) -> CliResult<Vec<String>> {
    let h = r.headers().map_err(|e| csv_error(file, e))?;
    if h.is_empty() || (h.len() == 1 && h[0].trim().is_empty()) {
        return Err(CliError::input(file, "empty file: no header row"));
    }
    Ok(h.iter().map(|s| s.trim().to_string()).collect())
}

impl Table {
    /// Reads a whole table. Errors for a missing file, an empty or header-only file, rows of the
    /// wrong length, and bytes that are not UTF-8 text.
    pub fn read(path: &str) -> CliResult<Table> {
        let mut r = reader(path)?;
        let header = header(path, &mut r)?;
        let mut rows = Vec::new();
        for rec in r.records() {
            let rec = rec.map_err(|e| csv_error(path, e))?;
            rows.push(rec.iter().map(|s| s.trim().to_string()).collect());
        }
        if rows.is_empty() {
            return Err(CliError::input(path, "no data rows (only a header)"));
        }
        Ok(Table { file: path.to_string(), header, rows })
    }

    /// The index of a column, or an error naming the columns that exist.
    pub fn column_index(&self, name: &str) -> CliResult<usize> {
        self.header.iter().position(|h| h == name).ok_or_else(|| {
            CliError::input(&self.file, format!("no column `{name}` (columns: {})", self.header.join(", ")))
        })
    }

    /// A column parsed as finite numbers.
    pub fn numbers(&self, name: &str) -> CliResult<Vec<f64>> {
        let j = self.column_index(name)?;
        self.rows.iter().enumerate().map(|(i, row)| parse_finite(&self.file, i + 1, name, &row[j])).collect()
    }
}

/// Parses one cell as a finite number, naming file, row, column and value on failure.
pub fn parse_finite(file: &str, row: usize, column: &str, cell: &str) -> CliResult<f64> {
    let at = |message: &str| CliError::Input {
        file: file.to_string(),
        row: Some(row as u64),
        column: Some(column.to_string()),
        value: Some(cell.to_string()),
        message: message.to_string(),
    };
    let v: f64 = cell.trim().parse().map_err(|_| at("not a number"))?;
    if !v.is_finite() {
        return Err(at("not a finite number"));
    }
    Ok(v)
}
