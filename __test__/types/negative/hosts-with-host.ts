// `mysql.hosts` (failover list) and `mysql.host` are exclusive, as init enforces at runtime.
import { init } from 'supertokens-node-mysql-ref-jwt';

export const started = init({
  mysql: { // @error TS2322: Types of property 'host' are incompatible
    hosts: [{ host: 'db1' }, { host: 'db2', port: 3307 }],
    host: 'db0',
    user: 'root',
    password: '',
    database: 'test',
  },
  tokens: { refreshToken: { renewTokenPath: '/refresh' } },
  cookie: { domain: 'example.com' },
});
