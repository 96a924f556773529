// The framework-free createNewSession also takes a string userId only.
import { createNewSession } from 'supertokens-node-mysql-ref-jwt';

export const created = createNewSession(42); // @error TS2345: Argument of type 'number' is not assignable to parameter of type 'string'.
