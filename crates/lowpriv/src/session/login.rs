//! Logging in with a form, and proving a login held.

use reqwest::Method;
use scraper::{ElementRef, Html};
use url::Url;

use super::{LoginError, Response, Session};
use crate::markup;
use crate::scenario::{Secret, Verify};

/// GET the form page, pick the form with a password field, carry its hidden fields (CSRF
/// tokens), fill the scenario's fields, and submit it to the Site's own origin only.
pub(super) async fn submit_form(
    session: &Session,
    form_path: &str,
    fields: &[(String, Secret)],
) -> Result<(), LoginError> {
    let page_url = session
        .site
        .resolve(form_path)
        .ok_or_else(|| LoginError::Submit {
            reason: format!("form path `{form_path}` is not on the Site's origin"),
        })?;
    let page = session
        .get(&page_url)
        .await
        .map_err(|e| LoginError::FormPage {
            url: page_url.to_string(),
            reason: e.describe(),
        })?;
    if !(200..300).contains(&page.status) {
        return Err(LoginError::FormStatus {
            url: page_url.to_string(),
            status: page.status,
        });
    }
    let form = find_login_form(&page).ok_or_else(|| LoginError::FormNotFound {
        url: page.final_url.to_string(),
    })?;
    if form.action.origin() != session.site.origin {
        return Err(LoginError::ForeignAction {
            action: form.action.to_string(),
        });
    }
    if !form.post {
        return Err(LoginError::Submit {
            reason: "the login form uses GET; refusing to put credentials in a URL".to_string(),
        });
    }
    let mut values = form.inputs;
    for (name, value) in fields {
        match values.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = value.expose().to_string(),
            None => {
                return Err(LoginError::FieldMissing {
                    url: page.final_url.to_string(),
                    field: name.clone(),
                    available: values
                        .iter()
                        .map(|(n, _)| n.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            }
        }
    }
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(values.iter().map(|(n, v)| (n.as_str(), v.as_str())))
        .finish();
    let response = session
        .send(Method::POST, &form.action, Some(body))
        .await
        .map_err(|e| LoginError::Submit {
            reason: e.describe(),
        })?;
    if response.status >= 400 {
        return Err(LoginError::Submit {
            reason: format!("the Site answered {}", response.status),
        });
    }
    Ok(())
}

struct LoginForm {
    action: Url,
    post: bool,
    /// Every successful control with its default value, in document order.
    inputs: Vec<(String, String)>,
}

fn find_login_form(page: &Response) -> Option<LoginForm> {
    let html = Html::parse_document(crate::markup::bounded(&page.text()));
    let forms = markup::selector("form");
    let password = markup::selector("input[type=password i]");
    let form = html
        .select(&forms)
        .find(|form| form.select(&password).next().is_some())?;
    let action = match form.value().attr("action").map(str::trim) {
        Some(action) if !action.is_empty() => page.final_url.join(action).ok()?,
        _ => page.final_url.clone(),
    };
    let post = form
        .value()
        .attr("method")
        .is_some_and(|m| m.eq_ignore_ascii_case("post"));
    Some(LoginForm {
        action,
        post,
        inputs: form_controls(form),
    })
}

fn form_controls(form: ElementRef<'_>) -> Vec<(String, String)> {
    let controls = markup::selector("input[name], select[name], textarea[name]");
    let mut inputs = Vec::new();
    for control in form.select(&controls) {
        let element = control.value();
        let Some(name) = element.attr("name") else {
            continue;
        };
        let kind = element.attr("type").unwrap_or("text").to_ascii_lowercase();
        let value = match element.name() {
            "textarea" => control.text().collect::<String>(),
            "select" => control
                .select(&markup::selector("option"))
                .find(|o| o.value().attr("selected").is_some())
                .or_else(|| control.select(&markup::selector("option")).next())
                .and_then(|o| o.value().attr("value").map(str::to_string))
                .unwrap_or_default(),
            _ => match kind.as_str() {
                "submit" | "button" | "image" | "reset" | "file" => continue,
                "checkbox" | "radio" if element.attr("checked").is_none() => continue,
                "checkbox" | "radio" => element.attr("value").unwrap_or("on").to_string(),
                _ => element.attr("value").unwrap_or_default().to_string(),
            },
        };
        inputs.push((name.to_string(), value));
    }
    inputs
}

/// Proof of login: `verify` if given, else the first seed must be reachable and not the login page.
pub(super) async fn verify(
    session: &Session,
    verify: Option<&Verify>,
    first_seed: &str,
) -> Result<(), LoginError> {
    let path = verify.map_or(first_seed, |v| v.path.as_str());
    let url = session
        .site
        .resolve(path)
        .ok_or_else(|| LoginError::Verify {
            reason: format!("`{path}` is not on the Site's origin"),
        })?;
    let response = session.get(&url).await.map_err(|e| LoginError::Verify {
        reason: format!("{path}: {}", e.describe()),
    })?;
    let fail = |why: String| {
        Err(LoginError::Verify {
            reason: format!("{path}: {why}"),
        })
    };
    if response.login_redirect {
        return fail("redirected to the login page".to_string());
    }
    if let Some(offsite) = &response.offsite_redirect {
        return fail(format!(
            "redirected to another origin ({})",
            offsite.origin().ascii_serialization()
        ));
    }
    if !(200..300).contains(&response.status) {
        return fail(format!("answered {}", response.status));
    }
    let text = response.text();
    if super::is_login_page(&text) {
        return fail("answered with a login page".to_string());
    }
    if let Some(marker) = session.site.deny_marker(&text) {
        return fail(format!("answered with deny marker `{marker}`"));
    }
    if let Some(expected) = verify.and_then(|v| v.contains.as_deref())
        && !text.contains(expected)
    {
        return fail(format!("the response does not contain `{expected}`"));
    }
    Ok(())
}
