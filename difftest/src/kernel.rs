//! The Linux kernel as a third oracle (being written).
