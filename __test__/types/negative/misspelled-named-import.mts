// A misspelled named import (ES module) is not there either.
import { getSesion } from 'supertokens-node-mysql-ref-jwt/express'; // @error TS2724: has no exported member named 'getSesion'. Did you mean 'getSession'?

export { getSesion };
