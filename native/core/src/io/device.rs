//! The device seam between the forwarder and the kernel, after wireguard-go's tun.Device:
//! the forwarding logic is written once against this trait and tested with `MemDevice`.

use std::collections::VecDeque;
use std::io;
use std::os::fd::RawFd;

pub trait Device {
    /// Read one packet into `buf` without blocking. `Ok(None)` means nothing is pending.
    /// A packet longer than `buf` is truncated to it (as a TUN read is).
    fn recv(&mut self, buf: &mut [u8]) -> io::Result<Option<usize>>;

    /// Write one whole packet.
    fn send(&mut self, packet: &[u8]) -> io::Result<()>;

    /// The descriptor to poll for readability, if the device has one.
    fn raw_fd(&self) -> Option<RawFd>;
}

/// An in-memory device: tests push packets into `rx` and find forwarded ones in `tx`.
#[derive(Debug, Default)]
pub struct MemDevice {
    /// Packets waiting to be received, oldest first.
    pub rx: VecDeque<Vec<u8>>,
    /// Packets sent into this device, oldest first.
    pub tx: Vec<Vec<u8>>,
    /// When set, `send` fails with this OS error code (e.g. EIO: link down).
    pub fail_sends: Option<i32>,
}

impl MemDevice {
    pub fn new() -> MemDevice {
        MemDevice::default()
    }

    pub fn push(&mut self, packet: &[u8]) {
        self.rx.push_back(packet.to_vec());
    }
}

impl Device for MemDevice {
    fn recv(&mut self, buf: &mut [u8]) -> io::Result<Option<usize>> {
        match self.rx.pop_front() {
            None => Ok(None),
            Some(p) => {
                let n = p.len().min(buf.len());
                buf[..n].copy_from_slice(&p[..n]);
                Ok(Some(n))
            }
        }
    }

    fn send(&mut self, packet: &[u8]) -> io::Result<()> {
        if let Some(code) = self.fail_sends {
            return Err(io::Error::from_raw_os_error(code));
        }
        self.tx.push(packet.to_vec());
        Ok(())
    }

    fn raw_fd(&self) -> Option<RawFd> {
        None
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn mem_device_queues_and_truncates() {
        let mut d = MemDevice::new();
        let mut buf = [0u8; 4];
        assert_eq!(d.recv(&mut buf).unwrap(), None);
        d.push(&[1, 2, 3, 4, 5, 6]);
        assert_eq!(d.recv(&mut buf).unwrap(), Some(4));
        assert_eq!(buf, [1, 2, 3, 4]);
        d.send(&[9]).unwrap();
        assert_eq!(d.tx, vec![vec![9]]);
        d.fail_sends = Some(5);
        assert_eq!(d.send(&[9]).unwrap_err().raw_os_error(), Some(5));
        assert_eq!(d.raw_fd(), None);
    }
}
