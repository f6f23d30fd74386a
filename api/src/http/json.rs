//! `ApiJson<T>`: a JSON body whose faults are problem documents naming
//! the field (`sql`, `items[2].name`) and the line and column.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header;
use serde::de::DeserializeOwned;

use super::connections::BodyTimedOut;
use super::error::{AppError, Location};

/// A JSON request body of type `T`.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|mime| {
                let mime = mime.trim();
                mime.eq_ignore_ascii_case("application/json")
                    || mime.to_ascii_lowercase().ends_with("+json")
            });
        if !is_json {
            return Err(AppError::UnsupportedMediaType(
                "the body must be JSON: send `Content-Type: application/json`".into(),
            ));
        }
        let bytes = Bytes::from_request(request, state).await.map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                AppError::PayloadTooLarge(format!("request body: {}", e.body_text()))
            } else if let Some(late) = timed_out(&e) {
                AppError::RequestTimeout(format!("request body: {late}"))
            } else {
                AppError::bad_request(format!("request body: {}", e.body_text()))
            }
        })?;
        parse(&bytes).map(ApiJson)
    }
}

/// The body's deadline, when that is why it could not be read.
fn timed_out<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a BodyTimedOut> {
    let mut at = Some(error);
    while let Some(e) = at {
        if let Some(late) = e.downcast_ref::<BodyTimedOut>() {
            return Some(late);
        }
        at = e.source();
    }
    None
}

/// `bytes` as a `T`, or the fault with its place.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let path = e.path().to_string();
        fault((path != ".").then_some(path), e.into_inner())
    })?;
    deserializer.end().map_err(|e| fault(None, e))?;
    Ok(value)
}

fn fault(field: Option<String>, error: serde_json::Error) -> AppError {
    let at = Location {
        field,
        line: Some(error.line() as u64),
        column: Some(error.column() as u64),
    };
    let detail = format!("request body: {error}");
    if error.is_data() {
        AppError::Unprocessable { detail, at }
    } else {
        AppError::BadRequest { detail, at }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        sql: String,
        #[serde(default)]
        limit: u32,
    }

    #[test]
    fn faults_name_their_field_line_and_column() {
        match parse::<Body>(b"{\"sql\": 1}") {
            Err(AppError::Unprocessable { detail, at }) => {
                assert_eq!(at.field.as_deref(), Some("sql"));
                assert_eq!((at.line, at.column), (Some(1), Some(9)));
                assert!(detail.contains("expected a string"), "{detail}");
            }
            other => panic!("{other:?}"),
        }
        match parse::<Body>(b"{\"sql\": \"x\",\n \"limt\": 3}") {
            Err(AppError::Unprocessable { detail, at }) => {
                assert!(detail.contains("limt"), "{detail}");
                assert_eq!(at.line, Some(2));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse::<Body>(b"{\"sql\": "),
            Err(AppError::BadRequest { .. })
        ));
        assert!(matches!(
            parse::<Body>(b"{\"sql\": \"x\"} trailing"),
            Err(AppError::BadRequest { .. })
        ));
        assert!(matches!(
            parse::<Body>(b"{}"),
            Err(AppError::Unprocessable { .. })
        ));
        assert_eq!(parse::<Body>(b"{\"sql\":\"x\"}").unwrap().sql, "x");
    }
}
