-- calls: one row per queue visit.
--
-- A visit is keyed by (callid, queue, visit_no): the same uniqueid can
-- enter several queues (transfers) or the same queue twice. Where
-- (callid, queue) entered once, all its events are that visit (visit_no 1).
-- Where it entered more than once, visit_no counts its ENTERQUEUE lines in
-- log order, and a DID line belongs to the ENTERQUEUE that follows it. Events logged for a (callid, queue)
-- with no ENTERQUEUE in the lake (file not ingested, Asterisk issue #759)
-- form visit 0, kept when they show an answer or an exit, with enter_ts
-- derived from the logged wait (entered_logged = false).
--
-- Payload shapes (formats.md §1.5): CONNECT holdtime|uid|ringtime;
-- COMPLETE* holdtime|calltime|origpos; ABANDON / EXITWITHTIMEOUT /
-- EXITEMPTY / WITHDRAW position|origpos|waittime[|info]; EXITWITHKEY
-- key|position|origpos|waittime; TRANSFER / BLINDTRANSFER
-- exten|context|holdtime|calltime|origpos; ATTENDEDTRANSFER
-- method|data|holdtime|calltime|origpos, or LINK|chan1|chan2|holdtime|calltime|origpos
-- (data5 then holds "calltime|origpos"). Older versions omit trailing fields;
-- the view falls back to timestamps where a duration is missing.
WITH ev AS (
  SELECT callid, queue, agent, event, ts, data1, data2, data3, data4, data5, source, byte_offset
  FROM queue_log
  WHERE event IN ('ENTERQUEUE', 'DID', 'CONNECT', 'ABANDON', 'EXITWITHTIMEOUT', 'EXITWITHKEY',
                  'EXITEMPTY', 'WITHDRAW', 'COMPLETECALLER', 'COMPLETEAGENT', 'TRANSFER',
                  'BLINDTRANSFER', 'ATTENDEDTRANSFER', 'RINGNOANSWER', 'RINGCANCELED')
    AND queue <> 'NONE'
    AND callid NOT IN ('NONE', 'MANAGER', 'REALTIME', 'CLI')
),
multi_visit AS (
  -- (callid, queue) pairs that entered more than once: only these need
  -- ordering (a window over every event would cost ten times the rest)
  SELECT callid AS m_callid, queue AS m_queue
  FROM ev
  WHERE event = 'ENTERQUEUE'
  GROUP BY callid, queue
  HAVING COUNT(*) > 1
),
numbered AS (
  SELECT callid, queue, agent, event, ts, data1, data2, data3, data4, data5, source, byte_offset,
    CAST(1 AS BIGINT) AS visit_no
  FROM multi_visit RIGHT ANTI JOIN ev ON ev.callid = m_callid AND ev.queue = m_queue
  UNION ALL
  SELECT callid, queue, agent, event, ts, data1, data2, data3, data4, data5, source, byte_offset,
    SUM(CASE WHEN event = 'ENTERQUEUE' THEN 1 ELSE 0 END)
      OVER (PARTITION BY callid, queue ORDER BY ts, source, byte_offset
            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
    + CASE WHEN event = 'DID' THEN 1 ELSE 0 END AS visit_no
  FROM multi_visit RIGHT SEMI JOIN ev ON ev.callid = m_callid AND ev.queue = m_queue
),
visit AS (
  SELECT
    callid, queue, visit_no,
    SUM(CASE WHEN event = 'ENTERQUEUE' THEN 1 ELSE 0 END) AS enters,
    MIN(CASE WHEN event = 'ENTERQUEUE' THEN ts END) AS enter_logged_ts,
    MAX(CASE WHEN event = 'ENTERQUEUE' THEN data2 END) AS caller_id,
    MAX(CASE WHEN event = 'ENTERQUEUE' THEN TRY_CAST(data3 AS BIGINT) END) AS enter_position,
    MAX(CASE WHEN event = 'DID' THEN data1 END) AS did,
    MIN(CASE WHEN event = 'CONNECT' THEN ts END) AS connect_ts,
    MIN(CASE WHEN event = 'CONNECT' THEN TRY_CAST(data1 AS BIGINT) END) AS connect_hold_s,
    MIN(CASE WHEN event = 'CONNECT' THEN TRY_CAST(data3 AS BIGINT) END) AS connect_ring_s,
    MIN(CASE WHEN event = 'CONNECT' THEN agent END) AS connect_agent,
    MIN(CASE WHEN event IN ('ABANDON', 'EXITWITHTIMEOUT', 'EXITWITHKEY', 'EXITEMPTY', 'WITHDRAW') THEN event END) AS exit_event,
    MIN(CASE WHEN event IN ('ABANDON', 'EXITWITHTIMEOUT', 'EXITWITHKEY', 'EXITEMPTY', 'WITHDRAW') THEN ts END) AS exit_ts,
    MIN(CASE WHEN event = 'EXITWITHKEY' THEN TRY_CAST(data4 AS BIGINT)
             WHEN event IN ('ABANDON', 'EXITWITHTIMEOUT', 'EXITEMPTY', 'WITHDRAW') THEN TRY_CAST(data3 AS BIGINT) END) AS exit_wait_s,
    MIN(CASE WHEN event = 'EXITWITHKEY' THEN TRY_CAST(data2 AS BIGINT)
             WHEN event IN ('ABANDON', 'EXITWITHTIMEOUT', 'EXITEMPTY', 'WITHDRAW') THEN TRY_CAST(data1 AS BIGINT) END) AS exit_position,
    MIN(CASE WHEN event = 'EXITWITHKEY' THEN TRY_CAST(data3 AS BIGINT)
             WHEN event IN ('ABANDON', 'EXITWITHTIMEOUT', 'EXITEMPTY', 'WITHDRAW') THEN TRY_CAST(data2 AS BIGINT) END) AS exit_orig_position,
    MIN(CASE WHEN event = 'EXITWITHKEY' THEN data1 END) AS exit_key,
    MIN(CASE WHEN event IN ('COMPLETECALLER', 'COMPLETEAGENT', 'TRANSFER', 'BLINDTRANSFER', 'ATTENDEDTRANSFER') THEN ts END) AS end_ts,
    MIN(CASE WHEN event IN ('COMPLETECALLER', 'COMPLETEAGENT', 'TRANSFER', 'BLINDTRANSFER', 'ATTENDEDTRANSFER') THEN event END) AS end_event,
    MIN(CASE WHEN event IN ('COMPLETECALLER', 'COMPLETEAGENT') THEN TRY_CAST(data2 AS BIGINT)
             WHEN event IN ('TRANSFER', 'BLINDTRANSFER') THEN TRY_CAST(data4 AS BIGINT)
             WHEN event = 'ATTENDEDTRANSFER' AND data1 = 'LINK' THEN TRY_CAST(split_part(data5, '|', 1) AS BIGINT)
             WHEN event = 'ATTENDEDTRANSFER' THEN TRY_CAST(data4 AS BIGINT) END) AS talk_logged_s,
    MIN(CASE WHEN event IN ('COMPLETECALLER', 'COMPLETEAGENT') THEN TRY_CAST(data3 AS BIGINT) END) AS complete_orig_position,
    SUM(CASE WHEN event = 'RINGNOANSWER' THEN 1 ELSE 0 END) AS ring_no_answer,
    MIN(source) AS source,
    MIN(byte_offset) AS first_byte_offset
  FROM numbered
  GROUP BY callid, queue, visit_no
)
SELECT
  callid,
  queue,
  CAST(CASE WHEN enters = 0 AND visit_no = 1 THEN 0 ELSE visit_no END AS BIGINT) AS visit_no,
  COALESCE(
    enter_logged_ts,
    connect_ts - arrow_cast(connect_hold_s * 1000000, 'Duration(Microsecond)'),
    exit_ts - arrow_cast(exit_wait_s * 1000000, 'Duration(Microsecond)'),
    connect_ts,
    exit_ts
  ) AS enter_ts,
  enters > 0 AS entered_logged,
  CASE
    WHEN connect_ts IS NOT NULL THEN 'answered'
    WHEN exit_event = 'ABANDON' THEN 'abandoned'
    WHEN exit_event = 'EXITWITHTIMEOUT' THEN 'timeout'
    WHEN exit_event = 'EXITWITHKEY' THEN 'exit_key'
    WHEN exit_event = 'EXITEMPTY' THEN 'exit_empty'
    WHEN exit_event = 'WITHDRAW' THEN 'withdrawn'
    ELSE 'waiting'
  END AS outcome,
  CAST(CASE
    WHEN connect_ts IS NOT NULL THEN COALESCE(connect_hold_s, date_part('epoch', connect_ts - enter_logged_ts))
    WHEN exit_ts IS NOT NULL THEN COALESCE(exit_wait_s, date_part('epoch', exit_ts - enter_logged_ts))
  END AS BIGINT) AS wait_s,
  CAST(CASE
    WHEN connect_ts IS NOT NULL THEN COALESCE(talk_logged_s, date_part('epoch', end_ts - connect_ts))
  END AS BIGINT) AS talk_s,
  connect_ring_s AS ring_s,
  connect_agent AS agent,
  connect_ts,
  COALESCE(end_ts, exit_ts) AS end_ts,
  end_event,
  end_event IN ('TRANSFER', 'BLINDTRANSFER', 'ATTENDEDTRANSFER') AS transferred,
  exit_position AS position,
  COALESCE(enter_position, exit_orig_position, complete_orig_position) AS orig_position,
  exit_key,
  caller_id,
  did,
  ring_no_answer,
  source,
  first_byte_offset
FROM visit
WHERE enters > 0 OR connect_ts IS NOT NULL OR exit_ts IS NOT NULL
