//! Exports registered with Node-API by hand: a plain `napi_callback`, without napi-rs's
//! generated wrapper, but with the same panic and error handling. Depends on napi alone, so
//! fuzz/napi-panic-check includes this very file to check that handling.

use std::ffi::CStr;
use std::ptr;

use napi::bindgen_prelude::Object;
use napi::{check_status, sys, Env, JsError, JsValue, Result};

/// What a hand-registered export does, given its callback's `env` and `info`.
pub type Body = unsafe fn(sys::napi_env, sys::napi_callback_info) -> Result<sys::napi_value>;

/// Adds `callback` to the module's `exports` under `name`.
pub fn register(
    exports: &Object,
    env: &Env,
    name: &CStr,
    callback: sys::napi_callback,
) -> Result<()> {
    let mut function = ptr::null_mut();
    // SAFETY: called while the module loads, on the JS thread, with its live env.
    unsafe {
        check_status!(sys::napi_create_function(
            env.raw(),
            name.as_ptr(),
            name.count_bytes() as isize,
            callback,
            ptr::null_mut(),
            &mut function,
        ))?;
        check_status!(sys::napi_set_named_property(
            env.raw(),
            exports.raw(),
            name.as_ptr(),
            function,
        ))
    }
}

/// The callback's first `N` arguments; missing ones read as `undefined`.
///
/// # Safety
/// `env` and `info` are those of a callback running on the JS thread.
pub unsafe fn args<const N: usize>(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> Result<[sys::napi_value; N]> {
    let mut argc = N;
    let mut argv = [ptr::null_mut(); N];
    // SAFETY: as the caller promises; argv has room for argc values.
    unsafe {
        check_status!(sys::napi_get_cb_info(
            env,
            info,
            &mut argc,
            argv.as_mut_ptr(),
            ptr::null_mut(),
            ptr::null_mut(),
        ))?;
        let mut undefined = ptr::null_mut();
        check_status!(sys::napi_get_undefined(env, &mut undefined))?;
        for slot in argv.iter_mut().skip(argc) {
            *slot = undefined;
        }
    }
    Ok(argv)
}

/// Runs `body` as napi-rs's `catch_unwind` exports do: an error is thrown as a JS `Error`,
/// and so is a panic (with its message), instead of unwinding into Node.
///
/// # Safety
/// `env` and `info` are those of a callback running on the JS thread.
pub unsafe fn run(
    env: sys::napi_env,
    info: sys::napi_callback_info,
    body: Body,
) -> sys::napi_value {
    let outcome = std::panic::catch_unwind(|| unsafe { body(env, info) })
        .unwrap_or_else(|p| Err(napi::bindgen_prelude::panic_to_error(p)));
    outcome.unwrap_or_else(|e| {
        // SAFETY: env is the live env of this callback.
        unsafe { JsError::from(e).throw_into(env) };
        ptr::null_mut()
    })
}
