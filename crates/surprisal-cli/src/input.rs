//! Reading tables: CSV, TSV (by extension `.tsv` / `.tab`), CSV on standard input (`-`), with a
//! header row, or Parquet ([`crate::parquet`]). Cells are parsed as numbers column by column on demand; every failure names the
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
        if crate::parquet::is_parquet(path) {
            return Table::read_parquet(path);
        }
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

    /// Reads a whole Parquet file; numbers become their shortest exact decimal text, so parsing a
    /// cell gives back the stored value. A column of another type is an error naming it.
    fn read_parquet(path: &str) -> CliResult<Table> {
        let pq = crate::parquet::open(path)?;
        let header = pq.header.clone();
        for j in 0..header.len() {
            pq.check_type(j, true)?;
        }
        let all: Vec<usize> = (0..header.len()).collect();
        let mut rows = Vec::new();
        for batch in pq.batches(&all, 1 << 16)? {
            let (n, cols) = batch?;
            for i in 0..n {
                rows.push(
                    cols.iter()
                        .map(|c| match c.as_ref().expect("every column is read").cell(i) {
                            Cell::Text(t) => String::from_utf8_lossy(t).trim().to_string(),
                            Cell::Value(v) => format!("{v}"),
                            Cell::Null => String::new(),
                        })
                        .collect(),
                );
            }
        }
        if rows.is_empty() {
            return Err(CliError::input(path, "no data rows"));
        }
        Ok(Table { file: path.to_string(), header, rows })
    }

    /// The index of a column, or an error naming the columns that exist.
    pub fn column_index(&self, name: &str) -> CliResult<usize> {
        self.header.iter().position(|h| h == name).ok_or_else(|| {
            CliError::input(&self.file, format!("no column `{name}` ({})", columns_text(&self.header)))
        })
    }

    /// A column parsed as finite numbers.
    pub fn numbers(&self, name: &str) -> CliResult<Vec<f64>> {
        let j = self.column_index(name)?;
        self.rows.iter().enumerate().map(|(i, row)| parse_finite(&self.file, i + 1, name, &row[j])).collect()
    }
}

/// Parses one text cell as a finite number, naming file, row, column and value on failure.
pub fn parse_finite(file: &str, row: usize, column: &str, cell: &str) -> CliResult<f64> {
    number(file, row as u64, column, cell.as_bytes())
}

/// A located error at one cell.
pub fn cell_error(file: &str, row: u64, column: &str, cell: &[u8], message: &str) -> CliError {
    CliError::Input {
        file: file.to_string(),
        row: Some(row),
        column: Some(column.to_string()),
        value: Some(String::from_utf8_lossy(cell).into_owned()),
        message: message.to_string(),
    }
}

/// Exact powers of ten (every one is a double).
const POW10: [f64; 16] =
    [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

/// Plain decimals (`-ddd.ddd`, at most 15 digits) parsed exactly: the digits form an integer below
/// 2⁵³ and the power of ten is exact, so one correctly rounded division gives the correctly rounded
/// value (Clinger's fast path), the same as `str::parse`. Anything else returns `None`.
#[inline]
fn plain_decimal(cell: &[u8]) -> Option<f64> {
    let (neg, digits) = match cell.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, cell),
    };
    let (mut mant, mut n, mut frac, mut dot) = (0u64, 0usize, 0usize, false);
    for &c in digits {
        match c {
            b'0'..=b'9' => {
                mant = mant * 10 + u64::from(c - b'0');
                n += 1;
                frac += usize::from(dot);
            }
            b'.' if !dot => dot = true,
            _ => return None,
        }
        if n > 15 {
            return None;
        }
    }
    if n == 0 {
        return None;
    }
    let v = mant as f64 / POW10[frac];
    Some(if neg { -v } else { v })
}

/// One cell of a row: text from a CSV file, or a typed value from a Parquet column.
#[derive(Clone, Copy, Debug)]
pub enum Cell<'a> {
    /// The raw bytes of a CSV field.
    Text(&'a [u8]),
    /// A number read from a numeric (or boolean) Parquet column.
    Value(f64),
    /// A null in a Parquet column.
    Null,
}

impl Cell<'_> {
    /// The cell as shown in an error message.
    pub fn shown(&self) -> String {
        match self {
            Cell::Text(t) => String::from_utf8_lossy(t).into_owned(),
            Cell::Value(v) => format!("{v}"),
            Cell::Null => "null".to_string(),
        }
    }
}

/// A located error at one cell of any kind.
pub fn error_at(file: &str, row: u64, column: &str, cell: Cell, message: &str) -> CliError {
    CliError::Input {
        file: file.to_string(),
        row: Some(row),
        column: Some(column.to_string()),
        value: Some(cell.shown()),
        message: message.to_string(),
    }
}

/// Parses one cell as a finite number.
#[inline]
pub fn number_of(file: &str, row: u64, column: &str, cell: Cell) -> CliResult<f64> {
    match cell {
        Cell::Text(t) => number(file, row, column, t),
        Cell::Value(v) if v.is_finite() => Ok(v),
        Cell::Value(_) => Err(error_at(file, row, column, cell, "not a finite number")),
        Cell::Null => Err(error_at(file, row, column, cell, "missing value")),
    }
}

