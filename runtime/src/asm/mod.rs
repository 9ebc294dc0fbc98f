//! Assembler and disassembler for the bpf_conformance syntax (being written).
