//! N-API glue: converts JS values to Rust and errors to JS, nothing else.
//!
//! Exports (see src/native/binding.ts for the TypeScript view):
//!   version(): string
//!   labOpen(configJson: string): number      -> lab id
//!   labCounters(id: number): string          -> LabCounters as JSON
//!   labStalls(id: number): string            -> LabStalls as JSON (episodes taken)
//!   labSetActive(id: number, namesJson: string): void
//!   labFlows(id: number, all: number): string -> per-flow metric snapshots as JSON
//!   labClose(id: number): string             -> {"flows": the flow snapshots left at the end,
//!                                               "capture": its final counters or null}
//!   simulate(compiledJson: string, trafficJson: string): string
//!
//! Every export runs its body inside `catch_unwind`, so a Rust panic becomes a JS error
//! with code QL_PANIC instead of unwinding into node (which would abort the process).

// Even inside the one `unsafe fn` (the entry point), each unsafe call gets its own block.
#![deny(unsafe_op_in_unsafe_fn)]

mod napi_sys;

use napi_sys::*;
use qoslab_core::Lab;
use std::collections::HashMap;
use std::ffi::CString;
use std::os::raw::c_char;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};

/// An error on its way to JS: `code` becomes `err.code`.
struct Throw {
    code: &'static str,
    message: String,
}

impl Throw {
    fn new(code: &'static str, message: impl Into<String>) -> Throw {
        Throw {
            code,
            message: message.into(),
        }
    }
}

impl From<qoslab_core::Error> for Throw {
    fn from(e: qoslab_core::Error) -> Throw {
        Throw::new(e.code().as_str(), e.message())
    }
}

type JsResult<T> = Result<T, Throw>;

// ---------------------------------------------------------------------------------------
// The only place that calls into N-API. Each wrapper checks the status it gets back.

fn check(status: napi_status, what: &str) -> JsResult<()> {
    match status {
        NAPI_OK => Ok(()),
        NAPI_STRING_EXPECTED => Err(Throw::new(
            "QL_BAD_ARG",
            format!("{what}: expected a string"),
        )),
        NAPI_NUMBER_EXPECTED => Err(Throw::new(
            "QL_BAD_ARG",
            format!("{what}: expected a number"),
        )),
        other => Err(Throw::new(
            "QL_NAPI",
            format!("{what}: N-API status {other}"),
        )),
    }
}

/// Up to N arguments; missing ones read as `undefined` (N-API fills them in).
fn args<const N: usize>(env: napi_env, info: napi_callback_info) -> JsResult<[napi_value; N]> {
    let mut argv = [ptr::null_mut(); N];
    let mut argc = N;
    // SAFETY: `argv` has room for `argc` values, as napi_get_cb_info requires; `env` and
    // `info` come straight from node for this callback. this_arg and data may be NULL.
    let status = unsafe {
        napi_get_cb_info(
            env,
            info,
            &mut argc,
            argv.as_mut_ptr(),
            ptr::null_mut(),
            ptr::null_mut(),
        )
    };
    check(status, "napi_get_cb_info")?;
    Ok(argv)
}

