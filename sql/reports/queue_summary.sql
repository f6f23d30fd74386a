-- title: Queues
-- chart: bar x=queue y=offered,answered,abandoned
-- One row per queue over the period.
SELECT
  queue,
  CAST(SUM(offered) AS BIGINT) AS offered,
  CAST(SUM(answered) AS BIGINT) AS answered,
  CAST(SUM(abandoned) AS BIGINT) AS abandoned,
  CAST(SUM(short_abandoned) AS BIGINT) AS short_abandoned,
  CAST(SUM(answered_within_sl) AS DOUBLE) / NULLIF(SUM(offered) - SUM(short_abandoned), 0) AS service_level,
  CAST(SUM(abandoned) AS DOUBLE) / NULLIF(SUM(offered), 0) AS abandon_rate,
  SUM(asa_s * answered) / NULLIF(SUM(answered), 0) AS asa_s,
  SUM(aht_s * answered) / NULLIF(SUM(answered), 0) AS aht_s,
  MAX(max_wait_s) AS max_wait_s
FROM interval_stats
WHERE interval_start >= $period_start AND interval_start < $period_end
GROUP BY queue
ORDER BY queue
