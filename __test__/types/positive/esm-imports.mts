/**
 * ES-module style imports (this file is an ES module: `.mts`): named imports, namespace
 * imports and the default import of both entry points — what Node.js allows for a CommonJS
 * package (named exports found by cjs-module-lexer; `__test__/esm.test.mjs` checks the runtime).
 */
import { init, close, createNewSession, getSession, refreshSession, Error as AuthError, Session } from 'supertokens-node-mysql-ref-jwt/express';
import * as SuperTokens from 'supertokens-node-mysql-ref-jwt/express';
import SuperTokensDefault from 'supertokens-node-mysql-ref-jwt/express';
import { init as initCore, createNewSession as createCore, getSession as getCore, Error as CoreError } from 'supertokens-node-mysql-ref-jwt';
import type { TypeInputConfig } from 'supertokens-node-mysql-ref-jwt';
import express from 'express';
import { expectType, type Equal } from './type-utils.js';

expectType<Equal<typeof init, typeof SuperTokens.init>>();
expectType<Equal<typeof SuperTokensDefault.createNewSession, typeof createNewSession>>();
expectType<Equal<typeof AuthError, typeof CoreError>>();
expectType<Equal<typeof initCore, typeof init>>();

const config: TypeInputConfig = {
  mysql: { user: 'root', password: '', database: 'test' },
  tokens: { refreshToken: { renewTokenPath: '/refresh' } },
  cookie: { domain: 'localhost', secure: false },
};

// Top-level await, as ES modules allow.
await init(config);

const app = express();
app.post('/login', async (_req, res) => {
  const session: Session = await createNewSession(res, 'User1', { name: 'Ada' });
  res.send(session.getHandle());
});
app.get('/me', async (req, res) => {
  try {
    const session = await getSession(req, res, false);
    res.send(session.getUserId());
  } catch (e) {
    if (AuthError.isErrorFromAuth(e) && e.errType === AuthError.TRY_REFRESH_TOKEN) return void res.status(440).send();
    res.status(401).send();
  }
});
app.post('/refresh', async (req, res) => {
  await SuperTokensDefault.refreshSession(req, res);
  await refreshSession(req, res);
  res.send('');
});

const created = await createCore('User2');
const verified = await getCore(created.accessToken.value, created.antiCsrfToken ?? null);
console.log(verified.session.userId, CoreError.GENERAL_ERROR, initCore === init);

await close();
export { app };
