//! RFC 9669 semantics as pure functions (being written).
