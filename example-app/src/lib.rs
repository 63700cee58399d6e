//! The example blog: its models, shared by the binary and the tests.

pub mod models;
