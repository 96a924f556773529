/**
 * supertokens-node-mysql-ref-jwt — the framework-free API.
 * For Express use `supertokens-node-mysql-ref-jwt/express`.
 */

/** One server of `mysql.hosts`. */
export interface MysqlHost {
  host: string;
  /** default 3306; also a string of decimal digits (`process.env.MYSQL_PORT`) */
  port?: number | string;
}

/** One server (`host`/`port`), or several in failover order (`hosts`), never both. */
export type MysqlServers =
  | {
      /** default "localhost" */
      host?: string;
      /** default 3306; also a string of decimal digits (`process.env.MYSQL_PORT`) */
      port?: number | string;
      hosts?: never;
    }
  | {
      /**
       * 1..16 servers in order of preference: the first that answers is used; when it
       * fails, the next; an earlier one again once it is healthy (checked every second).
       */
      hosts: MysqlHost[];
      host?: never;
      port?: never;
    };

export interface TypeInputConfig {
  mysql: MysqlServers & {
    user: string;
    password: string;
    /** must already exist */
    database: string;
    /** default 50, 1..1000 (or a string of decimal digits) */
    connectionLimit?: number | string;
    /** names matching [A-Za-z0-9_]{1,64} */
    tables?: { signingKey?: string; refreshTokens?: string };
    /** TLS to MySQL: true, or a CA (PEM) and whether to verify the server certificate */
    ssl?: boolean | { ca?: string; rejectUnauthorized?: boolean };
  };
  tokens: {
    accessToken?: {
      signingKey?: {
        /** default true: the key changes every updateInterval hours */
        dynamic?: boolean;
        /** hours, default 24, 1..720 (or a string of decimal digits) */
        updateInterval?: number | string;
        /** the app supplies the key, asked on every sign and verify; `dynamic` is then ignored */
        get?: () => Promise<string>;
      };
      /** seconds, default 3600, 10..86400000 (or a string of decimal digits) */
      validity?: number | string;
      /** default false; true: getSession checks MySQL so revocation is immediate */
      blacklisting?: boolean;
      /**
       * 50..60000 (instead of blacklisting): getSession makes no database call, and a session
       * revoked by any process is rejected everywhere within this many milliseconds.
       */
      revocationPollMs?: number | string;
      /** default "/" */
      accessTokenPath?: string;
    };
    refreshToken: {
      /** hours, default 2400, 1..8760 (or a string of decimal digits) */
      validity?: number | string;
      /** hours, 1..87600: no refresh past the session's creation + this (default: none) */
      absoluteValidity?: number | string;
      /**
       * 0..300, default 0 (off): a refresh token rotated out less than this many seconds ago
       * (two tabs refreshing at once) answers a working session instead of theft.
       */
      reuseGraceSeconds?: number | string;
      /** cron with a seconds field, default "0 0 0 1-31/7 * *" (UTC) */
      removalCronjobInterval?: string;
      /** the refresh API path and sRefreshToken cookie path */
      renewTokenPath: string;
    };
    /** default true */
    enableAntiCsrf?: boolean;
    /**
     * Tokens minted by the original JavaScript library keep working (default true); turn off
     * once one refresh-token validity has passed since the switch.
     */
    acceptOriginalTokens?: boolean;
    /** 1..10000: a login beyond it removes the user's least recently refreshed sessions */
    maxSessionsPerUser?: number | string;
  };
  logging?: {
    info?: (msg: any) => void;
    error?: (err: any) => void;
  };
  cookie: {
    domain: string;
    /** default true */
    secure?: boolean;
    /** default "lax"; "none" requires secure: true */
    sameSite?: 'strict' | 'lax' | 'none';
  };
}

/**
 * The error an API call rejects with: `{errType, err}`, also an `Error` with a message and
 * stack. Narrow it with `Error.isErrorFromAuth(e)`, then on `errType`.
 */
export type AuthErrorObject = AuthErrorWithCause | TokenTheftErrorObject;

