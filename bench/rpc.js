'use strict';
/**
 * A minimal request/response protocol over the IPC channel of `child_process.fork`:
 * the coordinator calls `client.call(cmd, args)`, the child registers handlers with `serve`.
 */

const { fork } = require('node:child_process');

/**
 * Child side: answers {id, cmd, args} messages with {id, result} or {id, error}, then tells
 * the coordinator it is listening (calls wait for that, so no message is lost).
 */
function serve(handlers) {
  process.on('message', async (msg) => {
    if (!msg || typeof msg.id !== 'number') return;
    const h = handlers[msg.cmd];
    try {
      if (!h) throw new Error(`unknown command ${msg.cmd}`);
      const result = await h(msg.args || {});
      process.send({ id: msg.id, result });
    } catch (e) {
      process.send({ id: msg.id, error: e && e.stack ? e.stack : String(e) });
    }
  });
  // The coordinator going away must not leave workers behind.
  process.on('disconnect', () => process.exit(0));
  process.send({ ready: true });
}

/** Coordinator side: forks `file` and returns a client with call()/stop(). */
function start(file, args, { name, execArgv = [], env } = {}) {
  const child = fork(file, args, { execArgv, env: env || process.env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let nextId = 1;
  const pending = new Map();
  let exited = false;
  const exitPromise = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      exited = true;
      for (const { reject } of pending.values())
        reject(new Error(`${name} exited (code ${code}, signal ${signal}) during a call`));
      pending.clear();
      resolve({ code, signal });
    });
  });
  let onReady;
  const ready = new Promise((resolve) => (onReady = resolve));
  child.on('message', (msg) => {
    if (msg && msg.ready === true) {
      onReady();
      return;
    }
    const p = pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id);
    clearTimeout(p.timer);
    if (msg.error !== undefined) p.reject(new Error(`${name}: ${msg.error}`));
    else p.resolve(msg.result);
  });
  return {
    name,
    pid: child.pid,
    /** @returns {Promise<any>} rejects on the child's error, its exit or after timeoutMs */
    async call(cmd, callArgs = {}, timeoutMs = 120000) {
      await Promise.race([ready, exitPromise]);
      if (exited) throw new Error(`${name} is not running`);
      const id = nextId++;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${name}: ${cmd} did not answer within ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(id, { resolve, reject, timer });
        child.send({ id, cmd, args: callArgs });
      });
    },
    /** Asks the child to exit; kills it (by its pid) if it has not within 5 s. */
    async stop() {
      if (exited) return;
      try {
        child.disconnect();
      } catch {
        // already disconnected
      }
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exitPromise;
      clearTimeout(t);
    },
  };
}

module.exports = { serve, start };
