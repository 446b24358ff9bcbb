//! The real-time driver: two TUN devices and one native thread forwarding between them.
//!
//! One `std::thread` per lab (never the libuv pool, which JS needs for its own I/O). It
//! sleeps in epoll on both TUN descriptors and an eventfd used only to ask it to stop,
//! so stopping needs no timeouts and the idle thread costs nothing.
//!
//! With a scenario the thread also owns the shaping pipeline (shaper.rs): it reads
//! CLOCK_MONOTONIC once per wakeup (ns since the lab opened is the pipeline's time),
//! sleeps until shortly before the pipeline's next event on a timerfd armed at an
//! absolute time, polls out the last `TIMER_LEAD_NS` so the event is served on time, and
//! takes commands from JS through a slot and a second eventfd: a new active policy set
//! (applied before the packets of that wakeup, so between two packets) and requests for
//! a counters snapshot. The pipeline itself is never shared, so the hot path takes no lock.
//!
//! In both modes a periodic watchdog timer tells the thread how late it was served
//! (stall.rs): a stop of the whole process or a starved CPU is reported as the lab's own
//! stall, not left to read as the network's delay.

use crate::config::json::{write_u64, Value};
use crate::config::lab::CaptureSpec;
use crate::config::LabConfig;
use crate::drive::capture::{Capture, CaptureConfig, CaptureStats, Filter};
use crate::drive::counters::{Counters, Snapshot};
use crate::drive::forward::Forwarder;
use crate::drive::shaper::Shaper;
use crate::drive::stall::{Lateness, StallLog, WATCHDOG_NS};
use crate::error::{Code, Error};
use crate::io::sys::{self, EpollEvent};
use crate::io::tun::Tun;
use crate::shape::pipeline::{Options, Pipeline};
use crate::shape::Dir;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

const TOKEN_STOP: u64 = 0;
const TOKEN_CLIENT: u64 = 1;
const TOKEN_SERVER: u64 = 2;
const TOKEN_CONTROL: u64 = 3;
const TOKEN_TIMER: u64 = 4;
const TOKEN_WATCHDOG: u64 = 5;

/// How early the timer is armed before the pipeline's next event; the thread then polls
/// (epoll without blocking, still serving both TUNs) until the event is due. A timerfd
/// wake-up lands 25 µs late at the median and 60 µs at p99 here (timer slack does not
/// apply to timerfds, so PR_SET_TIMERSLACK does not help), twice per delayed round
/// trip; polling out the last stretch releases a packet within a clock read of its due
/// time, at the cost of at most this much busy time per timed event.
const TIMER_LEAD_NS: u64 = 100_000;

/// How often, at most, the forwarding thread publishes its CPU time: the counter lags
/// the thread's work by at most this much (a 5 s bench measurement by 0.02 %).
const CPU_CLOCK_EVERY_NS: u64 = 1_000_000;

/// How long `counters_json` waits for the thread to answer before using the last
/// snapshot (the thread answers between two batches, normally within microseconds).
const SNAPSHOT_WAIT: Duration = Duration::from_millis(500);

/// What JS hands the forwarding thread; guarded by `Control::state`.
#[derive(Default)]
struct ControlState {
    /// A new active policy set, already validated; the latest one wins.
    active: Option<Vec<String>>,
    /// JS waits for a fresh shaping snapshot.
    snapshot_wanted: bool,
    /// The latest shaping counters JSON and its generation.
    snapshot: String,
    generation: u64,
    /// The thread has ended; `snapshot` is final.
    finished: bool,
    /// JS waits for a per-flow metrics snapshot (every live flow with `flows_all`).
    flows_wanted: bool,
    flows_all: bool,
    /// Flow snapshots not yet taken, oldest first: each holds only what changed since the
    /// one before, so none may be lost to a reader that stopped waiting.
    flows_pending: Vec<String>,
    flows_generation: u64,
}

struct Control {
    wake: OwnedFd,
    state: Mutex<ControlState>,
    answered: Condvar,
}

impl Control {
    fn lock(&self) -> MutexGuard<'_, ControlState> {
        // Every update is a few field writes; a panic cannot leave them half-done.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Publish a snapshot (and wake whoever waits for one).
    fn publish(&self, json: String, finished: bool) {
        let mut st = self.lock();
        st.snapshot = json;
        st.generation += 1;
        st.snapshot_wanted = false;
        st.finished |= finished;
        drop(st);
        self.answered.notify_all();
    }

