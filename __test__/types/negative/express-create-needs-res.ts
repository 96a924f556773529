// The Express createNewSession takes the response first (the framework-free one does not).
import * as SuperTokens from 'supertokens-node-mysql-ref-jwt/express';

export const created = SuperTokens.createNewSession('User1', { name: 'Ada' }); // @error TS2345: Argument of type 'string' is not assignable to parameter of type 'Response'.
