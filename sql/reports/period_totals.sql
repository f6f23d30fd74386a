-- title: Totals
-- show: summary
-- The period's headline figures over the report's queues. Service level
-- as in interval_stats: answered within the threshold over offered minus
-- short abandons.
SELECT
  CAST(COALESCE(SUM(offered), 0) AS BIGINT) AS offered,
  CAST(COALESCE(SUM(answered), 0) AS BIGINT) AS answered,
  CAST(COALESCE(SUM(abandoned), 0) AS BIGINT) AS abandoned,
  CAST(SUM(answered_within_sl) AS DOUBLE) / NULLIF(SUM(offered) - SUM(short_abandoned), 0) AS service_level,
  CAST(SUM(abandoned) AS DOUBLE) / NULLIF(SUM(offered), 0) AS abandon_rate,
  SUM(asa_s * answered) / NULLIF(SUM(answered), 0) AS asa_s,
  SUM(aht_s * answered) / NULLIF(SUM(answered), 0) AS aht_s,
  MAX(max_wait_s) AS max_wait_s
FROM interval_stats
WHERE interval_start >= $period_start AND interval_start < $period_end