fn get_string(env: napi_env, value: napi_value, what: &str) -> JsResult<String> {
    let mut len = 0usize;
    // SAFETY: a NULL buffer asks only for the UTF-8 length, written to a live local.
    check(
        unsafe { napi_get_value_string_utf8(env, value, ptr::null_mut(), 0, &mut len) },
        what,
    )?;
    let mut buf = vec![0u8; len + 1];
    let mut written = 0usize;
    // SAFETY: `buf` has `len + 1` writable bytes (room for node's NUL terminator), and the
    // exclusive borrow keeps it alive for the call.
    check(
        unsafe {
            napi_get_value_string_utf8(env, value, buf.as_mut_ptr().cast(), buf.len(), &mut written)
        },
        what,
    )?;
    buf.truncate(written.min(len));
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

fn get_f64(env: napi_env, value: napi_value, what: &str) -> JsResult<f64> {
    let mut out = 0f64;
    // SAFETY: `out` is a live local the call writes one double into.
    check(unsafe { napi_get_value_double(env, value, &mut out) }, what)?;
    Ok(out)
}

fn create_string(env: napi_env, s: &str) -> JsResult<napi_value> {
    let mut out = ptr::null_mut();
    // SAFETY: pointer and explicit length describe a live UTF-8 buffer (no NUL needed);
    // `out` is a live local.
    check(
        unsafe { napi_create_string_utf8(env, s.as_ptr().cast(), s.len(), &mut out) },
        "napi_create_string_utf8",
    )?;
    Ok(out)
}

fn create_u32(env: napi_env, n: u32) -> JsResult<napi_value> {
    let mut out = ptr::null_mut();
    // SAFETY: `out` is a live local the call writes one handle into.
    check(
        unsafe { napi_create_uint32(env, n, &mut out) },
        "napi_create_uint32",
    )?;
    Ok(out)
}

fn undefined(env: napi_env) -> JsResult<napi_value> {
    let mut out = ptr::null_mut();
    // SAFETY: `out` is a live local the call writes one handle into.
    check(
        unsafe { napi_get_undefined(env, &mut out) },
        "napi_get_undefined",
    )?;
    Ok(out)
}

/// A C string for node; interior NULs (never expected) are replaced rather than lost.
fn c_string(s: &str) -> CString {
    CString::new(s.replace('\0', "\u{fffd}")).unwrap_or_default()
}

fn throw(env: napi_env, t: &Throw) {
    let mut pending = false;
    // SAFETY: `pending` is a live local the call writes one bool into.
    let status = unsafe { napi_is_exception_pending(env, &mut pending) };
    if status == NAPI_OK && pending {
        // A JS exception from a failed N-API call is more precise than ours; keep it.
        return;
    }
    let code = c_string(t.code);
    let message = c_string(&t.message);
    // SAFETY: both pointers are NUL-terminated strings that outlive the call; node copies
    // them into the new Error.
    unsafe {
        napi_throw_error(env, code.as_ptr(), message.as_ptr());
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic payload".to_owned()
    }
}

/// Run an export's body, turning errors and panics into JS exceptions. Returning NULL
/// with an exception pending is how N-API callbacks signal a throw.
fn boundary(env: napi_env, name: &str, body: impl FnOnce() -> JsResult<napi_value>) -> napi_value {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(v)) => v,
        Ok(Err(t)) => {
            throw(env, &t);
            ptr::null_mut()
        }
        Err(payload) => {
            let message = format!("panic in native {name}(): {}", panic_message(&*payload));
            throw(env, &Throw::new("QL_PANIC", message));
            ptr::null_mut()
        }
    }
}

// ---------------------------------------------------------------------------------------
// The lab registry: JS holds plain numeric ids, never pointers, so a stale or forged id
// can only miss, not crash.

fn labs() -> MutexGuard<'static, HashMap<u32, Lab>> {
    static LABS: OnceLock<Mutex<HashMap<u32, Lab>>> = OnceLock::new();
    // A panic while holding the lock cannot leave the map half-updated (insert/remove
    // are single calls), so a poisoned lock is safe to keep using.
    LABS.get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner())
}

static NEXT_ID: AtomicU32 = AtomicU32::new(1);

fn lab_id(env: napi_env, value: napi_value, fname: &str) -> JsResult<u32> {
    let id = get_f64(env, value, &format!("{fname}(id)"))?;
    if id.fract() != 0.0 || !(1.0..=f64::from(u32::MAX)).contains(&id) {
        return Err(Throw::new(
            "QL_BAD_ARG",
            format!("{fname}(id): id must be a positive integer, got {id}"),
        ));
    }
    Ok(id as u32)
}

// ---------------------------------------------------------------------------------------
// Exports.

extern "C" fn js_version(env: napi_env, _info: napi_callback_info) -> napi_value {
    boundary(env, "version", || create_string(env, qoslab_core::VERSION))
}

extern "C" fn js_lab_open(env: napi_env, info: napi_callback_info) -> napi_value {
    boundary(env, "labOpen", || {
        let [config] = args::<1>(env, info)?;
        let json = get_string(env, config, "labOpen(configJson)").map_err(|t| {
            // A non-string config is a configuration mistake from the caller's view.
            Throw::new("QL_BAD_CONFIG", t.message)
        })?;
        // Opening creates TUNs and spawns a thread: a few syscalls, fast enough to run on
        // the JS thread and report errors synchronously.
        let lab = Lab::open_json(&json)?;
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        labs().insert(id, lab);
        create_u32(env, id)
    })
}

extern "C" fn js_lab_counters(env: napi_env, info: napi_callback_info) -> napi_value {
    boundary(env, "labCounters", || {
        let [id] = args::<1>(env, info)?;
        let id = lab_id(env, id, "labCounters")?;
        // May wait briefly for the forwarding thread's shaping snapshot; the registry
        // lock is held meanwhile, which only delays other calls on the JS thread itself.
        let json = match labs().get(&id) {
            Some(lab) => lab.counters_json(),
            None => {
                return Err(Throw::new(
                    "QL_UNKNOWN_LAB",
                    format!("no open lab with id {id}"),
                ))
            }
        };
        create_string(env, &json)
    })
}

