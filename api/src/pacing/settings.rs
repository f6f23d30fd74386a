//! `[pacing]`: how each outbound campaign is paced. A campaign not listed
//! but seen on the PBX (its channels carry `QL_CAMPAIGN`) is paced with
//! the defaults.

use queuelake_scheduler::pacing::{Caps, Mode};
use serde::Deserialize;

/// `[pacing]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PacingSection {
    /// Seconds between refreshes of the estimates and budgets from the lake.
    pub refresh_seconds: u64,
    /// Seconds between commits of the decisions served.
    pub record_seconds: u64,
    /// Per campaign.
    pub campaigns: Vec<CampaignPacing>,
}

impl Default for PacingSection {
    fn default() -> Self {
        PacingSection {
            refresh_seconds: 15,
            record_seconds: 10,
            campaigns: Vec::new(),
        }
    }
}

/// `[[pacing.campaigns]]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CampaignPacing {
    /// The campaign (its `QL_CAMPAIGN` value).
    pub name: String,
    /// The queue its answered calls enter (absent: as the PBX shows it).
    pub queue: Option<String>,
    /// `predictive`, `progressive`, `power` or `preview`.
    pub mode: String,
    /// Lines per free agent in `power` mode.
    pub power_ratio: f64,
    /// Highest abandoned share of live-answered calls.
    pub target: f64,
    /// The rolling window: `30d` or `24h`.
    pub window: String,
    /// The rate held to the target: `live` (abandons over live-answered
    /// calls) or `amd_adjusted` (over every answered call, machines the
    /// AMD detected included, where the rules allow it).
    pub abandon_rate: String,
    /// Share of the target kept in reserve.
    pub margin: f64,
    /// Most calls in flight.
    pub max_lines: u32,
    /// Most calls in flight per agent free now or soon.
    pub max_ratio: f64,
    /// After-call work of its agents, seconds.
    pub wrap_s: f64,
}

impl Default for CampaignPacing {
    fn default() -> Self {
        CampaignPacing {
            name: String::new(),
            queue: None,
            mode: "predictive".into(),
            power_ratio: 1.5,
            target: 0.03,
            window: "30d".into(),
            abandon_rate: "live".into(),
            margin: 0.1,
            max_lines: 100,
            max_ratio: 3.0,
            wrap_s: 15.0,
        }
    }
}

impl CampaignPacing {
    /// The mode, checked.
    pub fn mode(&self) -> Result<Mode, String> {
        match self.mode.as_str() {
            "predictive" => Ok(Mode::Predictive),
            "progressive" => Ok(Mode::Progressive),
            "preview" => Ok(Mode::Preview),
            "power" if self.power_ratio > 0.0 && self.power_ratio.is_finite() => Ok(Mode::Power {
                ratio: self.power_ratio,
            }),
            "power" => Err(format!(
                "power_ratio = {}: must be above 0",
                self.power_ratio
            )),
            other => Err(format!(
                "mode {other:?}: predictive, progressive, power or preview"
            )),
        }
    }

    /// The window's length in days (1 for `24h`).
    pub fn window_days(&self) -> Result<u32, String> {
        match self.window.as_str() {
            "30d" => Ok(30),
            "24h" => Ok(1),
            other => Err(format!("window {other:?}: 30d or 24h")),
        }
    }

    /// Whether machine answers count in the rate's denominator.
    pub fn amd_adjusted(&self) -> Result<bool, String> {
        match self.abandon_rate.as_str() {
            "live" => Ok(false),
            "amd_adjusted" => Ok(true),
            other => Err(format!("abandon_rate {other:?}: live or amd_adjusted")),
        }
    }

    /// The caps.
    pub fn caps(&self) -> Caps {
        Caps {
            max_lines: self.max_lines,
            max_ratio: self.max_ratio,
        }
    }

    /// Every value checked, named by the campaign.
    pub fn check(&self) -> Result<(), String> {
        let named = |e: String| format!("[[pacing.campaigns]] {:?}: {e}", self.name);
        if self.name.is_empty() {
            return Err("[[pacing.campaigns]]: name is required".into());
        }
        self.mode().map_err(named)?;
        self.window_days().map_err(named)?;
        self.amd_adjusted().map_err(named)?;
        if !(self.target > 0.0 && self.target < 1.0) {
            return Err(named(format!("target = {}: in (0, 1)", self.target)));
        }
        if !(0.0..1.0).contains(&self.margin) {
            return Err(named(format!("margin = {}: in [0, 1)", self.margin)));
        }
        if !(self.max_ratio >= 1.0 && self.max_ratio.is_finite()) {
            return Err(named(format!("max_ratio = {}: at least 1", self.max_ratio)));
        }
        if !(self.wrap_s >= 0.0 && self.wrap_s.is_finite()) {
            return Err(named(format!("wrap_s = {}: ≥ 0", self.wrap_s)));
        }
        Ok(())
    }
}

impl PacingSection {
    /// Checks every campaign.
    pub fn check(&self) -> Result<(), String> {
        if self.refresh_seconds == 0 || self.record_seconds == 0 {
            return Err("[pacing] refresh_seconds and record_seconds: at least 1".into());
        }
        self.campaigns.iter().try_for_each(CampaignPacing::check)
    }

    /// The settings of `campaign` (the defaults when not listed).
    pub fn campaign(&self, campaign: &str) -> CampaignPacing {
        self.campaigns
            .iter()
            .find(|c| c.name == campaign)
            .cloned()
            .unwrap_or_else(|| CampaignPacing {
                name: campaign.to_owned(),
                ..CampaignPacing::default()
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn campaigns_are_checked_by_name() {
        let ok = CampaignPacing {
            name: "renewals".into(),
            ..CampaignPacing::default()
        };
        assert!(ok.check().is_ok());
        assert_eq!(ok.mode(), Ok(Mode::Predictive));
        let bad = CampaignPacing {
            mode: "turbo".into(),
            ..ok.clone()
        };
        assert!(bad.check().unwrap_err().contains("renewals"));
        let bad = CampaignPacing {
            window: "7d".into(),
            ..ok.clone()
        };
        assert!(bad.check().unwrap_err().contains("7d"));
        let bad = CampaignPacing {
            abandon_rate: "kind".into(),
            ..ok.clone()
        };
        assert!(bad.check().unwrap_err().contains("kind"));
        let section = PacingSection {
            campaigns: vec![ok],
            ..PacingSection::default()
        };
        assert_eq!(section.campaign("winback").target, 0.03);
    }
}
