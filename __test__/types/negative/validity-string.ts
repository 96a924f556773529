// tokens.accessToken.validity is a number of seconds, not a string.
import { init } from 'supertokens-node-mysql-ref-jwt';

export const started = init({
  mysql: { user: 'root', password: '', database: 'test' },
  tokens: {
    accessToken: { validity: '10' }, // @error TS2322: Type 'string' is not assignable to type 'number'.
    refreshToken: { renewTokenPath: '/refresh' },
  },
  cookie: { domain: 'example.com' },
});
