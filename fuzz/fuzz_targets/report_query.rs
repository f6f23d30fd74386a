//! Fuzz target: a report query file (header and parameters) and a period
//! never panic on any text; a query that parses binds without error, and
//! binding leaves no `$period_…` parameter outside strings and comments.
#![no_main]

use libfuzzer_sys::fuzz_target;
use queuelake_reports::period::Period;
use queuelake_reports::query_file::ReportQuery;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = text.parse::<Period>();
    if let Ok(query) = ReportQuery::parse("fuzz", text) {
        let window = Period::Yesterday
            .resolve(chrono::Utc::now(), "Europe/Berlin")
            .expect("a known zone");
        assert!(query.bind(&window).is_ok());
    }
});
