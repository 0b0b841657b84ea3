//! Reading the input in blocks and scoring the blocks on several threads.
//!
//! The main thread only reads: CSV text in blocks of about [`BLOCK`] bytes cut at a line end that
//! is outside any quoted field (the parity of the quotes before it is even), or Parquet record
//! batches decoded to columns. Block `i` goes to worker `i mod T`; each worker parses its blocks,
//! checks every cell and feeds its own accumulators, which are merged in worker order at the end,
//! so a result depends only on the input and the thread count. A bad cell stops the run: the
//! error of the earliest block wins, and its row number is made absolute by adding the rows of
//! the blocks before it. Memory: a few blocks in flight a worker, plus the accumulators.

use super::scores::{Batch, RegPlot, ScoreSet};
use super::task::Spec;
use crate::error::{CliError, CliResult};
use crate::input::{self, Cell};
use crate::parquet::{Batches, Column};
use indicatif::{ProgressBar, ProgressStyle};
use std::borrow::Cow;
use std::collections::HashMap;
use std::io::{IsTerminal, Read};
use std::sync::mpsc;

/// Bytes of CSV a block holds (it ends at the last full row).
pub const BLOCK: usize = 1 << 20;
/// Rows fed to the accumulators at a time.
pub const BATCH: usize = 1 << 16;
/// Rows a Parquet batch holds.
pub const PARQUET_BATCH: usize = 1 << 16;
/// Inputs at least this large (in bytes) show a progress bar on a terminal.
const PROGRESS_BYTES: u64 = 16 << 20;

/// A unit of work.
pub enum Job {
    /// CSV text holding whole rows, and whether it is plain: no quote, and no carriage return
    /// other than in a CRLF line end (then fields are split without the CSV state machine).
    Csv(Vec<u8>, bool),
    /// A decoded Parquet batch: its rows and its columns by header index.
    Cols(usize, Vec<Option<Column>>),
}

/// How the scorer is set up.
#[derive(Clone, Copy, Debug)]
pub struct Setup {
    /// CSV field delimiter.
    pub delimiter: u8,
    /// Calibration bins.
    pub bins: usize,
    /// Whether to keep rows for the adaptive calibration error.
    pub adaptive: bool,
    /// Whether to keep the data of a regression plot.
    pub plot: bool,
    /// Worker threads.
    pub threads: usize,
}

/// What the workers found, merged.
pub struct Partial {
    /// All rows.
    pub overall: ScoreSet,
    /// One set a group (unsorted).
    pub groups: Vec<(String, ScoreSet)>,
    /// Regression plot data.
    pub plot: Option<RegPlot>,
}

/// Blocks of CSV text cut at row ends.
pub struct Blocks {
    src: Box<dyn Read + Send>,
    carry: Vec<u8>,
    eof: bool,
}

/// Quotes and carriage returns in `buf`.
fn quotes_and_crs(buf: &[u8]) -> (usize, usize) {
    buf.iter().fold((0, 0), |(q, r), &b| (q + usize::from(b == b'"'), r + usize::from(b == b'\r')))
}

/// Whether CSV text holding `quotes` quotes and `crs` carriage returns is plain: no quote, and
/// no carriage return outside a CRLF line end, so that a line is a record and a delimiter
/// separates fields, exactly as the CSV reader would see them.
fn is_plain(buf: &[u8], quotes: usize, crs: usize) -> bool {
    quotes == 0
        && (crs == 0 || buf.iter().enumerate().all(|(i, &b)| b != b'\r' || buf.get(i + 1) == Some(&b'\n')))
}

/// The end of the last line of `buf` (holding `quotes` quotes) that is outside quotes, as an
/// offset just past its `\n`, with the quotes and carriage returns after it.
fn split_point(buf: &[u8], quotes: usize) -> Option<(usize, usize, usize)> {
    let (mut after, mut crs) = (0usize, 0usize);
    for i in (0..buf.len()).rev() {
        match buf[i] {
            b'"' => after += 1,
            b'\r' => crs += 1,
            b'\n' if (quotes - after).is_multiple_of(2) => return Some((i + 1, after, crs)),
            _ => {}
        }
    }
    None
}

impl Blocks {
    /// Blocks of a reader.
    pub fn new(src: Box<dyn Read + Send>) -> Self {
        Blocks { src, carry: Vec::new(), eof: false }
    }