extern "C" fn js_lab_flows(env: napi_env, info: napi_callback_info) -> napi_value {
    boundary(env, "labFlows", || {
        let [id, all] = args::<2>(env, info)?;
        let id = lab_id(env, id, "labFlows")?;
        // A number, not a boolean: one N-API reader fewer to declare by hand.
        let all = get_f64(env, all, "labFlows(all)")? != 0.0;
        // Waits briefly for the forwarding thread, as labCounters does.
        let json = match labs().get(&id) {
            Some(lab) => lab.flows_json(all),
            None => {
                return Err(Throw::new(
                    "QL_UNKNOWN_LAB",
                    format!("no open lab with id {id}"),
                ))
            }
        };
        create_string(env, &json)
    })
}

extern "C" fn js_lab_stalls(env: napi_env, info: napi_callback_info) -> napi_value {
    boundary(env, "labStalls", || {
        let [id] = args::<1>(env, info)?;
        let id = lab_id(env, id, "labStalls")?;
        let json = match labs().get(&id) {
            Some(lab) => lab.stalls_json(),
            None => {
                return Err(Throw::new(
                    "QL_UNKNOWN_LAB",
                    format!("no open lab with id {id}"),
                ))
            }
        };
        create_string(env, &json)
    })
}

extern "C" fn js_lab_set_active(env: napi_env, info: napi_callback_info) -> napi_value {
    boundary(env, "labSetActive", || {
        let [id, names] = args::<2>(env, info)?;
        let id = lab_id(env, id, "labSetActive")?;
        let names = get_string(env, names, "labSetActive(namesJson)")?;
        match labs().get(&id) {
            Some(lab) => lab.set_active_json(&names)?,
            None => {
                return Err(Throw::new(
                    "QL_UNKNOWN_LAB",
                    format!("no open lab with id {id}"),
                ))
            }
        }
        undefined(env)
    })
}

extern "C" fn js_simulate(env: napi_env, info: napi_callback_info) -> napi_value {
    boundary(env, "simulate", || {
        let [compiled, plan] = args::<2>(env, info)?;
        let compiled = get_string(env, compiled, "simulate(compiledJson)")?;
        let plan = get_string(env, plan, "simulate(planJson)")?;
        // Virtual time: as fast as the CPU goes, on the JS thread (the CLI's `simulate`
        // waits for it anyway).
        let result = qoslab_core::drive::twin::simulate_json(&compiled, &plan)?;
        create_string(env, &result)
    })
}

extern "C" fn js_lab_close(env: napi_env, info: napi_callback_info) -> napi_value {
    boundary(env, "labClose", || {
        let [id] = args::<1>(env, info)?;
        let id = lab_id(env, id, "labClose")?;
        // Take it out first so the join below does not hold the registry lock.
        let lab = labs().remove(&id);
        let last = match lab {
            Some(mut lab) => {
                lab.close();
                // The thread has ended (and with it the capture's writer): final words.
                format!(
                    "{{\"flows\":{},\"capture\":{}}}",
                    lab.flows_json(true),
                    lab.capture_json()
                )
            }
            None => r#"{"flows":[],"capture":null}"#.to_owned(),
        };
        create_string(env, &last)
    })
}

fn method(
    name: &'static [u8],
    f: extern "C" fn(napi_env, napi_callback_info) -> napi_value,
) -> napi_property_descriptor {
    napi_property_descriptor {
        utf8name: name.as_ptr().cast::<c_char>(),
        name: ptr::null_mut(),
        method: Some(f as unsafe extern "C" fn(napi_env, napi_callback_info) -> napi_value),
        getter: None,
        setter: None,
        value: ptr::null_mut(),
        attributes: NAPI_ENUMERABLE,
        data: ptr::null_mut(),
    }
}

/// Node-API version this addon is written against (8 ships with node 12.22+ and 20.x).
#[no_mangle]
pub extern "C" fn node_api_module_get_api_version_v1() -> i32 {
    8
}

/// Module entry point, called by node on `require`.
///
/// # Safety
/// Only node may call this, with a live `env` and the module's `exports` object.
#[no_mangle]
pub unsafe extern "C" fn napi_register_module_v1(env: napi_env, exports: napi_value) -> napi_value {
    boundary(env, "register", || {
        let props = [
            method(b"version\0", js_version),
            method(b"labOpen\0", js_lab_open),
            method(b"labCounters\0", js_lab_counters),
            method(b"labStalls\0", js_lab_stalls),
            method(b"labSetActive\0", js_lab_set_active),
            method(b"labFlows\0", js_lab_flows),
            method(b"labClose\0", js_lab_close),
            method(b"simulate\0", js_simulate),
        ];
        // SAFETY: `props` is a live array of `props.len()` descriptors whose names are
        // static NUL-terminated strings; node copies what it needs during the call.
        check(
            unsafe { napi_define_properties(env, exports, props.len(), props.as_ptr()) },
            "napi_define_properties",
        )?;
        Ok(exports)
    })
}
