//! What the HTML pages gantry writes (the rehearsal report, `gantry dora --html`) share: the
//! style sheet and escaping.

/// Text as HTML content or attribute value.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#1f2328}\
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #d0d7de;padding:3px 8px;text-align:left;vertical-align:top}\
.verdict{font-weight:bold}.verdict.ok{color:#1a7f37}.verdict.failed{color:#cf222e}.meta{color:#656d76;margin:.2em 0}\
section{border-top:1px solid #d0d7de;margin-top:1.5em}.summary{margin-left:1em}svg a text{fill:#1f2328}";
