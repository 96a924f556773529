'use strict';
/**
 * A private multi-primary MariaDB Galera cluster on loopback ports, for the cluster tests
 * and `npm run bench -- --cluster`. Built from Debian's `mariadb-server`, `galera-4` and
 * `rsync` (apt-installed when missing and possible). mariadbd runs as the `mysql` user when
 * this process is root, because rsync SST refuses to run as root.
 *
 *   const cluster = await startCluster({ nodes: 3 });
 *   cluster.nodes   // [{ host, port, ... }] one per node, all Synced
 *   await cluster.kill(1)    // SIGKILL one node (a crash)
 *   await cluster.restart(1) // start it again; resolves when it is Synced
 *   await cluster.stop()     // stops exactly the processes started here, removes the dir
 *
 * CLI: `node scripts/galera.js` starts a cluster, prints its ports and keeps it up until
 * Ctrl-C.
 */

const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const mysql = require('mysql');
const { freePorts, which } = require('./ports.js');

const PROVIDER_CANDIDATES = [
  '/usr/lib/galera/libgalera_smm.so',
  '/usr/lib/libgalera_smm.so',
  '/usr/lib64/galera-4/libgalera_smm.so',
];
const PACKAGES = ['mariadb-server', 'galera-4', 'rsync'];
const START_TIMEOUT_MS = 120_000;

function provider() {
  return PROVIDER_CANDIDATES.find((p) => fs.existsSync(p)) || null;
}

function missing() {
  const out = [];
  // wsrep_sst_rsync (the SST script) ships with mariadb-server, rsync itself apart.
  if (!which('mariadbd') || !(which('mariadb-install-db') || which('mysql_install_db')) || !which('wsrep_sst_rsync'))
    out.push('mariadb-server');
  if (!provider()) out.push('galera-4');
  if (!which('rsync')) out.push('rsync');
  return out;
}

/** Installs the Debian packages when one is missing; throws a clear message when it cannot. */
function ensurePackages() {
  if (missing().length === 0) return;
  const aptGet = which('apt-get');
  const isRoot = process.getuid?.() === 0;
  if (!aptGet || (!isRoot && !which('sudo'))) {
    throw new Error(
      `the Galera cluster needs the Debian packages ${missing().join(', ')}: install them with ` +
        `\`apt-get install ${PACKAGES.join(' ')}\` (as root) and run again`,
    );
  }
  // sudo -n: fail instead of waiting for a password nobody will type.
  const prefix = [...(isRoot ? [] : ['sudo', '-n']), 'env', 'DEBIAN_FRONTEND=noninteractive', aptGet];
  const apt = (args) => execFileSync(prefix[0], [...prefix.slice(1), ...args], { stdio: 'pipe' });
  try {
    apt(['update', '-qq']);
    apt(['install', '-y', '-qq', ...PACKAGES]);
  } catch (e) {
    const why = String(e.stderr || e.message)
      .trim()
      .split('\n')
      .slice(-3)
      .join(' ');
    throw new Error(`could not install ${PACKAGES.join(' ')} with apt-get: ${why}`, { cause: e });
  }
  if (missing().length) throw new Error(`still missing after apt-get: ${missing().join(', ')}`);
}

/** Runs one statement on a node; resolves to rows, or rejects. */
function query(node, sql, timeoutMs = 3000) {
  return new Promise((resolve, reject) => {
    const c = mysql.createConnection({
      host: node.host,
      port: node.port,
      user: 'root',
      password: '',
      connectTimeout: timeoutMs,
    });
    c.query({ sql, timeout: timeoutMs }, (err, rows) => {
      c.destroy();
      if (err) reject(err);
      else resolve(rows);
    });
  });
}

/** The node's wsrep_local_state_comment ('Synced' when it serves) or null when unreachable. */
async function nodeState(node) {
  try {
    const rows = await query(node, "SHOW STATUS LIKE 'wsrep_local_state_comment'");
    return rows[0]?.Value ?? null;
  } catch {
    return null;
  }
}

/**
 * Starts a cluster of `nodes` nodes (default 3) and resolves once every node is Synced and
 * the cluster size is `nodes`.
 * @param {{nodes?: number, database?: string}} [options]
 */
