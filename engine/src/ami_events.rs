//! The `ami_events` table: one row per AMI event the client journaled, and
//! one `queuelake.gap` row per lost connection.
//!
//! Columns: `ts` (the event's `Timestamp` header when the PBX sends one,
//! else the instant it was received), `received_at`, `event`, the keys
//! analysts join on (`uniqueid`, `linkedid`, `channel`, `queue`, `member`),
//! every header in `fields` (a map; a key the event repeats, such as
//! `ChanVariable`, holds its values joined by `\n`), and the lineage
//! (`source`, `byte_offset` in the journal).

use std::sync::{Arc, LazyLock};

use arrow::array::{
    ArrayRef, MapBuilder, MapFieldNames, RecordBatch, StringBuilder, TimestampMicrosecondBuilder,
    UInt64Builder,
};
use arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};

/// Name of the table.
pub const AMI_EVENTS: &str = "ami_events";

/// Index of the `ts` column in [`AMI_EVENTS_SCHEMA`].
pub const AMI_EVENTS_TS_COLUMN: usize = 0;

/// The channel variable that names an outbound call's campaign (the dialer
/// sets it on `Originate`; events report it in `ChanVariable`). Scoped
/// readers see a campaign's events by it ([`crate::scope`]).
pub const CAMPAIGN_VARIABLE: &str = "QL_CAMPAIGN";

/// `event` of the row written when the connection to the PBX was lost.
pub const GAP_EVENT: &str = "queuelake.gap";

fn timestamp(name: &str) -> Field {
    Field::new(
        name,
        DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        false,
    )
}

fn map_field_names() -> MapFieldNames {
    MapFieldNames {
        entry: "entries".into(),
        key: "key".into(),
        value: "value".into(),
    }
}

/// Schema of `ami_events`.
pub static AMI_EVENTS_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    let text = |name: &str| Field::new(name, DataType::Utf8, true);
    let entries = Field::new(
        "entries",
        DataType::Struct(Fields::from(vec![
            Field::new("key", DataType::Utf8, false),
            Field::new("value", DataType::Utf8, true),
        ])),
        false,
    );
    Arc::new(Schema::new(vec![
        timestamp("ts"),
        timestamp("received_at"),
        Field::new("event", DataType::Utf8, false),
        text("uniqueid"),
        text("linkedid"),
        text("channel"),
        text("queue"),
        text("member"),
        Field::new("fields", DataType::Map(Arc::new(entries), false), false),
        Field::new("source", DataType::Utf8, false),
        Field::new("byte_offset", DataType::UInt64, false),
    ]))
});

/// One event's values, as the builder takes them.
pub struct AmiEventRow<'a> {
    /// The PBX's instant of the event, microseconds since the epoch.
    pub ts_us: i64,
    /// When queuelake received it, microseconds since the epoch.
    pub received_us: i64,
    /// The event's name (or [`GAP_EVENT`]).
    pub event: &'a str,
    /// Every header, in order (repeats allowed).
    pub headers: &'a [(String, String)],
    /// The journal's identity.
    pub source: &'a str,
    /// Where the line starts in the journal.
    pub byte_offset: u64,
}

/// Accumulates `ami_events` rows.
pub struct AmiEventsBuilder {
    ts: TimestampMicrosecondBuilder,
    received_at: TimestampMicrosecondBuilder,
    event: StringBuilder,
    keys: [StringBuilder; 5],
    fields: MapBuilder<StringBuilder, StringBuilder>,
    source: StringBuilder,
    byte_offset: UInt64Builder,
    rows: usize,
}

impl Default for AmiEventsBuilder {
    fn default() -> Self {
        AmiEventsBuilder {
            ts: TimestampMicrosecondBuilder::new().with_timezone("UTC"),
            received_at: TimestampMicrosecondBuilder::new().with_timezone("UTC"),
            event: StringBuilder::new(),
            keys: std::array::from_fn(|_| StringBuilder::new()),
            fields: new_map_builder(),
            source: StringBuilder::new(),
            byte_offset: UInt64Builder::new(),
            rows: 0,
        }
    }
}

fn new_map_builder() -> MapBuilder<StringBuilder, StringBuilder> {
    MapBuilder::new(
        Some(map_field_names()),
        StringBuilder::new(),
        StringBuilder::new(),
    )
    .with_values_field(Field::new("value", DataType::Utf8, true))
}

