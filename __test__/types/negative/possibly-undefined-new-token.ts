// getSession's newAccessToken is only there after a refresh-minted token's first use.
import { getSession } from 'supertokens-node-mysql-ref-jwt';

export async function verify(accessToken: string) {
  const r = await getSession(accessToken, null);
  return r.newAccessToken.value; // @error TS18048: 'r.newAccessToken' is possibly 'undefined'.
}
