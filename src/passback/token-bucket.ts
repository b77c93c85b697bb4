/**
 * A token bucket: on average `requestsPerSecond`, with bursts of at most `burst`. Canvas rate limits
 * per installation and the emulator answers 429 beyond its limit, so the worker paces itself below
 * it instead of learning the limit from errors. Clock and sleep are injected.
 */
export interface TokenBucket {
  take(): Promise<void>;
}

export function createTokenBucket(options: {
  readonly requestsPerSecond: number;
  readonly burst: number;
  readonly now: () => Date;
  readonly sleep: (ms: number) => Promise<void>;
}): TokenBucket {
  if (!(options.requestsPerSecond > 0)) throw new RangeError('requestsPerSecond must be > 0');
  const capacity = Math.max(1, options.burst);
  let tokens = capacity;
  let refilledAt = options.now().getTime();
  const refill = (): void => {
    const at = options.now().getTime();
    tokens = Math.min(capacity, tokens + ((at - refilledAt) / 1000) * options.requestsPerSecond);
    refilledAt = at;
  };
  return {
    async take() {
      refill();
      while (tokens < 1) {
        await options.sleep(Math.ceil(((1 - tokens) / options.requestsPerSecond) * 1000));
        refill();
      }
      tokens -= 1;
    },
  };
}
