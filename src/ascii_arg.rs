//! String arguments of the hot path read as Latin-1 into a reused per-thread buffer: no
//! allocation and no zeroing per call (profiled: napi-rs's `Latin1String` allocates a zeroed
//! `Vec` for each argument, ~10 % of a cached `getSession`). Valid tokens are ASCII, so
//! reading them as Latin-1 loses nothing; the caller still checks the bytes are UTF-8.

use std::cell::RefCell;
use std::ops::Deref;
use std::ptr;

use napi::bindgen_prelude::{FromNapiValue, TypeName, ValidateNapiValue};
use napi::{check_status, sys, Result, ValueType};

/// Buffers above this size (hostile input) are not kept for reuse.
const KEEP_CAPACITY: usize = 16 * 1024;

thread_local! {
    static SPARE: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
}

pub struct Latin1Arg(Vec<u8>);

impl Deref for Latin1Arg {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for Latin1Arg {
    fn drop(&mut self) {
        let buf = std::mem::take(&mut self.0);
        if buf.capacity() <= KEEP_CAPACITY {
            SPARE.with(|s| s.borrow_mut().push(buf));
        }
    }
}

impl TypeName for Latin1Arg {
    fn type_name() -> &'static str {
        "String(latin1)"
    }

    fn value_type() -> ValueType {
        ValueType::String
    }
}

impl ValidateNapiValue for Latin1Arg {}

impl FromNapiValue for Latin1Arg {
    unsafe fn from_napi_value(env: sys::napi_env, value: sys::napi_value) -> Result<Self> {
        let mut len = 0;
        // Also fails (string expected) for anything that is not a string.
        check_status!(
            sys::napi_get_value_string_latin1(env, value, ptr::null_mut(), 0, &mut len),
            "expected a string"
        )?;
        let mut buf = SPARE.with(|s| s.borrow_mut().pop()).unwrap_or_default();
        buf.clear();
        buf.reserve(len + 1); // napi writes a terminating NUL
        let mut written = 0;
        check_status!(
            sys::napi_get_value_string_latin1(
                env,
                value,
                buf.as_mut_ptr().cast(),
                len + 1,
                &mut written
            ),
            "expected a string"
        )?;
        // SAFETY: napi wrote `written` (≤ len) bytes into the reserved capacity.
        buf.set_len(written.min(len));
        Ok(Latin1Arg(buf))
    }
}
