//! Parquet input: the columns a command needs, decoded batch by batch into numbers (or text for a
//! group column), with the column's type checked against its use before any row is read.
//!
//! Numeric columns of any integer or floating-point type and boolean columns (false = 0,
//! true = 1) are read as numbers; string columns only serve as `--by` groups (or as text cells of
//! a small table). A null is reported at its row, like a bad CSV cell.

use crate::error::{CliError, CliResult};
use crate::input::Cell;
use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float16Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type,
    UInt32Type, UInt64Type,
};
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use std::fs::File;
use std::io::Read;

/// Whether a path is read as Parquet: by its extension, or by the `PAR1` magic at its start.
pub fn is_parquet(path: &str) -> bool {
    if path == "-" {
        return false;
    }
    let lower = path.to_ascii_lowercase();
    if lower.ends_with(".parquet") || lower.ends_with(".pq") {
        return true;
    }
    let mut magic = [0u8; 4];
    File::open(path).and_then(|mut f| f.read_exact(&mut magic)).is_ok() && &magic == b"PAR1"
}

/// One decoded column of a batch.
#[derive(Debug)]
pub enum Column {
    /// Numbers, with the rows that are null.
    Num { values: Vec<f64>, nulls: Option<Vec<bool>> },
    /// Text (`None` for a null).
    Text(Vec<Option<String>>),
}

impl Column {
    /// The cell at row `i` of the batch.
    #[inline]
    pub fn cell(&self, i: usize) -> Cell<'_> {
        match self {
            Column::Num { values, nulls } => match nulls {
                Some(n) if n[i] => Cell::Null,
                _ => Cell::Value(values[i]),
            },
            Column::Text(v) => v[i].as_deref().map_or(Cell::Null, |s| Cell::Text(s.as_bytes())),
        }
    }
}

/// Whether values of this type are read as numbers.
fn is_numeric(t: &DataType) -> bool {
    use DataType::*;
    matches!(
        t,
        Boolean
            | Int8
            | Int16
            | Int32
            | Int64
            | UInt8
            | UInt16
            | UInt32
            | UInt64
            | Float16
            | Float32
            | Float64
    )
}

