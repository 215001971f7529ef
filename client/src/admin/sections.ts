/**
 * The console's sections: path segment, label, the least role that sees it, and its screen (a
 * lazy chunk, so uPlot loads only with the screens that draw charts). Viewers see every section
 * but Privacy and Operators (both admin-only on the server), without the action controls.
 */
import { lazy, type Component } from 'solid-js';
import type { Role } from './api';

export interface Section {
  id: string;
  label: string;
  min: Role;
  screen: Component;
}

export const SECTIONS: Section[] = [
  { id: 'overview', label: 'Overview', min: 'viewer', screen: lazy(() => import('./screens/Overview')) },
  { id: 'funnel', label: 'Funnel', min: 'viewer', screen: lazy(() => import('./screens/Funnel')) },
  { id: 'lookup', label: 'Lookup & act', min: 'viewer', screen: lazy(() => import('./screens/Lookup')) },
  { id: 'switches', label: 'Kill switches', min: 'viewer', screen: lazy(() => import('./screens/Switches')) },
  { id: 'moderation', label: 'Moderation', min: 'viewer', screen: lazy(() => import('./screens/Moderation')) },
  { id: 'recovery', label: 'Recovery', min: 'viewer', screen: lazy(() => import('./screens/Recovery')) },
  { id: 'privacy', label: 'Privacy', min: 'admin', screen: lazy(() => import('./screens/Privacy')) },
  { id: 'operators', label: 'Operators', min: 'admin', screen: lazy(() => import('./screens/Operators')) },
  { id: 'activity', label: 'Activity log', min: 'viewer', screen: lazy(() => import('./screens/Activity')) },
  { id: 'account', label: 'Your account', min: 'viewer', screen: lazy(() => import('./screens/Account')) },
];

/** The section a path names (`/admin/<id>`), or the overview. */
export function sectionOf(pathname: string): string {
  const id = pathname.replace(/^\/admin\/?/, '').split('/')[0] ?? '';
  return SECTIONS.some((s) => s.id === id) ? id : 'overview';
}
