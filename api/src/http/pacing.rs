//! `GET /api/v1/pacing/{campaign}` (and its SSE stream): how many calls a
//! dialer should place now. Cheap: the estimates are refreshed in the
//! background, so a request reads the live floor, decides and records.
//! `GET /api/v1/pacing` shows every campaign's decision to people
//! without recording it.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Extension, Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::stream::Stream;
use serde::Serialize;

use super::AppState;
use super::error::{AppError, Problem};
use crate::auth::Principal;
use crate::pacing::service::{Paced, PacingError};

impl From<PacingError> for AppError {
    fn from(e: PacingError) -> Self {
        AppError::NotFound(e.to_string())
    }
}

/// The abandon window.
#[derive(Serialize, utoipa::ToSchema)]
pub struct WindowView {
    /// `30d` or `24h`.
    length: String,
    /// `live` or `amd_adjusted` (machine answers in the denominator).
    rate: String,
    /// Answered calls in it: live ones (and machines, AMD-adjusted).
    live_answered: f64,
    /// Abandoned under the 2-second rule.
    abandoned: f64,
    /// Their share.
    abandon_rate: Option<f64>,
    /// The limit.
    target: f64,
}

/// What a decision rested on.
#[derive(Serialize, utoipa::ToSchema)]
pub struct InputsView {
    /// Agents free now.
    agents_free: u32,
    /// Agents on a call (or being rung).
    agents_on_call: u32,
    /// Agents in after-call work.
    agents_wrapup: u32,
    /// Calls dialing or ringing.
    calls_in_flight: u32,
    /// Calls answered and still in answering-machine detection.
    calls_answering: u32,
    /// Callers waiting in the campaign's queue (they take agents first).
    calls_waiting: u32,
    /// Share of resolved dials a person answers (recent dials weigh most;
    /// with a prior).
    live_answer_rate: f64,
    /// Resolved dials behind it, weighted by age (the prior's included).
    dials: f64,
    /// Its standard error.
    live_answer_se: f64,
    /// Share of answers that were machines (AMD), recent ones weighing most.
    machine_rate: Option<f64>,
    /// Mean seconds from dial to answer.
    ring_s: f64,
    /// Mean talk seconds.
    talk_s: f64,
    /// After-call work seconds.
    wrap_s: f64,
    /// Agents expected free when the calls are answered.
    expected_free_agents: f64,
    /// The PBX instant of the estimates (Unix seconds; 0 before the first refresh).
    estimates_at: f64,
}

/// A pacing decision.
#[derive(Serialize, utoipa::ToSchema)]
pub struct PacingView {
    /// The campaign.
    campaign: String,
    /// `predictive`, `progressive`, `power` or `preview`.
    mode: String,
    /// Calls to place now.
    calls: u32,
    /// Why `calls` is 0 whatever the estimates say, when it is:
    /// `no_ami`, `link_down`, `resyncing`, `stale`, `queue_unknown`,
    /// `no_agents` or `over_budget`; null when it may dial.
    hold: Option<&'static str>,
    /// Calls in flight after these per agent expected free.
    dial_ratio: f64,
    /// Projected abandon rate of the calls in flight.
    projected_abandon: f64,
    /// Its upper bound (answer rate's upper confidence bound).
    projected_abandon_upper: f64,
    /// The rate this decision could spend.
    allowed_abandon: f64,
    /// Abandons still allowed in the window (target × answered − abandoned).
    budget_left: f64,
    /// The window.
    window: WindowView,
    /// The inputs.
    inputs: InputsView,
    /// When it was decided (Unix seconds).
    decided_at: f64,
}

fn view(p: &Paced) -> PacingView {
    let d = &p.decision;
    let e = &p.estimates;
    PacingView {
        campaign: p.settings.name.clone(),
        mode: p.settings.mode.clone(),
        calls: d.calls,
        hold: p.hold.map(|h| h.as_str()),
        dial_ratio: d.ratio,
        projected_abandon: d.projected_abandon,
        projected_abandon_upper: d.projected_abandon_upper,
        allowed_abandon: d.allowed_abandon,
        budget_left: d.budget_left,
        window: WindowView {
            length: p.settings.window.clone(),
            rate: p.settings.abandon_rate.clone(),
            live_answered: e.answered,
            abandoned: e.dropped,
            abandon_rate: (e.answered > 0.0).then(|| e.dropped / e.answered),
            target: p.settings.target,
        },
        inputs: InputsView {
            agents_free: p.floor.agents_free,
            agents_on_call: p.floor.agents_on_call,
            agents_wrapup: p.floor.agents_wrapup,
            calls_in_flight: p.floor.calls_in_flight,
            calls_answering: p.floor.calls_answering,
            calls_waiting: p.floor.calls_waiting,
            live_answer_rate: e.rates.live_answer,
            dials: e.dials,
            live_answer_se: e.rates.live_answer_se,
            machine_rate: e.machine_rate,
            ring_s: e.rates.ring_s,
            talk_s: e.rates.talk_s,
            wrap_s: e.rates.wrap_s,
            expected_free_agents: d.expected_free_agents,
            estimates_at: e.at_s,
        },
        decided_at: p.decided_at_s,
    }
}