    /// The next block of whole rows (the last one may lack its final line end), and whether it
    /// is plain (see [`Job::Csv`]).
    pub fn next_block(&mut self) -> std::io::Result<Option<(Vec<u8>, bool)>> {
        let mut buf = std::mem::take(&mut self.carry);
        loop {
            if self.eof {
                let (q, r) = quotes_and_crs(&buf);
                let plain = is_plain(&buf, q, r);
                return Ok((!buf.is_empty()).then_some((buf, plain)));
            }
            let start = buf.len();
            let want = if start < BLOCK { BLOCK } else { start + BLOCK };
            buf.resize(want, 0);
            let mut filled = start;
            while filled < want {
                match self.src.read(&mut buf[filled..]) {
                    Ok(0) => {
                        self.eof = true;
                        break;
                    }
                    Ok(n) => filled += n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            buf.truncate(filled);
            if self.eof {
                continue;
            }
            let (q, r) = quotes_and_crs(&buf);
            if let Some((cut, q_after, r_after)) = split_point(&buf, q) {
                self.carry = buf[cut..].to_vec();
                buf.truncate(cut);
                let plain = is_plain(&buf, q - q_after, r - r_after);
                return Ok(Some((buf, plain)));
            }
        }
    }
}

/// One worker's state.
struct Worker<'a> {
    spec: &'a Spec,
    setup: Setup,
    overall: ScoreSet,
    groups: Vec<(String, ScoreSet)>,
    ids: HashMap<Vec<u8>, u32>,
    plot: Option<RegPlot>,
    batch: Batch,
    scratch: Batch,
    members: Vec<Vec<u32>>,
}

/// A library error while scoring (the rows were validated, so this names the context only).
fn lib(file: &str) -> impl Fn(surprisal::Error) -> CliError + '_ {
    move |e| CliError::library(format!("{file}: scoring"), e)
}

impl<'a> Worker<'a> {
    fn new(spec: &'a Spec, setup: Setup) -> CliResult<Self> {
        Ok(Worker {
            spec,
            setup,
            overall: ScoreSet::new(&spec.task, setup.bins, setup.adaptive).map_err(lib(&spec.file))?,
            groups: Vec::new(),
            ids: HashMap::new(),
            plot: if setup.plot { RegPlot::new(&spec.task) } else { None },
            batch: Batch::default(),
            scratch: Batch::default(),
            members: Vec::new(),
        })
    }

    /// The group id of a `--by` cell.
    fn group(&mut self, row: u64, cell: Cell) -> CliResult<u32> {
        let key: Cow<[u8]> = match cell {
            Cell::Text(t) => Cow::Borrowed(t),
            Cell::Value(v) => Cow::Owned(format!("{v}").into_bytes()),
            Cell::Null => Cow::Borrowed(b"null"),
        };
        if let Some(&g) = self.ids.get(key.as_ref()) {
            return Ok(g);
        }
        let j = self.spec.by.expect("groups only with --by");
        let text = std::str::from_utf8(&key).map_err(|_| {
            input::error_at(
                &self.spec.file,
                row,
                &self.spec.header[j],
                cell,
                "not valid UTF-8 text (is this a CSV file?)",
            )
        })?;
        let g = self.groups.len() as u32;
        let set = ScoreSet::new(&self.spec.task, self.setup.bins, self.setup.adaptive)
            .map_err(lib(&self.spec.file))?;
        self.groups.push((text.trim().to_string(), set));
        self.ids.insert(key.into_owned(), g);
        Ok(g)
    }

