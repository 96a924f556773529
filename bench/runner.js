'use strict';
/**
 * The load loop every measurement uses: `concurrency` lanes, each awaiting one operation at a
 * time, so exactly `concurrency` operations are in flight. Either for a fixed duration or for a
 * fixed number of operations. An operation that throws (or whose result fails verification,
 * which the op itself turns into a throw) counts as an error, never as a completed operation.
 *
 * The deadline is checked on the clock rather than with a timer: an operation that resolves
 * without touching the event loop (a cached, synchronous fast path) would otherwise never let
 * the timer fire. The clock is read every CLOCK_EVERY operations, not before each one: a
 * clock read is not small next to a cached getSession, and harness time that both libraries
 * pay shrinks the ratio between them; the run overshoots by at most CLOCK_EVERY operations,
 * and the rate is computed from the time actually elapsed.
 */

const { performance } = require('node:perf_hooks');

const MAX_ERROR_SAMPLES = 5;
const CLOCK_EVERY = 16;

/** An error as one line: `errType N: message` for the libraries' errors, else its message. */
function describe(e) {
  if (e === null || e === undefined) return String(e);
  if (typeof e === 'object' && 'errType' in e) {
    const inner = e.err && e.err.message ? e.err.message : e.message || JSON.stringify(e.err);
    return `errType ${e.errType}: ${inner}`;
  }
  return e instanceof Error ? e.message : String(e);
}

/**
 * @param {{durationMs?: number, count?: number, concurrency: number}} plan
 * @param {((i: number) => Promise<unknown>) | {call: (i: number) => Promise<any>, verify: (i: number, result: any) => void}} op
 *   called with a running index 0, 1, 2, …; in the {call, verify} form the lane awaits the
 *   library call directly (one await per operation, as an app would) and verifies the result
 *   synchronously, so the harness adds as little as possible to the measured time
 * @returns {Promise<{ok: number, errors: number, elapsedMs: number, opsPerSec: number, errorSamples: string[]}>}
 */
async function run(plan, op) {
  const { concurrency } = plan;
  const byCount = plan.count !== undefined;
  let next = 0;
  let ok = 0;
  let errors = 0;
  const errorSamples = [];
  const start = performance.now();
  const deadline = byCount ? Infinity : start + plan.durationMs;
  const call = typeof op === 'function' ? op : op.call;
  const verify = typeof op === 'function' ? null : op.verify;
  let timeUp = false;
  const done = byCount
    ? () => next >= plan.count
    : () => timeUp || (next % CLOCK_EVERY === 0 && (timeUp = performance.now() >= deadline));
  async function lane() {
    for (;;) {
      if (done()) return;
      const i = next++;
      try {
        const result = await call(i);
        if (verify !== null) verify(i, result);
        ok++;
      } catch (e) {
        errors++;
        if (errorSamples.length < MAX_ERROR_SAMPLES) errorSamples.push(describe(e));
      }
    }
  }
  const lanes = [];
  for (let l = 0; l < concurrency; l++) lanes.push(lane());
  await Promise.all(lanes);
  const elapsedMs = performance.now() - start;
  return { ok, errors, elapsedMs, opsPerSec: (ok * 1000) / elapsedMs, errorSamples };
}

module.exports = { run, describe };
