//! Forwards log lines to the app's `logging.info` / `logging.error` through the JS layer,
//! from any thread. The function is weak: it never keeps the process alive.

use std::sync::Arc;

use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::Status;
use napi_derive::napi;

/// One log line for the JS shim, which calls the app's logger inside try/catch.
#[napi(object)]
pub struct LogLine {
    /// "info" | "error"
    pub level: String,
    pub message: String,
}

pub type LogFunction = ThreadsafeFunction<LogLine, (), LogLine, Status, false, true>;

#[derive(Clone, Default)]
pub struct Logger(Option<Arc<LogFunction>>);

impl Logger {
    pub fn new(f: LogFunction) -> Self {
        Logger(Some(Arc::new(f)))
    }

    pub fn info(&self, message: &str) {
        self.send("info", message);
    }

    pub fn error(&self, message: &str) {
        self.send("error", message);
    }

    fn send(&self, level: &str, message: &str) {
        if let Some(f) = &self.0 {
            let line = LogLine {
                level: level.to_string(),
                message: message.to_string(),
            };
            f.call(line, ThreadsafeFunctionCallMode::NonBlocking);
        }
    }
}
