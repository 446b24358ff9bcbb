//! Hand-declared libc calls and their safe wrappers.
//!
//! This is one of the two modules allowed to hold `unsafe` (the other is the N-API glue).
//! We declare the few symbols ourselves because crates.io (and so the `libc` crate) is
//! unreachable; everything here is Linux x86_64/aarch64 glibc ABI. Every wrapper returns
//! `std::io::Result`, reading `errno` through `io::Error::last_os_error`.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::raw::{c_int, c_uint, c_ulong, c_void};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

mod ffi {
    use super::*;

    extern "C" {
        pub fn read(fd: c_int, buf: *mut c_void, count: usize) -> isize;
        pub fn write(fd: c_int, buf: *const c_void, count: usize) -> isize;
        pub fn ioctl(fd: c_int, request: c_ulong, ...) -> c_int;
        pub fn fcntl(fd: c_int, cmd: c_int, ...) -> c_int;
        pub fn epoll_create1(flags: c_int) -> c_int;
        pub fn epoll_ctl(epfd: c_int, op: c_int, fd: c_int, event: *mut EpollEvent) -> c_int;
        pub fn epoll_wait(
            epfd: c_int,
            events: *mut EpollEvent,
            maxevents: c_int,
            timeout: c_int,
        ) -> c_int;
        pub fn eventfd(initval: c_uint, flags: c_int) -> c_int;
        pub fn clock_gettime(clockid: c_int, tp: *mut Timespec) -> c_int;
        pub fn timerfd_create(clockid: c_int, flags: c_int) -> c_int;
        pub fn timerfd_settime(
            fd: c_int,
            flags: c_int,
            new_value: *const Itimerspec,
            old_value: *mut Itimerspec,
        ) -> c_int;
    }
}

pub const O_NONBLOCK: c_int = 0o4000;
pub const O_CLOEXEC: c_int = 0o2000000;
const F_GETFL: c_int = 3;
const F_SETFL: c_int = 4;

const EPOLL_CLOEXEC: c_int = O_CLOEXEC;
const EPOLL_CTL_ADD: c_int = 1;
pub const EPOLLIN: u32 = 0x001;
pub const EPOLLERR: u32 = 0x008;
pub const EPOLLHUP: u32 = 0x010;

const EFD_NONBLOCK: c_int = O_NONBLOCK;
const EFD_CLOEXEC: c_int = O_CLOEXEC;

const CLOCK_MONOTONIC: c_int = 1;
const TFD_NONBLOCK: c_int = O_NONBLOCK;
const TFD_CLOEXEC: c_int = O_CLOEXEC;
const TFD_TIMER_ABSTIME: c_int = 1;

/// `struct timespec` on 64-bit Linux (time_t and long are both 64 bits).
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct Timespec {
    tv_sec: i64,
    tv_nsec: i64,
}

impl Timespec {
    fn from_ns(ns: u64) -> Timespec {
        Timespec {
            tv_sec: (ns / 1_000_000_000).min(i64::MAX as u64) as i64,
            tv_nsec: (ns % 1_000_000_000) as i64,
        }
    }
}

/// `struct itimerspec`: the interval (zero: one-shot) and the first expiry.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct Itimerspec {
    it_interval: Timespec,
    it_value: Timespec,
}

// _IOW('T', nr, int) = (1 << 30) | (4 << 16) | ('T' << 8) | nr, see <linux/if_tun.h>.
const TUNSETIFF: c_ulong = 0x4004_54ca;
const TUNSETOFFLOAD: c_ulong = 0x4004_54d0;
const TUNSETVNETHDRSZ: c_ulong = 0x4004_54d8;

pub const IFF_TUN: i16 = 0x0001;
pub const IFF_NO_PI: i16 = 0x1000;
pub const IFF_VNET_HDR: i16 = 0x4000;

pub const TUN_F_CSUM: c_uint = 0x01;
pub const TUN_F_TSO4: c_uint = 0x02;
pub const TUN_F_TSO6: c_uint = 0x04;
pub const TUN_F_TSO_ECN: c_uint = 0x08;
/// UDP segmentation offload (Linux 6.2+): GSO_UDP_L4 super-packets in both directions.
pub const TUN_F_USO4: c_uint = 0x20;
pub const TUN_F_USO6: c_uint = 0x40;

pub const EINVAL: i32 = 22;

pub const IFNAMSIZ: usize = 16;

