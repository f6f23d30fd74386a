//! KPI settings and the SQL views built from them.
//!
//! The views are plain `.sql` files in the workspace's `sql/views/` folder,
//! compiled into the binary. Settings reach them as `{{name}}` placeholders
//! that are replaced only by values validated here (numbers, a known IANA
//! zone, and campaign and queue names as quoted string literals), so no
//! setting can inject SQL.

use serde::{Deserialize, Serialize};

use crate::error::{EngineError, Result};
use crate::scope::sql_string;

/// How KPIs are computed; defaults follow the product definitions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KpiSettings {
    /// Interval length in minutes: 15, 30 or 60.
    pub interval_minutes: u32,
    /// IANA time zone of the contact center (intervals follow its clock, DST included).
    pub time_zone: String,
    /// Service-level threshold in seconds: answered with wait ≤ this counts as within SL.
    pub sl_threshold_s: u32,
    /// Abandons with a wait below this many seconds are short abandons.
    pub short_abandon_s: u32,
    /// After-call work in seconds added to talk time in AHT.
    pub acw_s: u32,
    /// How each outbound campaign's abandon rate is judged in
    /// `campaign_abandon` (from `[[pacing.campaigns]]`; a campaign not
    /// listed is judged by [`CampaignRule::default`]).
    #[serde(skip)]
    pub campaigns: Vec<CampaignRule>,
}

/// How one campaign's abandon rate is judged.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CampaignRule {
    /// The campaign (its `QL_CAMPAIGN` value).
    pub name: String,
    /// The queue its answered calls enter: its visits count for the
    /// campaign when AMI did not see them (the link was down).
    pub queue: Option<String>,
    /// Highest abandoned share of live-answered calls.
    pub target: f64,
    /// Share of the target under which the status is `ok` (above: `near`).
    pub margin: f64,
    /// Local days in the rolling window, today included.
    pub window_days: u32,
}

impl Default for CampaignRule {
    /// 3 % of live answers over 30 days, `near` above 2.7 %.
    fn default() -> Self {
        CampaignRule {
            name: String::new(),
            queue: None,
            target: 0.03,
            margin: 0.1,
            window_days: 30,
        }
    }
}

impl CampaignRule {
    /// Checks every value, named by the campaign.
    pub fn validate(&self) -> Result<()> {
        let bad = |reason: String| {
            Err(EngineError::InvalidSetting {
                name: format!("campaign {:?}", self.name),
                reason,
            })
        };
        let printable = |s: &str| !s.is_empty() && !s.chars().any(char::is_control);
        if !printable(&self.name) || !self.queue.as_deref().is_none_or(printable) {
            return bad("names must be non-empty, without control characters".into());
        }
        if !(self.target > 0.0 && self.target < 1.0) {
            return bad(format!("target {} is not in (0, 1)", self.target));
        }
        if !(0.0..1.0).contains(&self.margin) {
            return bad(format!("margin {} is not in [0, 1)", self.margin));
        }
        if !(1..=366).contains(&self.window_days) {
            return bad(format!(
                "window of {} days is not 1 to 366",
                self.window_days
            ));
        }
        Ok(())
    }
}

