-- Analyst views (documented in docs/analytics.md) and the read-only "analyst" role.
--
-- Time buckets are UTC hours/days returned as timestamptz, written as
--   date_trunc('<unit>', (at AT TIME ZONE 'UTC')) AT TIME ZONE 'UTC'
-- which is immutable, so the expression indexes declared in server/audit/schema.ts match it and a
-- filter such as `WHERE hour >= now() - interval '1 day'` becomes an index range scan.
-- Durations are milliseconds as double precision; counts are integers; rates are 0..1.
CREATE VIEW "match_waits" AS
SELECT
  m.id AS match_id,
  m.pool,
  w.side,
  w.user_id,
  m.created_at AS matched_at,
  w.waited_ms::double precision AS waited_ms
FROM matches m
CROSS JOIN LATERAL (VALUES ('a', m.user_a, m.waited_a_ms), ('b', m.user_b, m.waited_b_ms)) AS w(side, user_id, waited_ms)
WHERE w.waited_ms IS NOT NULL;--> statement-breakpoint
CREATE VIEW "match_durations" AS
SELECT
  m.id AS match_id,
  m.pool,
  m.mode,
  m.user_a,
  m.user_b,
  m.room,
  m.created_at,
  m.connected_at,
  m.ended_at,
  m.end_reason,
  m.ended_by,
  (date_trunc('hour', (m.created_at AT TIME ZONE 'UTC')) AT TIME ZONE 'UTC') AS hour,
  (extract(epoch FROM m.connected_at - m.created_at) * 1000)::double precision AS connect_ms,
  (extract(epoch FROM m.ended_at - m.connected_at) * 1000)::double precision AS call_ms,
  (extract(epoch FROM m.ended_at - m.created_at) * 1000)::double precision AS total_ms
FROM matches m;--> statement-breakpoint
CREATE VIEW "wait_times" AS
SELECT
  (date_trunc('hour', (matched_at AT TIME ZONE 'UTC')) AT TIME ZONE 'UTC') AS hour,
  pool,
  count(*)::integer AS waits,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY waited_ms) AS p50_ms,
  percentile_cont(0.95) WITHIN GROUP (ORDER BY waited_ms) AS p95_ms,
  max(waited_ms) AS max_ms,
  avg(waited_ms)::double precision AS avg_ms
FROM match_waits
GROUP BY 1, 2;--> statement-breakpoint
CREATE VIEW "match_outcomes" AS
SELECT
  (date_trunc('hour', (ended_at AT TIME ZONE 'UTC')) AT TIME ZONE 'UTC') AS hour,
  pool,
  count(*)::integer AS ended,
  count(*) FILTER (WHERE connected_at IS NOT NULL)::integer AS connected,
  count(*) FILTER (WHERE end_reason = 'skip')::integer AS skips,
  count(*) FILTER (WHERE end_reason = 'end')::integer AS ends,
  count(*) FILTER (WHERE end_reason = 'disconnect')::integer AS disconnects,
  count(*) FILTER (WHERE end_reason = 'timeout')::integer AS timeouts,
  count(*) FILTER (WHERE end_reason IS NULL OR end_reason NOT IN ('skip', 'end', 'disconnect', 'timeout'))::integer AS other,
  (count(*) FILTER (WHERE end_reason = 'skip'))::double precision / count(*) AS skip_rate,
  (count(*) FILTER (WHERE end_reason = 'end'))::double precision / count(*) AS end_rate,
  (count(*) FILTER (WHERE end_reason = 'disconnect'))::double precision / count(*) AS disconnect_rate,
  (count(*) FILTER (WHERE end_reason = 'timeout'))::double precision / count(*) AS timeout_rate
FROM matches
WHERE ended_at IS NOT NULL
GROUP BY 1, 2;--> statement-breakpoint
CREATE VIEW "disconnect_reasons" AS
SELECT
  g.*,
  g.transitions::double precision / sum(g.transitions) OVER (PARTITION BY g.day, g.pool) AS share
FROM (
  SELECT
    (date_trunc('day', (at AT TIME ZONE 'UTC')) AT TIME ZONE 'UTC') AS day,
    pool,
    from_state,
    coalesce(reason, 'unknown') AS reason,
    count(*)::integer AS transitions,
    count(DISTINCT user_id)::integer AS users
  FROM state_transitions
  WHERE to_state = 'DISCONNECTING'
  GROUP BY 1, 2, 3, 4
) g;--> statement-breakpoint
CREATE VIEW "error_rates_hourly" AS
SELECT
  (date_trunc('hour', (at AT TIME ZONE 'UTC')) AT TIME ZONE 'UTC') AS hour,
  category,
  type,
  severity,
  count(*)::integer AS errors,
  count(*) FILTER (WHERE recovered)::integer AS recovered,
  count(DISTINCT user_id)::integer AS users,
  count(*)::double precision / 60 AS per_minute
