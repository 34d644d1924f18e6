//! `per_page`/`page` slicing and `Link` headers exactly as GitHub writes them
//! (prev, next, last, first; first/prev only after page 1, next/last only before the last page).

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// One page of a list and the `Link` header that describes its neighbours.
pub struct Page<T> {
    pub items: Vec<T>,
    pub link: Option<String>,
}

/// Slices `items` according to the query and builds the `Link` header for `url` (no query).
pub fn paginate<T>(items: Vec<T>, url: &str, query: &BTreeMap<String, String>) -> Page<T> {
    let per_page = query
        .get("per_page")
        .and_then(|p| p.parse::<usize>().ok())
        .filter(|p| *p > 0)
        .map_or(30, |p| p.min(100));
    let page = query
        .get("page")
        .and_then(|p| p.parse::<usize>().ok())
        .filter(|p| *p > 0)
        .unwrap_or(1);
    let last = items.len().div_ceil(per_page).max(1);
    let link_to = |n: usize| {
        let mut q: Vec<String> = query
            .iter()
            .filter(|(k, _)| *k != "page" && *k != "per_page")
            .map(|(k, v)| format!("{}={}", form_encode(k), form_encode(v)))
            .collect();
        q.push(format!("per_page={per_page}"));
        q.push(format!("page={n}"));
        format!("<{url}?{}>", q.join("&"))
    };
    let mut rels = Vec::new();
    if page > 1 {
        rels.push(format!("{}; rel=\"prev\"", link_to((page - 1).min(last))));
    }
    if page < last {
        rels.push(format!("{}; rel=\"next\"", link_to(page + 1)));
        rels.push(format!("{}; rel=\"last\"", link_to(last)));
    }
    if page > 1 {
        rels.push(format!("{}; rel=\"first\"", link_to(1)));
    }
    let items = items
        .into_iter()
        .skip((page - 1).saturating_mul(per_page))
        .take(per_page)
        .collect();
    Page {
        items,
        link: (!rels.is_empty()).then(|| rels.join(", ")),
    }
}

/// Encodes a query component as GitHub writes it in `Link` URLs (form encoding: unreserved
/// characters kept, space as `+`, everything else `%XX`), so clients can split and resend them.
fn form_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(char::from(b));
            }
            b' ' => out.push('+'),
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn middle_page_links_like_github() {
        let q = BTreeMap::from([("per_page".into(), "3".into()), ("page".into(), "2".into())]);
        let page = paginate((0..15).collect(), "http://x/r", &q);
        assert_eq!(page.items, vec![3, 4, 5]);
        assert_eq!(
            page.link.unwrap(),
            "<http://x/r?per_page=3&page=1>; rel=\"prev\", <http://x/r?per_page=3&page=3>; rel=\"next\", \
             <http://x/r?per_page=3&page=5>; rel=\"last\", <http://x/r?per_page=3&page=1>; rel=\"first\""
        );
        let named = BTreeMap::from([
            ("check_name".into(), "test (ubuntu, 3.11)".into()),
            ("per_page".into(), "1".into()),
        ]);
        let page = paginate(vec![1, 2], "http://x/r", &named);
        assert_eq!(
            page.link.unwrap(),
            "<http://x/r?check_name=test+%28ubuntu%2C+3.11%29&per_page=1&page=2>; rel=\"next\", \
             <http://x/r?check_name=test+%28ubuntu%2C+3.11%29&per_page=1&page=2>; rel=\"last\""
        );
        let single = paginate(vec![1], "http://x/r", &BTreeMap::new());
        assert!(single.link.is_none());
    }
}
