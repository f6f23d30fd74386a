//! Reading SQL errors: whose fault, and where in the text.

use datafusion::error::DataFusionError;

use super::error::Location;

/// Planning, SQL, schema, arrow (casts, division by zero), execution and
/// resource limits are the query's; I/O, object store and internal
/// errors are ours.
pub fn is_user_error(e: &DataFusionError) -> bool {
    match e {
        DataFusionError::Context(_, inner) => is_user_error(inner),
        DataFusionError::Diagnostic(_, inner) => is_user_error(inner),
        DataFusionError::Internal(_)
        | DataFusionError::IoError(_)
        | DataFusionError::ObjectStore(_)
        | DataFusionError::External(_)
        | DataFusionError::ParquetError(_) => false,
        _ => true,
    }
}

/// The line and column an error message names ("… at Line: 2, Column:
/// 7", as the SQL parser and the engine's diagnostics write them).
pub fn sql_location(message: &str) -> Location {
    let number_after = |key: &str| -> Option<u64> {
        let at = message.rfind(key)? + key.len();
        let digits: String = message[at..]
            .trim_start()
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        digits.parse().ok()
    };
    let (line, column) = (number_after("Line:"), number_after("Column:"));
    Location {
        field: None,
        line: line.filter(|_| column.is_some()),
        column: column.filter(|_| line.is_some()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_are_read_from_parser_messages() {
        let at = sql_location(
            "SQL error: ParserError(\"Expected: end of statement, found: FROMM at Line: 2, Column: 10\")",
        );
        assert_eq!((at.line, at.column), (Some(2), Some(10)));
        let none = sql_location("Schema error: No field named x.");
        assert_eq!((none.line, none.column), (None, None));
    }
}
