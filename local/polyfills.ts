/**
 * Polyfills for running the local runtime on Node 20.
 *
 * `aws-local-stepfunctions` declares Node >= 22 because it calls
 * `Promise.withResolvers` (ES2024, Node 22+). That is the only Node 22 feature it
 * needs (measured on this project), so a spec-faithful polyfill is enough on Node 20.
 * Import this module before `aws-local-stepfunctions`.
 */
type Resolvers<T> = {
  promise: Promise<T>;
  resolve: (value: T | PromiseLike<T>) => void;
  reject: (reason?: unknown) => void;
};

const PromiseCtor = Promise as unknown as { withResolvers?: <T>() => Resolvers<T> };
if (typeof PromiseCtor.withResolvers !== 'function') {
  PromiseCtor.withResolvers = function withResolvers<T>(): Resolvers<T> {
    let resolve!: Resolvers<T>['resolve'];
    let reject!: Resolvers<T>['reject'];
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}

export {};
