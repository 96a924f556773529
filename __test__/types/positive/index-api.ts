/**
 * Every export of the framework-free entry point `supertokens-node-mysql-ref-jwt` (SPEC §4),
 * with the exact types the declarations must give.
 */
import * as SuperTokens from 'supertokens-node-mysql-ref-jwt';
import type {
  AuthErrorObject,
  AuthErrorWithCause,
  SessionInfo,
  TokenInfo,
  TokenTheftErrorObject,
  TypeInputConfig,
} from 'supertokens-node-mysql-ref-jwt';
import { expectType, type Equal } from './type-utils';
import type { SharedValueExports } from './export-names';

// Exactly the documented values, no more, no fewer (no Session class, no Express helpers here).
expectType<Equal<keyof typeof SuperTokens, SharedValueExports>>();

// The shared functions are the same declarations in both entry points.
import * as Express from 'supertokens-node-mysql-ref-jwt/express';
expectType<Equal<typeof Express.init, typeof SuperTokens.init>>();
expectType<Equal<typeof Express.close, typeof SuperTokens.close>>();
expectType<Equal<typeof Express.Error, typeof SuperTokens.Error>>();
expectType<Equal<typeof Express.revokeAllSessionsForUser, typeof SuperTokens.revokeAllSessionsForUser>>();
expectType<Equal<typeof Express.revokeSessionUsingSessionHandle, typeof SuperTokens.revokeSessionUsingSessionHandle>>();
expectType<Equal<typeof Express.getAllSessionHandlesForUser, typeof SuperTokens.getAllSessionHandlesForUser>>();
expectType<Equal<typeof Express.getSessionData, typeof SuperTokens.getSessionData>>();
expectType<Equal<typeof Express.updateSessionData, typeof SuperTokens.updateSessionData>>();
expectType<Equal<typeof Express.mergeSessionData, typeof SuperTokens.mergeSessionData>>();
expectType<Equal<typeof Express.metrics, typeof SuperTokens.metrics>>();
expectType<Equal<typeof SuperTokens.metrics, () => Promise<string>>>();
expectType<Equal<typeof Express.getSessionInfo, typeof SuperTokens.getSessionInfo>>();
expectType<Equal<typeof Express.updateSessionInfo, typeof SuperTokens.updateSessionInfo>>();
// The original's 5.x names are the 4.0.X functions.
expectType<Equal<typeof SuperTokens.getSessionInfo, typeof SuperTokens.getSessionData>>();
expectType<Equal<typeof SuperTokens.updateSessionInfo, typeof SuperTokens.updateSessionData>>();
expectType<Equal<Express.TypeInputConfig, TypeInputConfig>>();
expectType<Equal<Express.AuthErrorObject, AuthErrorObject>>();

// Result shapes.
expectType<Equal<TokenInfo, { value: string; expires: number }>>();
expectType<Equal<SessionInfo, { handle: string; userId: string; jwtPayload: any }>>();
expectType<Equal<AuthErrorObject, AuthErrorWithCause | TokenTheftErrorObject>>();
expectType<Equal<AuthErrorObject['errType'], 1000 | 2000 | 3000 | 4000>>();
expectType<Equal<TokenTheftErrorObject['err'], { sessionHandle: string; userId: string }>>();

type Created = Awaited<ReturnType<typeof SuperTokens.createNewSession>>;
expectType<
  Equal<
    Created,
    {
      session: SessionInfo;
      accessToken: TokenInfo;
      refreshToken: TokenInfo;
      idRefreshToken: TokenInfo;
      antiCsrfToken: string | undefined;
    }
  >
>();
type Verified = Awaited<ReturnType<typeof SuperTokens.getSession>>;
expectType<Equal<Verified, { session: SessionInfo; newAccessToken: TokenInfo | undefined }>>();
expectType<Equal<Parameters<typeof SuperTokens.getSession>, [accessToken: string, antiCsrfToken: string | null]>>();
type Refreshed = Awaited<ReturnType<typeof SuperTokens.refreshSession>>;
expectType<
  Equal<
    Refreshed,
    {
      session: SessionInfo;
      newAccessToken: TokenInfo;
      newRefreshToken: TokenInfo;
      newIdRefreshToken: TokenInfo;
      newAntiCsrfToken: string | undefined;
    }
  >
>();

/** A framework-free login → verify → refresh → revoke flow, moving the tokens by hand. */
export async function flow(config: TypeInputConfig): Promise<void> {
  await SuperTokens.init(config);
  try {
    const created = await SuperTokens.createNewSession('User1', { role: 'admin' }, { cart: [1, 2] });
    const handle: string = created.session.handle;
    const accessToken: string = created.accessToken.value;
    const accessExpiresMs: number = created.accessToken.expires;
    const refreshToken: string = created.refreshToken.value;
    const idRefresh: TokenInfo = created.idRefreshToken;
    void [accessExpiresMs, idRefresh];

    // null skips the anti-CSRF check; a string is compared with the token's.
    const v1 = await SuperTokens.getSession(accessToken, null);
    const v2 = await SuperTokens.getSession(accessToken, created.antiCsrfToken ?? null);
    const userId: string = v1.session.userId;
    if (v2.newAccessToken !== undefined) {
      const next: string = v2.newAccessToken.value;
      void next;
    }

    const r = await SuperTokens.refreshSession(refreshToken);
    const tokens: string[] = [r.newAccessToken.value, r.newRefreshToken.value, r.newIdRefreshToken.value];
    const csrf: string | undefined = r.newAntiCsrfToken;
    void [tokens, csrf];

    await SuperTokens.updateSessionData(handle, { cart: [] });
    const data: any = await SuperTokens.getSessionData(handle);
    void data;
    const handles: string[] = await SuperTokens.getAllSessionHandlesForUser(userId);
    const removed: boolean = await SuperTokens.revokeSessionUsingSessionHandle(handles[0] ?? handle);
    void removed;
    await SuperTokens.revokeAllSessionsForUser(userId);

    // Minimal calls: payload and data are optional.
    await SuperTokens.createNewSession('User2');
    await SuperTokens.createNewSession('User3', 'a string payload');
  } catch (e) {
    if (!SuperTokens.Error.isErrorFromAuth(e)) throw e; // not ours: passes through untouched
    switch (e.errType) {
      case SuperTokens.Error.GENERAL_ERROR:
      case SuperTokens.Error.UNAUTHORISED:
      case SuperTokens.Error.TRY_REFRESH_TOKEN:
        console.log(e.message, e.err);
        break;
      case SuperTokens.Error.UNAUTHORISED_AND_TOKEN_THEFT_DETECTED: {
        const handle: string = e.err.sessionHandle;
        const user: string = e.err.userId;
        await SuperTokens.revokeSessionUsingSessionHandle(handle);
        console.log(`token theft for ${user}`);
        break;
      }
      default: {
        const exhaustive: never = e;
        void exhaustive;
      }
    }
  } finally {
    await SuperTokens.close();
  }
}

// isErrorFromAuth accepts anything.
export const checks: boolean[] = [
  SuperTokens.Error.isErrorFromAuth(null),
  SuperTokens.Error.isErrorFromAuth('a string'),
  SuperTokens.Error.isErrorFromAuth(new Error('plain')),
  SuperTokens.Error.isErrorFromAuth(undefined),
];