    /// Parses one row into the batch.
    #[inline]
    fn row<'c>(&mut self, row: u64, cell: impl Fn(usize) -> Cell<'c>) -> CliResult<()> {
        self.spec.push(row, &cell, &mut self.batch)?;
        let g = match self.spec.by {
            None => 0,
            Some(j) => self.group(row, cell(j))?,
        };
        self.batch.g.push(g);
        if self.batch.len() == BATCH {
            self.flush()?;
        }
        Ok(())
    }

    /// Scores the rows in the batch.
    fn flush(&mut self) -> CliResult<()> {
        let (task, file) = (&self.spec.task, self.spec.file.as_str());
        self.overall.update(task, &self.batch).map_err(lib(file))?;
        if let Some(p) = &mut self.plot {
            p.update(task, &self.batch);
        }
        if self.spec.by.is_some() {
            self.members.resize_with(self.groups.len(), Vec::new);
            self.members.iter_mut().for_each(Vec::clear);
            for (i, &g) in self.batch.g.iter().enumerate() {
                self.members[g as usize].push(i as u32);
            }
            for (g, m) in self.members.iter().enumerate() {
                if !m.is_empty() {
                    self.scratch.gather(&self.batch, m, task.width());
                    self.groups[g].1.update(task, &self.scratch).map_err(lib(file))?;
                }
            }
        }
        self.batch.clear();
        Ok(())
    }

    /// The error of a row with the wrong number of fields.
    fn field_count(&self, row: u64, len: usize) -> CliError {
        CliError::Input {
            file: self.spec.file.clone(),
            row: Some(row),
            column: None,
            value: None,
            message: format!("row has {len} fields, the header has {}", self.spec.header.len()),
        }
    }

    /// Parses and scores one job; returns its rows. Errors carry rows counted within the job.
    fn job(&mut self, job: Job) -> CliResult<u64> {
        let mut rows = 0u64;
        match job {
            Job::Csv(bytes, true) => {
                let fields = self.spec.header.len();
                let d = self.setup.delimiter;
                let mut cells: Vec<(usize, usize)> = Vec::with_capacity(fields + 1);
                let mut start = 0;
                for (i, &b) in bytes.iter().enumerate().chain(std::iter::once((bytes.len(), &b'\n'))) {
                    if b == d {
                        cells.push((start, i));
                        start = i + 1;
                    } else if b == b'\n' {
                        let end = if i > start && bytes[i - 1] == b'\r' { i - 1 } else { i };
                        // An empty line is no record (as the CSV reader skips it).
                        if !(cells.is_empty() && end == start) {
                            cells.push((start, end));
                            rows += 1;
                            if cells.len() != fields {
                                return Err(self.field_count(rows, cells.len()));
                            }
                            self.row(rows, |j| Cell::Text(&bytes[cells[j].0..cells[j].1]))?;
                        }
                        cells.clear();
                        start = i + 1;
                    }
                }
            }
            Job::Csv(bytes, false) => {
                let mut r = csv::ReaderBuilder::new()
                    .has_headers(false)
                    .flexible(true)
                    .delimiter(self.setup.delimiter)
                    .from_reader(bytes.as_slice());
                let mut rec = csv::ByteRecord::new();
                let fields = self.spec.header.len();
                loop {
                    match r.read_byte_record(&mut rec) {
                        Ok(true) => {}
                        Ok(false) => break,
                        Err(e) => {
                            let mut err = input::csv_error(&self.spec.file, e);
                            if let CliError::Input { row: Some(r), .. } = &mut err {
                                *r += 1;
                            }
                            return Err(err);
                        }
                    }
                    rows += 1;
                    if rec.len() != fields {
                        return Err(self.field_count(rows, rec.len()));
                    }
                    self.row(rows, |j| Cell::Text(&rec[j]))?;
                }
            }
            Job::Cols(n, cols) => {
                for i in 0..n {
                    rows += 1;
                    self.row(rows, |j| cols[j].as_ref().expect("a projected column").cell(i))?;
                }
            }
        }
        self.flush()?;
        Ok(rows)
    }
}

/// Where the rows come from.
pub enum Source {
    /// CSV blocks, starting with the rest of the first block after the header (and whether it
    /// is plain).
    Csv { blocks: Blocks, first: (Vec<u8>, bool), size: Option<u64> },
    /// Parquet batches.
    Parquet { batches: Batches, rows: u64 },
}

/// A progress bar on a terminal for a large input, hidden otherwise.
fn progress(total: Option<u64>, unit: &str) -> ProgressBar {
    let large = total.is_none_or(|t| t >= PROGRESS_BYTES || unit == "rows");
    if !std::io::stderr().is_terminal() || !large {
        return ProgressBar::hidden();
    }
    let (bar, template) = match (total, unit) {
        (Some(t), "bytes") => (
            ProgressBar::new(t),
            "{spinner} scoring [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
        ),
        (Some(t), _) => (ProgressBar::new(t), "{spinner} scoring [{bar:30}] {pos}/{len} rows ({eta})"),
        (None, _) => (ProgressBar::no_length(), "{spinner} scoring {bytes} ({bytes_per_sec})"),
    };
    bar.set_style(ProgressStyle::with_template(template).expect("a valid template").progress_chars("=> "));
    bar
}

