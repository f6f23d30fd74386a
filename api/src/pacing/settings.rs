//! `[pacing]`: how each outbound campaign is paced. A campaign not listed
//! but seen on the PBX (its channels carry `QL_CAMPAIGN`) is paced with
//! the defaults.

use queuelake_engine::kpi::CampaignRule;
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
    /// Seconds without a word from the PBX (no event, no reply to a ping)
    /// after which the floor is stale and pacing holds. The AMI session
    /// pings an idle link at a third of it.
    pub stale_seconds: f64,
    /// Per campaign.
    pub campaigns: Vec<CampaignPacing>,
}

impl Default for PacingSection {
    fn default() -> Self {
        PacingSection {
            refresh_seconds: 15,
            record_seconds: 10,
            stale_seconds: 6.0,
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
    /// The queue its answered calls enter (required in the file; a
    /// campaign only seen on the PBX learns it from its first call).
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
        let rule = CampaignRule::default();
        CampaignPacing {
            name: String::new(),
            queue: None,
            mode: "predictive".into(),
            power_ratio: 1.5,
            target: rule.target,
            window: format!("{}d", rule.window_days),
            abandon_rate: "live".into(),
            margin: rule.margin,
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

    /// How `campaign_abandon` judges it: its target, margin, window and
    /// queue.
    pub fn rule(&self) -> CampaignRule {
        CampaignRule {
            name: self.name.clone(),
            queue: self.queue.clone(),
            target: self.target,
            margin: self.margin,
            window_days: self
                .window_days()
                .unwrap_or(CampaignRule::default().window_days),
        }
    }

    /// The window's length in local days, today included (`24h`: today).
    /// `30d` or `24h`; any `<n>d` from 1 to 366.
    pub fn window_days(&self) -> Result<u32, String> {
        let days = match self.window.as_str() {
            "24h" => Some(1),
            other => other
                .strip_suffix('d')
                .and_then(|n| n.parse::<u32>().ok())
                .filter(|n| (1..=366).contains(n)),
        };
        days.ok_or_else(|| format!("window {:?}: 30d, <1 to 366>d or 24h", self.window))
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
        if self.queue.as_deref().is_none_or(str::is_empty) {
            return Err(named(
                "queue is required: the queue its answered calls enter (pacing counts that queue's agents)"
                    .into(),
            ));
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
        if !(self.stale_seconds >= 1.0 && self.stale_seconds.is_finite()) {
            return Err(format!(
                "[pacing] stale_seconds = {}: at least 1",
                self.stale_seconds
            ));
        }
        self.campaigns.iter().try_for_each(CampaignPacing::check)
    }

    /// How often the AMI session should ping an idle link so that a live
    /// floor is never taken for a stale one: a third of `stale_seconds`.
    pub fn ping_every(&self) -> std::time::Duration {
        std::time::Duration::from_secs_f64(self.stale_seconds / 3.0)
    }

    /// Each campaign's queue with the campaign's wrap-up: the queue's
    /// wrap-up where nothing else says it.
    pub fn queue_wrapups(&self) -> impl Iterator<Item = (&str, f64)> {
        self.campaigns
            .iter()
            .filter_map(|c| c.queue.as_deref().map(|q| (q, c.wrap_s)))
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
            queue: Some("outbound".into()),
            ..CampaignPacing::default()
        };
        assert!(ok.check().is_ok());
        let no_queue = CampaignPacing {
            queue: None,
            ..ok.clone()
        };
        let e = no_queue.check().unwrap_err();
        assert!(
            e.contains("renewals") && e.contains("queue is required"),
            "{e}"
        );
        assert_eq!(ok.mode(), Ok(Mode::Predictive));
        let bad = CampaignPacing {
            mode: "turbo".into(),
            ..ok.clone()
        };
        assert!(bad.check().unwrap_err().contains("renewals"));
        let bad = CampaignPacing {
            window: "400d".into(),
            ..ok.clone()
        };
        assert!(bad.check().unwrap_err().contains("400d"));
        let week = CampaignPacing {
            window: "7d".into(),
            ..ok.clone()
        };
        assert_eq!((week.window_days(), week.rule().window_days), (Ok(7), 7));
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
