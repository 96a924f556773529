'use strict';
/**
 * Starting the Galera cluster of `--cluster` mode so that no mariadbd outlives the bench.
 *
 * scripts/galera.js can fail to start now and then: its free ports are probed one at a time,
 * so two of a node's ports can come out the same, and the readiness probe then talks MySQL to
 * Galera's own port, which makes the `mysql` driver throw from a socket callback (an uncaught
 * exception, not a rejection) while the nodes keep running. So each attempt also listens for
 * uncaught exceptions, and a failed attempt ends the mariadbd processes this process started
 * (its own children, by pid) and removes their data directories; then it tries again.
 */

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startCluster } = require('../scripts/galera.js');

const ATTEMPTS = 3;

/** The mariadbd processes whose parent is this process: [{pid, dir}] (dir: the cluster's temp dir). */
function ownMariadbd() {
  const found = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      // pid (comm) state ppid …; comm may contain spaces, so parse from the last ')'.
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== process.pid || comm !== 'mariadbd') continue;
      const args = fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      const cnf = args.find((a) => a.startsWith('--defaults-file='));
      const dir = cnf ? path.dirname(path.dirname(cnf.slice('--defaults-file='.length))) : null;
      found.push({ pid: Number(name), dir });
    } catch {
      // the process ended meanwhile
    }
  }
  return found;
}

/** Synchronously SIGKILLs this process's own mariadbd children and removes their temp dirs. */
function killOwnMariadbd() {
  const own = ownMariadbd();
  for (const { pid } of own) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const { dir } of own) {
    if (dir && path.dirname(dir) === os.tmpdir() && path.basename(dir).startsWith('supertokens-galera-')) fs.rmSync(dir, { recursive: true, force: true });
  }
  return own.length;
}

/**
 * scripts/galera.js's startCluster, tried up to 3 times; a failed attempt leaves no process.
 * @param {{nodes: number}} options
 * @param {(msg: string) => void} log
 */
async function startClusterGuarded(options, log) {
  for (let attempt = 1; ; attempt++) {
    let onCrash;
    const crashed = new Promise((_, reject) => (onCrash = reject));
    process.on('uncaughtException', onCrash);
    const starting = startCluster(options);
    starting.catch(() => {}); // an abandoned attempt may still reject later
    try {
      return await Promise.race([starting, crashed]);
    } catch (e) {
      const killed = killOwnMariadbd();
      log(`bench: the cluster did not start (attempt ${attempt}/${ATTEMPTS}; ${killed} mariadbd left behind, killed): ${String(e.message).split('\n')[0]}`);
      if (attempt === ATTEMPTS) throw e;
    } finally {
      process.off('uncaughtException', onCrash);
    }
  }
}

module.exports = { startClusterGuarded, killOwnMariadbd };
