//! A connection's named prepared statements and portals, counted: each
//! holds a planned statement in the server's memory until the client
//! closes it, so one client could otherwise fill that memory by preparing
//! without closing. A new name past `[postgres_wire]
//! max_prepared_statements` is refused (53400); replacing a name, the
//! unnamed statement and the unnamed portal are always allowed. Names the
//! connection's store no longer holds (a Close, DEALLOCATE, a cursor's
//! CLOSE) are dropped from the count when the limit is reached, so the
//! count never drifts from the store.

use std::collections::HashSet;
use std::sync::Mutex;

use datafusion_postgres::pgwire::api::DEFAULT_NAME;
use datafusion_postgres::pgwire::error::PgWireError;

use super::rows::user_error;

/// What a name belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Named {
    /// A prepared statement (Parse).
    Statement,
    /// A portal (Bind, DECLARE).
    Portal,
}

impl Named {
    fn noun(self) -> &'static str {
        match self {
            Named::Statement => "prepared statements",
            Named::Portal => "portals",
        }
    }
}

/// The names a connection holds, kept in its session extensions.
#[derive(Debug)]
pub struct NameBudget {
    limit: usize,
    statements: Mutex<HashSet<String>>,
    portals: Mutex<HashSet<String>>,
}

impl NameBudget {
    /// A budget of `limit` names of each kind.
    pub fn new(limit: usize) -> Self {
        NameBudget {
            limit,
            statements: Mutex::new(HashSet::new()),
            portals: Mutex::new(HashSet::new()),
        }
    }

    fn names(&self, kind: Named) -> std::sync::MutexGuard<'_, HashSet<String>> {
        let names = match kind {
            Named::Statement => &self.statements,
            Named::Portal => &self.portals,
        };
        names
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Takes `name` (`None`: the unnamed one) for `kind`, or refuses it
    /// when it is new and the connection holds its limit already;
    /// `still_held` says whether the store still holds a counted name.
    pub fn admit(
        &self,
        kind: Named,
        name: Option<&str>,
        still_held: impl Fn(&str) -> bool,
    ) -> Result<(), PgWireError> {
        let name = name.unwrap_or(DEFAULT_NAME);
        if name.is_empty() || name == DEFAULT_NAME {
            return Ok(());
        }
        let mut names = self.names(kind);
        if names.contains(name) {
            return Ok(());
        }
        if names.len() >= self.limit {
            names.retain(|held| still_held(held));
        }
        if names.len() >= self.limit {
            // 53400: configuration_limit_exceeded.
            return Err(user_error(
                "53400",
                format!(
                    "this connection holds {} named {} already, the server's limit \
                     ([postgres_wire] max_prepared_statements); close some before preparing {name:?}",
                    names.len(),
                    kind.noun()
                ),
            ));
        }
        names.insert(name.to_owned());
        Ok(())
    }

    /// How many names of `kind` the connection holds.
    #[cfg(test)]
    fn held(&self, kind: Named) -> usize {
        self.names(kind).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_names_past_the_limit_are_refused_and_closing_frees_one() {
        let budget = NameBudget::new(2);
        let all_held = |_: &str| true;
        budget
            .admit(Named::Statement, Some("s1"), all_held)
            .unwrap();
        budget
            .admit(Named::Statement, Some("s2"), all_held)
            .unwrap();
        // Replacing a held name and the unnamed statement always pass.
        budget
            .admit(Named::Statement, Some("s2"), all_held)
            .unwrap();
        budget.admit(Named::Statement, None, all_held).unwrap();
        budget.admit(Named::Statement, Some(""), all_held).unwrap();
        let refused = budget
            .admit(Named::Statement, Some("s3"), all_held)
            .unwrap_err();
        let text = format!("{refused:?}");
        assert!(
            text.contains("53400") && text.contains("max_prepared_statements"),
            "{text}"
        );
        // Portals are counted apart.
        budget.admit(Named::Portal, Some("p1"), all_held).unwrap();
        // s1 was closed: the store no longer holds it.
        budget
            .admit(Named::Statement, Some("s3"), |name| name != "s1")
            .unwrap();
        assert_eq!(budget.held(Named::Statement), 2);
        assert_eq!(budget.held(Named::Portal), 1);
    }
}
