//! The instr lane: instructions per op under callgrind, driven through gungraun's runner.
//! (Being ported from the prototype.)

use std::path::Path;

use crate::model::InstrCounts;

#[derive(Debug, thiserror::Error)]
pub enum InstrError {
    #[error("{0}")]
    Unavailable(String),
    #[error("{0}")]
    Failed(String),
}

/// Checks valgrind and the pinned runner; returns the environment instr workers need.
pub fn prepare(_tools_dir: &Path) -> Result<Vec<(String, String)>, String> {
    Err("instr lane: not yet available".into())
}

pub fn measure(_exe: &Path, _id: &str, _iters: [u64; 2], _home: &Path) -> Result<InstrCounts, InstrError> {
    Err(InstrError::Unavailable("instr lane: not yet available".into()))
}
