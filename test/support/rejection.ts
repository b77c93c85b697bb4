/** What a promise rejected with, or undefined when it resolved: for asserting on a typed error. */
export function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}
