// The framework-free entry point has no Express-only exports.
import { setRelevantHeadersForOptionsAPI } from 'supertokens-node-mysql-ref-jwt'; // @error TS2305: has no exported member 'setRelevantHeadersForOptionsAPI'.

export { setRelevantHeadersForOptionsAPI };
