/**
 * /work/shared/seed/user-login.md, "Example code", verbatim in TypeScript (the page uses
 * `express.Request`/`express.Response` without importing them: the one added line is the
 * `express` import), plus the page's number-userId snippet.
 */
import * as SuperTokens from 'supertokens-node-mysql-ref-jwt/express';
import * as express from 'express';

function login(req: express.Request, res: express.Response) {
    // ...
    // assuming user has been authenticated somehow..
    let userId = "User1";
    let jwtPayload = {userId, name: "spooky action at a distance"};
    let sessionData = {awesomeThings: ["programming", "javascript", "SuperTokens"]};
    SuperTokens.createNewSession(res, userId, jwtPayload, sessionData).then(session => {
        res.send("Session created successfully!");
    }).catch(err => {
        // session was not created. Handle error...
    });
}

// "For example to use with `number`:"
async function loginWithNumberId(res: express.Response, jwtPayload: any, sessionData: any) {
  let userId = 1; // is a number
  let session = await SuperTokens.createNewSession(res, userId + "", jwtPayload, sessionData); // we convert 1 to a string
  let userFromSession = Number(session.getUserId());
  return userFromSession;
}

// The call at the top of the page.
function call(res: express.Response, userId: string, jwtPayload: any, sessionData: any) {
  SuperTokens.createNewSession(res, userId, jwtPayload, sessionData);
}

export const routes = express.Router().post('/login', login);
export { loginWithNumberId, call };
