-- campaign_abandon: per outbound campaign and local day ({{time_zone}}),
-- the calls a person answered (live-answered: the call entered a queue)
-- and those abandoned under the 2-second rule (not connected to an agent
-- within 2 s: left the queue after 2 s or more, or answered after more
-- than 2 s), with the day's rate and the rolling rate over the campaign's
-- window (its last window_days local days, that day included).
--
-- Visits come from queue_log (`calls`), so a call counts even when the
-- AMI link was down while it happened. A visit is the campaign's when its
-- uniqueid was tagged on AMI (a VarSet of QL_CAMPAIGN, or any event's
-- ChanVariable: the dialer sets it on Originate, Asterisk reports it with
-- channelvars), or — when AMI never saw the call join a queue — when it
-- entered the queue the campaign's rule names (the campaign with the
-- lowest name, if several share it).
-- machine_answered counts the answers the dialplan's AMD() found to be
-- machines (VarSet AMDSTATUS=MACHINE, AMI only);
-- abandon_rate_window_amd_adjusted puts them in the denominator, as rules
-- that allow it do.
-- target, margin and window_days are the campaign's rule ([[pacing.campaigns]];
-- otherwise {{default_target}}, {{default_margin}}, {{default_window_days}} days).
-- status: 'over' above the target over the window, 'near' above
-- target × (1 − margin), else 'ok'.
WITH rules AS (
  {{campaign_rules}}
),
queue_rules AS (
  SELECT queue, MIN(campaign) AS campaign FROM rules WHERE queue IS NOT NULL GROUP BY queue
),
tag_events AS (
  SELECT uniqueid,
    CASE WHEN event = 'VarSet' AND fields['Variable'] = 'QL_CAMPAIGN' THEN fields['Value']
         ELSE regexp_match(fields['ChanVariable'], 'QL_CAMPAIGN=([^\n]+)')[1] END AS campaign
  FROM ami_events
  WHERE uniqueid IS NOT NULL
    AND event IN ('VarSet', 'Newstate', 'QueueCallerJoin', 'QueueCallerAbandon', 'QueueCallerLeave', 'Hangup')
),
tagged AS (
  SELECT uniqueid, MIN(campaign) AS campaign
  FROM tag_events
  WHERE campaign IS NOT NULL AND campaign <> ''
  GROUP BY uniqueid
),
joined AS (
  SELECT DISTINCT uniqueid FROM ami_events WHERE event = 'QueueCallerJoin' AND uniqueid IS NOT NULL
),
visits AS (
  SELECT COALESCE(t.campaign, r.campaign) AS campaign,
    to_local_time(c.enter_ts AT TIME ZONE '{{time_zone}}') AS local_ts,
    (c.outcome = 'answered' AND c.wait_s > 2) OR (c.outcome <> 'answered' AND c.wait_s >= 2) AS abandoned
  FROM calls c
  LEFT JOIN tagged t ON t.uniqueid = c.callid
  LEFT JOIN joined j ON j.uniqueid = c.callid
  LEFT JOIN queue_rules r ON r.queue = c.queue
  WHERE t.campaign IS NOT NULL OR (j.uniqueid IS NULL AND r.campaign IS NOT NULL)
),
machines AS (
  SELECT t.campaign, to_local_time(e.ts AT TIME ZONE '{{time_zone}}') AS local_ts
  FROM ami_events e
  JOIN tagged t ON t.uniqueid = e.uniqueid
  WHERE e.event = 'VarSet' AND e.fields['Variable'] = 'AMDSTATUS' AND e.fields['Value'] = 'MACHINE'
),
daily_visits AS (
  SELECT campaign, CAST(local_ts AS DATE) AS day,
    COUNT(*) AS live_answered,
    SUM(CASE WHEN abandoned THEN 1 ELSE 0 END) AS abandoned
  FROM visits
  GROUP BY campaign, CAST(local_ts AS DATE)
),
daily_machines AS (
  SELECT campaign, CAST(local_ts AS DATE) AS day, COUNT(*) AS machine_answered
  FROM machines
  GROUP BY campaign, CAST(local_ts AS DATE)
),
daily AS (
  SELECT COALESCE(v.campaign, m.campaign) AS campaign,
    COALESCE(v.day, m.day) AS day,
    CAST(COALESCE(v.live_answered, 0) AS BIGINT) AS live_answered,
    CAST(COALESCE(v.abandoned, 0) AS BIGINT) AS abandoned,
    CAST(COALESCE(m.machine_answered, 0) AS BIGINT) AS machine_answered
  FROM daily_visits v
  FULL JOIN daily_machines m ON m.campaign = v.campaign AND m.day = v.day
),
judged AS (
  SELECT d.campaign, d.day, d.live_answered, d.abandoned, d.machine_answered,
    CAST(date_part('epoch', CAST(d.day AS TIMESTAMP)) / 86400 AS BIGINT) AS day_n,
    COALESCE(r.target, {{default_target}}) AS target,
    COALESCE(r.margin, {{default_margin}}) AS margin,
    COALESCE(r.window_days, {{default_window_days}}) AS window_days
  FROM daily d
  LEFT JOIN rules r ON r.campaign = d.campaign
),
windowed AS (
  SELECT d.campaign, d.day, d.live_answered, d.abandoned, d.machine_answered,
    d.target, d.margin, d.window_days,
    SUM(w.live_answered) AS live_answered_window,
    SUM(w.abandoned) AS abandoned_window,
    SUM(w.machine_answered) AS machine_answered_window
  FROM judged d
  JOIN judged w
    ON w.campaign = d.campaign AND w.day_n <= d.day_n AND w.day_n > d.day_n - d.window_days
  GROUP BY d.campaign, d.day, d.live_answered, d.abandoned, d.machine_answered,
    d.target, d.margin, d.window_days
)
SELECT campaign, day, live_answered, abandoned, machine_answered,
  CAST(abandoned AS DOUBLE) / NULLIF(live_answered, 0) AS abandon_rate_day,
  window_days, live_answered_window, abandoned_window,
  CAST(abandoned_window AS DOUBLE) / NULLIF(live_answered_window, 0) AS abandon_rate_window,
  CAST(abandoned_window AS DOUBLE) / NULLIF(live_answered_window + machine_answered_window, 0)
    AS abandon_rate_window_amd_adjusted,
  target,
  CASE
    WHEN CAST(abandoned_window AS DOUBLE) / NULLIF(live_answered_window, 0) > target THEN 'over'
    WHEN CAST(abandoned_window AS DOUBLE) / NULLIF(live_answered_window, 0) > target * (1 - margin) THEN 'near'
    ELSE 'ok'
  END AS status
FROM windowed
