//! Connections to the configured MySQL servers. One pool serves the first reachable server
//! of `mysql.hosts`; when that server fails, new connections go to the next one at once,
//! and a probe (every second) moves back to an earlier server once it answers again (on
//! Galera: once it is `Synced`).

use std::io;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use mysql_async::prelude::*;
use mysql_async::{Conn, Opts, OptsBuilder, Pool, PoolConstraints, PoolOpts, SslOpts};

use crate::config::MysqlConfig;
use crate::error::{AuthError, Result};

/// With several servers, a connection that takes longer than this counts as a dead server.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// How often an earlier server is probed while a later one is in use.
pub const FAILBACK_INTERVAL: Duration = Duration::from_secs(1);

/// The pool in use and the index of its server in `mysql.hosts`.
struct Active {
    index: usize,
    pool: Pool,
}

pub struct Servers {
    opts: Vec<Opts>,
    active: RwLock<Arc<Active>>,
}

fn opts_for(c: &MysqlConfig, index: usize) -> Result<Opts> {
    let min = c.connection_limit.min(10);
    let constraints = PoolConstraints::new(min, c.connection_limit)
        .ok_or_else(|| AuthError::general("config: mysql.connectionLimit is invalid"))?;
    let pool_opts = PoolOpts::default()
        .with_constraints(constraints)
        // A reset after every use would also drop the prepared-statement cache.
        .with_reset_connection(false)
        .with_inactive_connection_ttl(Duration::from_secs(60));
    let host = &c.hosts[index];
    let mut opts = OptsBuilder::default()
        .ip_or_hostname(host.host.clone())
        .tcp_port(host.port)
        .user(Some(c.user.clone()))
        .pass(Some(c.password.clone()))
        .db_name(Some(c.database.clone()))
        // Use the TCP address the app configured, never a socket guessed from it.
        .prefer_socket(false)
        // UPDATE reports rows matched, so saving unchanged session data is not "missing".
        .client_found_rows(true)
        .pool_opts(pool_opts);
    if let Some(ssl) = &c.ssl {
        let mut s = SslOpts::default().with_danger_accept_invalid_certs(!ssl.reject_unauthorized);
        if let Some(ca) = &ssl.ca {
            s = s.with_root_certs(vec![ca.clone().into_bytes().into()]);
        }
        opts = opts.ssl_opts(Some(s));
    }
    Ok(opts.into())
}

impl Servers {
    pub fn new(c: &MysqlConfig) -> Result<Self> {
        let opts = (0..c.hosts.len())
            .map(|i| opts_for(c, i))
            .collect::<Result<Vec<_>>>()?;
        let pool = Pool::new(opts[0].clone());
        Ok(Servers {
            opts,
            active: RwLock::new(Arc::new(Active { index: 0, pool })),
        })
    }

    /// True when several servers are configured (failover on).
    pub fn can_fail_over(&self) -> bool {
        self.opts.len() > 1
    }

    pub fn count(&self) -> usize {
        self.opts.len()
    }

    fn active(&self) -> Arc<Active> {
        self.active
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The index of the server in use.
    pub fn active_index(&self) -> usize {
        self.active().index
    }

    /// The index of the server in use, and a connection to it.
    pub async fn conn(&self) -> (usize, std::result::Result<Conn, mysql_async::Error>) {
        let active = self.active();
        let conn = if self.can_fail_over() {
            match tokio::time::timeout(CONNECT_TIMEOUT, active.pool.get_conn()).await {
                Ok(conn) => conn,
                Err(_) => Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("no connection within {} s", CONNECT_TIMEOUT.as_secs()),
                )
                .into()),
            }
        } else {
            active.pool.get_conn().await
        };
        (active.index, conn)
    }

    /// Server `index` failed: if it is still the one in use, move to the next one.
    pub fn failed(&self, index: usize) {
        if self.can_fail_over() && self.active_index() == index {
            self.switch(index, (index + 1) % self.opts.len());
        }
    }

    /// Replaces the pool of server `from` with a new one for server `to`; the old pool
    /// closes in the background once its connections come back.
    fn switch(&self, from: usize, to: usize) {
        let old = {
            let mut active = self.active.write().unwrap_or_else(|p| p.into_inner());
            if active.index != from {
                return; // another caller switched already
            }
            let pool = Pool::new(self.opts[to].clone());
            std::mem::replace(&mut *active, Arc::new(Active { index: to, pool }))
        };
        napi::bindgen_prelude::spawn(async move {
            let _ = old.pool.clone().disconnect().await;
        });
    }

    /// While a later server is in use, moves back to the first earlier one that answers
    /// (and on Galera is `Synced`). Called every FAILBACK_INTERVAL by the probe job.
    pub async fn fail_back(&self, galera: bool) {
        let current = self.active_index();
        for index in 0..current {
            if self.healthy(index, galera).await {
                self.switch(current, index);
                return;
            }
        }
    }

    async fn healthy(&self, index: usize, galera: bool) -> bool {
        let probe = async {
            let mut c = Conn::new(self.opts[index].clone()).await?;
            let ok = if galera {
                let state: Option<(String, String)> = c
                    .query_first("SHOW STATUS LIKE 'wsrep_local_state_comment'")
                    .await?;
                state.is_some_and(|(_, v)| v == "Synced")
            } else {
                c.query_drop("SELECT 1").await.is_ok()
            };
            let _ = c.disconnect().await;
            Ok::<bool, mysql_async::Error>(ok)
        };
        matches!(
            tokio::time::timeout(CONNECT_TIMEOUT, probe).await,
            Ok(Ok(true))
        )
    }

    pub async fn disconnect(&self) -> Result<()> {
        let pool = self.active().pool.clone();
        pool.disconnect().await.map_err(AuthError::from)
    }
}
