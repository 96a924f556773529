// The Session fields of the original (userId, sessionHandle, jwtUserPayload) are read-only.
import type { Session } from 'supertokens-node-mysql-ref-jwt/express';

export function rename(session: Session): void {
  session.userId = 'someone else'; // @error TS2540: Cannot assign to 'userId' because it is a read-only property.
  session.sessionHandle = 'h'; // @error TS2540: Cannot assign to 'sessionHandle' because it is a read-only property.
}
