// Framework-free getSession: the anti-CSRF token is a string, or null to skip the check; undefined is an error.
import { getSession } from 'supertokens-node-mysql-ref-jwt';

export const verified = getSession('an access token', undefined); // @error TS2345: Argument of type 'undefined' is not assignable to parameter of type 'string | null'.
