//! `GET /api/v1/intervals`: one local day's interval KPIs per queue, as
//! `interval_stats` computes them, for every role that reads dashboards
//! (SQL itself is for analysts). The day is the contact center's
//! (`[kpi] time_zone`); the caller's scope decides the queues.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Extension, Query, State};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::error::{AppError, Location, Problem};
use super::{AppState, utc_text};
use crate::auth::Principal;
use crate::planning::decode::{Cells, rows};

/// Query of `GET /api/v1/intervals`.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct IntervalsParams {
    /// The local day, `YYYY-MM-DD` (absent: today on the PBX clock).
    day: Option<String>,
    /// Only this queue (absent: every queue the token sees).
    queue: Option<String>,
}

/// One queue's interval.
#[derive(Debug, Serialize, PartialEq, utoipa::ToSchema)]
pub struct IntervalRow {
    /// The queue.
    pub queue: String,
    /// Start of the interval (RFC 3339, UTC).
    pub interval_start: String,
    /// Visits that entered the queue in it.
    pub offered: i64,
    /// Of those, answered.
    pub answered: i64,
    /// Of those, abandoned.
    pub abandoned: i64,
    /// Abandoned before the short-abandon threshold.
    pub short_abandoned: i64,
    /// Answered within the service-level threshold.
    pub answered_within_sl: i64,
    /// answered_within_sl / (offered − short_abandoned), a share.
    pub service_level: Option<f64>,
    /// Mean wait of answered visits, seconds.
    pub asa_s: Option<f64>,
    /// Mean handle time of answered visits, seconds.
    pub aht_s: Option<f64>,
    /// Longest wait, seconds.
    pub max_wait_s: Option<f64>,
}

/// Answer of `GET /api/v1/intervals`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct IntervalsDocument {
    /// The local day.
    pub day: String,
    /// The contact center's time zone.
    pub time_zone: String,
    /// The day's first instant (RFC 3339, UTC).
    pub start: String,
    /// The next day's first instant (23 or 25 hours later on DST days).
    pub end: String,
    /// Interval length, seconds.
    pub interval_s: i64,
    /// Intervals with calls, by queue and start.
    pub intervals: Vec<IntervalRow>,
}

/// The date `day` names (`YYYY-MM-DD`, 1970 to 2200), or a 422 naming the field.
fn parse_day(day: &str) -> Result<NaiveDate, AppError> {
    let unprocessable = |detail: String| AppError::Unprocessable {
        detail,
        at: Location {
            field: Some("day".into()),
            ..Location::default()
        },
    };
    let date = NaiveDate::parse_from_str(day, "%Y-%m-%d")
        .map_err(|e| unprocessable(format!("day {day:?} is not YYYY-MM-DD: {e}")))?;
    let year = chrono::Datelike::year(&date);
    if !(1970..=2200).contains(&year) {
        return Err(unprocessable(format!(
            "day {day:?}: the year must be 1970 to 2200"
        )));
    }
    Ok(date)
}

/// `GET /api/v1/intervals`: a day's interval KPIs per queue.
#[utoipa::path(
    get,
    path = "/api/v1/intervals",
    tag = "live",
    security(("bearer" = [])),
    params(IntervalsParams),
    responses(
        (status = 200, description = "The day's intervals", body = IntervalsDocument),
        (status = 400, description = "An unknown or malformed query parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or unknown token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token's role may not read dashboards", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The day is not a date from 1970 to 2200 (field `day`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "The token's rate or the query slots are exhausted (see Retry-After)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn intervals(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Arc<Principal>>,
    params: Result<Query<IntervalsParams>, QueryRejection>,
) -> Result<Json<IntervalsDocument>, AppError> {
    let Query(params) = params.map_err(|e| AppError::bad_request(e.body_text()))?;
    let day = match &params.day {
        Some(day) => parse_day(day)?,
        None => state.live.today(),
    };
    let engine = state.session_for(&principal)?;
    let (start, end) = state.live.day_bounds(day);
    let _slot = state.query_slots.acquire().await?;
    let result = engine.query(&day_query(start, end)).await?;
    let intervals = rows(&result.batches, decode)
        .into_iter()
        .filter(|row| params.queue.as_ref().is_none_or(|q| *q == row.queue))
        .collect();
    Ok(Json(IntervalsDocument {
        day: day.format("%Y-%m-%d").to_string(),
        time_zone: state.live.time_zone().to_owned(),
        start: utc_text(start.timestamp_micros()),
        end: utc_text(end.timestamp_micros()),
        interval_s: state.planner.settings().interval_s,
        intervals,
    }))
}

/// The SQL of one day's intervals, columns in [`decode`]'s order.
fn day_query(start: DateTime<Utc>, end: DateTime<Utc>) -> String {
    let fmt = "%Y-%m-%dT%H:%M:%SZ";
    format!(
        "SELECT queue, CAST(interval_start AS BIGINT) AS start_us, \
           CAST(offered AS BIGINT), CAST(answered AS BIGINT), CAST(abandoned AS BIGINT), \
           CAST(short_abandoned AS BIGINT), CAST(answered_within_sl AS BIGINT), \
           CAST(service_level AS DOUBLE), CAST(asa_s AS DOUBLE), CAST(aht_s AS DOUBLE), \
           CAST(max_wait_s AS DOUBLE) \
         FROM interval_stats \
         WHERE interval_start >= TIMESTAMP '{}' AND interval_start < TIMESTAMP '{}' \
         ORDER BY queue, start_us",
        start.format(fmt),
        end.format(fmt)
    )
}

fn decode(c: &Cells<'_>) -> Option<IntervalRow> {
    Some(IntervalRow {
        queue: c.text(0)?,
        interval_start: utc_text(c.int(1)?),
        offered: c.int(2)?,
        answered: c.int(3)?,
        abandoned: c.int(4)?,
        short_abandoned: c.int(5)?,
        answered_within_sl: c.int(6)?,
        service_level: c.float(7),
        asa_s: c.float(8),
        aht_s: c.float(9),
        max_wait_s: c.float(10),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_dates_in_range_and_faults_name_the_field() {
        assert_eq!(
            parse_day("2024-03-05").unwrap(),
            NaiveDate::from_ymd_opt(2024, 3, 5).unwrap()
        );
        for bad in ["2024-02-30", "05/03/2024", "", "1969-12-31", "2201-01-01"] {
            match parse_day(bad) {
                Err(AppError::Unprocessable { detail, at }) => {
                    assert_eq!(at.field.as_deref(), Some("day"), "{bad}");
                    assert!(detail.contains(&format!("{bad:?}")), "{detail}");
                }
                other => panic!("{bad}: {other:?}"),
            }
        }
    }
}
