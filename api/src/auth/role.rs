//! Roles and what each may do. The matrix is the one place access is
//! decided; routes name the [`Permission`] they need.
//!
//! | permission     | admin | analyst | planner | manager | dialer | viewer |
//! | -------------- | :---: | :-----: | :-----: | :-----: | :----: | :----: |
//! | `Read`         |   ✓   |    ✓    |    ✓    |    ✓    |        |   ✓    |
//! | `Sql`          |   ✓   |    ✓    |         |         |        |        |
//! | `Plan`         |   ✓   |         |    ✓    |         |        |        |
//! | `Reports`      |   ✓   |         |         |    ✓    |        |        |
//! | `Pacing`       |   ✓   |         |         |         |   ✓    |        |
//! | `Metrics`      |   ✓   |         |         |         |        |   ✓    |
//! | `ApiDocs`      |   ✓   |    ✓    |    ✓    |    ✓    |   ✓    |   ✓    |
//!
//! `Read` is what a dashboard shows (live state, KPIs, plans, report
//! lists); people in every role but `dialer` (a machine) have it.
//! `Metrics` is for the Prometheus scraper, which gets a `viewer` token.

use serde::{Deserialize, Serialize};

/// A token's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything.
    Admin,
    /// SQL over the lake (HTTP and PostgreSQL wire), and dashboards.
    Analyst,
    /// Forecasts, staffing and schedules (write), and dashboards.
    Planner,
    /// Reports (run, download), and dashboards.
    Manager,
    /// Pacing targets, read only.
    Dialer,
    /// Dashboards and live state, and `/metrics`.
    Viewer,
}

/// Something a route needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
// `Plan` and `Reports` guard the forecast, schedule and report routes
// (issues 5–8); the matrix is complete now so those routes only name them.
#[allow(dead_code)]
pub enum Permission {
    /// Read dashboards: live state, KPIs, forecasts, schedules, report lists.
    Read,
    /// Run SQL.
    Sql,
    /// Create forecasts, staffing runs and schedules; publish.
    Plan,
    /// Run and download reports.
    Reports,
    /// Read pacing targets.
    Pacing,
    /// Scrape `/metrics`.
    Metrics,
    /// Read the API description.
    ApiDocs,
}

impl Role {
    /// Every role, for tables and tests.
    pub const ALL: [Role; 6] = [
        Role::Admin,
        Role::Analyst,
        Role::Planner,
        Role::Manager,
        Role::Dialer,
        Role::Viewer,
    ];

    /// Whether this role may do `permission`.
    pub fn may(self, permission: Permission) -> bool {
        use Permission as P;
        use Role as R;
        match (self, permission) {
            (R::Admin, _) | (_, P::ApiDocs) => true,
            (R::Dialer, p) => p == P::Pacing,
            (_, P::Read) => true,
            (R::Analyst, P::Sql) | (R::Planner, P::Plan) | (R::Manager, P::Reports) => true,
            (R::Viewer, P::Metrics) => true,
            _ => false,
        }
    }

    /// The role's name as the configuration spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Analyst => "analyst",
            Role::Planner => "planner",
            Role::Manager => "manager",
            Role::Dialer => "dialer",
            Role::Viewer => "viewer",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The matrix in the module documentation, row by row.
    #[test]
    fn the_matrix_is_as_documented() {
        use Permission as P;
        let rows: [(Permission, [bool; 6]); 7] = [
            (P::Read, [true, true, true, true, false, true]),
            (P::Sql, [true, true, false, false, false, false]),
            (P::Plan, [true, false, true, false, false, false]),
            (P::Reports, [true, false, false, true, false, false]),
            (P::Pacing, [true, false, false, false, true, false]),
            (P::Metrics, [true, false, false, false, false, true]),
            (P::ApiDocs, [true; 6]),
        ];
        for (permission, allowed) in rows {
            for (role, expected) in Role::ALL.into_iter().zip(allowed) {
                assert_eq!(role.may(permission), expected, "{role:?} {permission:?}");
            }
        }
    }
}
