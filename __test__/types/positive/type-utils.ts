/** Compile-time assertions: `expectType<Equal<A, B>>()` fails to compile unless A and B are identical. */
export type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

export function expectType<T extends true>(): void {}

/** Fails to compile unless `value` is assignable to T (and returns it typed as T). */
export function assignable<T>(value: T): T {
  return value;
}
