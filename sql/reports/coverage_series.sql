-- title: Coverage by interval
-- chart: line x=interval_start y=required,scheduled
-- Agents required and scheduled per interval, summed over the teams'
-- latest published versions.
WITH latest AS (
  SELECT schedule_id, MAX(version) AS version FROM schedules GROUP BY schedule_id
)
SELECT
  c.interval_start,
  SUM(c.required) AS required,
  SUM(c.scheduled) AS scheduled
FROM schedule_coverage c
JOIN latest l ON c.schedule_id = l.schedule_id AND c.version = l.version
WHERE c.interval_start >= $period_start AND c.interval_start < $period_end
GROUP BY c.interval_start
ORDER BY c.interval_start
