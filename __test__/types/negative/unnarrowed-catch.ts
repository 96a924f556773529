// Under --strict a caught error is unknown: narrow it with Error.isErrorFromAuth before reading errType.
import * as SuperTokens from 'supertokens-node-mysql-ref-jwt/express';
import type * as express from 'express';

export async function me(req: express.Request, res: express.Response) {
  try {
    await SuperTokens.getSession(req, res, false);
  } catch (err) {
    if (err.errType === SuperTokens.Error.TRY_REFRESH_TOKEN) res.status(440); // @error TS18046: 'err' is of type 'unknown'.
  }
}
