//! Rows a rejected login may have left: when the INSERT's answer was lost with the
//! connection, the row may still have been committed, so it is deleted in the background as
//! soon as the database answers. Bounded: each clean-up gives up after `budget`, at most
//! `capacity` run at once (more are left to the expiry job, with a log line), and `stop`
//! (at `close()`) ends them all.

use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use tokio::task::JoinHandle;

/// Time one clean-up keeps trying, and the pause between its attempts.
pub const BUDGET: Duration = Duration::from_secs(60);
const RETRY: Duration = Duration::from_millis(200);
/// Clean-ups running at once; a database outage during a login storm cannot pile up tasks.
pub const CAPACITY: usize = 1000;

pub struct Orphans {
    tasks: Mutex<Vec<JoinHandle<()>>>,
    capacity: usize,
    budget: Duration,
}

impl Default for Orphans {
    fn default() -> Self {
        Orphans::new(CAPACITY, BUDGET)
    }
}

impl Orphans {
    pub fn new(capacity: usize, budget: Duration) -> Self {
        Orphans {
            tasks: Mutex::new(Vec::new()),
            capacity,
            budget,
        }
    }

    /// Runs `delete` until it succeeds or the budget is spent; false when the capacity is
    /// reached (nothing started). Must be called inside the tokio runtime.
    pub fn forget<F, Fut>(&self, delete: F) -> bool
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = bool> + Send,
    {
        let mut tasks = self.tasks.lock().unwrap_or_else(|p| p.into_inner());
        tasks.retain(|t| !t.is_finished());
        if tasks.len() >= self.capacity {
            return false;
        }
        let budget = self.budget;
        tasks.push(tokio::spawn(async move {
            let attempts = async {
                while !delete().await {
                    tokio::time::sleep(RETRY).await;
                }
            };
            let _ = tokio::time::timeout(budget, attempts).await;
        }));
        true
    }

    /// Clean-ups still running.
    #[cfg(test)]
    fn pending(&self) -> usize {
        let mut tasks = self.tasks.lock().unwrap_or_else(|p| p.into_inner());
        tasks.retain(|t| !t.is_finished());
        tasks.len()
    }

    /// Ends every clean-up (at `close()`): nothing of a closed engine keeps running.
    pub fn stop(&self) {
        for t in self
            .tasks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain(..)
        {
            t.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn settle() {
        tokio::time::sleep(Duration::from_millis(30)).await;
    }

    #[tokio::test]
    async fn a_clean_up_gives_up_after_its_budget() {
        let o = Orphans::new(10, Duration::from_millis(50));
        assert!(o.forget(|| async { false }));
        assert_eq!(o.pending(), 1);
        tokio::time::sleep(Duration::from_millis(120)).await;
        assert_eq!(o.pending(), 0);
    }

    #[tokio::test]
    async fn a_clean_up_ends_when_the_delete_succeeds() {
        let o = Orphans::new(10, Duration::from_secs(60));
        assert!(o.forget(|| async { true }));
        settle().await;
        assert_eq!(o.pending(), 0);
    }

    #[tokio::test]
    async fn no_more_than_the_capacity_run_at_once() {
        let o = Orphans::new(3, Duration::from_secs(60));
        let started: Vec<bool> = (0..5).map(|_| o.forget(|| async { false })).collect();
        assert_eq!(started, [true, true, true, false, false]);
        assert_eq!(o.pending(), 3);
        o.stop();
    }

    #[tokio::test]
    async fn stop_ends_every_clean_up() {
        let o = Orphans::new(10, Duration::from_secs(60));
        for _ in 0..4 {
            o.forget(|| async { false });
        }
        o.stop();
        settle().await;
        assert_eq!(o.pending(), 0);
    }
}
