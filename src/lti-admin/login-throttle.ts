/**
 * Limits password guessing: after `maxFailures` failed sign-ins for one username from one address
 * within `windowMs`, further attempts are refused until the oldest failure leaves the window.
 * Kept in memory per app instance (one Map per throttle, created by the router): a restart or a
 * second instance resets it, which is acceptable for a throttle whose job is to slow guessing
 * down, not to account for it.
 */
export interface LoginThrottleOptions {
  readonly now: () => Date;
  readonly maxFailures?: number;
  readonly windowMs?: number;
  /** Bounds memory when someone sprays usernames. */
  readonly maxKeys?: number;
}

export function createLoginThrottle(options: LoginThrottleOptions) {
  const maxFailures = options.maxFailures ?? 5;
  const windowMs = options.windowMs ?? 15 * 60 * 1000;
  const maxKeys = options.maxKeys ?? 10_000;
  const failures = new Map<string, number[]>();
  const key = (username: string, ip: string): string => `${username.toLowerCase()}\u0000${ip}`;
  const recent = (k: string): number[] => {
    const since = options.now().getTime() - windowMs;
    const kept = (failures.get(k) ?? []).filter((time) => time > since);
    if (kept.length === 0) failures.delete(k);
    else failures.set(k, kept);
    return kept;
  };
  return {
    isBlocked(username: string, ip: string): boolean {
      return recent(key(username, ip)).length >= maxFailures;
    },
    recordFailure(username: string, ip: string): void {
      const k = key(username, ip);
      const list = recent(k);
      if (!failures.has(k) && failures.size >= maxKeys) {
        // Drop the oldest entry (Map keeps insertion order).
        const oldest = failures.keys().next();
        if (oldest.done !== true) failures.delete(oldest.value);
      }
      failures.set(k, [...list, options.now().getTime()]);
    },
    recordSuccess(username: string, ip: string): void {
      failures.delete(key(username, ip));
    },
  };
}

export type LoginThrottle = ReturnType<typeof createLoginThrottle>;
