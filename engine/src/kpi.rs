//! KPI settings and the SQL views built from them.
//!
//! The views are plain `.sql` files in the workspace's `sql/views/` folder,
//! compiled into the binary. Settings reach them as `{{name}}` placeholders
//! that are replaced only by values validated here (numbers and a known
//! IANA zone), so no setting can inject SQL.

use serde::{Deserialize, Serialize};

use crate::error::{EngineError, Result};

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
}

impl Default for KpiSettings {
    fn default() -> Self {
        KpiSettings {
            interval_minutes: 15,
            time_zone: "UTC".into(),
            sl_threshold_s: 20,
            short_abandon_s: 5,
            acw_s: 0,
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
        Ok(())
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
