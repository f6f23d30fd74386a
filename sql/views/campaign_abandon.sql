-- campaign_abandon: per outbound campaign and UTC day, the calls a person
-- answered (live-answered: the call joined the campaign's queue) and those
-- abandoned under the 2-second rule (left the queue after waiting 2 s or
-- more without an agent: the dialer's drops, or people who gave up after
-- the window), with the day's rate and the rolling 30-day rate ending that
-- day. A campaign is named by its channels' QL_CAMPAIGN variable (the
-- dialer sets it on Originate; Asterisk reports it with channelvars).
-- machine_answered counts the answers the dialplan's AMD() found to be
-- machines (VarSet AMDSTATUS=MACHINE); abandon_rate_30d_amd_adjusted puts
-- them in the denominator, as rules that allow it do.
-- status: 'over' above 3 % over 30 days, 'near' above 2.7 %, else 'ok'.
WITH ev AS (
  SELECT ts, event,
         regexp_match(fields['ChanVariable'], 'QL_CAMPAIGN=([^\n]+)')[1] AS campaign,
         TRY_CAST(fields['HoldTime'] AS BIGINT) AS hold_s,
         event = 'VarSet' AND fields['Variable'] = 'AMDSTATUS' AND fields['Value'] = 'MACHINE' AS machine
  FROM ami_events
  WHERE event IN ('QueueCallerJoin', 'QueueCallerAbandon', 'VarSet')
),
daily AS (
  SELECT campaign, date_trunc('day', ts) AS day,
    SUM(CASE WHEN event = 'QueueCallerJoin' THEN 1 ELSE 0 END) AS live_answered,
    SUM(CASE WHEN event = 'QueueCallerAbandon' AND hold_s >= 2 THEN 1 ELSE 0 END) AS abandoned,
    SUM(CASE WHEN machine THEN 1 ELSE 0 END) AS machine_answered
  FROM ev
  WHERE campaign IS NOT NULL
  GROUP BY campaign, date_trunc('day', ts)
),
windowed AS (
  SELECT d.campaign, d.day, d.live_answered, d.abandoned, d.machine_answered,
         SUM(w.live_answered) AS live_answered_30d,
         SUM(w.abandoned) AS abandoned_30d,
         SUM(w.machine_answered) AS machine_answered_30d
  FROM daily d
  JOIN daily w
    ON w.campaign = d.campaign AND w.day <= d.day AND w.day > d.day - INTERVAL '30 days'
  GROUP BY d.campaign, d.day, d.live_answered, d.abandoned, d.machine_answered
)
SELECT campaign, day, live_answered, abandoned, machine_answered,
  CAST(abandoned AS DOUBLE) / NULLIF(live_answered, 0) AS abandon_rate_day,
  live_answered_30d, abandoned_30d,
  CAST(abandoned_30d AS DOUBLE) / NULLIF(live_answered_30d, 0) AS abandon_rate_30d,
  CAST(abandoned_30d AS DOUBLE) / NULLIF(live_answered_30d + machine_answered_30d, 0)
    AS abandon_rate_30d_amd_adjusted,
  CASE
    WHEN CAST(abandoned_30d AS DOUBLE) / NULLIF(live_answered_30d, 0) > 0.03 THEN 'over'
    WHEN CAST(abandoned_30d AS DOUBLE) / NULLIF(live_answered_30d, 0) > 0.027 THEN 'near'
    ELSE 'ok'
  END AS status
FROM windowed
