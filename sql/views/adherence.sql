-- adherence: the latest published version of each schedule against what
-- its agents did, per agent and {{interval_minutes}}-minute interval of
-- their shifts.
--
-- Scheduled: the shift's seconds in the interval (scheduled_s), of which
-- on a break (break_s) and on the phones (on_phone_s). Actual, from
-- agent_sessions matched by name (lower(schedule agent) = member): the
-- seconds the agent was a member or logged in and not paused
-- (available_s; membership and pause periods of several queues overlap,
-- so each counts its longest overlap), and the seconds on answered calls
-- (on_call_s, from calls). A period still open counts as running on.
--
--   adherent_s  = min(on_phone_s, available_s)
--               + min(break_s, scheduled_s - available_s)   -- away when due away
--   adherence   = adherent_s / scheduled_s
--   conformance = available_s / on_phone_s   (NULL when nothing was due)
--
-- Seconds are compared per interval, not instant by instant: an agent
-- who pauses for the first half of an interval and is due on a break in
-- its second half counts as adherent for that interval.
WITH latest AS (
  SELECT schedule_id, MAX(version) AS version FROM schedules GROUP BY schedule_id
),
activity AS (
  SELECT s.schedule_id, s.version, s.queues, s.shift_no, s.activity, s.agent,
         s.start_ts, s.end_ts
  FROM schedule_shifts s
  JOIN latest l ON l.schedule_id = s.schedule_id AND l.version = s.version
  WHERE s.agent IS NOT NULL
),
slots AS (
  SELECT schedule_id, version, queues, shift_no, agent, start_ts, end_ts,
         unnest(range(start_ts, end_ts, INTERVAL '{{interval_minutes}} minutes')) AS interval_start
  FROM activity
  WHERE activity = 'shift'
),
bounds AS (
  SELECT schedule_id, version, queues, shift_no, agent, interval_start,
         date_part('epoch', interval_start) AS i0,
         date_part('epoch', interval_start) + {{interval_minutes}} * 60 AS i1,
         date_part('epoch', start_ts) AS s0,
         date_part('epoch', end_ts) AS s1
  FROM slots
),
breaks AS (
  SELECT b.schedule_id, b.shift_no, b.interval_start,
         SUM(GREATEST(0, LEAST(b.i1, date_part('epoch', a.end_ts)) - GREATEST(b.i0, date_part('epoch', a.start_ts)))) AS break_s
  FROM bounds b
  JOIN activity a ON a.schedule_id = b.schedule_id AND a.shift_no = b.shift_no AND a.activity = 'break'
  GROUP BY b.schedule_id, b.shift_no, b.interval_start
),
sessions AS (
  SELECT b.schedule_id, b.shift_no, b.interval_start,
         MAX(CASE WHEN s.kind IN ('membership', 'login') THEN
               GREATEST(0, LEAST(b.i1, COALESCE(date_part('epoch', s.end_ts), b.i1)) - GREATEST(b.i0, date_part('epoch', s.start_ts)))
             END) AS member_s,
         MAX(CASE WHEN s.kind IN ('pause', 'pause_all') THEN
               GREATEST(0, LEAST(b.i1, COALESCE(date_part('epoch', s.end_ts), b.i1)) - GREATEST(b.i0, date_part('epoch', s.start_ts)))
             END) AS paused_s
  FROM bounds b
  JOIN agent_sessions s
    ON s.member = lower(b.agent)
   AND date_part('epoch', s.start_ts) < b.i1
   AND (s.end_ts IS NULL OR date_part('epoch', s.end_ts) > b.i0)
  GROUP BY b.schedule_id, b.shift_no, b.interval_start
),
talk AS (
  SELECT b.schedule_id, b.shift_no, b.interval_start,
         SUM(GREATEST(0, LEAST(b.i1, date_part('epoch', c.end_ts)) - GREATEST(b.i0, date_part('epoch', c.connect_ts)))) AS on_call_s
  FROM bounds b
  JOIN calls c
    ON lower(c.agent) = lower(b.agent)
   AND c.connect_ts IS NOT NULL AND c.end_ts IS NOT NULL
   AND date_part('epoch', c.connect_ts) < b.i1 AND date_part('epoch', c.end_ts) > b.i0
  GROUP BY b.schedule_id, b.shift_no, b.interval_start
),
measured AS (
  SELECT b.schedule_id, b.version, b.queues, b.agent, b.shift_no, b.interval_start,
         GREATEST(0, LEAST(b.i1, b.s1) - GREATEST(b.i0, b.s0)) AS scheduled_s,
         COALESCE(br.break_s, 0) AS break_s,
         GREATEST(0, COALESCE(se.member_s, 0) - COALESCE(se.paused_s, 0)) AS available_s,
         COALESCE(t.on_call_s, 0) AS on_call_s
  FROM bounds b
  LEFT JOIN breaks br ON br.schedule_id = b.schedule_id AND br.shift_no = b.shift_no AND br.interval_start = b.interval_start
  LEFT JOIN sessions se ON se.schedule_id = b.schedule_id AND se.shift_no = b.shift_no AND se.interval_start = b.interval_start
  LEFT JOIN talk t ON t.schedule_id = b.schedule_id AND t.shift_no = b.shift_no AND t.interval_start = b.interval_start
)
SELECT
  schedule_id, version, queues, agent, shift_no, interval_start,
  scheduled_s,
  scheduled_s - break_s AS on_phone_s,
  break_s,
  available_s,
  on_call_s,
  LEAST(scheduled_s - break_s, available_s)
    + LEAST(break_s, GREATEST(0, scheduled_s - available_s)) AS adherent_s,
  CAST(LEAST(scheduled_s - break_s, available_s)
    + LEAST(break_s, GREATEST(0, scheduled_s - available_s)) AS DOUBLE) / NULLIF(scheduled_s, 0) AS adherence,
  CAST(available_s AS DOUBLE) / NULLIF(scheduled_s - break_s, 0) AS conformance
FROM measured
