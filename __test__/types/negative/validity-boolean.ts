// tokens.accessToken.validity is a number of seconds (or a string of its digits), not a boolean.
import { init } from 'supertokens-node-mysql-ref-jwt';

export const started = init({
  mysql: { user: 'root', password: '', database: 'test' },
  tokens: {
    accessToken: { validity: true }, // @error TS2322: Type 'true' is not assignable to type 'string | number | undefined'.
    refreshToken: { renewTokenPath: '/refresh' },
  },
  cookie: { domain: 'example.com' },
});