async function startCluster({ nodes: count = 3, database = 'test' } = {}) {
  ensurePackages();
  const mariadbd = which('mariadbd');
  const installDb = which('mariadb-install-db') || which('mysql_install_db');
  const isRoot = process.getuid?.() === 0;
  let uid;
  let gid;
  if (isRoot) {
    uid = Number(execFileSync('id', ['-u', 'mysql']).toString().trim());
    gid = Number(execFileSync('id', ['-g', 'mysql']).toString().trim());
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'supertokens-galera-'));
  fs.chmodSync(dir, 0o755);
  if (isRoot) fs.chownSync(dir, uid, gid);

  const ports = await freePorts(4 * count);
  const nodes = [];
  for (let i = 0; i < count; i++) {
    const home = path.join(dir, `node${i}`);
    fs.mkdirSync(home);
    if (isRoot) fs.chownSync(home, uid, gid);
    nodes.push({
      index: i,
      host: '127.0.0.1',
      port: ports[4 * i],
      galeraPort: ports[4 * i + 1],
      istPort: ports[4 * i + 2],
      sstPort: ports[4 * i + 3],
      home,
      data: path.join(home, 'data'),
      child: null,
    });
  }
  const clusterAddress = `gcomm://${nodes.map((n) => `127.0.0.1:${n.galeraPort}`).join(',')}`;
  for (const n of nodes) {
    fs.writeFileSync(
      path.join(n.home, 'my.cnf'),
      [
        '[mariadbd]',
        `datadir=${n.data}`,
        `socket=${path.join(n.home, 'mysqld.sock')}`,
        `pid-file=${path.join(n.home, 'mysqld.pid')}`,
        `log-error=${path.join(n.home, 'error.log')}`,
        `port=${n.port}`,
        'bind-address=127.0.0.1',
        'skip-name-resolve=OFF',
        'innodb_buffer_pool_size=64M',
        'innodb_log_file_size=32M',
        'performance_schema=OFF',
        'max_connections=500',
        'binlog_format=ROW',
        'default_storage_engine=InnoDB',
        'innodb_autoinc_lock_mode=2',
        'wsrep_on=ON',
        `wsrep_provider=${provider()}`,
        `wsrep_cluster_address=${clusterAddress}`,
        'wsrep_cluster_name=supertokens_test',
        `wsrep_node_name=node${n.index}`,
        'wsrep_node_address=127.0.0.1',
        `wsrep_node_incoming_address=127.0.0.1:${n.port}`,
        `wsrep_provider_options="gmcast.listen_addr=tcp://127.0.0.1:${n.galeraPort};ist.recv_addr=127.0.0.1:${n.istPort};gcache.size=64M;evs.inactive_timeout=PT6S;evs.suspect_timeout=PT3S"`,
        'wsrep_sst_method=rsync',
        `wsrep_sst_receive_address=127.0.0.1:${n.sstPort}`,
        '',
      ].join('\n'),
    );
    if (isRoot) fs.chownSync(path.join(n.home, 'my.cnf'), uid, gid);
  }

  const asUser = isRoot ? { uid, gid } : {};
  execFileSync(
    installDb,
    [
      `--defaults-file=${path.join(nodes[0].home, 'my.cnf')}`,
      `--datadir=${nodes[0].data}`,
      '--auth-root-authentication-method=normal',
      '--skip-test-db',
      ...(isRoot ? ['--user=mysql'] : []),
    ],
    { stdio: 'pipe', env: { ...process.env, PATH: `${process.env.PATH}:/usr/sbin:/usr/bin` } },
  );
  // The joiners' empty data directories are filled by rsync SST from a donor.
  for (const n of nodes.slice(1)) {
    fs.mkdirSync(n.data);
    if (isRoot) fs.chownSync(n.data, uid, gid);
  }

  const launch = (n, bootstrap) => {
    const args = [`--defaults-file=${path.join(n.home, 'my.cnf')}`, ...(bootstrap ? ['--wsrep-new-cluster'] : [])];
    // PATH must reach wsrep_sst_rsync (and rsync) for SST.
    const child = spawn(mariadbd, args, {
      stdio: 'ignore',
      ...asUser,
      env: { ...process.env, PATH: `/usr/sbin:/usr/bin:/bin:${process.env.PATH}` },
    });
    n.child = child;
    n.exited = new Promise((resolve) => child.once('exit', resolve));
    child.once('exit', () => {
      if (n.child === child) n.child = null;
    });
  };

  const errorLog = (n) => {
    try {
      return fs.readFileSync(path.join(n.home, 'error.log'), 'utf8').split('\n').slice(-15).join('\n');
    } catch {
      return '(no error log)';
    }
  };

  /** Resolves when `n` answers Synced; rejects when it exits or the timeout passes. */
  const waitSynced = async (n) => {
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (n.child === null) throw new Error(`Galera node${n.index} exited while starting:\n${errorLog(n)}`);
      if ((await nodeState(n)) === 'Synced') return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`Galera node${n.index} was not Synced within ${START_TIMEOUT_MS / 1000} s:\n${errorLog(n)}`);
  };

  const stopNode = async (n, signal) => {
    const child = n.child;
    if (!child) return;
    child.kill(signal);
    await n.exited;
  };

  // If this process ends without stop() (a crash, process.exit), no node outlives it.
  const killAll = () => {
    for (const n of nodes) n.child?.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', killAll);

  const cluster = {
    dir,
    nodes,
    /** SIGKILLs node `i` (a crash), resolving once the process is gone. */
    kill: (i) => stopNode(nodes[i], 'SIGKILL'),
    /** Starts node `i` again (it rejoins by IST or SST); resolves once it is Synced. */
    async restart(i) {
      launch(nodes[i], false);
      await waitSynced(nodes[i]);
    },
    /** Stops every node this cluster started and removes its directory. */
    async stop() {
      await Promise.all(nodes.map((n) => stopNode(n, 'SIGTERM')));
      process.off('exit', killAll);
      fs.rmSync(dir, { recursive: true, force: true });
    },
    query,
  };

  try {
    launch(nodes[0], true);
    await waitSynced(nodes[0]);
    await query(nodes[0], `CREATE DATABASE IF NOT EXISTS \`${database}\``);
    // Joiners one at a time: two simultaneous SSTs from one donor on 2 cores are slow.
    for (const n of nodes.slice(1)) {
      launch(n, false);
      await waitSynced(n);
    }
    const size = await query(nodes[0], "SHOW STATUS LIKE 'wsrep_cluster_size'");
    if (Number(size[0].Value) !== count) throw new Error(`cluster size is ${size[0].Value}, expected ${count}`);
  } catch (e) {
    await cluster.stop().catch(() => {});
    throw e;
  }
  return cluster;
}

module.exports = { startCluster, nodeState, missingPackages: missing };

if (require.main === module) {
  startCluster()
    .then((c) => {
      console.log(`Galera cluster up in ${c.dir}`);
      for (const n of c.nodes) console.log(`  node${n.index}: mysql -h127.0.0.1 -P${n.port} -uroot`);
      console.log('Ctrl-C stops it.');
      const stop = () => c.stop().then(() => process.exit(0));
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    })
    .catch((e) => {
      console.error(e.message);
      process.exit(1);
    });
}