/// `struct ifreq` as TUNSETIFF reads it: the name, the flags, and padding to 40 bytes
/// (the union's largest member) so the kernel never reads past our allocation.
#[repr(C)]
pub struct IfReq {
    pub name: [u8; IFNAMSIZ],
    pub flags: i16,
    _pad: [u8; 22],
}

impl IfReq {
    pub fn new(name: [u8; IFNAMSIZ], flags: i16) -> IfReq {
        IfReq {
            name,
            flags,
            _pad: [0; 22],
        }
    }
}

/// `struct epoll_event` is packed on x86_64 only (a historical ABI accident the kernel keeps).
#[repr(C)]
#[cfg_attr(target_arch = "x86_64", repr(packed))]
#[derive(Clone, Copy)]
pub struct EpollEvent {
    events: u32,
    data: u64,
}

impl EpollEvent {
    pub const ZERO: EpollEvent = EpollEvent { events: 0, data: 0 };

    pub fn events(&self) -> u32 {
        self.events
    }

    pub fn token(&self) -> u64 {
        self.data
    }
}

fn cvt(ret: c_int) -> io::Result<c_int> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

fn cvt_size(ret: isize) -> io::Result<usize> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret as usize)
    }
}

/// Take ownership of a descriptor a syscall just returned (or report its errno).
fn owned(ret: c_int) -> io::Result<OwnedFd> {
    let fd = cvt(ret)?;
    // SAFETY: `fd` was just returned by a successful syscall that creates a new descriptor,
    // nobody else holds it, so OwnedFd may close it exactly once.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Open a character device read-write, non-blocking, close-on-exec.
pub fn open_rw_nonblocking(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(O_NONBLOCK | O_CLOEXEC)
        .open(path)
}

pub fn read(fd: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: the pointer and length describe a live, exclusively borrowed buffer, and the
    // borrowed fd stays open for the duration of the call.
    cvt_size(unsafe { ffi::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) })
}

pub fn write(fd: BorrowedFd<'_>, buf: &[u8]) -> io::Result<usize> {
    // SAFETY: the pointer and length describe a live borrowed buffer the kernel only reads.
    cvt_size(unsafe { ffi::write(fd.as_raw_fd(), buf.as_ptr().cast(), buf.len()) })
}

pub fn set_nonblocking(fd: BorrowedFd<'_>) -> io::Result<()> {
    // SAFETY: F_GETFL takes no argument and only reads the descriptor's status flags.
    let flags = cvt(unsafe { ffi::fcntl(fd.as_raw_fd(), F_GETFL) })?;
    if flags & O_NONBLOCK == 0 {
        // SAFETY: F_SETFL takes an int by value; no memory is shared with the kernel.
        cvt(unsafe { ffi::fcntl(fd.as_raw_fd(), F_SETFL, flags | O_NONBLOCK) })?;
    }
    Ok(())
}

/// TUNSETIFF: attach the descriptor to a (new) TUN interface. The kernel writes the final
/// name back into `req.name`.
pub fn tun_set_iff(fd: BorrowedFd<'_>, req: &mut IfReq) -> io::Result<()> {
    // SAFETY: TUNSETIFF reads and writes one `struct ifreq`; IfReq has its C layout and full
    // 40-byte size, and the exclusive borrow keeps it alive and unaliased during the call.
    cvt(unsafe { ffi::ioctl(fd.as_raw_fd(), TUNSETIFF, req as *mut IfReq) })?;
    Ok(())
}

/// TUNSETVNETHDRSZ: the size of the virtio-net header prepended to every read and write.
pub fn tun_set_vnet_hdr_sz(fd: BorrowedFd<'_>, size: c_int) -> io::Result<()> {
    let mut size = size;
    // SAFETY: TUNSETVNETHDRSZ reads one int through the pointer, which points at a live local.
    cvt(unsafe { ffi::ioctl(fd.as_raw_fd(), TUNSETVNETHDRSZ, &mut size as *mut c_int) })?;
    Ok(())
}

/// TUNSETOFFLOAD: which offloads we accept. Unlike the other TUN ioctls it takes the flags
/// by value (as an unsigned long), not through a pointer.
pub fn tun_set_offload(fd: BorrowedFd<'_>, flags: c_uint) -> io::Result<()> {
    // SAFETY: the argument is an integer passed by value; the kernel dereferences nothing.
    cvt(unsafe { ffi::ioctl(fd.as_raw_fd(), TUNSETOFFLOAD, flags as c_ulong) })?;
    Ok(())
}

