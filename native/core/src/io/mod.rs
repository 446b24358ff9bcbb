//! Device I/O: the kernel's TUN devices, the system calls under them (through libc), the
//! `Device` seam the drivers are written against, and the segmentation of the
//! super-packets that TUN offload hands over.
//!
//! `sys` is the only module of the core allowed to hold `unsafe` code.

pub mod device;
pub mod gso;
#[allow(unsafe_code)]
pub mod sys;
pub mod tun;
