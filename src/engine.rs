//! The process-wide state: nothing before `init`, one engine after it, nothing after `close`.

use std::sync::{Arc, Mutex, RwLock};

use napi_derive::napi;
use serde_json::Value;
use tokio::task::JoinHandle;

use crate::cleanup;
use crate::config::{self, Config};
use crate::error::{AuthError, Result};
use crate::keys::Keys;
use crate::logger::Logger;
use crate::orphans::Orphans;
use crate::refresh_log::{self, RefreshLog};
use crate::revocations::{self, Revocations};
use crate::store::Store;
use crate::token_cache::TokenCache;

pub struct Engine {
    pub config: Config,
    pub store: Arc<Store>,
    pub keys: Keys,
    pub log: Logger,
    pub verified_tokens: TokenCache,
    /// Clean-ups of rows that rejected logins may have left.
    pub orphans: Orphans,
    /// Sessions revoked by any process, with `revocationPollMs`.
    pub revoked: Arc<Revocations>,
    /// Refreshes whose bookkeeping is not written yet.
    pub refreshes: Arc<RefreshLog>,
    /// The removal job and, with several servers, the fail-back probe.
    jobs: Mutex<Vec<JoinHandle<()>>>,
}

enum State {
    Empty,
    Starting,
    Ready(Arc<Engine>),
}

static STATE: RwLock<State> = RwLock::new(State::Empty);

fn state() -> std::sync::RwLockWriteGuard<'static, State> {
    STATE.write().unwrap_or_else(|p| p.into_inner())
}

/// What every call before `init` resolved is told (the JS layer reads it from the addon).
#[napi]
pub const NOT_INITIALISED: &str =
    "init(config) must be called and have resolved before any other function";

/// The initialised engine, or GENERAL_ERROR telling the app to call `init` first.
pub fn engine() -> Result<Arc<Engine>> {
    match &*STATE.read().unwrap_or_else(|p| p.into_inner()) {
        State::Ready(e) => Ok(e.clone()),
        _ => Err(AuthError::general(NOT_INITIALISED)),
    }
}

pub async fn init(config: Value, log: Logger) -> Result<Arc<Engine>> {
    {
        let mut s = state();
        match *s {
            State::Empty => *s = State::Starting,
            State::Starting => return Err(AuthError::general("init is already in progress")),
            State::Ready(_) => {
                return Err(AuthError::general(
                    "init has already been called; call close() before calling init again",
                ))
            }
        }
    }
    let started = start(config, log).await;
    let mut s = state();
    match started {
        Ok(e) => {
            *s = State::Ready(e.clone());
            Ok(e)
        }
        Err(err) => {
            *s = State::Empty;
            Err(err)
        }
    }
}

async fn start(value: Value, log: Logger) -> Result<Arc<Engine>> {
    let config = config::parse(&value)?;
    let store = Arc::new(Store::open(&config.mysql).await?);
    let keys = match Keys::load(&store, &config, &log).await {
        Ok(keys) => keys,
        Err(e) => {
            let _ = store.disconnect().await;
            return Err(e);
        }
    };
    let poll_ms = config.access_token.revocation_poll_ms;
    let revoked = Arc::new(Revocations::new(poll_ms, config.access_token.validity_ms));
    if let Err(e) = revoked.load(&store).await {
        let _ = store.disconnect().await;
        return Err(e);
    }
    let mut jobs = vec![cleanup::spawn(
        store.clone(),
        log.clone(),
        &config.refresh_token.removal_cron,
    )?];
    jobs.extend(cleanup::spawn_fail_back(store.clone()));
    let refreshes = Arc::new(RefreshLog::default());
    jobs.push(refresh_log::spawn_flush(
        refreshes.clone(),
        store.clone(),
        log.clone(),
    ));
    if let Some(ms) = poll_ms {
        jobs.push(revocations::spawn_poll(
            revoked.clone(),
            store.clone(),
            log.clone(),
            ms,
        ));
    }
    Ok(Arc::new(Engine {
        config,
        store,
        keys,
        log,
        verified_tokens: TokenCache::default(),
        orphans: Orphans::default(),
        revoked,
        refreshes,
        jobs: Mutex::new(jobs),
    }))
}

/// Stops the removal job and closes the pool; a no-op when not initialised.
pub async fn close() -> Result<()> {
    let engine = {
        let mut s = state();
        match &*s {
            State::Ready(e) => {
                let e = e.clone();
                *s = State::Empty;
                e
            }
            _ => return Ok(()),
        }
    };
    // Nothing recorded is lost: the bookkeeping is written before the pool closes (once
    // before the flush job stops, waiting for a batch in flight, and once after).
    let _ = engine.refreshes.flush(&engine.store).await;
    for job in engine
        .jobs
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .drain(..)
    {
        job.abort();
    }
    engine.orphans.stop();
    if let Err(e) = engine.refreshes.flush(&engine.store).await {
        engine
            .log
            .error(&format!("recording refreshes failed at close: {e}"));
    }
    engine.store.disconnect().await
}
