-- agent_sessions: one row per period of a member's membership, login or
-- pause.
--
--   kind        opened by                   closed by
--   membership  ADDMEMBER (per queue)       REMOVEMEMBER
--   login       AGENTLOGIN, AGENTCALLBACKLOGIN   AGENTLOGOFF, AGENTCALLBACKLOGOFF
--   pause       PAUSE (per queue)           UNPAUSE
--   pause_all   PAUSEALL (no queue)         UNPAUSEALL
--
-- Asterisk logs PAUSE/UNPAUSE per queue even for a pause-all request, so
-- pause_all rows repeat what pause rows already hold; sum one or the other.
-- A period opened again before it was closed (a re-pause with a new reason,
-- members re-added after a restart) ends where the next one starts
-- (closed_by = 'reopened'); a period not closed yet has end_ts NULL
-- (closed_by = 'open').
--
-- Members appear under two names: the interface (ADDMEMBER, REMOVEMEMBER)
-- and the member name (PAUSE, CONNECT, …). When Asterisk adds a member it
-- logs the member-name (UN)PAUSE(ALL) lines in the same second right after
-- the ADDMEMBER; that pairing gives each membership its member_name, and
-- each pause the interface of the membership it falls in. `member` is the
-- lower-cased member name where known, else the lower-cased agent.
WITH ev AS (
  SELECT ts, source, byte_offset, queue, agent, event, data1, data3,
    CASE
      WHEN event IN ('ADDMEMBER', 'REMOVEMEMBER') THEN 'membership'
      WHEN event IN ('AGENTLOGIN', 'AGENTLOGOFF', 'AGENTCALLBACKLOGIN', 'AGENTCALLBACKLOGOFF') THEN 'login'
      WHEN event IN ('PAUSE', 'UNPAUSE') THEN 'pause'
      ELSE 'pause_all'
    END AS kind,
    event IN ('ADDMEMBER', 'AGENTLOGIN', 'AGENTCALLBACKLOGIN', 'PAUSE', 'PAUSEALL') AS opens
  FROM queue_log
  WHERE event IN ('ADDMEMBER', 'REMOVEMEMBER', 'AGENTLOGIN', 'AGENTLOGOFF', 'AGENTCALLBACKLOGIN',
                  'AGENTCALLBACKLOGOFF', 'PAUSE', 'UNPAUSE', 'PAUSEALL', 'UNPAUSEALL')
),
paired AS (
  SELECT *,
    LEAD(ts) OVER (PARTITION BY kind, lower(agent), queue ORDER BY ts, source, byte_offset) AS next_ts,
    LEAD(event) OVER (PARTITION BY kind, lower(agent), queue ORDER BY ts, source, byte_offset) AS next_event,
    LEAD(opens) OVER (PARTITION BY kind, lower(agent), queue ORDER BY ts, source, byte_offset) AS next_opens,
    LEAD(data1) OVER (PARTITION BY kind, lower(agent), queue ORDER BY ts, source, byte_offset) AS next_data1,
    LEAD(data3) OVER (PARTITION BY kind, lower(agent), queue ORDER BY ts, source, byte_offset) AS next_data3
  FROM ev
),
periods AS (
  SELECT kind, agent, queue, ts AS start_ts, next_ts AS end_ts, event AS start_event, next_event AS end_event,
    CASE WHEN next_ts IS NULL THEN 'open' WHEN next_opens THEN 'reopened' ELSE 'closed' END AS closed_by,
    CASE
      WHEN kind IN ('pause', 'pause_all') THEN NULLIF(data1, '')
      WHEN event = 'AGENTLOGIN' THEN NULLIF(data1, '')
      WHEN next_event = 'AGENTCALLBACKLOGOFF' THEN NULLIF(next_data3, '')
    END AS reason,
    source, byte_offset
  FROM paired
  WHERE opens
),
member_names AS (
  -- the member-name line logged right after each ADDMEMBER, same second
  SELECT m.source, m.byte_offset, first_value(p.agent ORDER BY p.byte_offset) AS member_name
  FROM periods m
  JOIN ev p
    ON p.source = m.source AND p.ts = m.start_ts AND p.byte_offset > m.byte_offset
   AND p.kind IN ('pause', 'pause_all') AND (p.queue = m.queue OR p.queue = 'NONE')
   AND p.agent <> m.agent
  WHERE m.kind = 'membership'
  GROUP BY m.source, m.byte_offset
),
memberships AS (
  SELECT p.agent AS interface, p.queue, p.start_ts, p.end_ts, n.member_name
  FROM periods p JOIN member_names n ON n.source = p.source AND n.byte_offset = p.byte_offset
  WHERE p.kind = 'membership'
),
pause_interfaces AS (
  -- the membership each login or pause falls in, by member name
  SELECT p.source, p.byte_offset, MIN(ms.interface) AS interface
  FROM periods p
  JOIN memberships ms
    ON lower(ms.member_name) = lower(p.agent)
   AND (ms.queue = p.queue OR p.queue = 'NONE')
   AND p.start_ts >= ms.start_ts AND (ms.end_ts IS NULL OR p.start_ts <= ms.end_ts)
  WHERE p.kind <> 'membership'
  GROUP BY p.source, p.byte_offset
),
named AS (
  SELECT p.*,
    CASE WHEN p.kind = 'membership' THEN n.member_name ELSE p.agent END AS member_name,
    CASE WHEN p.kind = 'membership' THEN p.agent ELSE pi.interface END AS interface
  FROM periods p
  LEFT JOIN member_names n ON n.source = p.source AND n.byte_offset = p.byte_offset
  LEFT JOIN pause_interfaces pi ON pi.source = p.source AND pi.byte_offset = p.byte_offset
)
SELECT
  lower(COALESCE(member_name, agent)) AS member,
  agent,
  member_name,
  interface,
  NULLIF(queue, 'NONE') AS queue,
  kind,
  start_ts,
  end_ts,
  CAST(date_part('epoch', end_ts - start_ts) AS BIGINT) AS duration_s,
  reason,
  start_event,
  end_event,
  closed_by,
  source,
  byte_offset
FROM named
