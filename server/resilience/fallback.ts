/**
 * Fallback: serve a substitute when a call fails in a way `when` accepts (a dependency failure:
 * timeout, breaker open, bulkhead full, connection lost) instead of failing the caller. Errors
 * that are the caller's own (wrong state, bad input) still reach them: a fallback must not hide
 * "you're not in a conversation" behind a default value.
 */
import { fallback, handleWhen, wrap, type IDefaultPolicyContext, type IPolicy } from 'cockatiel';

export function withFallback<T>(policy: IPolicy, value: () => T | Promise<T>, when: (error: Error) => boolean): IPolicy<IDefaultPolicyContext, T> {
  return wrap(fallback(handleWhen(when), value), policy);
}
