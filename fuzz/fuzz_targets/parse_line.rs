//! Fuzz target: `parse_line` never panics on any bytes, and every line it
//! accepts formats back to a line that parses to the same record.
#![no_main]

use libfuzzer_sys::fuzz_target;
use queuelake_queue_log::{Record, parse_line};

fuzz_target!(|data: &[u8]| {
    if let Ok(line) = parse_line(data) {
        let _ = line.data_fields();
        let record = Record::from(&line);
        if record.is_writable() {
            assert_eq!(Record::parse(&record.to_line()), Ok(record));
        }
    }
});
