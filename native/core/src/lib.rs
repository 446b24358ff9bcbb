//! qoslab-core: the packet path of qoslab. All logic lives here and is tested with plain
//! `cargo test`; the N-API crate next door only converts values at the boundary.
//!
//! Layers, bottom up (a module uses only those below it): `wire` (packet formats),
//! `config::json` and `config::prefix` (values every layer reads), `shape` (the shaping
//! pipeline), `io` (TUN devices, system calls, offload), then `config::lab` (the whole
//! lab configuration, which holds a scenario and TUN names) and `drive` (real-time and
//! virtual-time drivers). `error` and `rng` are shared leaves.

// Only io::sys may hold unsafe code (it opts out where it is declared).
#![deny(unsafe_code)]

pub mod config;
pub mod drive;
pub mod error;
pub mod io;
pub mod rng;
pub mod shape;
pub mod wire;

pub use config::LabConfig;
pub use drive::realtime::Lab;
pub use error::{Code, Error};

pub const VERSION: &str = env!("CARGO_PKG_VERSION");
