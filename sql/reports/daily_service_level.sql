-- title: Service level by day
-- chart: line x=day y=service_level
-- One row per local day of the period, over the report's queues.
SELECT
  date_trunc('day', to_local_time(interval_start AT TIME ZONE $time_zone)) AS day,
  CAST(SUM(offered) AS BIGINT) AS offered,
  CAST(SUM(answered) AS BIGINT) AS answered,
  CAST(SUM(abandoned) AS BIGINT) AS abandoned,
  CAST(SUM(answered_within_sl) AS DOUBLE) / NULLIF(SUM(offered) - SUM(short_abandoned), 0) AS service_level,
  CAST(SUM(abandoned) AS DOUBLE) / NULLIF(SUM(offered), 0) AS abandon_rate,
  SUM(asa_s * answered) / NULLIF(SUM(answered), 0) AS asa_s
FROM interval_stats
WHERE interval_start >= $period_start AND interval_start < $period_end
GROUP BY 1
ORDER BY 1
