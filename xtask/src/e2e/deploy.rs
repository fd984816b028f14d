//! The `deploy` check: the built site works from a sub-path of a static host and asks nothing of
//! any other origin.
//!
//! It serves the site a second time, under a deeper sub-path than the other checks
//! ([`DEPLOY_MOUNT`]), so that a root-relative URL fails here even when it happens to start with
//! the other checks' mount (a `public_url` set to `/firefly-playground/`, say). It opens the page
//! as a visitor would (no link hash), waits until both runs train, then has the page fetch its
//! preview image and icons, and judges every request the page made, read from
//! `performance.getEntriesByType('navigation' | 'resource')` (Chromium records failed and
//! cross-origin requests there too, with status 0), plus the document URL: each must be on the
//! page's origin, inside the sub-path, and answered without an error. An absolute
//! `/firefly-….wasm` (trunk's default `public_url`) is a 404 outside the sub-path and fails it,
//! and so would a web font, an analytics script or a CDN.
//!
//! It runs on the site `cargo xtask test` already builds, not on a `cargo xtask dist` build
//! (fat LTO: many minutes on two cores). Both come from the same `trunk build --public-url ./`
//! of the same `index.html` (trunk.rs); dist differs in the cargo profile and in what dist.rs
//! does afterwards (the wasm's bytes, integrity and size, `.gz`/`.br` copies), none of which
//! changes a URL. `E2E_DIST=dist cargo xtask test --e2e` runs it, and every other check, on the
//! real `dist/`.

use std::path::Path;

use super::ChromeConfig;
use super::checks::{open, wait_for};
use super::json::{Json, items, strings};
use super::server::StaticServer;
use super::webdriver::{Driver, secs};

/// Where this check mounts the site: two levels deep, and not the other checks' mount.
pub const DEPLOY_MOUNT: &str = "/course/playground/";
/// The shortest run of hex digits trunk's file hash leaves in an asset's name.
const MIN_HASH_DIGITS: usize = 10;

/// Serves `dist` under [`DEPLOY_MOUNT`], opens it in a fresh session without WebGPU and checks
/// where every request went, the preview image and the icons.
pub fn check(driver: &Driver, chrome: &ChromeConfig, dist: &Path) -> Result<String, String> {
    let server = StaticServer::start_at(dist, DEPLOY_MOUNT)?;
    let base = server.base_url();
    let session = chrome.session(driver, false)?;
    open(&session, &base)?;
    // A failed request usually leaves the page loading for good: say which one at once.
    wait_for(&session, "data-state=running and data-epoch > 0", secs(90), |a| {
        if a.is("state", "running") && a.num("epoch") > 0.0 {
            return Ok(true);
        }
        let failed = session.execute(FAILED_SCRIPT, vec![base.as_str().into()])?;
        match items(&failed) {
            [] => Ok(false),
            urls => Err(format!(
                "still loading after requests that failed or left the sub-path: {}",
                urls.iter().filter_map(Json::as_str).collect::<Vec<_>>().join(", ")
            )),
        }
    })?;
    let seen = session.script(PAGE_SCRIPT)?;
    let page = Page::from_json(&seen)?;
    // The session closes before the server stops (locals drop in reverse order).
    judge(&base, &page).map_err(|problems| problems.join("; "))
}

/// Run in the page while it loads: the requests so far that went outside the sub-path
/// (`arguments[0]`) or got no answer or an error status.
const FAILED_SCRIPT: &str = "return performance.getEntriesByType('resource')
  .filter((e) => !e.name.startsWith(arguments[0]) || e.responseStatus === 0 || e.responseStatus >= 400)
  .map((e) => e.name + ' (' + (e.responseStatus || 'no answer') + ')');";

/// Run in the page: fetches each icon and social image the head names (on this origin), then
/// returns the document URL, every request the page made, the head's social tags and the
/// fetches' answers. WebDriver waits for the returned promise.
const PAGE_SCRIPT: &str = r#"
return (async () => {
  const meta = (sel) => { const e = document.querySelector(sel); return e ? e.getAttribute('content') : null; };
  const head = {
    og_image: meta('meta[property="og:image"]'),
    twitter_image: meta('meta[name="twitter:image"]'),
    twitter_card: meta('meta[name="twitter:card"]'),
    icons: [...document.querySelectorAll('link[rel~="icon"], link[rel="apple-touch-icon"]')]
      .map((l) => l.getAttribute('href')),
  };
  const images = [...new Set([head.og_image, head.twitter_image, ...head.icons].filter(Boolean))];
  const loads = await Promise.all(images.map(async (src) => {
    const url = new URL(src, document.baseURI);
    // An absolute og:image on the site's future host (SITE_URL) is a tag, not a request here.
    if (url.origin !== location.origin) return { src, status: -1, type: '' };
    try {
      const r = await fetch(url, { cache: 'no-store' });
      await r.arrayBuffer();
      return { src, status: r.status, type: r.headers.get('content-type') || '' };
    } catch (e) {
      return { src, status: 0, type: String(e) };
    }
  }));
  const requests = performance.getEntriesByType('navigation')
    .concat(performance.getEntriesByType('resource'))
    .map((e) => ({ url: e.name, kind: e.initiatorType || e.entryType,
                   status: typeof e.responseStatus === 'number' ? e.responseStatus : -1 }));
  return { document: document.URL, requests, head, loads };
})();
"#;

