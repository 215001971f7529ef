import { authedProcedure, router } from '../trpc/trpc';

export const statsRouter = router({
  /** People connected now and people waiting, over every process (cached per process: STATS_CACHE_MS). */
  online: authedProcedure.query(({ ctx }) => ctx.svc.stats.get()),
});
