//! `current_setting(name [, missing_ok])`, which PostgreSQL clients call at
//! connect time (Grafana reads `server_version_num` and `search_path`).
//! Answers are the server's fixed parameters; an unknown name is an error,
//! as in PostgreSQL, unless `missing_ok` is true (then NULL).

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, AsArray, StringArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{DataFusionError, Result, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, TypeSignature,
    Volatility,
};

/// The PostgreSQL release whose protocol and catalog the port speaks.
pub const SERVER_VERSION: &str = "16.6";

/// `server_version` as PostgreSQL reports it ("16.6 (Debian …)"), naming
/// queuelake where a distribution names itself.
pub fn server_version() -> String {
    format!("{SERVER_VERSION} (queuelake {})", env!("CARGO_PKG_VERSION"))
}

/// What `version()` answers, in PostgreSQL's form (drivers such as
/// SQLAlchemy read the release from it).
pub fn version_text() -> String {
    format!(
        "PostgreSQL {SERVER_VERSION} (queuelake {}) on {}-pc-linux-gnu, compiled by rustc, 64-bit",
        env!("CARGO_PKG_VERSION"),
        std::env::consts::ARCH
    )
}

/// `version()`.
pub fn version() -> ScalarUDF {
    ScalarUDF::from(Version {
        signature: Signature::exact(vec![], Volatility::Stable),
    })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct Version {
    signature: Signature,
}

impl ScalarUDFImpl for Version {
    fn name(&self) -> &str {
        "version"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, _args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        Ok(ColumnarValue::Scalar(ScalarValue::Utf8(Some(
            version_text(),
        ))))
    }
}

/// The parameters a session reports (`server_version` is [`server_version`]).
const SETTINGS: &[(&str, &str)] = &[
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
pub fn setting(name: &str) -> Option<String> {
    let name = name.to_ascii_lowercase();
    if name == "server_version" {
        return Some(server_version());
    }
    SETTINGS
        .iter()
        .find(|(key, _)| *key == name)
        .map(|(_, value)| (*value).to_string())
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
                Some(value) => Ok(Some(value)),
                None if missing_ok => Ok(None),
                None => Err(DataFusionError::Plan(format!(
                    "unrecognized configuration parameter \"{name}\""
                ))),
            }
        };
        let names = args.args[0].to_array(args.number_rows)?;
        let values = names
            .as_string::<i32>()
            .iter()
            .map(lookup)
            .collect::<Result<StringArray>>()?;
        Ok(ColumnarValue::Array(Arc::new(values) as ArrayRef))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_settings_answer_and_unknown_ones_do_not() {
        assert_eq!(setting("server_version_num").as_deref(), Some("160006"));
        assert_eq!(setting("TimeZone").as_deref(), Some("UTC"));
        assert_eq!(setting("search_path").as_deref(), Some("public"));
        assert_eq!(setting("shared_buffers"), None);
        // Drivers read the release from these (SQLAlchemy: r"PostgreSQL (\d+)\.?(\d+)?").
        assert!(
            setting("server_version")
                .unwrap()
                .starts_with("16.6 (queuelake ")
        );
        assert!(version_text().starts_with("PostgreSQL 16.6 (queuelake "));
    }
}