/// One request: its URL, what started it and the HTTP status (-1: the browser does not say;
/// 0: no answer, as for a failed or cross-origin request).
#[derive(Debug, Clone)]
struct Request {
    url: String,
    kind: String,
    status: i64,
}

/// What the page reported.
#[derive(Debug, Clone, Default)]
struct Page {
    document: String,
    requests: Vec<Request>,
    og_image: Option<String>,
    twitter_image: Option<String>,
    twitter_card: Option<String>,
    icons: Vec<String>,
    /// Each image the head names, fetched from the page: (src, status, content type).
    loads: Vec<(String, i64, String)>,
}

impl Page {
    fn from_json(value: &Json) -> Result<Self, String> {
        let text = |v: &Json, key: &str| v.get(key).and_then(Json::as_str).map(str::to_string);
        let text_or = |v: &Json, key: &str| text(v, key).unwrap_or_default();
        let number = |v: &Json, key: &str| v.get(key).and_then(Json::as_f64).unwrap_or(-1.0) as i64;
        let head = value.get("head").ok_or("the page script returned no head")?;
        Ok(Self {
            document: text(value, "document").ok_or("the page script returned no URL")?,
            requests: items(&value["requests"])
                .iter()
                .map(|r| Request {
                    url: text_or(r, "url"),
                    kind: text_or(r, "kind"),
                    status: number(r, "status"),
                })
                .collect(),
            og_image: text(head, "og_image"),
            twitter_image: text(head, "twitter_image"),
            twitter_card: text(head, "twitter_card"),
            icons: strings(&head["icons"]).into_iter().map(String::from).collect(),
            loads: items(&value["loads"])
                .iter()
                .map(|l| (text_or(l, "src"), number(l, "status"), text_or(l, "type")))
                .collect(),
        })
    }
}

/// `scheme://host:port` of an absolute URL; `None` for anything else.
fn origin(url: &str) -> Option<&str> {
    let (scheme, rest) = url.split_once("://")?;
    if scheme.is_empty() || !scheme.chars().all(|c| c.is_ascii_alphanumeric() || c == '+') {
        return None;
    }
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    (end > 0).then(|| &url[..scheme.len() + 3 + end])
}

fn file_name(url: &str) -> &str {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    path.rsplit('/').next().unwrap_or(path)
}

/// Whether a name carries trunk's file hash: a run of at least [`MIN_HASH_DIGITS`] hex digits.
fn hashed(name: &str) -> bool {
    name.split(|c: char| !c.is_ascii_hexdigit()).any(|run| run.len() >= MIN_HASH_DIGITS)
}

