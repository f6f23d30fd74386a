-- title: Forecast accuracy
-- chart: bar x=queue y=forecast,actual
-- Per queue, the latest forecast run with intervals in the period against
-- the calls offered in them. A run forecasts only intervals after the
-- history it was made from, so every one of them was forecast ex ante. WAPE = sum |forecast -
-- actual| / sum actual; bias = (sum forecast - sum actual) / sum actual;
-- coverage_90 = share of intervals whose actual fell in the 90 % interval.
WITH run AS (
  SELECT queue, MAX(created_at) AS created_at
  FROM forecasts
  WHERE interval_start >= $period_start AND interval_start < $period_end
  GROUP BY queue
),
f AS (
  SELECT f.run_id, f.queue, f.interval_start, f.volume, f.volume_lo, f.volume_hi, f.model
  FROM forecasts f JOIN run r ON f.queue = r.queue AND f.created_at = r.created_at
  WHERE f.interval_start >= $period_start AND f.interval_start < $period_end
),
a AS (
  SELECT queue, interval_start, offered FROM interval_stats
  WHERE interval_start >= $period_start AND interval_start < $period_end
)
SELECT
  f.queue,
  MIN(f.run_id) AS run_id,
  MIN(f.model) AS model,
  COUNT(*) AS intervals,
  SUM(f.volume) AS forecast,
  CAST(SUM(COALESCE(a.offered, 0)) AS DOUBLE) AS actual,
  SUM(abs(f.volume - COALESCE(a.offered, 0))) / NULLIF(SUM(COALESCE(a.offered, 0)), 0) AS wape,
  (SUM(f.volume) - SUM(COALESCE(a.offered, 0))) / NULLIF(SUM(COALESCE(a.offered, 0)), 0) AS bias,
  AVG(CASE WHEN COALESCE(a.offered, 0) BETWEEN f.volume_lo AND f.volume_hi THEN 1.0 ELSE 0.0 END) AS coverage_90
FROM f LEFT JOIN a ON f.queue = a.queue AND f.interval_start = a.interval_start
GROUP BY f.queue
ORDER BY f.queue
