//! Reading configuration: the JSON reader and writer, CIDR prefixes, and the lab
//! configuration the TypeScript side sends. (The compiled scenario inside it is parsed
//! by `shape::compiled`, next to the types it builds.)

pub mod json;
pub mod lab;
pub mod prefix;

pub use lab::LabConfig;
