//! The system calls of the packet path and their safe wrappers, through the `libc` crate.
//!
//! This is one of the two modules allowed to hold `unsafe` (the other is the N-API glue):
//! every call into the C library is here, each with its SAFETY argument, and every
//! wrapper returns `std::io::Result`, reading `errno` through `io::Error::last_os_error`.
//! The TUN ioctls are the exception to "declared by libc": libc 0.2.139 (Debian 12's)
//! predates them, so their numbers come from <linux/if_tun.h> below.

use libc::{c_int, c_short, c_uint, c_ulong};
use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

pub use libc::{EINVAL, IFF_NO_PI, IFF_TUN, IFF_VNET_HDR, IFNAMSIZ, O_CLOEXEC, O_NONBLOCK};

/// The epoll event bits as `epoll_event.events` holds them (libc declares them `c_int`).
pub const EPOLLIN: u32 = libc::EPOLLIN as u32;
pub const EPOLLERR: u32 = libc::EPOLLERR as u32;
pub const EPOLLHUP: u32 = libc::EPOLLHUP as u32;

// _IOW('T', nr, int) = (1 << 30) | (4 << 16) | ('T' << 8) | nr, see <linux/if_tun.h>.
const TUNSETIFF: c_ulong = 0x4004_54ca;
const TUNSETOFFLOAD: c_ulong = 0x4004_54d0;
const TUNSETVNETHDRSZ: c_ulong = 0x4004_54d8;

pub const TUN_F_CSUM: c_uint = 0x01;
pub const TUN_F_TSO4: c_uint = 0x02;
pub const TUN_F_TSO6: c_uint = 0x04;
pub const TUN_F_TSO_ECN: c_uint = 0x08;
/// UDP segmentation offload (Linux 6.2+): GSO_UDP_L4 super-packets in both directions.
pub const TUN_F_USO4: c_uint = 0x20;
pub const TUN_F_USO6: c_uint = 0x40;

/// `struct ifreq` as TUNSETIFF reads it: the name and the flags, the rest zero.
pub struct IfReq(libc::ifreq);

impl IfReq {
    pub fn new(name: [u8; IFNAMSIZ], flags: c_int) -> IfReq {
        // SAFETY: `ifreq` is plain data (byte arrays, integers and a union of such), for
        // which all-zero bytes are a valid value.
        let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
        req.ifr_name = name.map(|b| b as libc::c_char);
        // The IFF_* flags TUNSETIFF takes all fit the kernel's 16-bit field.
        req.ifr_ifru.ifru_flags = flags as c_short;
        IfReq(req)
    }
}

/// `struct epoll_event` (packed on x86_64, as the kernel has it; libc declares it so).
#[repr(transparent)]
#[derive(Clone, Copy)]
pub struct EpollEvent(libc::epoll_event);

impl EpollEvent {
    pub const ZERO: EpollEvent = EpollEvent(libc::epoll_event { events: 0, u64: 0 });

    pub fn events(&self) -> u32 {
        self.0.events
    }

    pub fn token(&self) -> u64 {
        self.0.u64
    }
}

fn timespec_ns(ts: &libc::timespec) -> u64 {
    (ts.tv_sec.max(0) as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(ts.tv_nsec.max(0) as u64)
}

fn ns_timespec(ns: u64) -> libc::timespec {
    libc::timespec {
        tv_sec: (ns / 1_000_000_000).min(libc::time_t::MAX as u64) as libc::time_t,
        tv_nsec: (ns % 1_000_000_000) as libc::c_long,
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
    cvt_size(unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) })
}

pub fn write(fd: BorrowedFd<'_>, buf: &[u8]) -> io::Result<usize> {
    // SAFETY: the pointer and length describe a live borrowed buffer the kernel only reads.
    cvt_size(unsafe { libc::write(fd.as_raw_fd(), buf.as_ptr().cast(), buf.len()) })
}

pub fn set_nonblocking(fd: BorrowedFd<'_>) -> io::Result<()> {
    // SAFETY: F_GETFL takes no argument and only reads the descriptor's status flags.
    let flags = cvt(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFL) })?;
    if flags & O_NONBLOCK == 0 {
        // SAFETY: F_SETFL takes an int by value; no memory is shared with the kernel.
        cvt(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, flags | O_NONBLOCK) })?;
    }
    Ok(())
}

/// TUNSETIFF: attach the descriptor to a (new) TUN interface. The kernel writes the final
/// name back into `req.name`.
pub fn tun_set_iff(fd: BorrowedFd<'_>, req: &mut IfReq) -> io::Result<()> {
    // SAFETY: TUNSETIFF reads and writes one `struct ifreq`, which IfReq holds (libc's
    // type, the kernel's layout and full size), and the exclusive borrow keeps it alive and
    // unaliased during the call.
    cvt(unsafe { libc::ioctl(fd.as_raw_fd(), TUNSETIFF, &mut req.0 as *mut libc::ifreq) })?;
    Ok(())
}

/// TUNSETVNETHDRSZ: the size of the virtio-net header prepended to every read and write.
pub fn tun_set_vnet_hdr_sz(fd: BorrowedFd<'_>, size: c_int) -> io::Result<()> {
    let mut size = size;
    // SAFETY: TUNSETVNETHDRSZ reads one int through the pointer, which points at a live local.
    cvt(unsafe { libc::ioctl(fd.as_raw_fd(), TUNSETVNETHDRSZ, &mut size as *mut c_int) })?;
    Ok(())
}

