//! The `difftest` command line (being written).
