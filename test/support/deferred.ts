/** Lets every callback already queued (promises, I/O, immediates) run before the test goes on. */
export const tick = () => new Promise((resolve) => setImmediate(resolve));

/** A promise the test settles by hand, to hold work at a point of its choosing. */
export function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}
