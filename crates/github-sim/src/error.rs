//! Errors as GitHub words them: a status, a message, the documentation URL, the status repeated
//! as a string, and for validation failures GitHub's `errors` array.

use http::StatusCode;
use serde_json::{Value, json};

/// An error response of the REST API.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    pub errors: Option<Value>,
    pub documentation_url: String,
}

const DOCS: &str = "https://docs.github.com/rest";

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            errors: None,
            documentation_url: DOCS.into(),
        }
    }

    /// Points `documentation_url` at a specific page, as GitHub does per endpoint.
    #[must_use]
    pub fn doc(mut self, url: &str) -> ApiError {
        url.clone_into(&mut self.documentation_url);
        self
    }

    pub fn not_found() -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "Not Found")
    }

    /// 422 with a plain message (no `errors` array).
    pub fn unprocessable(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, message)
    }

    /// 422 "Validation Failed" with one `{resource, code, field}` error.
    pub fn validation(resource: &str, code: &str, field: &str) -> ApiError {
        ApiError {
            errors: Some(json!([{"resource": resource, "code": code, "field": field}])),
            ..ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "Validation Failed")
        }
    }

    /// 422 "Validation Failed" with one custom error message.
    pub fn validation_message(resource: &str, message: &str) -> ApiError {
        ApiError {
            errors: Some(json!([{"resource": resource, "code": "custom", "message": message}])),
            ..ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "Validation Failed")
        }
    }

    /// 400 for a body that is not the JSON the endpoint expects.
    pub fn bad_json(detail: &str) -> ApiError {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("Problems parsing JSON: {detail}"),
        )
    }

    pub fn body(&self) -> Value {
        let mut v = json!({
            "message": self.message,
            "documentation_url": self.documentation_url,
            "status": self.status.as_str(),
        });
        if let (Some(errors), Value::Object(m)) = (&self.errors, &mut v) {
            m.insert("errors".into(), errors.clone());
        }
        v
    }
}
