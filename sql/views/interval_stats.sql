-- interval_stats: KPIs per queue and interval of entry.
--
-- Intervals are {{interval_minutes}} minutes on the wall clock of
-- {{time_zone}}, DST included: interval_start is the UTC instant at which
-- the local interval began (two local 01:00 intervals on a DST fall-back
-- night stay two rows). A visit counts in the interval it entered.
-- service_level = answered_within_sl / (offered - short_abandoned), with
-- answered_within_sl = answered with wait <= {{sl_threshold_s}} s and
-- short_abandoned = abandoned with wait < {{short_abandon_s}} s.
-- aht_s = mean talk time of answered visits + {{acw_s}} s after-call work.
WITH c AS (
  SELECT
    queue, outcome, wait_s, talk_s,
    enter_ts - (to_local_time(enter_ts AT TIME ZONE '{{time_zone}}')
                - date_bin(INTERVAL '{{interval_minutes}} minutes',
                           to_local_time(enter_ts AT TIME ZONE '{{time_zone}}'),
                           TIMESTAMP '2000-01-01 00:00:00')) AS interval_start
  FROM calls
)
SELECT
  queue,
  interval_start,
  COUNT(*) AS offered,
  SUM(CASE WHEN outcome = 'answered' THEN 1 ELSE 0 END) AS answered,
  SUM(CASE WHEN outcome = 'abandoned' THEN 1 ELSE 0 END) AS abandoned,
  SUM(CASE WHEN outcome = 'abandoned' AND wait_s < {{short_abandon_s}} THEN 1 ELSE 0 END) AS short_abandoned,
  SUM(CASE WHEN outcome = 'timeout' THEN 1 ELSE 0 END) AS timed_out,
  SUM(CASE WHEN outcome IN ('exit_key', 'exit_empty', 'withdrawn') THEN 1 ELSE 0 END) AS other_exits,
  SUM(CASE WHEN outcome = 'answered' AND wait_s <= {{sl_threshold_s}} THEN 1 ELSE 0 END) AS answered_within_sl,
  CAST(SUM(CASE WHEN outcome = 'answered' AND wait_s <= {{sl_threshold_s}} THEN 1 ELSE 0 END) AS DOUBLE)
    / NULLIF(COUNT(*) - SUM(CASE WHEN outcome = 'abandoned' AND wait_s < {{short_abandon_s}} THEN 1 ELSE 0 END), 0)
    AS service_level,
  AVG(CASE WHEN outcome = 'answered' THEN CAST(wait_s AS DOUBLE) END) AS asa_s,
  AVG(CASE WHEN outcome = 'answered' THEN CAST(talk_s AS DOUBLE) END) + {{acw_s}} AS aht_s,
  MAX(wait_s) AS max_wait_s
FROM c
GROUP BY queue, interval_start
