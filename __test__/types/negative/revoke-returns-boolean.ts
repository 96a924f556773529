// revokeSessionUsingSessionHandle resolves to a boolean (true iff a session was removed).
import { revokeSessionUsingSessionHandle } from 'supertokens-node-mysql-ref-jwt/express';

export async function logout(handle: string) {
  const removed: string = await revokeSessionUsingSessionHandle(handle); // @error TS2322: Type 'boolean' is not assignable to type 'string'.
  return removed;
}
