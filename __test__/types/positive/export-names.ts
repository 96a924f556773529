/**
 * The value exports both entry points have (SPEC §3, §4). `express-api.ts` and `index-api.ts`
 * check `keyof typeof` each entry point against this union and the names only one of them
 * adds; `types.test.js` reads the same names to check them against the runtime modules.
 */
export type SharedValueExports =
  | 'init'
  | 'close'
  | 'createNewSession'
  | 'getSession'
  | 'refreshSession'
  | 'revokeAllSessionsForUser'
  | 'revokeSessionUsingSessionHandle'
  | 'getAllSessionHandlesForUser'
  | 'getSessionData'
  | 'updateSessionData'
  | 'mergeSessionData'
  | 'metrics'
  | 'getAllSessionsForUser'
  | 'getSessionInfo'
  | 'updateSessionInfo'
  | 'Error';
