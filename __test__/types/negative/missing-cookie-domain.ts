// cookie.domain is required.
import { init } from 'supertokens-node-mysql-ref-jwt/express';

export const started = init({
  mysql: { user: 'root', password: '', database: 'test' },
  tokens: { refreshToken: { renewTokenPath: '/refresh' } },
  cookie: { secure: false }, // @error TS2741: Property 'domain' is missing
});