/// The rules as a relation `(campaign, queue, target, margin,
/// window_days)`, typed even when empty.
fn rules_sql(rules: &[CampaignRule]) -> String {
    let typed = |campaign: String, queue: String, r: &CampaignRule| {
        format!(
            "SELECT arrow_cast({campaign}, 'Utf8') AS campaign, arrow_cast({queue}, 'Utf8') AS queue, \
             CAST({:?} AS DOUBLE) AS target, CAST({:?} AS DOUBLE) AS margin, \
             CAST({} AS BIGINT) AS window_days",
            r.target, r.margin, r.window_days
        )
    };
    if rules.is_empty() {
        let none = CampaignRule::default();
        return typed("NULL".into(), "NULL".into(), &none) + " WHERE false";
    }
    rules
        .iter()
        .map(|r| {
            let queue = r.queue.as_deref().map_or_else(|| "NULL".into(), sql_string);
            typed(sql_string(&r.name), queue, r)
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ")
}

impl Default for KpiSettings {
    fn default() -> Self {
        KpiSettings {
            interval_minutes: 15,
            time_zone: "UTC".into(),
            sl_threshold_s: 20,
            short_abandon_s: 5,
            acw_s: 0,
            campaigns: Vec::new(),
        }
    }
}

impl KpiSettings {
    /// Checks every value.
    pub fn validate(&self) -> Result<()> {
        let bad = |name: &str, reason: String| {
            Err(EngineError::InvalidSetting {
                name: name.into(),
                reason,
            })
        };
        if ![15, 30, 60].contains(&self.interval_minutes) {
            return bad(
                "interval_minutes",
                format!("{} is not 15, 30 or 60", self.interval_minutes),
            );
        }
        if self.time_zone.parse::<chrono_tz::Tz>().is_err() {
            return bad(
                "time_zone",
                format!("{:?} is not an IANA time zone", self.time_zone),
            );
        }
        self.campaigns.iter().try_for_each(CampaignRule::validate)
    }
}

/// A view: its name and its SQL template.
pub struct ViewSource {
    /// The view's name in SQL.
    pub name: &'static str,
    /// The template.
    pub sql: &'static str,
}

/// The views, in dependency order. `calls` (sql/views/calls.sql) is not
/// among them: it is served by [`crate::calls::CallsTable`], which reads
/// stored closed days.
pub const VIEWS: &[ViewSource] = &[
    ViewSource {
        name: "interval_stats",
        sql: include_str!("../../sql/views/interval_stats.sql"),
    },
    ViewSource {
        name: "agent_sessions",
        sql: include_str!("../../sql/views/agent_sessions.sql"),
    },
    ViewSource {
        name: "adherence",
        sql: include_str!("../../sql/views/adherence.sql"),
    },
    ViewSource {
        name: "campaign_abandon",
        sql: include_str!("../../sql/views/campaign_abandon.sql"),
    },
];

/// A view's SQL with the settings filled in.
pub fn render(template: &str, kpi: &KpiSettings) -> Result<String> {
    kpi.validate()?;
    let values = [
        ("interval_minutes", kpi.interval_minutes.to_string()),
        ("time_zone", kpi.time_zone.clone()),
        ("sl_threshold_s", kpi.sl_threshold_s.to_string()),
        ("short_abandon_s", kpi.short_abandon_s.to_string()),
        ("acw_s", kpi.acw_s.to_string()),
        (
            "default_target",
            format!("{:?}", CampaignRule::default().target),
        ),
        (
            "default_margin",
            format!("{:?}", CampaignRule::default().margin),
        ),
        (
            "default_window_days",
            CampaignRule::default().window_days.to_string(),
        ),
        // Last: a name holding "{{" is then refused as a placeholder.
        ("campaign_rules", rules_sql(&kpi.campaigns)),
    ];
    let mut sql = template.to_string();
    for (name, value) in values {
        sql = sql.replace(&format!("{{{{{name}}}}}"), &value);
    }
    if let Some(at) = sql.find("{{") {
        let rest: String = sql[at..].chars().take(40).collect();
        return Err(EngineError::InvalidSetting {
            name: "view template".into(),
            reason: format!("unknown placeholder at {rest:?}"),
        });
    }
    Ok(sql)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_view_renders_with_defaults() {
        for view in VIEWS {
            render(view.sql, &KpiSettings::default()).unwrap();
        }
        // calls.sql takes no settings: its stored days hold for any of them.
        assert!(!crate::calls::CALLS_SQL.contains("{{"));
    }

    #[test]
    fn bad_settings_are_named() {
        let kpi = KpiSettings {
            time_zone: "Mars/Olympus".into(),
            ..Default::default()
        };
        let err = render("select 1", &kpi).unwrap_err().to_string();
        assert!(err.contains("time_zone"), "{err}");
        let kpi = KpiSettings {
            interval_minutes: 20,
            ..Default::default()
        };
        assert!(
            render("select 1", &kpi)
                .unwrap_err()
                .to_string()
                .contains("interval_minutes")
        );
    }
}