    /// Ask the forwarding thread for something (`ask` says what) and wait until the
    /// generation `generation` reads moves on, the thread ends or SNAPSHOT_WAIT passes;
    /// returns the state locked. After the thread ended, the state as it left it.
    fn request(
        &self,
        ask: impl FnOnce(&mut ControlState),
        generation: fn(&ControlState) -> u64,
    ) -> MutexGuard<'_, ControlState> {
        let mut st = self.lock();
        if st.finished {
            return st;
        }
        let before = generation(&st);
        ask(&mut st);
        drop(st);
        let signalled = sys::eventfd_signal(self.wake.as_fd()).is_ok();
        let st = self.lock();
        if !signalled {
            return st;
        }
        self.answered
            .wait_timeout_while(st, SNAPSHOT_WAIT, |s| {
                generation(s) == before && !s.finished
            })
            .unwrap_or_else(|p| p.into_inner())
            .0
    }

    /// Publish a flows snapshot (None: metering is off).
    fn publish_flows(&self, json: Option<String>) {
        let mut st = self.lock();
        st.flows_pending.extend(json);
        st.flows_generation += 1;
        st.flows_wanted = false;
        drop(st);
        self.answered.notify_all();
    }
}

/// The shaping side of a lab, as seen from the JS thread.
struct Shaping {
    policies: Vec<String>,
    control: Arc<Control>,
}

pub struct Lab {
    counters: Arc<Counters>,
    /// How late the forwarding thread was (stall.rs).
    stalls: Arc<StallLog>,
    stop: Arc<OwnedFd>,
    thread: Option<JoinHandle<()>>,
    /// Why the forwarding thread ended on its own, if it did.
    failure: Arc<Mutex<Option<String>>>,
    client_tun: String,
    server_tun: String,
    shaping: Option<Shaping>,
    /// Both TUNs took UDP segmentation offload (see io/tun.rs).
    udp_offload: bool,
    /// What the packet capture did, if there is one.
    capture: Option<Arc<CaptureStats>>,
}

/// What the thread runs: plain forwarding, or forwarding through the pipeline.
enum Mode {
    Plain(Forwarder),
    Shaping {
        shaper: Box<Shaper>,
        control: Arc<Control>,
        timer: OwnedFd,
        /// CLOCK_MONOTONIC at open: pipeline time 0.
        base: u64,
    },
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
        // The pipeline first: a scenario error must not leave devices half-made.
        let options = Options {
            flow_metrics: config.flow_metrics,
            ..Options::default()
        };
        let mut pipeline = match &config.scenario {
            Some(s) => Some(Pipeline::new(s, options, &config.traces)?),
            None => None,
        };
        // Pipeline time 0 is CLOCK_MONOTONIC now; the capture stamps packets with the wall
        // time that corresponds.
        let base = sys::monotonic_ns();
        let capture = match (&config.capture, &mut pipeline, &config.scenario) {
            (Some(spec), Some(p), Some(s)) => {
                let (tap, stats) = Capture::start(capture_config(spec, s)?, wall_ns())?;
                p.set_tap(Box::new(tap));
                Some(stats)
            }
            _ => None,
        };
        let client = Tun::open(&config.client_tun, config.offload)?;
        let server = Tun::open(&config.server_tun, config.offload)?;
        let udp_offload = client.uso() && server.uso();

        let thread_err = |what: &str, e: io::Error| Error::os(Code::Thread, what, &e);
        let epoll = sys::epoll_create().map_err(|e| thread_err("epoll_create1", e))?;
        let stop = Arc::new(sys::eventfd_nonblocking().map_err(|e| thread_err("eventfd", e))?);
        let watchdog = sys::timerfd_monotonic().map_err(|e| thread_err("timerfd", e))?;
        for (fd, token) in [
            (stop.as_fd(), TOKEN_STOP),
            (client.as_fd(), TOKEN_CLIENT),
            (server.as_fd(), TOKEN_SERVER),
            (watchdog.as_fd(), TOKEN_WATCHDOG),
        ] {
            sys::epoll_add(epoll.as_fd(), fd, token).map_err(|e| thread_err("epoll_ctl", e))?;
        }

