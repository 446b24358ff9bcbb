//! Hand-declared Node-API (see /usr/include/node/js_native_api.h and node_api.h), limited
//! to what the glue uses. The `napi` crate would bring these, but crates.io is
//! unreachable. The symbols are left undefined in the cdylib and resolved by node when it
//! dlopens the addon, so no linker flags are needed on Linux.
//!
//! C names are kept on purpose so every item can be grepped in the headers.

#![allow(non_camel_case_types)]

use std::os::raw::{c_char, c_int, c_void};

#[repr(C)]
pub struct napi_env__ {
    _private: [u8; 0],
}
#[repr(C)]
pub struct napi_value__ {
    _private: [u8; 0],
}
#[repr(C)]
pub struct napi_callback_info__ {
    _private: [u8; 0],
}

pub type napi_env = *mut napi_env__;
pub type napi_value = *mut napi_value__;
pub type napi_callback_info = *mut napi_callback_info__;

/// A C enum: `napi_ok` is 0; other values (napi_string_expected, ...) are errors.
pub type napi_status = c_int;
pub const NAPI_OK: napi_status = 0;
pub const NAPI_STRING_EXPECTED: napi_status = 3;
pub const NAPI_NUMBER_EXPECTED: napi_status = 6;

pub type napi_callback =
    Option<unsafe extern "C" fn(env: napi_env, info: napi_callback_info) -> napi_value>;

/// `napi_property_attributes`, a C enum.
pub type napi_property_attributes = c_int;
pub const NAPI_ENUMERABLE: napi_property_attributes = 1 << 1;

#[repr(C)]
pub struct napi_property_descriptor {
    pub utf8name: *const c_char,
    pub name: napi_value,
    pub method: napi_callback,
    pub getter: napi_callback,
    pub setter: napi_callback,
    pub value: napi_value,
    pub attributes: napi_property_attributes,
    pub data: *mut c_void,
}

extern "C" {
    pub fn napi_get_cb_info(
        env: napi_env,
        cbinfo: napi_callback_info,
        argc: *mut usize,
        argv: *mut napi_value,
        this_arg: *mut napi_value,
        data: *mut *mut c_void,
    ) -> napi_status;

    pub fn napi_get_value_string_utf8(
        env: napi_env,
        value: napi_value,
        buf: *mut c_char,
        bufsize: usize,
        result: *mut usize,
    ) -> napi_status;

    pub fn napi_get_value_double(env: napi_env, value: napi_value, result: *mut f64)
        -> napi_status;

    pub fn napi_create_string_utf8(
        env: napi_env,
        s: *const c_char,
        length: usize,
        result: *mut napi_value,
    ) -> napi_status;

    pub fn napi_create_uint32(env: napi_env, value: u32, result: *mut napi_value) -> napi_status;

    pub fn napi_get_undefined(env: napi_env, result: *mut napi_value) -> napi_status;

    pub fn napi_define_properties(
        env: napi_env,
        object: napi_value,
        property_count: usize,
        properties: *const napi_property_descriptor,
    ) -> napi_status;

    /// Takes an error `code` (may be NULL) as well as the message; node sets `err.code`.
    pub fn napi_throw_error(env: napi_env, code: *const c_char, msg: *const c_char) -> napi_status;

    pub fn napi_is_exception_pending(env: napi_env, result: *mut bool) -> napi_status;
}
