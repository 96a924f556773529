// The error codes are constants.
import * as SuperTokens from 'supertokens-node-mysql-ref-jwt';

SuperTokens.Error.UNAUTHORISED = 401; // @error TS2540: Cannot assign to 'UNAUTHORISED' because it is a read-only property.
