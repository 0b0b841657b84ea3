//! The Engel food-expenditure data (235 Belgian working-class households, 1857), shared by the
//! examples: the `income` and `foodexp` columns of `examples/data/engel.csv`.

use std::path::{Path, PathBuf};

/// Loads `(income, foodexp)` from `examples/data/engel.csv`, or exits with a message naming the
/// file and the reason (a missing file, a missing column, a malformed field).
pub fn load_or_exit() -> (Vec<f64>, Vec<f64>) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/data/engel.csv");
    match read_engel(&path) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: cannot load the Engel data from {}: {e}", path.display());
            eprintln!("(the file ships with the repository in examples/data/engel.csv)");
            std::process::exit(1);
        }
    }
}

/// Reads the `income` and `foodexp` columns of a CSV file with a header line.
fn read_engel(path: &Path) -> Result<(Vec<f64>, Vec<f64>), String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<&str> = lines.next().ok_or("empty file")?.split(',').map(str::trim).collect();
    let col = |name: &str| header.iter().position(|h| *h == name).ok_or(format!("no column `{name}`"));
    let (ci, cf) = (col("income")?, col("foodexp")?);
    let (mut income, mut food) = (Vec::new(), Vec::new());
    for (k, line) in lines.enumerate() {
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let get = |c: usize| -> Result<f64, String> {
            fields
                .get(c)
                .ok_or(format!("line {}: missing field", k + 2))?
                .parse::<f64>()
                .map_err(|e| format!("line {}: {e}", k + 2))
        };
        income.push(get(ci)?);
        food.push(get(cf)?);
    }
    if income.len() < 2 {
        return Err("fewer than two rows".into());
    }
    Ok((income, food))
}
