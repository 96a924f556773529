// A misspelled option is refused (it would be silently ignored in JavaScript).
import { init } from 'supertokens-node-mysql-ref-jwt/express';

export const started = init({
  mysql: { user: 'root', password: '', database: 'test' },
  tokens: {
    refreshToken: { renewTokenPath: '/refresh' },
    enableAntiCSRF: false, // @error TS2561: 'enableAntiCSRF' does not exist ... Did you mean to write 'enableAntiCsrf'?
  },
  cookie: { domain: 'example.com' },
});