/// TUNSETOFFLOAD: which offloads we accept. Unlike the other TUN ioctls it takes the flags
/// by value (as an unsigned long), not through a pointer.
pub fn tun_set_offload(fd: BorrowedFd<'_>, flags: c_uint) -> io::Result<()> {
    // SAFETY: the argument is an integer passed by value; the kernel dereferences nothing.
    cvt(unsafe { libc::ioctl(fd.as_raw_fd(), TUNSETOFFLOAD, flags as c_ulong) })?;
    Ok(())
}

pub fn epoll_create() -> io::Result<OwnedFd> {
    // SAFETY: plain syscall with an integer flag; the result is checked by `owned`.
    owned(unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) })
}

/// Register `fd` for level-triggered readability, tagged with `token`.
pub fn epoll_add(epfd: BorrowedFd<'_>, fd: BorrowedFd<'_>, token: u64) -> io::Result<()> {
    let mut ev = libc::epoll_event {
        events: EPOLLIN,
        u64: token,
    };
    // SAFETY: `ev` is a live local in the kernel's layout; EPOLL_CTL_ADD only reads it.
    cvt(unsafe {
        libc::epoll_ctl(
            epfd.as_raw_fd(),
            libc::EPOLL_CTL_ADD,
            fd.as_raw_fd(),
            &mut ev,
        )
    })?;
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
    // borrowed slice, whose element type has the kernel's layout (a transparent wrapper of
    // libc's `epoll_event`).
    let ret = unsafe {
        libc::epoll_wait(
            epfd.as_raw_fd(),
            events.as_mut_ptr().cast::<libc::epoll_event>(),
            max,
            timeout_ms,
        )
    };
    match cvt(ret) {
        Ok(n) => Ok(n as usize),
        Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(0),
        Err(e) => Err(e),
    }
}

pub fn eventfd_nonblocking() -> io::Result<OwnedFd> {
    // SAFETY: plain syscall with integer arguments; the result is checked by `owned`.
    owned(unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) })
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

fn clock_ns(clock: libc::clockid_t) -> u64 {
    let mut ts = ns_timespec(0);
    // SAFETY: `ts` is a live local in the kernel's layout; the call only writes it. The
    // clocks asked for always exist, so the call cannot fail; a zero reading would only
    // make timers fire early or a CPU figure read low, never crash.
    let _ = unsafe { libc::clock_gettime(clock, &mut ts) };
    timespec_ns(&ts)
}

/// CLOCK_MONOTONIC in nanoseconds: the real-time driver's only clock.
pub fn monotonic_ns() -> u64 {
    clock_ns(libc::CLOCK_MONOTONIC)
}

/// The CPU time the calling thread has used, in nanoseconds (CLOCK_THREAD_CPUTIME_ID):
/// what the packet path costs, whatever else the machine runs.
pub fn thread_cpu_ns() -> u64 {
    clock_ns(libc::CLOCK_THREAD_CPUTIME_ID)
}

/// A non-blocking one-shot timer on CLOCK_MONOTONIC, readable in epoll when it fires.
pub fn timerfd_monotonic() -> io::Result<OwnedFd> {
    // SAFETY: plain syscall with integer arguments; the result is checked by `owned`.
    owned(unsafe {
        libc::timerfd_create(
            libc::CLOCK_MONOTONIC,
            libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
        )
    })
}

/// Arm the timer to fire once at the absolute CLOCK_MONOTONIC time `at_ns` (a time
/// already past fires at once), or disarm it with `None`.
pub fn timerfd_set_abs(fd: BorrowedFd<'_>, at_ns: Option<u64>) -> io::Result<()> {
    timerfd_settime_abs(
        fd,
        &libc::itimerspec {
            it_interval: ns_timespec(0),
            // An all-zero it_value disarms, so an armed timer needs at least 1 ns.
            it_value: ns_timespec(at_ns.map_or(0, |t| t.max(1))),
        },
    )
}

fn timerfd_settime_abs(fd: BorrowedFd<'_>, spec: &libc::itimerspec) -> io::Result<()> {
    // SAFETY: `spec` is a live value in the kernel's layout that the call only reads;
    // old_value may be NULL.
    cvt(unsafe {
        libc::timerfd_settime(
            fd.as_raw_fd(),
            libc::TFD_TIMER_ABSTIME,
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
        &libc::itimerspec {
            it_interval: ns_timespec(period_ns.max(1)),
            it_value: ns_timespec(first_ns.max(1)),
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
    fn thread_cpu_clock_counts_this_threads_work_only() {
        let spin = |ms: u64| {
            let until = monotonic_ns() + ms * 1_000_000;
            while monotonic_ns() < until {
                std::hint::spin_loop();
            }
        };
        let before = thread_cpu_ns();
        spin(20);
        let busy = thread_cpu_ns() - before;
        // Spinning for 20 ms of wall time costs at most 20 ms of this thread's CPU (less
        // when the machine is busy and the thread waits for a core).
        assert!(busy > 0 && busy <= 21_000_000, "{busy} ns");
        let before = thread_cpu_ns();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let idle = thread_cpu_ns() - before;
        assert!(idle < 5_000_000, "sleeping cost {idle} ns of CPU");
        // Another thread's spinning is not ours.
        let before = thread_cpu_ns();
        std::thread::spawn(move || spin(20)).join().unwrap();
        assert!(thread_cpu_ns() - before < 5_000_000);
    }

    #[test]
    fn set_nonblocking_is_idempotent() {
        let ev = eventfd_nonblocking().unwrap();
        set_nonblocking(ev.as_fd()).unwrap();
        set_nonblocking(ev.as_fd()).unwrap();
    }
}
