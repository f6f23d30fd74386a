//! `current_setting(name [, missing_ok])`, which PostgreSQL clients call at
//! connect time (Grafana reads `server_version_num` and `search_path`).
//! Answers are the server's fixed parameters; an unknown name is an error,
//! as in PostgreSQL, unless `missing_ok` is true (then NULL).

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{DataFusionError, Result, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, TypeSignature,
    Volatility,
};

/// The parameters a session reports.
const SETTINGS: &[(&str, &str)] = &[
    ("server_version", "16.6"),
    ("server_version_num", "160006"),
    ("server_encoding", "UTF8"),
    ("client_encoding", "UTF8"),
    ("search_path", "public"),
    ("timezone", "UTC"),
    ("datestyle", "ISO, MDY"),
    ("intervalstyle", "postgres"),
    ("standard_conforming_strings", "on"),
    ("integer_datetimes", "on"),
    ("max_identifier_length", "63"),
    ("is_superuser", "off"),
    ("default_transaction_read_only", "on"),
    ("transaction_read_only", "on"),
    ("transaction_isolation", "read committed"),
    ("default_transaction_isolation", "read committed"),
    ("application_name", ""),
];

/// The value of setting `name` (case-insensitive).
pub fn setting(name: &str) -> Option<&'static str> {
    let name = name.to_ascii_lowercase();
    SETTINGS
        .iter()
        .find(|(key, _)| *key == name)
        .map(|(_, value)| *value)
}

/// The UDF.
pub fn current_setting() -> ScalarUDF {
    ScalarUDF::from(CurrentSetting {
        signature: Signature::one_of(
            vec![
                TypeSignature::Exact(vec![DataType::Utf8]),
                TypeSignature::Exact(vec![DataType::Utf8, DataType::Boolean]),
            ],
            Volatility::Stable,
        ),
    })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct CurrentSetting {
    signature: Signature,
}

impl ScalarUDFImpl for CurrentSetting {
    fn name(&self) -> &str {
        "current_setting"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let missing_ok = match args.args.get(1) {
            Some(ColumnarValue::Scalar(ScalarValue::Boolean(Some(ok)))) => *ok,
            _ => false,
        };
        let lookup = |name: Option<&str>| -> Result<Option<String>> {
            let Some(name) = name else { return Ok(None) };
            match setting(name) {
                Some(value) => Ok(Some(value.to_owned())),
                None if missing_ok => Ok(None),
                None => Err(DataFusionError::Plan(format!(
                    "unrecognized configuration parameter \"{name}\""
                ))),
            }
        };
        match &args.args[0] {
            ColumnarValue::Scalar(value) => {
                let name = match value {
                    ScalarValue::Utf8(v) | ScalarValue::LargeUtf8(v) | ScalarValue::Utf8View(v) => {
                        v.as_deref()
                    }
                    _ => None,
                };
                Ok(ColumnarValue::Scalar(ScalarValue::Utf8(lookup(name)?)))
            }
            ColumnarValue::Array(names) => {
                let names = names.as_string::<i32>();
                let values = (0..names.len())
                    .map(|i| lookup((!names.is_null(i)).then(|| names.value(i))))
                    .collect::<Result<StringArray>>()?;
                Ok(ColumnarValue::Array(Arc::new(values) as ArrayRef))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_settings_answer_and_unknown_ones_do_not() {
        assert_eq!(setting("server_version_num"), Some("160006"));
        assert_eq!(setting("TimeZone"), Some("UTC"));
        assert_eq!(setting("search_path"), Some("public"));
        assert_eq!(setting("shared_buffers"), None);
    }
}
