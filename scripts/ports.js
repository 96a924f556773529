'use strict';
/** Small process helpers shared by the scripts that start private database servers. */

const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');

/** The absolute path of `cmd` in the usual system directories or PATH, or null. */
function which(cmd) {
  for (const dir of [
    '/usr/sbin',
    '/usr/bin',
    '/usr/local/bin',
    '/usr/local/sbin',
    ...(process.env.PATH || '').split(':'),
  ]) {
    const p = path.join(dir, cmd);
    if (fs.existsSync(p)) return p;
  }
  return null;
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

/**
 * `n` distinct free ports: all listeners stay open until every port is known, so the kernel
 * cannot hand out the same port twice (as `n` calls of freePort can).
 */
async function freePorts(n) {
  const servers = [];
  try {
    for (let i = 0; i < n; i++) {
      const srv = net.createServer();
      servers.push(srv);
      await new Promise((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(0, '127.0.0.1', resolve);
      });
    }
    return servers.map((s) => s.address().port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(() => r()))));
  }
}

module.exports = { freePort, freePorts, which };
