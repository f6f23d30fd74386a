-- title: Agents
-- chart: bar x=agent y=answered
-- One row per agent who answered calls in the period: calls, talk and
-- ring times, and the hours the agent was a queue member and paused
-- (periods clipped to the period; an agent in several queues counts the
-- queue with the most hours, as Asterisk logs a member per queue).
WITH answered AS (
  SELECT lower(agent) AS member,
    COUNT(*) AS answered,
    SUM(talk_s) AS talk_s,
    AVG(CAST(talk_s AS DOUBLE)) AS avg_talk_s,
    AVG(CAST(ring_s AS DOUBLE)) AS avg_ring_s,
    SUM(CASE WHEN transferred THEN 1 ELSE 0 END) AS transferred
  FROM calls
  WHERE outcome = 'answered' AND agent IS NOT NULL
    AND enter_ts >= $period_start AND enter_ts < $period_end
  GROUP BY lower(agent)
),
clipped AS (
  SELECT member, queue, kind,
    date_part('epoch', LEAST(COALESCE(end_ts, $period_end), $period_end)
                       - GREATEST(start_ts, $period_start)) AS seconds
  FROM agent_sessions
  WHERE kind IN ('membership', 'pause')
    AND start_ts < $period_end AND COALESCE(end_ts, $period_end) > $period_start
),
per_queue AS (
  SELECT member, queue,
    SUM(CASE WHEN kind = 'membership' THEN seconds ELSE 0 END) AS member_s,
    SUM(CASE WHEN kind = 'pause' THEN seconds ELSE 0 END) AS paused_s
  FROM clipped GROUP BY member, queue
),
presence AS (
  SELECT member, MAX(member_s) AS member_s, MAX(paused_s) AS paused_s
  FROM per_queue GROUP BY member
)
SELECT
  a.member AS agent,
  a.answered,
  a.transferred,
  a.talk_s / 3600.0 AS talk_h,
  a.avg_talk_s,
  a.avg_ring_s,
  p.member_s / 3600.0 AS logged_in_h,
  p.paused_s / 3600.0 AS paused_h,
  a.talk_s / NULLIF(p.member_s - p.paused_s, 0) AS occupancy
FROM answered a LEFT JOIN presence p ON a.member = p.member
ORDER BY a.answered DESC, a.member
