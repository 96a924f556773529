'use strict';
/**
 * The config as it crosses to the addon (JSON text, functions marked), and the comparison of
 * a repeated `init`'s config with the first.
 */

const { FUNCTION_MARK } = require('./native.js');

/**
 * JSON.stringify's replacer for the config: functions become the mark (a string equal to the
 * mark is altered so it cannot pose as a function), and NaN/Infinity become strings so they
 * are rejected as non-numbers instead of turning into null (= "use the default").
 */
function configValueForJson(_key, v) {
  if (typeof v === 'function') return FUNCTION_MARK;
  if (v === FUNCTION_MARK) return `${v}\u0000`;
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  return v;
}

/**
 * A copy of a config for comparing it with a later one: plain data copied deeply, functions
 * kept by identity, keys whose value is undefined left out (JSON drops them too).
 * @param {unknown} value
 */
function snapshot(value) {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(snapshot);
  const out = {};
  for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = snapshot(v);
  return out;
}

/**
 * Where config `b` differs from the snapshot `a` (a path such as `mysql.port`, or `config`
 * for the whole), or null when they are the same: deep equality of the data (key order
 * ignored), functions compared by identity.
 * @returns {string | null}
 */
function configDifference(a, b, path = 'config') {
  if (Object.is(a, b)) return null;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return path;
  if (Array.isArray(a) !== Array.isArray(b)) return path;
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) {
    if (a[k] === undefined && b[k] === undefined) continue;
    const d = configDifference(a[k], b[k], path === 'config' ? k : `${path}.${k}`);
    if (d !== null) return d;
  }
  return null;
}

/**
 * A value at a path of nested objects, or undefined where the path leaves them.
 * @param {unknown} obj
 * @param {...string} path
 */
function at(obj, ...path) {
  let cur = obj;
  for (const k of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = cur[k];
  }
  return cur;
}

module.exports = { configValueForJson, snapshot, configDifference, at };