        let forwarder = Forwarder::new(config.lab_prefixes.clone(), config.mtu, config.offload)
            .with_coalescing(udp_offload);
        let (mode, shaping) = match pipeline {
            None => (Mode::Plain(forwarder), None),
            Some(pipeline) => {
                let wake = sys::eventfd_nonblocking().map_err(|e| thread_err("eventfd", e))?;
                let timer = sys::timerfd_monotonic().map_err(|e| thread_err("timerfd", e))?;
                sys::epoll_add(epoll.as_fd(), wake.as_fd(), TOKEN_CONTROL)
                    .map_err(|e| thread_err("epoll_ctl", e))?;
                sys::epoll_add(epoll.as_fd(), timer.as_fd(), TOKEN_TIMER)
                    .map_err(|e| thread_err("epoll_ctl", e))?;
                let shaper = Box::new(Shaper::new(forwarder, pipeline, config.offload));
                let control = Arc::new(Control {
                    wake,
                    state: Mutex::new(ControlState {
                        snapshot: shaper.pipeline().counters_json(),
                        ..ControlState::default()
                    }),
                    answered: Condvar::new(),
                });
                let shaping = Shaping {
                    policies: shaper.pipeline().policy_names().to_vec(),
                    control: Arc::clone(&control),
                };
                let mode = Mode::Shaping {
                    shaper,
                    control,
                    timer,
                    base,
                };
                (mode, Some(shaping))
            }
        };

        let counters = Arc::new(Counters::default());
        let stalls = Arc::new(StallLog::default());
        let failure = Arc::new(Mutex::new(None));
        let first_tick = sys::monotonic_ns() + WATCHDOG_NS;
        sys::timerfd_set_periodic(watchdog.as_fd(), first_tick, WATCHDOG_NS)
            .map_err(|e| thread_err("timerfd_settime", e))?;
        let thread = {
            let counters = Arc::clone(&counters);
            let stalls = Arc::clone(&stalls);
            let failure = Arc::clone(&failure);
            let mut mode = mode;
            std::thread::Builder::new()
                .name(format!("ql-fwd-{}", config.client_tun))
                .spawn(move || {
                    let watch = Watchdog {
                        fd: watchdog,
                        log: &stalls,
                        lateness: Lateness::new(first_tick),
                    };
                    let result = run(client, server, epoll, &mut mode, &counters, watch);
                    if let Err(e) = result {
                        let mut slot = failure.lock().unwrap_or_else(|p| p.into_inner());
                        *slot = Some(format!("forwarding stopped: {e}"));
                    }
                    if let Mode::Shaping {
                        shaper,
                        control,
                        base,
                        ..
                    } = &mut mode
                    {
                        // The last word on every flow, then the counters (which say finished).
                        let now = sys::monotonic_ns().saturating_sub(*base);
                        control.publish_flows(shaper.pipeline_mut().flows_json(now, *base, true));
                        control.publish(shaper.pipeline().counters_json(), true);
                    }
                })
                .map_err(|e| thread_err("cannot spawn the forwarding thread", e))?
        };

