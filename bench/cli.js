'use strict';
/**
 * The command line of `bench/run.js` and what both bench modes do around their run: parsing
 * the flags, picking the mode's settings, progress lines, and leaving with one cleanup
 * however the run ends (done, failed, Ctrl-C).
 *
 *   node scripts/with-mysql.js node bench/run.js [--quick] [--rounds N] [--strict] [--cluster]
 *
 * --quick   short measurements, finishes in under a minute
 * --rounds  number of measured rounds (default 5, quick 3)
 * --strict  exit 2 when a target is not met (errors always exit 1)
 * --cluster single MySQL vs a private 3-node Galera cluster instead (bench/cluster.js)
 */

const USAGE = 'usage: node scripts/with-mysql.js node bench/run.js [--quick] [--rounds N] [--strict] [--cluster]';

/**
 * Parses the bench's flags; prints the usage and exits on --help.
 * @param {string[]} argv the arguments after the script name
 * @returns {{quick: boolean, strict: boolean, cluster: boolean, rounds: number | undefined}}
 */
function parseArgs(argv) {
  const o = { quick: false, strict: false, cluster: false, rounds: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') o.quick = true;
    else if (a === '--strict') o.strict = true;
    else if (a === '--cluster') o.cluster = true;
    else if (a === '--rounds') o.rounds = Number(argv[++i]);
    else if (a === '--help' || a === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  if (o.rounds !== undefined && !(Number.isInteger(o.rounds) && o.rounds >= 1))
    throw new Error('--rounds needs a positive integer');
  return o;
}

/**
 * The settings of the mode the flags ask for: `modes.quick` or `modes.full`, with `--rounds`
 * applied (a copy; `modes` is not changed).
 * @param {{quick: boolean, rounds?: number}} args from parseArgs
 * @param {{full: object, quick: object}} modes
 * @returns {{modeName: 'full' | 'quick', M: object}}
 */
function modeSettings(args, modes) {
  const modeName = args.quick ? 'quick' : 'full';
  const M = { ...modes[modeName] };
  if (args.rounds !== undefined) M.rounds = args.rounds;
  return { modeName, M };
}

/**
 * A progress line on stderr (stdout carries only the table).
 * @param {string} msg
 */
function log(msg) {
  process.stderr.write(`${msg}\n`);
}

/**
 * Runs `body`, then `cleanup` once, and exits: with body's exit code, 1 when it threw, 130
 * on SIGINT/SIGTERM. `on`, not `once`: Ctrl-C reaches this process twice (from the terminal
 * and from with-mysql.js), and a second, default-handled signal would skip the cleanup; the
 * cleanup runs once however many ask for it.
 * @param {() => Promise<number>} body resolves to the exit code
 * @param {() => Promise<void>} cleanup stops what body started (must not throw)
 * @param {string} what what a signal stops, for its progress line
 */
async function runToExit(body, cleanup, what) {
  let cleaning = null;
  const cleanOnce = () => (cleaning ??= cleanup());
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.on(sig, async () => {
      if (cleaning) return;
      log(`bench: ${sig}, stopping ${what}`);
      await cleanOnce();
      process.exit(130);
    });
  }
  let exitCode;
  try {
    exitCode = await body();
  } catch (e) {
    console.error(`bench: FAILED: ${e && e.stack ? e.stack : e}`);
    exitCode = 1;
  } finally {
    await cleanOnce();
  }
  process.exit(exitCode);
}

module.exports = { parseArgs, modeSettings, log, runToExit, USAGE };
