-- title: Calls by interval
-- chart: line x=interval_start y=offered,answered,abandoned
-- Every interval of the period with calls, summed over the report's queues.
SELECT
  interval_start,
  CAST(SUM(offered) AS BIGINT) AS offered,
  CAST(SUM(answered) AS BIGINT) AS answered,
  CAST(SUM(abandoned) AS BIGINT) AS abandoned,
  CAST(SUM(answered_within_sl) AS DOUBLE) / NULLIF(SUM(offered) - SUM(short_abandoned), 0) AS service_level,
  SUM(asa_s * answered) / NULLIF(SUM(answered), 0) AS asa_s,
  MAX(max_wait_s) AS max_wait_s
FROM interval_stats
WHERE interval_start >= $period_start AND interval_start < $period_end
GROUP BY interval_start
ORDER BY interval_start
