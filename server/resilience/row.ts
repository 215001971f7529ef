/** A row of the classification table (classify.ts, sqlstate.ts). */
import { Category, type Classification, type ErrorType } from './model';

export type Row = Omit<Classification, 'code' | 'rule'>;

/** `retryable` defaults to "transient". */
export const row = (
  category: Row['category'],
  type: ErrorType,
  severity: Row['severity'],
  strategy: Row['strategy'],
  retryable = category === Category.Transient,
): Row => ({
  category,
  type,
  severity,
  strategy,
  retryable,
});
