// A misspelled function is not there.
import * as SuperTokens from 'supertokens-node-mysql-ref-jwt/express';
import type * as express from 'express';

export function login(res: express.Response) {
  return SuperTokens.createNewSesion(res, 'User1'); // @error TS2551: Property 'createNewSesion' does not exist ... Did you mean 'createNewSession'?
}
