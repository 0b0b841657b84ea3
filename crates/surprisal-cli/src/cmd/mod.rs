//! One module per subcommand.

pub mod bench;
pub mod calibrate;
pub mod compare;
pub mod explain;
pub mod fit;
pub mod predict;
pub mod score;
pub mod tour;
