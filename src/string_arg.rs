//! String arguments of the hot path, read into reused per-thread buffers: no allocation and
//! no zeroing per call (napi-rs's string conversions allocate a zeroed `Vec` for each
//! argument, on every request). Read as UTF-16 units and narrowed here,
//! never as Latin-1: V8 would keep only the low byte of each unit, so "Ţ" (U+0162) would read
//! as "b" and a forged token could equal a real one. A string with any unit above 0x7F
//! arrives with the non-ASCII byte 0xFF first, which the verifier rejects. Of the exact
//! readings this is the cheapest (UTF-8, or Latin-1 plus an ASCII check, cost more; see
//! bench/README.md).

use std::cell::RefCell;
use std::ops::Deref;
use std::ptr;

use napi::bindgen_prelude::{FromNapiValue, TypeName, ValidateNapiValue};
use napi::{check_status, sys, Result, ValueType};

/// Buffers above this size (hostile input) are not kept for reuse.
const KEEP_CAPACITY: usize = 16 * 1024;

thread_local! {
    static SPARE: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
    static UNITS: RefCell<Vec<u16>> = const { RefCell::new(Vec::new()) };
}

/// The string's UTF-16 units as bytes; if any unit is above 0x7F the first byte is 0xFF.
pub struct AsciiArg(Vec<u8>);

impl Deref for AsciiArg {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for AsciiArg {
    fn drop(&mut self) {
        let buf = std::mem::take(&mut self.0);
        if buf.capacity() <= KEEP_CAPACITY {
            SPARE.with(|s| s.borrow_mut().push(buf));
        }
    }
}

impl TypeName for AsciiArg {
    fn type_name() -> &'static str {
        "String"
    }

    fn value_type() -> ValueType {
        ValueType::String
    }
}

impl ValidateNapiValue for AsciiArg {}

impl FromNapiValue for AsciiArg {
    unsafe fn from_napi_value(env: sys::napi_env, value: sys::napi_value) -> Result<Self> {
        let mut len = 0;
        // Also fails (string expected) for anything that is not a string.
        check_status!(
            sys::napi_get_value_string_utf16(env, value, ptr::null_mut(), 0, &mut len),
            "expected a string"
        )?;
        let mut buf = SPARE.with(|s| s.borrow_mut().pop()).unwrap_or_default();
        buf.clear();
        UNITS.with(|units| {
            let mut units = units.borrow_mut();
            units.clear();
            units.reserve(len + 1); // napi writes a terminating NUL
            let mut written = 0;
            check_status!(
                sys::napi_get_value_string_utf16(
                    env,
                    value,
                    units.as_mut_ptr(),
                    len + 1,
                    &mut written
                ),
                "expected a string"
            )?;
            // SAFETY: napi wrote `written` (≤ len) units into the reserved capacity.
            units.set_len(written.min(len));
            // Two simple passes the compiler vectorises: narrow, then OR every unit together
            // to see whether any was above 0x7F; if so, poison the first byte.
            buf.resize(units.len(), 0);
            for (b, &u) in buf.iter_mut().zip(units.iter()) {
                *b = u as u8;
            }
            if units.iter().fold(0, |all, &u| all | u) > 0x7F {
                buf[0] = 0xFF;
            }
            if units.capacity() > KEEP_CAPACITY {
                *units = Vec::new();
            }
            Ok::<(), napi::Error>(())
        })?;
        Ok(AsciiArg(buf))
    }
}