pub fn epoll_create() -> io::Result<OwnedFd> {
    // SAFETY: plain syscall with an integer flag; the result is checked by `owned`.
    owned(unsafe { ffi::epoll_create1(EPOLL_CLOEXEC) })
}

/// Register `fd` for level-triggered readability, tagged with `token`.
pub fn epoll_add(epfd: BorrowedFd<'_>, fd: BorrowedFd<'_>, token: u64) -> io::Result<()> {
    let mut ev = EpollEvent {
        events: EPOLLIN,
        data: token,
    };
    // SAFETY: `ev` is a live local in the kernel's layout; EPOLL_CTL_ADD only reads it.
    cvt(unsafe { ffi::epoll_ctl(epfd.as_raw_fd(), EPOLL_CTL_ADD, fd.as_raw_fd(), &mut ev) })?;
    Ok(())
}

/// Wait for events; `timeout_ms < 0` waits forever. EINTR is reported as zero events so
/// callers simply loop.
pub fn epoll_wait(
    epfd: BorrowedFd<'_>,
    events: &mut [EpollEvent],
    timeout_ms: i32,
) -> io::Result<usize> {
    let max = c_int::try_from(events.len()).unwrap_or(c_int::MAX);
    // SAFETY: the kernel writes at most `max` <= events.len() entries into the exclusively
    // borrowed slice, whose element type has the kernel's layout.
    let ret = unsafe { ffi::epoll_wait(epfd.as_raw_fd(), events.as_mut_ptr(), max, timeout_ms) };
    match cvt(ret) {
        Ok(n) => Ok(n as usize),
        Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(0),
        Err(e) => Err(e),
    }
}

pub fn eventfd_nonblocking() -> io::Result<OwnedFd> {
    // SAFETY: plain syscall with integer arguments; the result is checked by `owned`.
    owned(unsafe { ffi::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC) })
}

/// Add one to an eventfd counter, making it readable.
pub fn eventfd_signal(fd: BorrowedFd<'_>) -> io::Result<()> {
    match write(fd, &1u64.to_ne_bytes()) {
        Ok(_) => Ok(()),
        // The counter is saturated, i.e. already signalled: that is all we wanted.
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(()),
        Err(e) => Err(e),
    }
}

/// CLOCK_MONOTONIC in nanoseconds: the real-time driver's only clock.
pub fn monotonic_ns() -> u64 {
    let mut ts = Timespec::default();
    // SAFETY: `ts` is a live local in the kernel's layout; the call only writes it.
    // CLOCK_MONOTONIC always exists, so the call cannot fail; a zero reading would only
    // make timers fire early, never crash.
    let _ = unsafe { ffi::clock_gettime(CLOCK_MONOTONIC, &mut ts) };
    (ts.tv_sec.max(0) as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(ts.tv_nsec.max(0) as u64)
}

/// A non-blocking one-shot timer on CLOCK_MONOTONIC, readable in epoll when it fires.
pub fn timerfd_monotonic() -> io::Result<OwnedFd> {
    // SAFETY: plain syscall with integer arguments; the result is checked by `owned`.
    owned(unsafe { ffi::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC) })
}

/// Arm the timer to fire once at the absolute CLOCK_MONOTONIC time `at_ns` (a time
/// already past fires at once), or disarm it with `None`.
pub fn timerfd_set_abs(fd: BorrowedFd<'_>, at_ns: Option<u64>) -> io::Result<()> {
    timerfd_settime_abs(
        fd,
        &Itimerspec {
            it_interval: Timespec::default(),
            // An all-zero it_value disarms, so an armed timer needs at least 1 ns.
            it_value: Timespec::from_ns(at_ns.map_or(0, |t| t.max(1))),
        },
    )
}

fn timerfd_settime_abs(fd: BorrowedFd<'_>, spec: &Itimerspec) -> io::Result<()> {
    // SAFETY: `spec` is a live value in the kernel's layout that the call only reads;
    // old_value may be NULL.
    cvt(unsafe {
        ffi::timerfd_settime(
            fd.as_raw_fd(),
            TFD_TIMER_ABSTIME,
            spec,
            std::ptr::null_mut(),
        )
    })?;
    Ok(())
}

