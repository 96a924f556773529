// getSession's enableCsrfProtection is required (true for non-GET APIs, false for GET).
import * as SuperTokens from 'supertokens-node-mysql-ref-jwt/express';
import type * as express from 'express';

export async function me(req: express.Request, res: express.Response) {
  const session = await SuperTokens.getSession(req, res); // @error TS2554: Expected 3 arguments, but got 2.
  return session.getUserId();
}
