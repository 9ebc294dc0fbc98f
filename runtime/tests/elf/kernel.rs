//! Placeholder: kernel comparison added below.
