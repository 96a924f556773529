//! Milliseconds since the epoch, with an offset that only the test hook can move, so tests
//! can observe expiry and key rotation without sleeping for hours.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

static OFFSET_MS: AtomicI64 = AtomicI64::new(0);

pub fn now_ms() -> u64 {
    let real = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    (real + OFFSET_MS.load(Ordering::Relaxed)).max(0) as u64
}

/// Moves this process's clock (tests only; reachable through the `testHooks` export, which
/// refuses to work unless `SUPERTOKENS_TEST_HOOKS=1` was set when the addon loaded).
pub fn set_offset_ms(offset: i64) {
    OFFSET_MS.store(offset, Ordering::Relaxed);
}
