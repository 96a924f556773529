// The seed page: "userId must be of type string" — a number is a compile error.
import * as SuperTokens from 'supertokens-node-mysql-ref-jwt/express';
import type * as express from 'express';

export async function login(res: express.Response) {
  let userId = 1;
  return SuperTokens.createNewSession(res, userId, { name: 'Ada' }, {}); // @error TS2345: Argument of type 'number' is not assignable to parameter of type 'string'.
}
