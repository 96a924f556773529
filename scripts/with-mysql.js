'use strict';
/**
 * `node scripts/with-mysql.js <command...>`: makes sure a MySQL is reachable (see mysql.js),
 * runs the command with MYSQL_* set to it, and stops a private server afterwards.
 */

const { spawn } = require('node:child_process');
const { ensureMysql } = require('./mysql.js');

async function main() {
  const [cmd, ...args] = process.argv.slice(2);
  if (!cmd) throw new Error('usage: node scripts/with-mysql.js <command> [args...]');
  const { settings, stop } = await ensureMysql();
  const env = {
    ...process.env,
    MYSQL_HOST: settings.host,
    MYSQL_PORT: String(settings.port),
    MYSQL_USER: settings.user,
    MYSQL_PASSWORD: settings.password,
    MYSQL_DATABASE: settings.database,
  };
  const child = spawn(cmd, args, { stdio: 'inherit', env });
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
  child.on('exit', async (code, signal) => {
    await stop();
    process.exit(code === null ? (signal ? 1 : 0) : code);
  });
}

main().catch((e) => {
  console.error(e.message);
  process.exit(1);
});
