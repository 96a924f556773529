/** The config with every documented option (SPEC §2), and the minimal config. */
import * as SuperTokens from 'supertokens-node-mysql-ref-jwt/express';
import { init, close, type TypeInputConfig } from 'supertokens-node-mysql-ref-jwt';
import { expectType, type Equal } from './type-utils';

/** Integer options straight from the environment (strings of decimal digits). */
export const fromEnv: TypeInputConfig = {
  mysql: {
    host: process.env.MYSQL_HOST,
    port: process.env.MYSQL_PORT,
    user: 'auth',
    password: '',
    database: 'auth',
    connectionLimit: process.env.MYSQL_POOL,
  },
  tokens: {
    accessToken: { validity: process.env.ACCESS_TOKEN_SECONDS },
    refreshToken: { renewTokenPath: '/refresh', validity: '720' },
  },
  cookie: { domain: 'example.com' },
};

/** Several servers in failover order instead of host/port. */
export const failover: TypeInputConfig = {
  mysql: {
    hosts: [{ host: 'db1' }, { host: 'db2', port: 3307 }],
    user: 'auth',
    password: '',
    database: 'auth',
  },
  tokens: { refreshToken: { renewTokenPath: '/refresh' } },
  cookie: { domain: 'example.com' },
};

export const everyOption: TypeInputConfig = {
  mysql: {
    host: 'db.internal',
    port: 3307,
    user: 'auth',
    password: '',
    database: 'auth',
    connectionLimit: 20,
    tables: { signingKey: 'st_signing_key', refreshTokens: 'st_refresh_token' },
    ssl: { ca: '-----BEGIN CERTIFICATE-----\n...', rejectUnauthorized: true },
  },
  tokens: {
    accessToken: {
      signingKey: {
        dynamic: true,
        updateInterval: 48,
        get: async () => 'an app-supplied signing key',
      },
      validity: 900,
      blacklisting: true,
      accessTokenPath: '/api',
    },
    refreshToken: {
      validity: 24 * 30,
      removalCronjobInterval: '0 0 3 * * *',
      renewTokenPath: '/api/refresh',
    },
    enableAntiCsrf: false,
  },
  logging: {
    info: (msg: any) => console.log(msg),
    error: (err: any) => console.error(err),
  },
  cookie: {
    domain: 'example.com',
    secure: true,
    sameSite: 'none',
  },
};

export const minimal: TypeInputConfig = {
  mysql: { user: 'root', password: '', database: 'test' },
  tokens: { refreshToken: { renewTokenPath: '/refresh' } },
  cookie: { domain: 'localhost' },
};

// Each alternative of the union-typed options.
export const variants: TypeInputConfig[] = [
  { ...minimal, mysql: { ...minimal.mysql, ssl: true } },
  { ...minimal, mysql: { ...minimal.mysql, ssl: false } },
  { ...minimal, mysql: { ...minimal.mysql, ssl: {} } },
  { ...minimal, cookie: { domain: 'localhost', sameSite: 'strict' } },
  { ...minimal, cookie: { domain: 'localhost', sameSite: 'lax', secure: false } },
  { ...minimal, tokens: { ...minimal.tokens, accessToken: { signingKey: { dynamic: false } } } },
  { ...minimal, logging: {} },
];

// The option types, exactly.
type Cfg = TypeInputConfig;
type Access = NonNullable<Cfg['tokens']['accessToken']>;
expectType<Equal<Cfg['mysql']['port'], number | string | undefined>>();
expectType<Equal<Cfg['mysql']['user'], string>>();
expectType<Equal<Cfg['mysql']['password'], string>>();
expectType<Equal<Cfg['mysql']['database'], string>>();
expectType<Equal<Cfg['mysql']['ssl'], boolean | { ca?: string; rejectUnauthorized?: boolean } | undefined>>();
expectType<Equal<NonNullable<Access['signingKey']>['get'], (() => Promise<string>) | undefined>>();
expectType<Equal<Access['validity'], number | string | undefined>>();
expectType<Equal<Cfg['tokens']['refreshToken']['renewTokenPath'], string>>();
expectType<Equal<Cfg['tokens']['enableAntiCsrf'], boolean | undefined>>();
expectType<Equal<Cfg['cookie']['domain'], string>>();
expectType<Equal<Cfg['cookie']['sameSite'], 'strict' | 'lax' | 'none' | undefined>>();

export async function start(): Promise<void> {
  await SuperTokens.init(everyOption);
  await SuperTokens.close();
  // Named imports of the package root (this file is CommonJS-mode TypeScript).
  await init(minimal);
  await close();
  // Inline, as the docs write it.
  await SuperTokens.init({
    mysql: { host: 'localhost', user: 'root', password: '', database: 'auth' },
    tokens: { refreshToken: { renewTokenPath: '/api/refresh' } },
    cookie: { domain: 'example.com' },
  });
}
