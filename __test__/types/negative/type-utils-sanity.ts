// The positive files' `expectType<Equal<A, B>>()` really fails when the types differ.
import { expectType, type Equal } from '../positive/type-utils';

expectType<Equal<Promise<any>, Promise<void>>>(); // @error TS2344: Type 'false' does not satisfy the constraint 'true'.
