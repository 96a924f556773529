/**
 * supertokens-node-mysql-ref-jwt/express — the Express API.
 */
import type { IncomingMessage, ServerResponse } from 'http';

export type {
  TypeInputConfig,
  AuthErrorObject,
  AuthErrorWithCause,
  TokenTheftErrorObject,
  UserSessionInfo,
  ClientInfo,
} from './index';
export {
  init,
  close,
  revokeAllSessionsForUser,
  revokeSessionUsingSessionHandle,
  getAllSessionHandlesForUser,
  getSessionData,
  updateSessionData,
  mergeSessionData,
  metrics,
  getAllSessionsForUser,
  getSessionInfo,
  updateSessionInfo,
  Error,
} from './index';

/** Any Node/Express response (`express.Response` is one). */
type Response = ServerResponse;
/** Any Node/Express request (`express.Request` is one). */
type Request = IncomingMessage & { cookies?: Record<string, unknown> };

/** A verified session, bound to the response it was verified for. */
export declare class Session {
  private constructor();
  getUserId(): string;
  getJWTPayload(): any;
  getHandle(): string;
  /** The user id, as `getUserId()` (the original's field). */
  readonly userId: string;
  /** The session handle, as `getHandle()` (the original's field). */
  readonly sessionHandle: string;
  /** The JWT payload, as `getJWTPayload()` (the original's field). */
  readonly jwtUserPayload: any;
  /** Removes the session from MySQL and clears the auth cookies. */
  revokeSession(): Promise<void>;
  /** Clears the cookies when it rejects with UNAUTHORISED. */
  getSessionData(): Promise<any>;
  /** Clears the cookies when it rejects with UNAUTHORISED. */
  updateSessionData(newSessionData: any): Promise<void>;
  /** A JSON merge patch applied on the server; clears the cookies on UNAUTHORISED. */
  mergeSessionData(patch: Record<string, unknown>): Promise<void>;
  /** Removes the user's other sessions ("log out everywhere else"); resolves to how many. */
  revokeOtherSessions(): Promise<number>;
  /** @deprecated The original 5.x name of `getSessionData`; use `getSessionData`. */
  getSessionInfo(): Promise<any>;
  /** @deprecated The original 5.x name of `updateSessionData`; use `updateSessionData`. */
  updateSessionInfo(newSessionData: any): Promise<void>;
}

/** Creates a session and writes its cookies and headers onto `res`. */
export declare function createNewSession(
  res: Response,
  userId: string,
  jwtPayload?: any,
  sessionData?: any,
): Promise<Session>;

/** Verifies the request's session; pass true for non-GET APIs to check the anti-csrf header. */
export declare function getSession(req: Request, res: Response, enableCsrfProtection: boolean): Promise<Session>;

/** The refresh API: rotates the refresh token and writes the new tokens onto `res`. */
export declare function refreshSession(req: Request, res: Response): Promise<Session>;

/** Sets the CORS headers a preflight (OPTIONS) response needs. */
export declare function setRelevantHeadersForOptionsAPI(res: Response): void;