        Ok(Lab {
            counters,
            stalls,
            stop,
            thread: Some(thread),
            failure,
            client_tun: config.client_tun.clone(),
            server_tun: config.server_tun.clone(),
            shaping,
            udp_offload,
            capture,
        })
    }

    pub fn counters(&self) -> Snapshot {
        self.counters.snapshot()
    }

    /// The forwarding thread's stall episodes since the last call, with its cumulative
    /// totals (stall.rs `take_json`).
    pub fn stalls_json(&self) -> String {
        self.stalls.take_json()
    }

    /// The shaping counters (shape/stats.rs JSON), fresh from the forwarding thread;
    /// `None` without a scenario.
    pub fn shaping_json(&self) -> Option<String> {
        let shaping = self.shaping.as_ref()?;
        let st = shaping
            .control
            .request(|st| st.snapshot_wanted = true, |st| st.generation);
        Some(st.snapshot.clone())
    }

    /// Per-flow metrics (shape/meter/) as a JSON array of the snapshots taken since the
    /// last call, oldest first: each has the flows that changed since the one before
    /// (with `all`, the new one has every live flow). `[]` without a scenario or with
    /// metering off; after the thread ended, whatever it left (its final snapshot).
    pub fn flows_json(&self, all: bool) -> String {
        let Some(shaping) = self.shaping.as_ref() else {
            return "[]".to_owned();
        };
        let ask = |st: &mut ControlState| {
            st.flows_wanted = true;
            st.flows_all |= all;
        };
        let mut st = shaping.control.request(ask, |st| st.flows_generation);
        let pending = std::mem::take(&mut st.flows_pending);
        drop(st);
        let mut out = String::with_capacity(2 + pending.iter().map(String::len).sum::<usize>());
        out.push('[');
        out.push_str(&pending.join(","));
        out.push(']');
        out
    }

    /// The capture's counters as JSON (`null` without a capture); final once closed.
    pub fn capture_json(&self) -> String {
        self.capture
            .as_ref()
            .map_or_else(|| "null".to_owned(), |c| c.to_json())
    }

    /// Whether UDP GSO super-packets cross whole (the kernel took TUN_F_USO4/6).
    pub fn udp_offload(&self) -> bool {
        self.udp_offload
    }

    /// `LabCounters` JSON: `up`, `down`, `udpOffload`, `stall` and `threadCpuNs`, plus `shaping`
    /// when a scenario is loaded.
    pub fn counters_json(&self) -> String {
        let mut json = self.counters.snapshot().to_json();
        json.pop();
        json.push_str(if self.udp_offload {
            ",\"udpOffload\":true"
        } else {
            ",\"udpOffload\":false"
        });
        json.push_str(",\"stall\":");
        json.push_str(&self.stalls.totals_json());
        json.push_str(",\"threadCpuNs\":");
        write_u64(&mut json, self.counters.thread_cpu_ns.load(Relaxed));
        json.push('}');
        if let Some(shaping) = self.shaping_json() {
            json.pop();
            json.push_str(",\"shaping\":");
            json.push_str(&shaping);
            json.push('}');
        }
        if let Some(capture) = &self.capture {
            json.pop();
            json.push_str(",\"capture\":");
            json.push_str(&capture.to_json());
            json.push('}');
        }
        json
    }

    /// Replace the active policy set; the forwarding thread applies it before the next
    /// packet it reads. Every name must be a policy of the lab's scenario.
    pub fn set_active(&self, names: &[String]) -> Result<(), Error> {
        let known: &[String] = self.shaping.as_ref().map_or(&[], |s| &s.policies);
        if let Some(bad) = names.iter().find(|n| !known.contains(n)) {
            let has = if self.shaping.is_none() {
                "this lab was opened without a scenario".to_owned()
            } else if known.is_empty() {
                "its scenario has no policies".to_owned()
            } else {
                format!("its scenario has {}", known.join(", "))
            };
            return Err(Error::new(
                Code::UnknownPolicy,
                format!("no policy named {bad:?}: {has}"),
            ));
        }
        let Some(shaping) = &self.shaping else {
            return Ok(()); // the empty set on a lab without a scenario: nothing to do
        };
        shaping.control.lock().active = Some(names.to_vec());
        sys::eventfd_signal(shaping.control.wake.as_fd())
            .map_err(|e| Error::os(Code::Thread, "cannot wake the forwarding thread", &e))
    }

    /// `set_active` with the names as a JSON array of strings.
    pub fn set_active_json(&self, json: &str) -> Result<(), Error> {
        let v = Value::parse(json)
            .map_err(|e| Error::bad_config(format!("policy names are not valid JSON: {e}")))?;
        let names = v
            .as_array()
            .and_then(|items| {
                items
                    .iter()
                    .map(|i| i.as_str().map(str::to_owned))
                    .collect::<Option<Vec<_>>>()
            })
            .ok_or_else(|| {
                Error::bad_config(format!(
                    "policy names must be an array of strings, got {}",
                    v.kind()
                ))
            })?;
        self.set_active(&names)
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

/// ns since the Unix epoch (for the capture's timestamps only: nothing is timed by it).
fn wall_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// The capture of `spec`, its class names resolved against the scenario.
fn capture_config(
    spec: &CaptureSpec,
    s: &crate::shape::compiled::Scenario,
) -> Result<CaptureConfig, Error> {
    let mut classes = 0u64;
    for name in &spec.classes {
        let i = s.class_index(name).ok_or_else(|| {
            Error::bad_config(format!("config.capture.classes: no class named {name:?}"))
        })?;
        classes |= 1u64 << i;
    }
    Ok(CaptureConfig {
        path: spec.path.clone(),
        snaplen: spec.snaplen,
        file_bytes: spec.file_bytes,
        files: spec.files,
        filter: Filter {
            classes,
            endpoints: spec.endpoints.clone(),
        },
    })
}

/// The watchdog timer and what its ticks feed.
struct Watchdog<'a> {
    fd: OwnedFd,
    log: &'a StallLog,
    lateness: Lateness,
}

