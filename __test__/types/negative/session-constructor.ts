// Sessions come from createNewSession/getSession/refreshSession, never from `new`.
import { Session } from 'supertokens-node-mysql-ref-jwt/express';

export const session = new Session(); // @error TS2673: Constructor of class 'Session' is private
