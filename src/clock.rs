//! Milliseconds since the epoch. Builds with the `test-hooks` feature (never shipped) add
//! an offset the test hook moves, so tests observe expiry and key rotation without waiting.

use std::time::{SystemTime, UNIX_EPOCH};

fn real_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[cfg(not(feature = "test-hooks"))]
pub fn now_ms() -> u64 {
    real_ms().max(0) as u64
}

#[cfg(feature = "test-hooks")]
static OFFSET_MS: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);

#[cfg(feature = "test-hooks")]
pub fn now_ms() -> u64 {
    (real_ms() + OFFSET_MS.load(std::sync::atomic::Ordering::Relaxed)).max(0) as u64
}

/// Moves this process's clock (the `testSetClockOffset` hook of test builds).
#[cfg(feature = "test-hooks")]
pub fn set_offset_ms(offset: i64) {
    OFFSET_MS.store(offset, std::sync::atomic::Ordering::Relaxed);
}