fn campaign_of(path: Result<Path<String>, PathRejection>) -> Result<String, AppError> {
    path.map(|Path(c)| c)
        .map_err(|e| AppError::bad_request(format!("campaign: {}", e.body_text())))
}

fn check_scope(principal: &Principal, campaign: &str) -> Result<(), AppError> {
    if principal.scope.allows_campaign(campaign) {
        Ok(())
    } else {
        Err(PacingError::Unknown(campaign.to_owned()).into())
    }
}

/// `GET /api/v1/pacing/{campaign}`: calls to place now, and why.
#[utoipa::path(
    get,
    path = "/api/v1/pacing/{campaign}",
    tag = "pacing",
    security(("bearer" = [])),
    params(("campaign" = String, Path, description = "The campaign (its QL_CAMPAIGN value)")),
    responses(
        (status = 200, description = "The decision", body = PacingView),
        (status = 400, description = "The campaign is not UTF-8", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or unknown token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token's role may not pace", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such campaign (neither configured nor seen on the PBX)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "The token's rate is exhausted (see Retry-After)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn pacing(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Arc<Principal>>,
    campaign: Result<Path<String>, PathRejection>,
) -> Result<Json<PacingView>, AppError> {
    let campaign = campaign_of(campaign)?;
    check_scope(&principal, &campaign)?;
    Ok(Json(view(&state.pacing.decide(&campaign)?)))
}

/// `GET /api/v1/pacing`: every campaign the token sees with the decision
/// a dialer would get now (not recorded: `pacing_decisions` keeps what
/// dialers were served). For people: any role that reads dashboards.
#[utoipa::path(
    get,
    path = "/api/v1/pacing",
    tag = "pacing",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The campaigns, by name", body = Vec<PacingView>),
        (status = 401, description = "No or unknown token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token's role may not read dashboards", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "The token's rate is exhausted (see Retry-After)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn overview(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Arc<Principal>>,
) -> Json<Vec<PacingView>> {
    Json(
        state
            .pacing
            .known()
            .iter()
            .filter(|c| principal.scope.allows_campaign(c))
            .filter_map(|c| state.pacing.preview(c).ok())
            .map(|paced| view(&paced))
            .collect(),
    )
}

/// `GET /api/v1/pacing/{campaign}/stream`: the decision every second, as
/// server-sent `pacing` events.
#[utoipa::path(
    get,
    path = "/api/v1/pacing/{campaign}/stream",
    tag = "pacing",
    security(("bearer" = [])),
    params(("campaign" = String, Path, description = "The campaign")),
    responses(
        (status = 200, description = "text/event-stream of `pacing` events (PacingView as JSON)", content_type = "text/event-stream", body = String),
        (status = 400, description = "The campaign is not UTF-8", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or unknown token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token's role may not pace", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such campaign", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "The token's rate is exhausted (see Retry-After)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn stream(
    State(state): State<Arc<AppState>>,
    Extension(principal): Extension<Arc<Principal>>,
    campaign: Result<Path<String>, PathRejection>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, AppError> {
    let campaign = campaign_of(campaign)?;
    check_scope(&principal, &campaign)?;
    state.pacing.decide(&campaign)?;
    let stream = futures::stream::unfold(
        (state, campaign, true),
        |(state, campaign, first)| async move {
            if !first {
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            let event = match state.pacing.decide(&campaign) {
                Ok(paced) => Event::default()
                    .event("pacing")
                    .json_data(view(&paced))
                    .unwrap_or_else(|_| Event::default().event("error")),
                Err(e) => Event::default().event("error").data(e.to_string()),
            };
            Some((Ok(event), (state, campaign, false)))
        },
    );
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}