fn run(
    mut client: Tun,
    mut server: Tun,
    epoll: OwnedFd,
    mode: &mut Mode,
    counters: &Counters,
    mut watch: Watchdog<'_>,
) -> io::Result<()> {
    let mut events = [EpollEvent::ZERO; 8];
    // The timer's absolute expiry as armed (pipeline time), to skip redundant re-arming.
    let mut armed: Option<u64> = None;
    // The next event is less than TIMER_LEAD_NS away: poll instead of sleeping.
    let mut spin = false;
    // When the pipeline's next event was due, as of the last iteration (pipeline time).
    let mut due: Option<u64> = None;
    // When the thread last read its CPU clock for the counters (CLOCK_MONOTONIC).
    let mut cpu_read_at = 0u64;
    // Sleep in epoll between bursts; poll only within TIMER_LEAD_NS of a timed pipeline
    // event. A general 50 µs post-burst busy-poll was tried and did not lower the ping
    // RTT (the added ~40 µs seems to be the extra TUN read/write work, not the thread's
    // wake-up), so spinning after bursts would only burn a core.
    loop {
        let n = sys::epoll_wait(epoll.as_fd(), &mut events, if spin { 0 } else { -1 })?;
        let (mut up, mut down, mut control_ready, mut timer_ready) = (false, false, false, false);
        let mut watchdog_ready = false;
        for ev in &events[..n] {
            match ev.token() {
                TOKEN_STOP => return Ok(()),
                TOKEN_CLIENT => up = true,
                TOKEN_SERVER => down = true,
                TOKEN_CONTROL => control_ready = true,
                TOKEN_TIMER => timer_ready = true,
                TOKEN_WATCHDOG => watchdog_ready = true,
                _ => {}
            }
        }
        if watchdog_ready {
            // The clock before the counter: a tick expiring in between makes the lateness
            // one period short, never long.
            let now = sys::monotonic_ns();
            let expirations = sys::read_counter_fd(watch.fd.as_fd())?;
            watch.lateness.watchdog(watch.log, now, expirations);
        }
        match mode {
            // Level-triggered: whatever a batch leaves behind wakes the next epoll_wait at
            // once, which is also where a stop request gets noticed under full load.
            Mode::Plain(forwarder) => {
                if up {
                    forwarder.step(&mut client, &mut server, &counters.up)?;
                }
                if down {
                    forwarder.step(&mut server, &mut client, &counters.down)?;
                }
            }
            Mode::Shaping {
                shaper,
                control,
                timer,
                base,
            } => {
                if control_ready {
                    sys::drain_counter_fd(control.wake.as_fd())?;
                    let (active, wanted, flows) = {
                        let mut st = control.lock();
                        let flows = st.flows_wanted.then(|| std::mem::take(&mut st.flows_all));
                        (st.active.take(), st.snapshot_wanted, flows)
                    };
                    if let Some(names) = active {
                        // Validated on the JS side against the same names.
                        let _ = shaper.pipeline_mut().set_active(&names);
                    }
                    if wanted {
                        control.publish(shaper.pipeline().counters_json(), false);
                    }
                    if let Some(all) = flows {
                        let now = sys::monotonic_ns().saturating_sub(*base);
                        control.publish_flows(shaper.pipeline_mut().flows_json(now, *base, all));
                    }
                }
                if timer_ready {
                    sys::drain_counter_fd(timer.as_fd())?;
                    armed = None;
                }
                let now = sys::monotonic_ns().saturating_sub(*base);
                // A packet held past its due time: the thread was not there to release it.
                if let Some(t) = due.filter(|&t| now > t) {
                    watch.lateness.observe(watch.log, now + *base, now - t);
                }
                if up {
                    shaper.step(Dir::Up, &mut client, &mut server, now, counters)?;
                }
                if down {
                    shaper.step(Dir::Down, &mut client, &mut server, now, counters)?;
                }
                if !up && !down {
                    shaper.advance(&mut client, &mut server, now, counters);
                }
                let next = shaper.next_wakeup();
                due = next;
                spin = next.is_some_and(|t| t <= now.saturating_add(TIMER_LEAD_NS));
                // While polling the timer is not needed (if it fires anyway, it is drained).
                let target = next.map(|t| t.saturating_sub(TIMER_LEAD_NS));
                if !spin && target != armed {
                    sys::timerfd_set_abs(timer.as_fd(), target.map(|t| t.saturating_add(*base)))?;
                    armed = target;
                }
            }
        }
        // The thread's CPU clock is a system call (~0.4 µs here, as much as a small
        // packet's forwarding): read it at most once per CPU_CLOCK_EVERY_NS of wall time
        // (a vDSO read decides), not once per wakeup.
        let wall = sys::monotonic_ns();
        if wall >= cpu_read_at.saturating_add(CPU_CLOCK_EVERY_NS) {
            counters.thread_cpu_ns.store(sys::thread_cpu_ns(), Relaxed);
            cpu_read_at = wall;
        }
    }
}