/** GENERAL_ERROR, UNAUTHORISED or TRY_REFRESH_TOKEN: `err` is the cause. */
export interface AuthErrorWithCause extends Error {
  errType: 1000 | 2000 | 3000;
  err: any;
}

/** UNAUTHORISED_AND_TOKEN_THEFT_DETECTED: `err` is the session whose refresh token was reused. */
export interface TokenTheftErrorObject extends Error {
  errType: 4000;
  err: { sessionHandle: string; userId: string };
}

/** A token with its expiry in milliseconds since the epoch. */
export interface TokenInfo {
  value: string;
  expires: number;
}

export interface SessionInfo {
  handle: string;
  userId: string;
  jwtPayload: any;
}

export declare const Error: {
  readonly GENERAL_ERROR: 1000;
  readonly UNAUTHORISED: 2000;
  readonly TRY_REFRESH_TOKEN: 3000;
  readonly UNAUTHORISED_AND_TOKEN_THEFT_DETECTED: 4000;
  isErrorFromAuth(err: unknown): err is AuthErrorObject;
};

/** Validates the config, creates tables and keys, starts the removal job. Call once. */
export declare function init(config: TypeInputConfig): Promise<void>;

/** Stops the removal job and closes the pool; `init` may be called again afterwards. */
export declare function close(): Promise<void>;

/** Creates a session and its tokens. */
export declare function createNewSession(
  userId: string,
  jwtPayload?: any,
  sessionData?: any,
  client?: ClientInfo,
): Promise<{
  session: SessionInfo;
  accessToken: TokenInfo;
  refreshToken: TokenInfo;
  idRefreshToken: TokenInfo;
  antiCsrfToken: string | undefined;
}>;

/** Verifies an access token; `antiCsrfToken` null skips the CSRF check. */
export declare function getSession(
  accessToken: string,
  antiCsrfToken: string | null,
): Promise<{ session: SessionInfo; newAccessToken: TokenInfo | undefined }>;

/** Rotates the refresh token (with theft detection) and issues new tokens. */
export declare function refreshSession(
  refreshToken: string,
  client?: ClientInfo,
): Promise<{
  session: SessionInfo;
  newAccessToken: TokenInfo;
  newRefreshToken: TokenInfo;
  newIdRefreshToken: TokenInfo;
  newAntiCsrfToken: string | undefined;
}>;

export declare function revokeAllSessionsForUser(userId: string): Promise<void>;

/** True iff a session was removed. */
export declare function revokeSessionUsingSessionHandle(sessionHandle: string): Promise<boolean>;

export declare function getAllSessionHandlesForUser(userId: string): Promise<string[]>;

export declare function getSessionData(sessionHandle: string): Promise<any>;

export declare function updateSessionData(sessionHandle: string, newSessionData: any): Promise<void>;

/**
 * Applies an RFC 7386 JSON merge patch to the session data in one statement on the server:
 * keys set to `null` are removed, objects merge recursively. Concurrent merges all survive.
 */
export declare function mergeSessionData(sessionHandle: string, patch: Record<string, unknown>): Promise<void>;

/**
 * Prometheus text exposition (format 0.0.4) of the package's counters and database-latency
 * histogram, process-wide; serve it on `/metrics`.
 */
export declare function metrics(): Promise<string>;

/** Where a login or refresh came from, stored with the session. */
export interface ClientInfo {
  ip?: string;
  userAgent?: string;
}

/** One of a user's sessions; times in ms since the epoch, null where unknown. */
export interface UserSessionInfo {
  sessionHandle: string;
  createdAt: number | null;
  lastRefreshedAt: number | null;
  expiresAt: number;
  ip: string | null;
  userAgent: string | null;
}

/** The user's live sessions, newest first. */
export declare function getAllSessionsForUser(userId: string): Promise<UserSessionInfo[]>;
/** @deprecated The original 5.x name of {@link getSessionData} (the same function); use `getSessionData`. */
export declare const getSessionInfo: typeof getSessionData;

/** @deprecated The original 5.x name of {@link updateSessionData} (the same function); use `updateSessionData`. */
export declare const updateSessionInfo: typeof updateSessionData;
