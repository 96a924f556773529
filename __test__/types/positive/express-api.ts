/**
 * Every export of `supertokens-node-mysql-ref-jwt/express` (SPEC §3), used the way an Express
 * app in strict TypeScript uses it, with the exact types the declarations must give.
 */
import * as SuperTokens from 'supertokens-node-mysql-ref-jwt/express';
import type { AuthErrorObject, TypeInputConfig } from 'supertokens-node-mysql-ref-jwt/express';
import express from 'express';
import * as http from 'node:http';
import { assignable, expectType, type Equal } from './type-utils';
import type { SharedValueExports } from './export-names';

// Exactly the documented values, no more, no fewer.
expectType<Equal<keyof typeof SuperTokens, SharedValueExports | 'setRelevantHeadersForOptionsAPI' | 'Session'>>();

// Signatures.
expectType<Equal<typeof SuperTokens.init, (config: TypeInputConfig) => Promise<void>>>();
expectType<Equal<typeof SuperTokens.close, () => Promise<void>>>();
expectType<Equal<ReturnType<typeof SuperTokens.createNewSession>, Promise<SuperTokens.Session>>>();
expectType<Equal<Parameters<typeof SuperTokens.createNewSession>[1], string>>();
expectType<Equal<Parameters<typeof SuperTokens.getSession>[2], boolean>>();
expectType<Equal<Parameters<typeof SuperTokens.getSession>['length'], 3>>();
expectType<Equal<ReturnType<typeof SuperTokens.getSession>, Promise<SuperTokens.Session>>>();
expectType<Equal<ReturnType<typeof SuperTokens.refreshSession>, Promise<SuperTokens.Session>>>();
expectType<Equal<typeof SuperTokens.revokeAllSessionsForUser, (userId: string) => Promise<void>>>();
expectType<Equal<typeof SuperTokens.revokeSessionUsingSessionHandle, (sessionHandle: string) => Promise<boolean>>>();
expectType<Equal<typeof SuperTokens.getAllSessionHandlesForUser, (userId: string) => Promise<string[]>>>();
expectType<Equal<typeof SuperTokens.getSessionData, (sessionHandle: string) => Promise<any>>>();
expectType<Equal<typeof SuperTokens.updateSessionData, (sessionHandle: string, newSessionData: any) => Promise<void>>>();
expectType<Equal<typeof SuperTokens.mergeSessionData, (sessionHandle: string, patch: Record<string, unknown>) => Promise<void>>>();
expectType<Equal<SuperTokens.Session['mergeSessionData'], (patch: Record<string, unknown>) => Promise<void>>>();
expectType<Equal<ReturnType<typeof SuperTokens.setRelevantHeadersForOptionsAPI>, void>>();
// The original's 5.x names are the 4.0.X functions.
expectType<Equal<typeof SuperTokens.getSessionInfo, typeof SuperTokens.getSessionData>>();
expectType<Equal<typeof SuperTokens.updateSessionInfo, typeof SuperTokens.updateSessionData>>();

// Session methods.
expectType<Equal<ReturnType<SuperTokens.Session['getUserId']>, string>>();
expectType<Equal<ReturnType<SuperTokens.Session['getJWTPayload']>, any>>();
expectType<Equal<ReturnType<SuperTokens.Session['getHandle']>, string>>();
expectType<Equal<ReturnType<SuperTokens.Session['revokeSession']>, Promise<void>>>();
expectType<Equal<ReturnType<SuperTokens.Session['getSessionData']>, Promise<any>>>();
expectType<Equal<SuperTokens.Session['updateSessionData'], (newSessionData: any) => Promise<void>>>();
expectType<Equal<SuperTokens.Session['getSessionInfo'], SuperTokens.Session['getSessionData']>>();
expectType<Equal<SuperTokens.Session['updateSessionInfo'], SuperTokens.Session['updateSessionData']>>();
// The original's fields, read-only.
expectType<Equal<SuperTokens.Session['userId'], string>>();
expectType<Equal<SuperTokens.Session['sessionHandle'], string>>();
expectType<Equal<SuperTokens.Session['jwtUserPayload'], any>>();

// Error constants are their documented literal values; isErrorFromAuth is a type guard.
expectType<Equal<typeof SuperTokens.Error.GENERAL_ERROR, 1000>>();
expectType<Equal<typeof SuperTokens.Error.UNAUTHORISED, 2000>>();
expectType<Equal<typeof SuperTokens.Error.TRY_REFRESH_TOKEN, 3000>>();
expectType<Equal<typeof SuperTokens.Error.UNAUTHORISED_AND_TOKEN_THEFT_DETECTED, 4000>>();
expectType<Equal<typeof SuperTokens.Error.isErrorFromAuth, (err: unknown) => err is AuthErrorObject>>();