#[cfg(test)]
mod test {
    use super::*;
    use std::path::Path;

    /// The lab, or None (the test skips, and passes) without CAP_NET_ADMIN or
    /// /dev/net/tun, so plain `cargo test` works anywhere.
    fn open_or_skip(json: &str) -> Option<Lab> {
        match Lab::open_json(json) {
            Ok(lab) => Some(lab),
            Err(e) if e.code() == Code::TunOpen => {
                eprintln!("skipped: {e}");
                None
            }
            Err(e) => panic!("{e}"),
        }
    }

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
        let Some(mut lab) = open_or_skip(&json) else {
            return;
        };
        let sys_path = |n: &str| Path::new("/sys/class/net").join(n);
        assert!(sys_path(&a).exists() && sys_path(&b).exists());
        assert_eq!(lab.counters(), Snapshot::default());
        let udp_offload = lab.counters_json().contains("\"udpOffload\":true");
        assert_eq!(udp_offload, lab.udp_offload());
        assert_eq!(lab.failure(), None);
        lab.close();
        lab.close();
        assert!(!sys_path(&a).exists() && !sys_path(&b).exists());
    }

    /// Root only, like the test above: a lab with a scenario takes policy sets and
    /// reports shaping counters.
    #[test]
    fn a_scenario_lab_switches_policies_and_reports_shaping_counters() {
        use crate::drive::shaper::test::{scenario_json, LINK};
        let pid = std::process::id();
        let (a, b) = (format!("qlcs{pid}a"), format!("qlcs{pid}b"));
        let policies = r#"[{"name":"p","classes":[],"except_classes":[],"proto":null,"direction":"both","idle_timeout_ns":null,
            "actions":[{"type":"police","direction":"both","rate_bps":1000000,"burst_bytes":10000}]}]"#;
        let json = format!(
            r#"{{"clientTun":"{a}","serverTun":"{b}","mtu":1500,"offload":true,"labPrefixes":["198.18.0.0/15"],"scenario":{}}}"#,
            scenario_json(policies, LINK, LINK)
        );
        let Some(mut lab) = open_or_skip(&json) else {
            return;
        };
        lab.set_active_json(r#"["p"]"#).unwrap();
        lab.set_active(&[]).unwrap();
        let e = lab.set_active_json(r#"["p","nope"]"#).unwrap_err();
        assert_eq!(e.code(), Code::UnknownPolicy);
        assert!(e.message().contains("nope"), "{}", e.message());
        assert_eq!(
            lab.set_active_json("{}").unwrap_err().code(),
            Code::BadConfig
        );
        let v = Value::parse(&lab.counters_json()).unwrap();
        assert!(v.get("up").is_some() && v.get("down").is_some());
        let shaping = v.get("shaping").unwrap();
        assert!(shaping.get("policies").and_then(|p| p.get("p")).is_some());
        let flows = Value::parse(&lab.flows_json(false)).unwrap();
        assert!(flows.as_array().is_some_and(|a| a.len() == 1), "{flows}");
        lab.close();
        // After close the last snapshot is still there, without waiting.
        assert!(lab.counters_json().contains("\"shaping\""));
        // And the final word on every flow (there were none).
        let last = Value::parse(&lab.flows_json(true)).unwrap();
        let snap = &last.as_array().unwrap()[0];
        assert_eq!(
            snap.get("flows")
                .and_then(Value::as_array)
                .map(<[Value]>::len),
            Some(0)
        );
    }

    #[test]
    fn set_active_without_a_scenario_accepts_only_the_empty_set() {
        // No devices needed: a Lab value without a thread.
        let lab = Lab {
            counters: Arc::new(Counters::default()),
            stalls: Arc::new(StallLog::default()),
            stop: Arc::new(sys::eventfd_nonblocking().unwrap()),
            thread: None,
            failure: Arc::new(Mutex::new(None)),
            client_tun: "a".into(),
            server_tun: "b".into(),
            shaping: None,
            udp_offload: false,
            capture: None,
        };
        lab.set_active(&[]).unwrap();
        let e = lab.set_active(&["x".to_owned()]).unwrap_err();
        assert_eq!(e.code(), Code::UnknownPolicy);
        assert!(e.message().contains("without a scenario"));
        assert!(!lab.counters_json().contains("shaping"));
        assert_eq!(lab.flows_json(true), "[]");
    }
}