/// Parses one cell as a logit: a number, or ±inf (`inf`, `-inf`: a class a model rules out or is
/// certain of); NaN and text are errors.
#[inline]
pub fn logit_of(file: &str, row: u64, column: &str, cell: Cell) -> CliResult<f64> {
    let infinite = |t: &[u8]| {
        let v = std::str::from_utf8(t).ok()?.trim().parse::<f64>().ok()?;
        v.is_infinite().then_some(v)
    };
    match cell {
        Cell::Text(t) => number(file, row, column, t).or_else(|e| infinite(t).ok_or(e)),
        Cell::Value(v) if !v.is_nan() => Ok(v),
        _ => number_of(file, row, column, cell),
    }
}

/// Parses one cell as a probability in [0, 1].
#[inline]
pub fn probability_of(file: &str, row: u64, column: &str, cell: Cell) -> CliResult<f64> {
    let v = number_of(file, row, column, cell)?;
    if !(0.0..=1.0).contains(&v) {
        return Err(error_at(file, row, column, cell, "probability outside [0, 1]"));
    }
    Ok(v)
}

/// Parses one cell as a class index in `0..n_classes` (an integer, or a number with no fraction).
#[inline]
pub fn class_index_of(file: &str, row: u64, column: &str, cell: Cell, n_classes: usize) -> CliResult<i64> {
    match cell {
        Cell::Text(b"0") => return Ok(0),
        Cell::Text(b"1") if n_classes > 1 => return Ok(1),
        _ => {}
    }
    let v = number_of(file, row, column, cell)?;
    if v.fract() != 0.0 || v < 0.0 || v >= n_classes as f64 {
        let what = if n_classes == 2 {
            "binary target must be 0 or 1".to_string()
        } else if v.fract() != 0.0 {
            format!("not a whole number: a class index is an integer in 0..{}", n_classes - 1)
        } else {
            format!("class index outside 0..{}", n_classes - 1)
        };
        return Err(error_at(file, row, column, cell, &what));
    }
    Ok(v as i64)
}

/// Parses one text cell as a finite number.
#[inline]
pub fn number(file: &str, row: u64, column: &str, cell: &[u8]) -> CliResult<f64> {
    if let Some(v) = plain_decimal(cell) {
        return Ok(v);
    }
    let text = std::str::from_utf8(cell)
        .map_err(|_| cell_error(file, row, column, cell, "not valid UTF-8 text (is this a CSV file?)"))?;
    let v: f64 = text.trim().parse().map_err(|_| cell_error(file, row, column, cell, "not a number"))?;
    if !v.is_finite() {
        return Err(cell_error(file, row, column, cell, "not a finite number"));
    }
    Ok(v)
}

/// Parses a text cell as a probability in [0, 1].
#[inline]
pub fn probability(file: &str, row: u64, column: &str, cell: &[u8]) -> CliResult<f64> {
    probability_of(file, row, column, Cell::Text(cell))
}

/// Parses a text cell as a class index in `0..n_classes`.
#[inline]
pub fn class_index(file: &str, row: u64, column: &str, cell: &[u8], n_classes: usize) -> CliResult<i64> {
    class_index_of(file, row, column, Cell::Text(cell), n_classes)
}

/// The header's columns for an error message, `columns: a, b, c`; a header read as one column
/// that holds a `;`, `|` or tab (a file with another separator) says so.
pub fn columns_text(header: &[String]) -> String {
    let list = format!("columns: {}", header.join(", "));
    match header {
        [one] => match [';', '|', '\t'].into_iter().find(|&c| one.contains(c)) {
            Some(sep) => format!(
                "{list}: the header is one column; the file is read comma-separated (tab-separated for \
                 .tsv / .tab), and this one looks separated by {sep:?}"
            ),
            None => list,
        },
        _ => list,
    }
}

/// A family, link, loss or method name as the library spells it: `Student-T` and ` student_t `
/// both read `student_t` (a clap value parser; it never fails).
pub fn choice_name(s: &str) -> Result<String, std::convert::Infallible> {
    Ok(s.trim().to_ascii_lowercase().replace('-', "_"))
}

#[cfg(test)]
mod tests {
    use super::plain_decimal;

    #[test]
    fn plain_decimals_parse_exactly_as_the_standard_parser() {
        let cells = [
            "0",
            "1",
            "0.5",
            "0.123456",
            "-3.25",
            "123456789012345",
            "0.00000000000001",
            "9.99999999999999",
            "12.",
            ".5",
            "-0.0",
            "0.1",
            "0.7",
            "2.675",
        ];
        for c in cells {
            let want: f64 = c.parse().unwrap();
            let got = plain_decimal(c.as_bytes()).unwrap();
            assert_eq!(got.to_bits(), want.to_bits(), "{c}");
        }
        for c in ["", "-", ".", "-.", "1e5", "1.2.3", "abc", "1234567890123456", " 1", "inf", "NaN", "+1"] {
            assert!(plain_decimal(c.as_bytes()).is_none(), "{c}");
        }
    }
}
