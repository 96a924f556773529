// cookie.sameSite is "strict" | "lax" | "none", lower case.
import { init } from 'supertokens-node-mysql-ref-jwt/express';

export const started = init({
  mysql: { user: 'root', password: '', database: 'test' },
  tokens: { refreshToken: { renewTokenPath: '/refresh' } },
  cookie: { domain: 'example.com', sameSite: 'Lax' }, // @error TS2820: Type '"Lax"' is not assignable to type ... Did you mean '"lax"'?
});
