'use strict';
/**
 * The load generator, in its own process: autocannon's programmatic API, driven by run.js.
 * `load({url, headers, durationSec, connections, expectBody})` runs one fixed-duration load
 * with `connections` requests in flight (no pipelining) and counts as errors every non-2xx
 * response, body mismatch, socket error and timeout.
 */

const autocannon = require('autocannon');
const { serve } = require('./rpc.js');

serve({
  async load({ url, headers, durationSec, connections, expectBody }) {
    const r = await autocannon({ url, headers, duration: durationSec, connections, pipelining: 1, expectBody });
    const ok = r['2xx'] - r.mismatches;
    const errors = r.non2xx + r.mismatches + r.errors + r.timeouts;
    return {
      ok,
      errors,
      elapsedMs: r.duration * 1000,
      opsPerSec: ok / r.duration,
      latencyP50: r.latency.p50,
      latencyP99: r.latency.p99,
      errorSamples: errors
        ? [`non2xx ${r.non2xx}, mismatches ${r.mismatches}, socket errors ${r.errors}, timeouts ${r.timeouts}`]
        : [],
    };
  },
});