/** The README's app, in strict TypeScript. */
export async function buildApp(): Promise<express.Express> {
  await SuperTokens.init({
    mysql: { host: 'localhost', user: 'root', password: '', database: 'auth' },
    tokens: { refreshToken: { renewTokenPath: '/api/refresh' } },
    cookie: { domain: 'example.com' },
  });

  const app = express();

  app.options('*', (_req, res) => {
    SuperTokens.setRelevantHeadersForOptionsAPI(res);
    res.send('');
  });

  app.post('/api/login', async (_req, res) => {
    const session = await SuperTokens.createNewSession(res, 'User1', { name: 'Ada' }, { cart: [] });
    const userId: string = session.getUserId();
    const handle: string = session.getHandle();
    res.json({ userId, handle, payload: session.getJWTPayload() });
  });

  app.post('/api/login-minimal', async (_req, res) => {
    await SuperTokens.createNewSession(res, 'User2'); // jwtPayload and sessionData are optional
    await SuperTokens.createNewSession(res, 'User3', undefined, 'only session data');
    res.send('');
  });

  app.get('/api/me', async (req, res, next) => {
    try {
      const session = await SuperTokens.getSession(req, res, false);
      const data = await session.getSessionData();
      await session.updateSessionData({ ...data, seen: Date.now() });
      res.json({ userId: session.getUserId() });
    } catch (err) {
      // `err` is `unknown` under --strict: narrow with isErrorFromAuth first.
      if (SuperTokens.Error.isErrorFromAuth(err)) {
        const errType: 1000 | 2000 | 3000 | 4000 = err.errType;
        const message: string = err.message;
        const stack: string | undefined = err.stack;
        void [errType, message, stack];
        if (err.errType === SuperTokens.Error.TRY_REFRESH_TOKEN) return void res.status(440).send();
        if (err.errType === SuperTokens.Error.UNAUTHORISED) return void res.status(401).send();
      }
      next(err);
    }
  });

  app.post('/api/logout', async (req, res) => {
    const session = await SuperTokens.getSession(req, res, true);
    await session.revokeSession();
    res.send('');
  });

  app.post('/api/refresh', async (req, res) => {
    try {
      const session: SuperTokens.Session = await SuperTokens.refreshSession(req, res);
      void session;
      res.send('');
    } catch (err) {
      if (
        SuperTokens.Error.isErrorFromAuth(err) &&
        err.errType === SuperTokens.Error.UNAUTHORISED_AND_TOKEN_THEFT_DETECTED
      ) {
        // narrowed to the theft error: `err.err` is the affected session
        const { sessionHandle, userId } = err.err;
        assignable<string>(userId);
        const removed: boolean = await SuperTokens.revokeSessionUsingSessionHandle(sessionHandle);
        void removed;
      }
      res.status(401).send();
    }
  });

  app.post('/api/admin/:userId/logout-everywhere', async (req, res) => {
    const handles: string[] = await SuperTokens.getAllSessionHandlesForUser(req.params.userId);
    for (const h of handles) {
      const data: any = await SuperTokens.getSessionData(h);
      await SuperTokens.updateSessionData(h, { ...data, revoked: true });
    }
    await SuperTokens.revokeAllSessionsForUser(req.params.userId);
    res.send('');
  });

  return app;
}

/** The same calls on plain Node.js request/response objects, without Express. */
export const server = http.createServer(async (req, res) => {
  if (req.method === 'OPTIONS') return SuperTokens.setRelevantHeadersForOptionsAPI(res);
  const session = req.url === '/refresh' ? await SuperTokens.refreshSession(req, res) : await SuperTokens.getSession(req, res, false);
  res.end(session.getUserId());
});

/** A request that went through cookie-parser. */
export async function withCookieParser(req: express.Request & { cookies: Record<string, string> }, res: express.Response) {
  return SuperTokens.getSession(req, res, true);
}

export async function shutdown(): Promise<void> {
  await SuperTokens.close();
}

// The theft error's session, through the exported type.
export function theftSession(e: AuthErrorObject): string | undefined {
  return e.errType === 4000 ? e.err.sessionHandle : undefined;
}
