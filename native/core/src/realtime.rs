//! The real-time driver: two TUN devices and one native thread forwarding between them.
//!
//! One `std::thread` per lab (never the libuv pool, which JS needs for its own I/O). It
//! sleeps in epoll on both TUN descriptors and an eventfd used only to ask it to stop,
//! so stopping needs no timeouts and the idle thread costs nothing.

use crate::config::LabConfig;
use crate::counters::{Counters, Snapshot};
use crate::error::{Code, Error};
use crate::forward::Forwarder;
use crate::sys::{self, EpollEvent};
use crate::tun::Tun;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

const TOKEN_STOP: u64 = 0;
const TOKEN_CLIENT: u64 = 1;
const TOKEN_SERVER: u64 = 2;

pub struct Lab {
    counters: Arc<Counters>,
    stop: Arc<OwnedFd>,
    thread: Option<JoinHandle<()>>,
    /// Why the forwarding thread ended on its own, if it did.
    failure: Arc<Mutex<Option<String>>>,
    client_tun: String,
    server_tun: String,
}

impl Lab {
    /// Parse the JSON config and open the lab.
    pub fn open_json(json: &str) -> Result<Lab, Error> {
        Lab::open(&LabConfig::parse(json)?)
    }

    /// Create both TUNs and start forwarding. Everything that can fail is done here, on
    /// the caller's thread, so errors are reported synchronously; the TUNs vanish again if
    /// any later step fails because their descriptors are dropped.
    pub fn open(config: &LabConfig) -> Result<Lab, Error> {
        let client = Tun::open(&config.client_tun, config.offload)?;
        let server = Tun::open(&config.server_tun, config.offload)?;

        let thread_err = |what: &str, e: io::Error| Error::os(Code::Thread, what, &e);
        let epoll = sys::epoll_create().map_err(|e| thread_err("epoll_create1", e))?;
        let stop = Arc::new(sys::eventfd_nonblocking().map_err(|e| thread_err("eventfd", e))?);
        for (fd, token) in [
            (stop.as_fd(), TOKEN_STOP),
            (client.as_fd(), TOKEN_CLIENT),
            (server.as_fd(), TOKEN_SERVER),
        ] {
            sys::epoll_add(epoll.as_fd(), fd, token).map_err(|e| thread_err("epoll_ctl", e))?;
        }

        let counters = Arc::new(Counters::default());
        let failure = Arc::new(Mutex::new(None));
        let forwarder = Forwarder::new(config.lab_prefixes.clone(), config.mtu, config.offload);
        let thread = {
            let counters = Arc::clone(&counters);
            let failure = Arc::clone(&failure);
            std::thread::Builder::new()
                .name(format!("ql-fwd-{}", config.client_tun))
                .spawn(move || {
                    if let Err(e) = run(client, server, epoll, forwarder, &counters) {
                        let mut slot = failure.lock().unwrap_or_else(|p| p.into_inner());
                        *slot = Some(format!("forwarding stopped: {e}"));
                    }
                })
                .map_err(|e| thread_err("cannot spawn the forwarding thread", e))?
        };

        Ok(Lab {
            counters,
            stop,
            thread: Some(thread),
            failure,
            client_tun: config.client_tun.clone(),
            server_tun: config.server_tun.clone(),
        })
    }

    pub fn counters(&self) -> Snapshot {
        self.counters.snapshot()
    }

    pub fn client_tun(&self) -> &str {
        &self.client_tun
    }

    pub fn server_tun(&self) -> &str {
        &self.server_tun
    }

    /// Why forwarding ended on its own (e.g. a TUN was deleted under us), if it did.
    pub fn failure(&self) -> Option<String> {
        self.failure
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Stop the thread and wait for it; the TUN descriptors close with it and the devices
    /// disappear. Idempotent.
    pub fn close(&mut self) {
        if let Some(thread) = self.thread.take() {
            // Cannot fail for a valid eventfd short of a saturated counter, which
            // eventfd_signal already treats as success; if it did, join would hang, so
            // leave the thread detached rather than block the JS thread forever.
            if sys::eventfd_signal(self.stop.as_fd()).is_ok() && thread.join().is_err() {
                let mut slot = self.failure.lock().unwrap_or_else(|p| p.into_inner());
                *slot = Some("forwarding thread panicked".to_owned());
            }
        }
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        self.close();
    }
}

fn run(
    mut client: Tun,
    mut server: Tun,
    epoll: OwnedFd,
    mut forwarder: Forwarder,
    counters: &Counters,
) -> io::Result<()> {
    let mut events = [EpollEvent::ZERO; 4];
    // Sleep in epoll between bursts, never spin: a 50 µs post-burst busy-poll was tried
    // and did not lower the ping RTT (the added ~40 µs seems to be the extra TUN
    // read/write work, not the thread's wake-up), so spinning would only burn a core.
    loop {
        let n = sys::epoll_wait(epoll.as_fd(), &mut events, -1)?;
        let (mut up, mut down) = (false, false);
        for ev in &events[..n] {
            match ev.token() {
                TOKEN_STOP => return Ok(()),
                TOKEN_CLIENT => up = true,
                TOKEN_SERVER => down = true,
                _ => {}
            }
        }
        // Level-triggered: whatever a batch leaves behind wakes the next epoll_wait at
        // once, which is also where a stop request gets noticed under full load.
        if up {
            forwarder.step(&mut client, &mut server, &counters.up)?;
        }
        if down {
            forwarder.step(&mut server, &mut client, &counters.down)?;
        }
    }
}

#[cfg(test)]
mod test {
    use super::*;
    use std::path::Path;

    #[test]
    fn bad_config_fails_before_any_device_exists() {
        let e = Lab::open_json(r#"{"clientTun":"qlcta"}"#).err().unwrap();
        assert_eq!(e.code(), Code::BadConfig);
    }

    /// Needs CAP_NET_ADMIN and /dev/net/tun; skipped (passes) without them so plain
    /// `cargo test` works anywhere. The forwarding itself is covered in forward.rs.
    #[test]
    fn open_close_creates_and_removes_the_devices() {
        let pid = std::process::id();
        let (a, b) = (format!("qlct{pid}a"), format!("qlct{pid}b"));
        let json = format!(
            r#"{{"clientTun":"{a}","serverTun":"{b}","mtu":1500,"offload":true,"labPrefixes":["198.18.0.0/15"]}}"#
        );
        let mut lab = match Lab::open_json(&json) {
            Ok(lab) => lab,
            Err(e) if e.code() == Code::TunOpen => {
                eprintln!("skipped: {e}");
                return;
            }
            Err(e) => panic!("{e}"),
        };
        let sys_path = |n: &str| Path::new("/sys/class/net").join(n);
        assert!(sys_path(&a).exists() && sys_path(&b).exists());
        assert_eq!(lab.counters(), Snapshot::default());
        assert_eq!(lab.failure(), None);
        lab.close();
        lab.close();
        assert!(!sys_path(&a).exists() && !sys_path(&b).exists());
    }
}
