//! Catalog functions drivers call that pg_catalog lacks:
//!
//! - `to_regtype(name)`: a type name's OID, or NULL when there is no such
//!   type — what psycopg's `TypeInfo.fetch` (run by SQLAlchemy at connect
//!   time, for `hstore`) asks. The names are the built-in types the port
//!   sends and their SQL spellings; anything else (an extension's type) is
//!   NULL, as in a PostgreSQL without that extension.
//! - functions about objects queuelake has none of (sequences,
//!   collations), answering as PostgreSQL does where there are none:
//!   `pg_get_serial_sequence(table, column)` NULL,
//!   `pg_collation_is_visible(oid)` true (SQLAlchemy's column reflection).
//! - `json_build_object(key, value, …)`: the JSON object text of its
//!   pairs (SQLAlchemy builds identity and collation details with it).

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, AsArray, Int32Array};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

/// Built-in type names (and aliases) with their OIDs, as in `pg_type`.
const TYPES: &[(&str, i32)] = &[
    ("bool", 16),
    ("boolean", 16),
    ("bytea", 17),
    ("int8", 20),
    ("bigint", 20),
    ("int2", 21),
    ("smallint", 21),
    ("int4", 23),
    ("integer", 23),
    ("int", 23),
    ("text", 25),
    ("oid", 26),
    ("json", 114),
    ("float4", 700),
    ("real", 700),
    ("float8", 701),
    ("double precision", 701),
    ("varchar", 1043),
    ("character varying", 1043),
    ("date", 1082),
    ("time", 1083),
    ("timestamp", 1114),
    ("timestamp without time zone", 1114),
    ("timestamptz", 1184),
    ("timestamp with time zone", 1184),
    ("interval", 1186),
    ("numeric", 1700),
    ("uuid", 2950),
    ("jsonb", 3802),
];

/// The OID of the type `name` (case and `pg_catalog.` ignored), if built in.
pub fn type_oid(name: &str) -> Option<i32> {
    let name = name.trim().to_ascii_lowercase();
    let name = name.strip_prefix("pg_catalog.").unwrap_or(&name);
    TYPES.iter().find(|(n, _)| *n == name).map(|(_, oid)| *oid)
}

/// `to_regtype(text)`.
pub fn to_regtype() -> ScalarUDF {
    ScalarUDF::from(ToRegtype {
        signature: Signature::exact(vec![DataType::Utf8], Volatility::Immutable),
    })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct ToRegtype {
    signature: Signature,
}

impl ScalarUDFImpl for ToRegtype {
    fn name(&self) -> &str {
        "to_regtype"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int32)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let names = args.args[0].to_array(args.number_rows)?;
        let names = names.as_string::<i32>();
        let oids: Int32Array = names.iter().map(|name| name.and_then(type_oid)).collect();
        Ok(ColumnarValue::Array(Arc::new(oids) as ArrayRef))
    }
}

/// `name` of `arity` arguments of any type, always answering `value`.
pub fn constant(name: &'static str, arity: usize, value: ScalarValue) -> ScalarUDF {
    ScalarUDF::from(Constant {
        name,
        value,
        signature: Signature::any(arity, Volatility::Immutable),
    })
}

/// The functions of this module, to register in a session.
pub fn all() -> Vec<ScalarUDF> {
    vec![
        to_regtype(),
        ScalarUDF::from(JsonBuildObject {
            signature: Signature::variadic_any(Volatility::Immutable),
        }),
        constant("pg_get_serial_sequence", 2, ScalarValue::Utf8(None)),
        // Every collation there is (none) is visible.
        constant(
            "pg_collation_is_visible",
            1,
            ScalarValue::Boolean(Some(true)),
        ),
    ]
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Constant {
    name: &'static str,
    value: ScalarValue,
    signature: Signature,
}

impl ScalarUDFImpl for Constant {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(self.value.data_type())
    }

    fn invoke_with_args(&self, _args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        Ok(ColumnarValue::Scalar(self.value.clone()))
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct JsonBuildObject {
    signature: Signature,
}

/// A value as JSON: numbers and booleans as themselves, NULL as null,
/// anything else as its text.
fn json_value(value: &ScalarValue) -> serde_json::Value {
    use serde_json::Value;
    if value.is_null() {
        return Value::Null;
    }
    match value {
        ScalarValue::Boolean(Some(b)) => Value::Bool(*b),
        ScalarValue::Int8(Some(_))
        | ScalarValue::Int16(Some(_))
        | ScalarValue::Int32(Some(_))
        | ScalarValue::Int64(Some(_))
        | ScalarValue::UInt8(Some(_))
        | ScalarValue::UInt16(Some(_))
        | ScalarValue::UInt32(Some(_))
        | ScalarValue::UInt64(Some(_))
        | ScalarValue::Float32(Some(_))
        | ScalarValue::Float64(Some(_)) => value
            .to_string()
            .parse::<serde_json::Number>()
            .map_or_else(|_| Value::String(value.to_string()), Value::Number),
        other => Value::String(other.to_string()),
    }
}

impl ScalarUDFImpl for JsonBuildObject {
    fn name(&self) -> &str {
        "json_build_object"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        if !args.args.len().is_multiple_of(2) {
            return Err(datafusion::common::DataFusionError::Plan(
                "argument list must have even number of elements".into(),
            ));
        }
        let rows = args.number_rows;
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let mut out = Vec::with_capacity(rows);
        for row in 0..rows {
            let mut object = serde_json::Map::new();
            for pair in arrays.chunks(2) {
                let key = ScalarValue::try_from_array(&pair[0], row)?;
                let value = ScalarValue::try_from_array(&pair[1], row)?;
                let key = match json_value(&key) {
                    serde_json::Value::String(text) => text,
                    other => other.to_string(),
                };
                object.insert(key, json_value(&value));
            }
            out.push(Some(serde_json::Value::Object(object).to_string()));
        }
        Ok(ColumnarValue::Array(
            Arc::new(datafusion::arrow::array::StringArray::from(out)) as ArrayRef,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_names_have_their_oids_and_others_none() {
        assert_eq!(type_oid("int8"), Some(20));
        assert_eq!(type_oid("Double Precision"), Some(701));
        assert_eq!(type_oid("pg_catalog.text"), Some(25));
        assert_eq!(type_oid("hstore"), None);
    }
}
