//! String functions whose result size the caller picks (`repeat`, `lpad`,
//! `rpad`), capped before they allocate: `repeat('x', 2147483647)` would
//! otherwise ask for 2 GiB in one value, outside any memory pool. Each is
//! DataFusion's own function behind a check of the requested size: one
//! value against `[query] max_value_bytes`, and all values of one call (a
//! batch of rows) against `max_result_bytes`; over either, the query
//! fails naming the limit.

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::{DataType, FieldRef, Int64Type};
use datafusion::common::{DataFusionError, Result, ScalarValue};
use datafusion::execution::FunctionRegistry;
use datafusion::execution::context::SessionContext;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl,
    Signature,
};

/// How a function's result size follows from its arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Growth {
    /// `repeat(text, n)`: the text's length times n.
    Repeat,
    /// `lpad(text, n [, fill])`, `rpad(…)`: n characters (up to 4 bytes each).
    Pad,
}

/// A function with its result size checked first.
#[derive(Debug, PartialEq, Eq, Hash)]
struct Bounded {
    inner: ScalarUDF,
    growth: Growth,
    max_bytes: u64,
    max_call_bytes: u64,
}

/// Replaces `ctx`'s `repeat`, `lpad` and `rpad` with versions capped at
/// `max_bytes` a value and `max_call_bytes` a call.
pub fn install(ctx: &SessionContext, max_bytes: u64, max_call_bytes: u64) -> Result<()> {
    for (name, growth) in [
        ("repeat", Growth::Repeat),
        ("lpad", Growth::Pad),
        ("rpad", Growth::Pad),
    ] {
        let inner = ctx.udf(name)?.as_ref().clone();
        ctx.register_udf(ScalarUDF::new_from_impl(Bounded {
            inner,
            growth,
            max_bytes,
            max_call_bytes,
        }));
    }
    Ok(())
}

/// One argument's integer per row (a scalar is the same for every row).
enum PerRow {
    One(Option<i64>),
    Each(ArrayRef),
}

impl PerRow {
    fn get(&self, row: usize) -> Option<i64> {
        match self {
            PerRow::One(v) => *v,
            PerRow::Each(a) => {
                let a = a.as_primitive::<Int64Type>();
                (!a.is_null(row)).then(|| a.value(row))
            }
        }
    }
}

fn integers(value: &ColumnarValue) -> Result<PerRow> {
    Ok(match value {
        ColumnarValue::Scalar(s) => match s.cast_to(&DataType::Int64)? {
            ScalarValue::Int64(v) => PerRow::One(v),
            _ => PerRow::One(None),
        },
        ColumnarValue::Array(a) => PerRow::Each(arrow::compute::cast(a, &DataType::Int64)?),
    })
}

/// Byte lengths of a text argument, without expanding a scalar to rows.
fn lengths(value: &ColumnarValue) -> Result<PerRow> {
    Ok(match value {
        ColumnarValue::Scalar(s) => {
            let array = s.to_array_of_size(1)?;
            let length = arrow::compute::kernels::length::length(&array)?;
            let length = arrow::compute::cast(&length, &DataType::Int64)?;
            let length = length.as_primitive::<Int64Type>();
            PerRow::One((!length.is_null(0)).then(|| length.value(0)))
        }
        ColumnarValue::Array(a) => {
            let length = arrow::compute::kernels::length::length(a)?;
            PerRow::Each(arrow::compute::cast(&length, &DataType::Int64)?)
        }
    })
}

impl Bounded {
    fn check(&self, args: &ScalarFunctionArgs) -> Result<()> {
        let (Some(text), Some(count)) = (args.args.first(), args.args.get(1)) else {
            return Ok(());
        };
        let counts = integers(count)?;
        let text_lengths = match self.growth {
            Growth::Repeat => Some(lengths(text)?),
            Growth::Pad => None,
        };
        let rows = match (&counts, text) {
            (PerRow::One(_), ColumnarValue::Scalar(_)) => 1,
            _ => args.number_rows,
        };
        let mut call_bytes = 0u64;
        for row in 0..rows {
            let Some(n) = counts.get(row) else { continue };
            let n = u64::try_from(n).unwrap_or(0);
            let bytes = match &text_lengths {
                Some(l) => u64::try_from(l.get(row).unwrap_or(0))
                    .unwrap_or(0)
                    .saturating_mul(n),
                None => n,
            };
            if bytes > self.max_bytes {
                return Err(DataFusionError::ResourcesExhausted(format!(
                    "{}() would make a value of {bytes} bytes, over the limit of {} bytes ([query] max_value_bytes)",
                    self.inner.name(),
                    self.max_bytes
                )));
            }
            call_bytes = call_bytes.saturating_add(bytes);
            if call_bytes > self.max_call_bytes {
                return Err(DataFusionError::ResourcesExhausted(format!(
                    "{}() over {rows} rows would make more than {} bytes ([query] max_result_bytes)",
                    self.inner.name(),
                    self.max_call_bytes
                )));
            }
        }
        Ok(())
    }
}

impl ScalarUDFImpl for Bounded {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn aliases(&self) -> &[String] {
        self.inner.aliases()
    }

    fn signature(&self) -> &Signature {
        self.inner.signature()
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        self.inner.return_type(arg_types)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        self.inner.return_field_from_args(args)
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        self.inner.coerce_types(arg_types)
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.inner.documentation()
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        self.check(&args)?;
        self.inner.invoke_with_args(args)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::execution::context::SQLOptions;

    async fn run(ctx: &SessionContext, sql: &str) -> std::result::Result<usize, String> {
        let df = ctx
            .sql_with_options(sql, SQLOptions::new())
            .await
            .map_err(|e| e.to_string())?;
        let batches = df.collect().await.map_err(|e| e.to_string())?;
        Ok(batches.iter().map(|b| b.num_rows()).sum())
    }

    #[tokio::test]
    async fn sizes_over_the_cap_fail_by_name_and_sizes_under_it_run() {
        let ctx = SessionContext::new();
        install(&ctx, 1000, 5000).unwrap();
        assert_eq!(run(&ctx, "SELECT repeat('ab', 500)").await, Ok(1));
        assert_eq!(run(&ctx, "SELECT lpad('x', 1000, 'y')").await, Ok(1));
        for bomb in [
            "SELECT repeat('ab', 501)",
            "SELECT repeat('x', 2147483647)",
            "SELECT rpad('x', 1001)",
            "SELECT lpad('x', 2147483647, 'ab')",
            // Per row, not only constants.
            "SELECT repeat(v, 600) FROM (VALUES ('a'), ('bb')) AS t(v)",
            "SELECT repeat('x', n) FROM (VALUES (1), (5000)) AS t(n)",
        ] {
            let why = run(&ctx, bomb).await.unwrap_err();
            assert!(why.contains("max_value_bytes"), "{bomb}: {why}");
        }
        // Values under their cap that together would be too much at once.
        let wide =
            "SELECT repeat(v, 1000) FROM (VALUES ('a'), ('b'), ('c'), ('d'), ('e'), ('f')) AS t(v)";
        let why = run(&ctx, wide).await.unwrap_err();
        assert!(why.contains("max_result_bytes"), "{why}");
    }
}