/// A worker's result: its rows per job, and its accumulators or the error of a job.
type WorkerOut<'a> = (Vec<(usize, u64)>, Result<Worker<'a>, (usize, CliError)>);

/// Reads every row of `source` and scores it on `setup.threads` workers.
pub fn score(spec: &Spec, setup: Setup, source: Source) -> CliResult<Partial> {
    let threads = setup.threads.max(1);
    let outs: Vec<WorkerOut> = std::thread::scope(|sc| -> CliResult<Vec<WorkerOut>> {
        let mut senders = Vec::with_capacity(threads);
        let mut handles = Vec::with_capacity(threads);
        for _ in 0..threads {
            let (tx, rx) = mpsc::sync_channel::<(usize, Job)>(1);
            senders.push(tx);
            let mut w = Worker::new(spec, setup)?;
            handles.push(sc.spawn(move || -> WorkerOut {
                let mut counts = Vec::new();
                for (index, job) in rx {
                    match w.job(job) {
                        Ok(n) => counts.push((index, n)),
                        Err(e) => return (counts, Err((index, e))),
                    }
                }
                (counts, Ok(w))
            }));
        }
        // Hands job `i` to worker `i mod T`; false once that worker stopped on an error.
        let send = |i: usize, job: Job| senders[i % threads].send((i, job)).is_ok();
        let read = (|| -> CliResult<()> {
            match source {
                Source::Csv { mut blocks, first, size } => {
                    let bar = progress(size, "bytes");
                    let mut i = 0;
                    let mut next = Some(first);
                    while let Some((block, plain)) = next.take() {
                        bar.inc(block.len() as u64);
                        if !block.is_empty() {
                            if !send(i, Job::Csv(block, plain)) {
                                break;
                            }
                            i += 1;
                        }
                        next = blocks
                            .next_block()
                            .map_err(|e| CliError::Io { file: spec.file.clone(), source: e })?;
                    }
                    bar.finish_and_clear();
                }
                Source::Parquet { batches, rows } => {
                    let bar = progress(Some(rows), "rows");
                    for (i, b) in batches.enumerate() {
                        let (n, cols) = b?;
                        bar.inc(n as u64);
                        if !send(i, Job::Cols(n, cols)) {
                            break;
                        }
                    }
                    bar.finish_and_clear();
                }
            }
            Ok(())
        })();
        drop(senders);
        let outs = handles.into_iter().map(|h| h.join().expect("a worker does not panic")).collect();
        read?;
        Ok(outs)
    })?;

    // The earliest failing job decides; its rows become absolute.
    let mut counts: Vec<(usize, u64)> = outs.iter().flat_map(|o| o.0.iter().copied()).collect();
    counts.sort_unstable();
    let failed = outs.iter().filter_map(|o| o.1.as_ref().err()).min_by_key(|(i, _)| *i).map(|(i, _)| *i);
    let mut workers = Vec::with_capacity(outs.len());
    for (_, out) in outs {
        match out {
            Ok(w) => workers.push(w),
            Err((i, mut e)) if Some(i) == failed => {
                let before: u64 = counts.iter().take_while(|(j, _)| *j < i).map(|c| c.1).sum();
                if let CliError::Input { row: Some(r), .. } = &mut e {
                    *r += before;
                }
                return Err(e);
            }
            Err(_) => {}
        }
    }
    let rows: u64 = counts.iter().map(|c| c.1).sum();
    if rows == 0 {
        return Err(CliError::input(&spec.file, "no data rows (only a header)"));
    }
    let mut it = workers.into_iter();
    let first = it.next().expect("at least one worker");
    let mut overall = first.overall;
    let mut plot = first.plot;
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut groups: Vec<(String, ScoreSet)> = Vec::new();
    let mut add_groups = |gs: Vec<(String, ScoreSet)>| -> CliResult<()> {
        for (name, set) in gs {
            match index.get(&name) {
                Some(&k) => groups[k].1.merge(set).map_err(lib(&spec.file))?,
                None => {
                    index.insert(name.clone(), groups.len());
                    groups.push((name, set));
                }
            }
        }
        Ok(())
    };
    add_groups(first.groups)?;
    for w in it {
        overall.merge(w.overall).map_err(lib(&spec.file))?;
        if let (Some(p), Some(q)) = (&mut plot, w.plot) {
            p.merge(q);
        }
        add_groups(w.groups)?;
    }
    Ok(Partial { overall, groups, plot })
}
