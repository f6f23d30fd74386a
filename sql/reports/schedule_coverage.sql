-- title: Schedule coverage
-- chart: bar x=queues y=required_h,scheduled_h
-- Per team, the latest published version of each schedule over the
-- period's intervals: agent-hours required and scheduled, short (under
-- the requirement) and surplus, and the share of intervals fully covered.
WITH latest AS (
  SELECT schedule_id, MAX(version) AS version FROM schedules GROUP BY schedule_id
),
c AS (
  SELECT c.queues, c.schedule_id, c.version, c.interval_start, c.required, c.scheduled, s.interval_s
  FROM schedule_coverage c
  JOIN latest l ON c.schedule_id = l.schedule_id AND c.version = l.version
  JOIN schedules s ON s.schedule_id = c.schedule_id AND s.version = c.version
  WHERE c.interval_start >= $period_start AND c.interval_start < $period_end
)
SELECT
  queues,
  MIN(schedule_id) AS schedule_id,
  MAX(version) AS version,
  COUNT(*) AS intervals,
  SUM(required * interval_s) / 3600.0 AS required_h,
  SUM(scheduled * interval_s) / 3600.0 AS scheduled_h,
  SUM(CASE WHEN scheduled < required THEN (required - scheduled) * interval_s ELSE 0 END) / 3600.0 AS short_h,
  SUM(CASE WHEN scheduled > required THEN (scheduled - required) * interval_s ELSE 0 END) / 3600.0 AS surplus_h,
  AVG(CASE WHEN scheduled >= required THEN 1.0 ELSE 0.0 END) AS covered_share
FROM c
GROUP BY queues
ORDER BY queues