/// Whether values of this type are read as text.
fn is_text(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

/// An open Parquet file with its schema.
pub struct ParquetFile {
    file: String,
    builder: ParquetRecordBatchReaderBuilder<File>,
    /// Column names (top-level fields).
    pub header: Vec<String>,
    types: Vec<DataType>,
}

/// A Parquet error at a file.
fn parquet_error(file: &str, e: impl std::fmt::Display) -> CliError {
    CliError::input(file, format!("not a readable Parquet file: {e}"))
}

/// Opens a Parquet file and reads its schema.
pub fn open(path: &str) -> CliResult<ParquetFile> {
    let f = File::open(path).map_err(|e| CliError::Io { file: path.to_string(), source: e })?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(f).map_err(|e| parquet_error(path, e))?;
    let schema = builder.schema().clone();
    if schema.fields().is_empty() {
        return Err(CliError::input(path, "empty file: no columns"));
    }
    Ok(ParquetFile {
        file: path.to_string(),
        header: schema.fields().iter().map(|f| f.name().trim().to_string()).collect(),
        types: schema.fields().iter().map(|f| f.data_type().clone()).collect(),
        builder,
    })
}

impl ParquetFile {
    /// Rows in the file (from its metadata).
    pub fn rows(&self) -> u64 {
        self.builder.metadata().file_metadata().num_rows().max(0) as u64
    }

    /// Checks that column `j` holds numbers (or, with `text_ok`, text).
    pub fn check_type(&self, j: usize, text_ok: bool) -> CliResult<()> {
        let t = &self.types[j];
        if is_numeric(t) || (text_ok && is_text(t)) {
            return Ok(());
        }
        let want = if text_ok { "numbers or text" } else { "numbers" };
        Err(CliError::Input {
            file: self.file.clone(),
            row: None,
            column: Some(self.header[j].clone()),
            value: None,
            message: format!("column of Parquet type {t}, expected {want}"),
        })
    }

    /// A reader of the columns `cols` (checked with [`ParquetFile::check_type`] first) in batches
    /// of up to `batch_rows` rows.
    pub fn batches(self, cols: &[usize], batch_rows: usize) -> CliResult<Batches> {
        let mask = ProjectionMask::roots(self.builder.parquet_schema(), cols.iter().copied());
        let reader = self
            .builder
            .with_projection(mask)
            .with_batch_size(batch_rows)
            .build()
            .map_err(|e| parquet_error(&self.file, e))?;
        Ok(Batches { file: self.file, header: self.header, cols: cols.to_vec(), reader })
    }
}

/// Decoded batches of a Parquet file: each is the batch's row count and, for every column of the
/// file, its data if it was asked for.
pub struct Batches {
    file: String,
    header: Vec<String>,
    cols: Vec<usize>,
    reader: ParquetRecordBatchReader,
}

impl Iterator for Batches {
    type Item = CliResult<(usize, Vec<Option<Column>>)>;

    fn next(&mut self) -> Option<Self::Item> {
        let batch = match self.reader.next()? {
            Ok(b) => b,
            Err(e) => return Some(Err(parquet_error(&self.file, e))),
        };
        Some(self.decode(&batch))
    }
}

impl Batches {
    fn decode(&self, batch: &RecordBatch) -> CliResult<(usize, Vec<Option<Column>>)> {
        let mut out: Vec<Option<Column>> = (0..self.header.len()).map(|_| None).collect();
        for &j in &self.cols {
            let name = &self.header[j];
            let idx = batch.schema().index_of(name).map_err(|e| parquet_error(&self.file, e))?;
            out[j] = Some(column(batch.column(idx).as_ref()).ok_or_else(|| {
                CliError::input(&self.file, format!("column `{name}`: unsupported Parquet type"))
            })?);
        }
        Ok((batch.num_rows(), out))
    }
}

/// Decodes one Arrow array (numeric, boolean or text), `None` for another type.
pub fn column(a: &dyn Array) -> Option<Column> {
    macro_rules! num {
        ($t:ty) => {
            a.as_primitive::<$t>().values().iter().map(|&v| v as f64).collect()
        };
    }
    let values: Vec<f64> = match a.data_type() {
        DataType::Int8 => num!(Int8Type),
        DataType::Int16 => num!(Int16Type),
        DataType::Int32 => num!(Int32Type),
        DataType::Int64 => num!(Int64Type),
        DataType::UInt8 => num!(UInt8Type),
        DataType::UInt16 => num!(UInt16Type),
        DataType::UInt32 => num!(UInt32Type),
        DataType::UInt64 => num!(UInt64Type),
        DataType::Float16 => a.as_primitive::<Float16Type>().values().iter().map(|v| v.to_f64()).collect(),
        DataType::Float32 => num!(Float32Type),
        DataType::Float64 => a.as_primitive::<Float64Type>().values().to_vec(),
        DataType::Boolean => {
            let b = a.as_boolean();
            (0..b.len()).map(|i| if b.value(i) { 1.0 } else { 0.0 }).collect()
        }
        DataType::Utf8 => {
            return Some(Column::Text(a.as_string::<i32>().iter().map(|s| s.map(String::from)).collect()));
        }
        DataType::LargeUtf8 => {
            return Some(Column::Text(a.as_string::<i64>().iter().map(|s| s.map(String::from)).collect()));
        }
        DataType::Utf8View => {
            return Some(Column::Text(a.as_string_view().iter().map(|s| s.map(String::from)).collect()));
        }
        _ => return None,
    };
    let nulls = (a.null_count() > 0).then(|| (0..a.len()).map(|i| a.is_null(i)).collect());
    Some(Column::Num { values, nulls })
}