/// Arm the timer to fire at the absolute CLOCK_MONOTONIC time `first_ns` and then every
/// `period_ns`; reading it gives the number of expirations since the last read.
pub fn timerfd_set_periodic(fd: BorrowedFd<'_>, first_ns: u64, period_ns: u64) -> io::Result<()> {
    timerfd_settime_abs(
        fd,
        &Itimerspec {
            it_interval: Timespec::from_ns(period_ns.max(1)),
            it_value: Timespec::from_ns(first_ns.max(1)),
        },
    )
}

/// Reset a readable eventfd or timerfd (read its 8-byte counter); nothing pending is fine.
pub fn drain_counter_fd(fd: BorrowedFd<'_>) -> io::Result<()> {
    read_counter_fd(fd).map(|_| ())
}

/// Read (and reset) an eventfd's or timerfd's 8-byte counter: 0 when nothing is pending.
pub fn read_counter_fd(fd: BorrowedFd<'_>) -> io::Result<u64> {
    let mut buf = [0u8; 8];
    match read(fd, &mut buf) {
        Ok(8) => Ok(u64::from_ne_bytes(buf)),
        Ok(_) => Ok(0),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(0),
        Err(e) => Err(e),
    }
}

// The kernel copies a whole `struct ifreq` (40 bytes on 64-bit Linux).
const _: () = assert!(std::mem::size_of::<IfReq>() == 40);
const _: () = assert!(std::mem::size_of::<Itimerspec>() == 32);

#[cfg(test)]
mod test {
    use super::*;
    use std::os::fd::AsFd;

    #[test]
    fn eventfd_signals_epoll() {
        let ep = epoll_create().unwrap();
        let ev = eventfd_nonblocking().unwrap();
        epoll_add(ep.as_fd(), ev.as_fd(), 7).unwrap();
        let mut events = [EpollEvent::ZERO; 4];
        assert_eq!(epoll_wait(ep.as_fd(), &mut events, 0).unwrap(), 0);
        eventfd_signal(ev.as_fd()).unwrap();
        assert_eq!(epoll_wait(ep.as_fd(), &mut events, 1000).unwrap(), 1);
        assert_eq!(events[0].token(), 7);
        assert_ne!(events[0].events() & EPOLLIN, 0);
        let mut buf = [0u8; 8];
        assert_eq!(read(ev.as_fd(), &mut buf).unwrap(), 8);
        assert_eq!(u64::from_ne_bytes(buf), 1);
        let err = read(ev.as_fd(), &mut buf).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
    }

    #[test]
    fn timerfd_fires_at_an_absolute_monotonic_time() {
        let ep = epoll_create().unwrap();
        let t = timerfd_monotonic().unwrap();
        epoll_add(ep.as_fd(), t.as_fd(), 3).unwrap();
        let mut events = [EpollEvent::ZERO; 4];
        let start = monotonic_ns();
        timerfd_set_abs(t.as_fd(), Some(start + 2_000_000)).unwrap();
        assert_eq!(epoll_wait(ep.as_fd(), &mut events, 1000).unwrap(), 1);
        assert!(monotonic_ns() >= start + 2_000_000);
        drain_counter_fd(t.as_fd()).unwrap();
        assert_eq!(epoll_wait(ep.as_fd(), &mut events, 0).unwrap(), 0);
        // Disarmed: nothing fires.
        timerfd_set_abs(t.as_fd(), Some(monotonic_ns() + 1_000_000)).unwrap();
        timerfd_set_abs(t.as_fd(), None).unwrap();
        assert_eq!(epoll_wait(ep.as_fd(), &mut events, 5).unwrap(), 0);
        drain_counter_fd(t.as_fd()).unwrap();
    }

    #[test]
    fn a_periodic_timer_counts_the_expirations_nobody_served() {
        let t = timerfd_monotonic().unwrap();
        let start = monotonic_ns();
        timerfd_set_periodic(t.as_fd(), start + 1_000_000, 1_000_000).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(12));
        let n = read_counter_fd(t.as_fd()).unwrap();
        let elapsed = (monotonic_ns() - start) / 1_000_000;
        assert!(n >= 10 && n <= elapsed, "{n} expirations in {elapsed} ms");
        assert_eq!(read_counter_fd(t.as_fd()).unwrap(), 0);
    }

    #[test]
    fn set_nonblocking_is_idempotent() {
        let ev = eventfd_nonblocking().unwrap();
        set_nonblocking(ev.as_fd()).unwrap();
        set_nonblocking(ev.as_fd()).unwrap();
    }
}
