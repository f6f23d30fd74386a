//! Schemas of the raw lake tables, and the builder that fills `queue_log`.

use std::sync::{Arc, LazyLock};

use arrow::array::{
    ArrayRef, BinaryArray, BinaryBuilder, RecordBatch, StringArray, StringBuilder,
    TimestampMicrosecondBuilder, UInt64Builder,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};

/// Name of the raw queue_log table.
pub const QUEUE_LOG: &str = "queue_log";

/// Schema of `queue_log`: one row per line, lineage included.
pub static QUEUE_LOG_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    let text = |name: &str, nullable: bool| Field::new(name, DataType::Utf8, nullable);
    Arc::new(Schema::new(vec![
        Field::new(
            "ts",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            true,
        ),
        text("callid", false),
        text("queue", false),
        text("agent", false),
        text("event", false),
        text("data", false),
        text("data1", true),
        text("data2", true),
        text("data3", true),
        text("data4", true),
        text("data5", true),
        text("source", false),
        Field::new("byte_offset", DataType::UInt64, false),
    ]))
});

/// Index of the `ts` column in [`QUEUE_LOG_SCHEMA`].
pub const QUEUE_LOG_TS_COLUMN: usize = 0;

/// Accumulates `queue_log` rows and turns them into a [`RecordBatch`].
///
/// Text columns take raw bytes and decode them lossily: the lake stores
/// UTF-8, and a Latin-1 caller name becomes U+FFFD rather than a lost line.
/// The bytes are validated once per column and batch, not once per field.
pub struct QueueLogBuilder {
    ts: TimestampMicrosecondBuilder,
    text: [BinaryBuilder; 10],
    source: StringBuilder,
    byte_offset: UInt64Builder,
    rows: usize,
}

/// One line's values, as the builder takes them.
pub struct QueueLogRow<'a> {
    /// Unix seconds.
    pub epoch: i64,
    /// callid, queue, agent, event, data (whole payload).
    pub header: [&'a [u8]; 5],
    /// data1..data5, `None` where the payload does not reach.
    pub data: [Option<&'a [u8]>; 5],
    /// The source's identity.
    pub source: &'a str,
    /// Where the line starts in the source.
    pub byte_offset: u64,
}

impl Default for QueueLogBuilder {
    fn default() -> Self {
        Self::with_capacity(8192)
    }
}

impl QueueLogBuilder {
    /// A builder with room for `rows` rows.
    pub fn with_capacity(rows: usize) -> Self {
        QueueLogBuilder {
            ts: TimestampMicrosecondBuilder::with_capacity(rows).with_timezone("UTC"),
            text: std::array::from_fn(|_| BinaryBuilder::with_capacity(rows, rows * 8)),
            source: StringBuilder::with_capacity(rows, rows * 20),
            byte_offset: UInt64Builder::with_capacity(rows),
            rows: 0,
        }
    }

    /// Rows appended since the last [`QueueLogBuilder::finish`].
    pub fn len(&self) -> usize {
        self.rows
    }

    /// Whether no row is pending.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Appends one line.
    pub fn append(&mut self, row: &QueueLogRow<'_>) {
        self.ts.append_value(row.epoch.saturating_mul(1_000_000));
        for (builder, value) in self.text.iter_mut().zip(row.header) {
            builder.append_value(value);
        }
        for (builder, value) in self.text[5..].iter_mut().zip(row.data) {
            builder.append_option(value);
        }
        self.source.append_value(row.source);
        self.byte_offset.append_value(row.byte_offset);
        self.rows += 1;
    }

    /// The pending rows as a batch; the builder is empty afterwards, with
    /// room reserved for a batch as large as this one (arrow's builders
    /// give up their capacity on finish, and growing them back by doubling
    /// copies every buffer several times per batch).
    pub fn finish(&mut self) -> RecordBatch {
        let rows = self.rows;
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(13);
        let ts = TimestampMicrosecondBuilder::with_capacity(rows).with_timezone("UTC");
        columns.push(Arc::new(std::mem::replace(&mut self.ts, ts).finish()));
        for builder in &mut self.text {
            let refill = BinaryBuilder::with_capacity(rows, builder.values_slice().len());
            columns.push(Arc::new(utf8_lossy(
                std::mem::replace(builder, refill).finish(),
            )));
        }
        let refill = StringBuilder::with_capacity(rows, self.source.values_slice().len());
        columns.push(Arc::new(
            std::mem::replace(&mut self.source, refill).finish(),
        ));
        let offsets = UInt64Builder::with_capacity(rows);
        columns.push(Arc::new(
            std::mem::replace(&mut self.byte_offset, offsets).finish(),
        ));
        self.rows = 0;
        RecordBatch::try_new(QUEUE_LOG_SCHEMA.clone(), columns)
            .expect("builder columns match QUEUE_LOG_SCHEMA by construction")
    }
}

/// The column as text: as it is when it is valid UTF-8 (one check over all
/// its bytes), else with each bad sequence replaced by U+FFFD.
fn utf8_lossy(bytes: BinaryArray) -> StringArray {
    StringArray::try_from_binary(bytes.clone()).unwrap_or_else(|_| {
        bytes
            .iter()
            .map(|value| value.map(String::from_utf8_lossy))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Array, AsArray};

    fn row<'a>(agent: &'a [u8], data1: Option<&'a [u8]>) -> QueueLogRow<'a> {
        QueueLogRow {
            epoch: 1_700_000_000,
            header: [b"1.1", b"sales", agent, b"ENTERQUEUE", b""],
            data: [data1, None, None, None, None],
            source: "src",
            byte_offset: 0,
        }
    }

    #[test]
    fn text_is_kept_when_valid_and_replaced_only_where_not() {
        let mut builder = QueueLogBuilder::default();
        builder.append(&row("José Ñ".as_bytes(), Some(b"J\xe9r\xf4me")));
        builder.append(&row(b"Ana", None));
        let batch = builder.finish();
        let agent = batch.column_by_name("agent").unwrap().as_string::<i32>();
        assert_eq!(agent.value(0), "José Ñ");
        let data1 = batch.column_by_name("data1").unwrap().as_string::<i32>();
        assert_eq!(data1.value(0), "J\u{fffd}r\u{fffd}me");
        assert!(data1.is_null(1));
        // The builder is reusable after finish.
        builder.append(&row(b"Bruno", Some(b"1")));
        assert_eq!(builder.finish().num_rows(), 1);
    }
}
