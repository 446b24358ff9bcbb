//! qoslab-core: the packet path of qoslab. All logic lives here and is tested with plain
//! `cargo test`; the N-API crate next door only converts values at the boundary.

pub mod config;
pub mod counters;
pub mod crypto;
pub mod device;
pub mod error;
pub mod forward;
pub mod json;
pub mod prefix;
pub mod realtime;
pub mod rng;
pub mod shape;
pub mod shaper;
pub mod sys;
pub mod tun;
pub mod wire;

pub use config::LabConfig;
pub use error::{Code, Error};
pub use realtime::Lab;

pub const VERSION: &str = env!("CARGO_PKG_VERSION");