FROM errors
GROUP BY 1, 2, 3, 4;--> statement-breakpoint
CREATE VIEW "breaker_downtime" AS
WITH spans AS (
  -- Each event starts a span that lasts until the next event of the same breaker (or now).
  SELECT
    dependency,
    coalesce(instance, '') AS instance,
    state,
    at AT TIME ZONE 'UTC' AS lo,
    coalesce(lead(at) OVER w, now()) AT TIME ZONE 'UTC' AS hi
  FROM breaker_events
  WINDOW w AS (PARTITION BY dependency, coalesce(instance, '') ORDER BY at, event_id)
),
cut AS (
  -- A span that crosses midnight (UTC) is cut into one piece per day.
  SELECT
    s.dependency,
    s.instance,
    s.state,
    d.day,
    greatest(s.lo, d.day) AS lo,
    least(s.hi, d.day + interval '1 day') AS hi,
    date_trunc('day', s.lo) = d.day AS starts_here
  FROM spans s
  CROSS JOIN LATERAL generate_series(date_trunc('day', s.lo), s.hi, interval '1 day') AS d(day)
  WHERE s.state <> 'closed'
)
SELECT
  day AT TIME ZONE 'UTC' AS day,
  dependency,
  nullif(instance, '') AS instance,
  coalesce(sum(extract(epoch FROM hi - lo)) FILTER (WHERE state <> 'half_open'), 0)::double precision * 1000 AS open_ms,
  coalesce(sum(extract(epoch FROM hi - lo)) FILTER (WHERE state = 'half_open'), 0)::double precision * 1000 AS half_open_ms,
  count(*) FILTER (WHERE starts_here AND state <> 'half_open')::integer AS opens
FROM cut
WHERE hi > lo OR starts_here
GROUP BY 1, 2, 3;--> statement-breakpoint
CREATE VIEW "recovery_times" AS
SELECT
  (date_trunc('day', (at AT TIME ZONE 'UTC')) AT TIME ZONE 'UTC') AS day,
  failure_type,
  strategy,
  count(*)::integer AS attempts,
  count(*) FILTER (WHERE outcome = 'recovered')::integer AS recovered,
  count(*) FILTER (WHERE outcome <> 'recovered')::integer AS failed,
  percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms) FILTER (WHERE outcome = 'recovered') AS p50_ms,
  percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms) FILTER (WHERE outcome = 'recovered') AS p95_ms,
  (max(duration_ms) FILTER (WHERE outcome = 'recovered'))::double precision AS max_ms
FROM recoveries
GROUP BY 1, 2, 3;--> statement-breakpoint
CREATE VIEW "dead_letter_summary" AS
SELECT
  (date_trunc('day', (at AT TIME ZONE 'UTC')) AT TIME ZONE 'UTC') AS day,
  source,
  coalesce(kind, 'unreadable') AS kind,
  status,
  count(*)::integer AS letters,
  max(attempts) AS max_attempts,
  min(at) AS first_at,
  max(at) AS last_at,
  (array_agg(error ORDER BY at DESC))[1] AS latest_error
FROM dead_letters
GROUP BY 1, 2, 3, 4;--> statement-breakpoint
-- The analyst role: NOLOGIN, SELECT only; grant it to people (`GRANT analyst TO alice`).
-- Roles are cluster-wide and need CREATEROLE: where that is refused (a managed database without
-- the privilege, PGlite) the block logs a notice and the migration carries on. Inner blocks keep
-- a concurrent creation by another database's migration from skipping the grants.
DO $$
BEGIN
  BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'analyst') THEN
      CREATE ROLE analyst NOLOGIN;
    END IF;
  EXCEPTION
    WHEN duplicate_object OR unique_violation THEN NULL;
  END;
  GRANT USAGE ON SCHEMA public TO analyst;
  GRANT SELECT ON
    match_waits, match_durations, wait_times, match_outcomes, disconnect_reasons,
    error_rates_hourly, breaker_downtime, recovery_times, dead_letter_summary,
    state_transitions, errors, recoveries, breaker_events, checkpoints, dead_letters,
    webhook_events, matches, blocks
  TO analyst;
  ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO analyst;
EXCEPTION
  WHEN OTHERS THEN RAISE NOTICE 'analyst role not set up (%): views are still in place', SQLERRM;
END $$;
