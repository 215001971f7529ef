/** The app router: one router per domain, merged here. `AppRouter` is the public API type. */
import { adminRouter } from '../admin/router';
import { chatRouter, signalRouter } from '../chat/router';
import { matchRouter } from '../match/router';
import { operatorsRouter } from '../operators/router';
import { presenceRouter } from '../presence/router';
import { safetyRouter } from '../safety/router';
import { sessionRouter } from '../session/router';
import { statsRouter } from '../stats/router';
import { router } from './trpc';

export const appRouter = router({
  session: sessionRouter,
  match: matchRouter,
  chat: chatRouter,
  signal: signalRouter,
  presence: presenceRouter,
  safety: safetyRouter,
  stats: statsRouter,
  admin: adminRouter,
  operators: operatorsRouter,
});

export type AppRouter = typeof appRouter;
