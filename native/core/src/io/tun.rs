//! Linux TUN devices: layer-3, no packet-info header, optionally with a virtio-net header
//! and TSO/checksum offload so the kernel hands us (and accepts) 64 KiB super-packets.
//!
//! The device is not persistent: it disappears when the descriptor closes, so a crashed
//! process never leaves interfaces behind.

use crate::error::{Code, Error};
use crate::io::device::Device;
use crate::io::sys;
use crate::wire::vnet;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::path::Path;

const CLONE_DEVICE: &str = "/dev/net/tun";

/// Offloads we accept with IFF_VNET_HDR. TSO needs CSUM (the kernel refuses TSO alone);
/// ECN lets congestion-marked TCP keep using TSO instead of being segmented up front.
const OFFLOAD_FLAGS: u32 = sys::TUN_F_CSUM | sys::TUN_F_TSO4 | sys::TUN_F_TSO6 | sys::TUN_F_TSO_ECN;

/// UDP segmentation offload on top, where the kernel has it (6.2+; older kernels answer
/// EINVAL and the device keeps TSO only): UDP_SEGMENT senders then cross as one
/// GSO_UDP_L4 super-packet per send instead of one read and one write per datagram.
const USO_FLAGS: u32 = sys::TUN_F_USO4 | sys::TUN_F_USO6;

#[derive(Debug)]
pub struct Tun {
    file: File,
    name: String,
    offload: bool,
    /// UDP segmentation offload was accepted (only with `offload`).
    uso: bool,
}

/// Interface names: 1..=15 bytes (IFNAMSIZ with its NUL), and nothing `ip` or the kernel
/// would reject or misparse.
pub fn check_name(name: &str) -> Result<[u8; sys::IFNAMSIZ], String> {
    if name.is_empty() || name.len() >= sys::IFNAMSIZ {
        return Err(format!(
            "interface name {name:?} must be 1 to {} bytes",
            sys::IFNAMSIZ - 1
        ));
    }
    if name == "." || name == ".." {
        return Err(format!("interface name {name:?} is reserved"));
    }
    if name
        .bytes()
        .any(|b| b == b'/' || b == b':' || b == b'%' || !b.is_ascii_graphic())
    {
        return Err(format!(
            "interface name {name:?} may only contain printable ASCII without '/', ':', '%' or spaces"
        ));
    }
    let mut out = [0u8; sys::IFNAMSIZ];
    out[..name.len()].copy_from_slice(name.as_bytes());
    Ok(out)
}

impl Tun {
    /// Create (or attach to) the TUN interface `name`, non-blocking.
    pub fn open(name: &str, offload: bool) -> Result<Tun, Error> {
        let ifname = check_name(name).map_err(Error::bad_config)?;
        let file = sys::open_rw_nonblocking(Path::new(CLONE_DEVICE)).map_err(|e| {
            Error::os(
                Code::TunOpen,
                format_args!("cannot open {CLONE_DEVICE}"),
                &e,
            )
        })?;
        let mut flags = sys::IFF_TUN | sys::IFF_NO_PI;
        if offload {
            flags |= sys::IFF_VNET_HDR;
        }
        let mut req = sys::IfReq::new(ifname, flags);
        sys::tun_set_iff(file.as_fd(), &mut req).map_err(|e| {
            Error::os(
                Code::TunOpen,
                format_args!("cannot create TUN device {name:?} (TUNSETIFF)"),
                &e,
            )
        })?;
        let config_err = |what: &str, e: io::Error| {
            Error::os(
                Code::TunConfig,
                format_args!("TUN device {name:?}: {what}"),
                &e,
            )
        };
        let mut uso = false;
        if offload {
            sys::tun_set_vnet_hdr_sz(file.as_fd(), vnet::HEADER_LEN as i32)
                .map_err(|e| config_err("TUNSETVNETHDRSZ", e))?;
            uso = match sys::tun_set_offload(file.as_fd(), OFFLOAD_FLAGS | USO_FLAGS) {
                Ok(()) => true,
                Err(e) if e.raw_os_error() == Some(sys::EINVAL) => {
                    sys::tun_set_offload(file.as_fd(), OFFLOAD_FLAGS)
                        .map_err(|e| config_err("TUNSETOFFLOAD", e))?;
                    false
                }
                Err(e) => return Err(config_err("TUNSETOFFLOAD", e)),
            };
        }
        // O_NONBLOCK was requested at open; make sure, since the loop relies on EAGAIN.
        sys::set_nonblocking(file.as_fd()).map_err(|e| config_err("O_NONBLOCK", e))?;
        Ok(Tun {
            file,
            name: name.to_owned(),
            offload,
            uso,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn offload(&self) -> bool {
        self.offload
    }

    /// Whether the kernel accepted UDP segmentation offload on this device.
    pub fn uso(&self) -> bool {
        self.uso
    }
}

impl AsFd for Tun {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.file.as_fd()
    }
}

impl Device for Tun {
    fn recv(&mut self, buf: &mut [u8]) -> io::Result<Option<usize>> {
        match sys::read(self.file.as_fd(), buf) {
            Ok(n) => Ok(Some(n)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn send(&mut self, packet: &[u8]) -> io::Result<()> {
        let n = sys::write(self.file.as_fd(), packet)?;
        if n == packet.len() {
            Ok(())
        } else {
            // TUN writes are all-or-nothing; anything else is worth reporting as an error.
            Err(io::Error::new(io::ErrorKind::WriteZero, "short TUN write"))
        }
    }

    fn raw_fd(&self) -> Option<RawFd> {
        Some(self.file.as_raw_fd())
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn names() {
        assert!(check_name("qltabc123a").is_ok());
        assert!(check_name("a23456789012345").is_ok());
        for bad in ["", "a234567890123456", "a b", "a/b", "a:b", ".", "..", "é"] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn bad_name_is_a_config_error_before_any_syscall() {
        let e = Tun::open("this-name-is-too-long", false).unwrap_err();
        assert_eq!(e.code(), Code::BadConfig);
    }
}
