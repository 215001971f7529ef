-- Moderation views for analysts (docs/analytics.md, "Moderation"): counts and durations only; the
-- tables under them (reports, moderation_actions, appeals) stay closed to the analyst role. Same
-- conventions as 0003: UTC day buckets as timestamptz, durations in ms, rates 0..1.
CREATE VIEW "moderation_reports_daily" AS
WITH r AS (
  SELECT (date_trunc('day', (at AT TIME ZONE 'UTC')) AT TIME ZONE 'UTC') AS day, count(*)::int AS reports, count(DISTINCT reported_id)::int AS reported_users
  FROM reports GROUP BY 1
), m AS (
  SELECT (date_trunc('day', (created_at AT TIME ZONE 'UTC')) AT TIME ZONE 'UTC') AS day, count(*)::int AS matches
  FROM matches GROUP BY 1
)
SELECT
  coalesce(r.day, m.day) AS day,
  coalesce(m.matches, 0) AS matches,
  coalesce(r.reports, 0) AS reports,
  coalesce(r.reported_users, 0) AS reported_users,
  (CASE WHEN coalesce(m.matches, 0) > 0 THEN coalesce(r.reports, 0) * 1000.0 / m.matches END)::double precision AS reports_per_1000_matches
FROM r FULL JOIN m ON r.day = m.day;--> statement-breakpoint
CREATE VIEW "moderation_sanctions_daily" AS
WITH active AS (
  SELECT (date_trunc('day', (created_at AT TIME ZONE 'UTC')) AT TIME ZONE 'UTC') AS day, u.user_id
  FROM matches CROSS JOIN LATERAL (VALUES (user_a), (user_b)) AS u(user_id)
), a AS (
  SELECT day, count(DISTINCT user_id)::int AS active_users FROM active GROUP BY day
), s AS (
  SELECT
    (date_trunc('day', (at AT TIME ZONE 'UTC')) AT TIME ZONE 'UTC') AS day,
    count(DISTINCT user_id) FILTER (WHERE action IN ('low_trust', 'ban'))::int AS sanctioned_users,
    count(*) FILTER (WHERE action = 'low_trust')::int AS low_trust,
    count(*) FILTER (WHERE action = 'ban' AND actor = 'auto')::int AS bans_auto,
    count(*) FILTER (WHERE action = 'ban' AND actor <> 'auto')::int AS bans_by_operators,
    count(*) FILTER (WHERE action = 'ban' AND ends_at IS NULL)::int AS permanent_bans,
    count(*) FILTER (WHERE action = 'lift')::int AS lifts
  FROM moderation_actions GROUP BY 1
)
SELECT
  coalesce(s.day, a.day) AS day,
  coalesce(a.active_users, 0) AS active_users,
  coalesce(s.sanctioned_users, 0) AS sanctioned_users,
  (CASE WHEN coalesce(a.active_users, 0) > 0 THEN coalesce(s.sanctioned_users, 0)::double precision / a.active_users END) AS share_sanctioned,
  coalesce(s.low_trust, 0) AS low_trust,
  coalesce(s.bans_auto, 0) AS bans_auto,
  coalesce(s.bans_by_operators, 0) AS bans_by_operators,
  coalesce(s.permanent_bans, 0) AS permanent_bans,
  coalesce(s.lifts, 0) AS lifts
FROM s FULL JOIN a ON s.day = a.day;--> statement-breakpoint
CREATE VIEW "moderation_decision_times" AS
SELECT
  (date_trunc('day', (decided_at AT TIME ZONE 'UTC')) AT TIME ZONE 'UTC') AS day,
  reason,
  count(*)::int AS decided,
  count(*) FILTER (WHERE status = 'actioned')::int AS actioned,
  count(*) FILTER (WHERE status = 'dismissed')::int AS dismissed,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM decided_at - at) * 1000)::double precision AS p50_ms,
  percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM decided_at - at) * 1000)::double precision AS p95_ms
FROM reports
WHERE decided_at IS NOT NULL
GROUP BY 1, 2;--> statement-breakpoint
CREATE VIEW "moderation_appeals" AS
SELECT
  (date_trunc('day', (at AT TIME ZONE 'UTC')) AT TIME ZONE 'UTC') AS day,
  count(*)::int AS appeals,
  count(*) FILTER (WHERE status = 'open')::int AS open,
  count(*) FILTER (WHERE status = 'upheld')::int AS upheld,
  count(*) FILTER (WHERE status = 'denied')::int AS denied,
  (count(*) FILTER (WHERE status = 'upheld')::double precision / nullif(count(*) FILTER (WHERE status <> 'open'), 0)) AS upheld_rate,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM decided_at - at) * 1000) FILTER (WHERE decided_at IS NOT NULL)::double precision AS p50_decision_ms
FROM appeals
GROUP BY 1;
