'use strict';
// Preloaded (NODE_OPTIONS=--require) to run the Express suites against Express 5: makes
// `require('express')` resolve to the `express5` dev dependency (npm:express@5).
const Module = require('node:module');

const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (request === 'express') return resolve.call(this, 'express5', ...rest);
  return resolve.call(this, request, ...rest);
};