/// The verdict on what the page at `base` reported: a one-line summary, or every problem.
fn judge(base: &str, page: &Page) -> Result<String, Vec<String>> {
    let mut problems = Vec::new();
    let Some(home) = origin(base) else {
        return Err(vec![format!("{base} is not an absolute URL")]);
    };
    if !page.document.starts_with(base) {
        problems.push(format!("the document is at {}, not under {base}", page.document));
    }
    for r in &page.requests {
        let what = format!("{} ({})", r.url, r.kind);
        if origin(&r.url) != Some(home) {
            problems.push(format!("a request to another origin: {what}"));
        } else if !r.url.starts_with(base) {
            problems.push(format!("a request outside the sub-path {base}: {what}"));
        } else if r.status == 0 || r.status >= 400 {
            problems.push(format!("{what} answered with status {}", r.status));
        }
    }
    let assets: Vec<&str> = page
        .requests
        .iter()
        .map(|r| file_name(&r.url))
        .filter(|n| [".wasm", ".js", ".css"].iter().any(|e| n.ends_with(e)))
        .collect();
    for ext in [".wasm", ".js"] {
        if !assets.iter().any(|n| n.ends_with(ext)) {
            problems.push(format!("the page loaded no {ext}"));
        }
    }
    for name in assets.iter().filter(|n| !hashed(n)) {
        problems.push(format!("{name} has no content hash in its name"));
    }

    for (tag, value) in [("og:image", &page.og_image), ("twitter:image", &page.twitter_image)] {
        match value.as_deref() {
            None | Some("") => problems.push(format!("the head has no {tag}")),
            Some(v) if v.starts_with('/') => {
                problems.push(format!("{tag} {v:?} is root-relative: it breaks under a sub-path"))
            }
            Some(_) => {}
        }
    }
    if page.twitter_card.as_deref() != Some("summary_large_image") {
        problems
            .push(format!("twitter:card is {:?}, not \"summary_large_image\"", page.twitter_card));
    }
    if page.icons.is_empty() {
        problems.push("the head links no icon".to_string());
    }
    let (mut fetched, mut absolute) = (0, 0);
    for (src, status, content_type) in &page.loads {
        match status {
            -1 => absolute += 1,
            200 if content_type.starts_with("image/") => fetched += 1,
            _ => problems.push(format!("{src:?} from the head answered {status} ({content_type})")),
        }
    }

    if problems.is_empty() {
        let absolute = match absolute {
            0 => String::new(),
            n => format!(", {n} on the site's future address (SITE_URL) not fetched"),
        };
        let (requests, assets, icons) = (page.requests.len(), assets.join(", "), page.icons.len());
        Ok(format!(
            "{requests} requests, all under {base}: {assets}; {fetched} images the head names \
             (preview, {icons} icons) load from the sub-path{absolute}"
        ))
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "http://127.0.0.1:4000/course/playground/";

    fn request(url: &str, status: i64) -> Request {
        Request { url: url.to_string(), kind: "test".to_string(), status }
    }

    /// What the real page reports (shortened).
    fn good() -> Page {
        let at = |name: &str| format!("{BASE}{name}");
        Page {
            document: BASE.to_string(),
            requests: vec![
                request(BASE, 200),
                request(&at("style-ca51ede5b620fc0f.css"), 200),
                request(&at("firefly-playground-d86a28f68560a3e.js"), 200),
                request(&at("94d6a9d3712108e2-loading.js"), 200),
                request(&at("firefly-playground-d86a28f68560a3e_bg.wasm"), 200),
                request(&at("favicon-0123456789abcdef.svg"), 200),
                request(&at("preview.png"), 200),
            ],
            og_image: Some("preview.png".to_string()),
            twitter_image: Some("preview.png".to_string()),
            twitter_card: Some("summary_large_image".to_string()),
            icons: vec!["favicon-32.png".into(), "./favicon-0123456789abcdef.svg".into()],
            loads: vec![("preview.png".into(), 200, "image/png".into())],
        }
    }

    fn problems(page: &Page) -> String {
        judge(BASE, page).unwrap_err().join("; ")
    }

    #[test]
    fn passes_the_page_as_built() {
        let summary = judge(BASE, &good()).unwrap();
        assert!(summary.starts_with("7 requests"), "{summary}");
    }

    #[test]
    fn fails_a_request_to_another_origin() {
        for url in [
            "https://fonts.example.com/x.css",
            "http://127.0.0.1:4001/course/playground/x.js",
            "https://127.0.0.1:4000/course/playground/x.js",
        ] {
            let mut page = good();
            page.requests.push(request(url, 0));
            assert!(problems(&page).contains("another origin"), "{url}");
        }
    }

    #[test]
    fn fails_root_relative_assets() {
        // trunk's default public_url: the wasm at the host's root, a 404 under a sub-path.
        let mut page = good();
        page.requests[4] =
            request("http://127.0.0.1:4000/firefly-playground-d86a28f68560a3e_bg.wasm", 404);
        assert!(problems(&page).contains("outside the sub-path"));
        // The favicon Chromium asks for when the head links none.
        let mut page = good();
        page.requests.push(request("http://127.0.0.1:4000/favicon.ico", 404));
        assert!(problems(&page).contains("outside the sub-path"));
        let mut page = good();
        page.og_image = Some("/preview.png".into());
        assert!(problems(&page).contains("root-relative"));
    }

    #[test]
    fn fails_errors_missing_assets_and_unhashed_names() {
        let mut page = good();
        page.requests[5].status = 404;
        assert!(problems(&page).contains("status 404"));
        let mut page = good();
        page.requests.retain(|r| !r.url.ends_with(".wasm"));
        assert!(problems(&page).contains("no .wasm"));
        let mut page = good();
        page.requests[2] = request(&format!("{BASE}firefly-playground.js"), 200);
        assert!(problems(&page).contains("no content hash"));
    }

    #[test]
    fn fails_missing_social_tags_and_broken_images() {
        let mut page = good();
        page.og_image = None;
        page.twitter_card = Some("summary".into());
        page.icons.clear();
        page.loads[0] = ("preview.png".into(), 404, "text/plain".into());
        let all = problems(&page);
        for expected in ["no og:image", "twitter:card", "no icon", "answered 404"] {
            assert!(all.contains(expected), "{expected}: {all}");
        }
        // An absolute og:image (SITE_URL) is not fetched here and is fine.
        let mut page = good();
        page.og_image = Some("https://example.org/firefly/preview.png".into());
        page.loads[0].1 = -1;
        let summary = judge(BASE, &page).unwrap();
        assert!(summary.contains("1 on the site's future address"), "{summary}");
    }

    #[test]
    fn reads_origins_and_names() {
        assert_eq!(origin(BASE), Some("http://127.0.0.1:4000"));
        assert_eq!(origin("https://a.b"), Some("https://a.b"));
        assert_eq!(origin("https://a.b?x"), Some("https://a.b"));
        assert_eq!(origin("/x"), None);
        assert_eq!(origin("preview.png"), None);
        assert_eq!(file_name("http://h/a/b-0123.js?x#y"), "b-0123.js");
        assert!(hashed("firefly-playground-d86a28f68560a3e_bg.wasm"));
        assert!(hashed("94d6a9d3712108e2-loading.js"));
        assert!(!hashed("style.css"));
    }
}