/// The headers whose values fill the key columns, in column order; the
/// first present of each list wins (`QueueMember` items say `Name`,
/// events say `MemberName`).
const KEY_HEADERS: [&[&str]; 5] = [
    &["Uniqueid"],
    &["Linkedid"],
    &["Channel"],
    &["Queue"],
    &["MemberName", "Name"],
];

impl AmiEventsBuilder {
    /// Rows appended since the last finish.
    pub fn len(&self) -> usize {
        self.rows
    }

    /// Whether no row is pending.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Appends one event.
    pub fn append(&mut self, row: &AmiEventRow<'_>) {
        self.ts.append_value(row.ts_us);
        self.received_at.append_value(row.received_us);
        self.event.append_value(row.event);
        for (builder, names) in self.keys.iter_mut().zip(KEY_HEADERS) {
            let value = names.iter().find_map(|name| {
                row.headers
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.as_str())
            });
            builder.append_option(value);
        }
        // One entry per key, repeats joined, in order of first appearance.
        let mut merged: Vec<(&str, String)> = Vec::with_capacity(row.headers.len());
        for (key, value) in row.headers {
            match merged.iter_mut().find(|(k, _)| *k == key.as_str()) {
                Some((_, joined)) => {
                    joined.push('\n');
                    joined.push_str(value);
                }
                None => merged.push((key, value.clone())),
            }
        }
        for (key, value) in &merged {
            self.fields.keys().append_value(key);
            self.fields.values().append_value(value);
        }
        // Appending an entry set cannot fail once keys and values match.
        let _ = self.fields.append(true);
        self.source.append_value(row.source);
        self.byte_offset.append_value(row.byte_offset);
        self.rows += 1;
    }

    /// The pending rows as a batch; the builder is empty afterwards.
    pub fn finish(&mut self) -> RecordBatch {
        let mut columns: Vec<ArrayRef> = vec![
            Arc::new(self.ts.finish()),
            Arc::new(self.received_at.finish()),
            Arc::new(self.event.finish()),
        ];
        for builder in &mut self.keys {
            columns.push(Arc::new(builder.finish()));
        }
        columns.push(Arc::new(self.fields.finish()));
        columns.push(Arc::new(self.source.finish()));
        columns.push(Arc::new(self.byte_offset.finish()));
        self.rows = 0;
        RecordBatch::try_new(AMI_EVENTS_SCHEMA.clone(), columns)
            .expect("builder columns match AMI_EVENTS_SCHEMA by construction")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Array, AsArray};

    #[test]
    fn keys_are_pulled_out_and_repeated_headers_joined() {
        let headers: Vec<(String, String)> = [
            ("Event", "QueueCallerJoin"),
            ("Channel", "PJSIP/trunk-00000001"),
            ("Uniqueid", "1700000000.1"),
            ("ChanVariable", "QL_CAMPAIGN=renewals"),
            ("ChanVariable", "OTHER=1"),
            ("Queue", "support"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let mut builder = AmiEventsBuilder::default();
        builder.append(&AmiEventRow {
            ts_us: 1,
            received_us: 2,
            event: "QueueCallerJoin",
            headers: &headers,
            source: "j",
            byte_offset: 10,
        });
        builder.append(&AmiEventRow {
            ts_us: 3,
            received_us: 3,
            event: GAP_EVENT,
            headers: &[],
            source: "j",
            byte_offset: 99,
        });
        let batch = builder.finish();
        assert_eq!(batch.num_rows(), 2);
        let queue = batch.column_by_name("queue").unwrap().as_string::<i32>();
        assert_eq!(queue.value(0), "support");
        assert!(queue.is_null(1));
        let fields = batch.column_by_name("fields").unwrap().as_map();
        let first = fields.value(0);
        let keys = first.column(0).as_string::<i32>();
        let values = first.column(1).as_string::<i32>();
        let at = (0..keys.len())
            .find(|&i| keys.value(i) == "ChanVariable")
            .unwrap();
        assert_eq!(values.value(at), "QL_CAMPAIGN=renewals\nOTHER=1");
        assert_eq!(keys.len(), 5);
        assert_eq!(fields.value(1).len(), 0);
    }
}
