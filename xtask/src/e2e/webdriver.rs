//! A thin W3C WebDriver wrapper for headless Chromium through chromedriver: ureq carries the
//! HTTP, a guard starts chromedriver and kills it (and any browser it left behind) on drop, and a
//! session guard has the commands the end-to-end checks use.

use std::fs::File;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use ureq::Agent;

use super::json::{self, Json, base64_decode, json};

/// The key WebDriver uses to name an element in JSON.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";
pub const TAB: &str = "\u{E004}";
/// How long one HTTP exchange with chromedriver may take. Longer than the session's script and
/// page-load timeouts, so chromedriver answers first with a proper error.
const HTTP_TIMEOUT: Duration = secs(180);
pub const POLL: Duration = millis(250);

pub const fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

pub const fn millis(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Calls `probe` every [`POLL`] until it gives `Ok(Ok(value))`. `Ok(Err(why))` polls on and is
/// the error once `timeout` has passed; an `Err` fails at once.
pub(super) fn poll<T>(
    timeout: Duration, probe: impl FnMut() -> Result<Result<T, String>, String>,
) -> Result<T, String> {
    poll_every(POLL, timeout, probe)
}

/// [`poll`], every `interval`.
pub(super) fn poll_every<T>(
    interval: Duration, timeout: Duration,
    mut probe: impl FnMut() -> Result<Result<T, String>, String>,
) -> Result<T, String> {
    let started = Instant::now();
    loop {
        match probe()? {
            Ok(value) => return Ok(value),
            Err(why) if started.elapsed() > timeout => return Err(why),
            Err(_) => thread::sleep(interval),
        }
    }
}

/// Reads with `read` every [`POLL`] until `done` holds for the value, for at most `timeout`;
/// returns the last value either way.
pub(super) fn poll_last<T>(
    timeout: Duration, mut read: impl FnMut() -> Result<T, String>, done: impl Fn(&T) -> bool,
) -> Result<T, String> {
    let started = Instant::now();
    loop {
        let value = read()?;
        if done(&value) || started.elapsed() > timeout {
            return Ok(value);
        }
        thread::sleep(POLL);
    }
}

/// Reads with `read` every [`POLL`] for `duration` and returns the last value; fails at once
/// with the error `holds` gives for a value.
pub(super) fn hold<T>(
    duration: Duration, mut read: impl FnMut() -> Result<T, String>,
    holds: impl Fn(&T) -> Result<(), String>,
) -> Result<T, String> {
    poll_last(duration, || read().and_then(|value| holds(&value).map(|()| value)), |_| false)
}

/// An HTTP client for a server on this machine: every exchange within `timeout`, any status an
/// answer (WebDriver reports errors as JSON with a 4xx or 5xx).
fn agent(timeout: Duration) -> Agent {
    Agent::config_builder()
        .timeout_global(Some(timeout))
        .timeout_connect(Some(secs(5)))
        .http_status_as_error(false)
        .build()
        .into()
}

/// One HTTP exchange: sends `method url` with an optional JSON body and returns the status code
/// and the body as text (of any length: screenshots and the bench's files are large).
fn http(
    agent: &Agent, method: &str, url: &str, body: Option<&Json>,
) -> Result<(u16, String), String> {
    let fail = |e: &dyn std::fmt::Display| format!("{method} {url}: {e}");
    let request = ureq::http::Request::builder().method(method).uri(url);
    let sent = match body {
        Some(body) => request
            .header("Content-Type", "application/json; charset=utf-8")
            .body(body.to_string())
            .map(|r| agent.run(r)),
        None => request.body(()).map(|r| agent.run(r)),
    };
    let mut response = sent.map_err(|e| fail(&e))?.map_err(|e| fail(&e))?;
    let text =
        response.body_mut().with_config().limit(u64::MAX).read_to_string().map_err(|e| fail(&e))?;
    Ok((response.status().as_u16(), text))
}

/// A free TCP port on 127.0.0.1 (asked from the OS, then released for the child to take).
pub fn free_port() -> Result<u16, String> {
    let listener =
        TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port on 127.0.0.1: {e}"))?;
    listener.local_addr().map(|addr| addr.port()).map_err(|e| format!("no local address: {e}"))
}

/// A running chromedriver. Dropping it kills chromedriver and then every process that was still
/// its descendant (a browser whose session was not deleted), by process id.
pub struct Driver {
    /// `http://127.0.0.1:PORT`, chromedriver's address.
    base: String,
    agent: Agent,
    child: Child,
}

impl Driver {
    /// Starts `chromedriver --port=<free port>` with its output in `log`, and waits (≤ 20 s) for
    /// `GET /status` to report it ready.
    pub fn start(chromedriver: &Path, log: &Path) -> Result<Self, String> {
        let port = free_port()?;
        let log_file =
            File::create(log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
        let log_err =
            log_file.try_clone().map_err(|e| format!("cannot reuse {}: {e}", log.display()))?;
        let child = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(log_file)
            .stderr(log_err)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", chromedriver.display()))?;
        let driver =
            Self { base: format!("http://127.0.0.1:{port}"), agent: agent(HTTP_TIMEOUT), child };
        let status = format!("{}/status", driver.base);
        poll(secs(20), || {
            let ready = match http(&agent(POLL * 8), "GET", &status, None) {
                Ok((200, body)) => {
                    json::parse(&body).ok().and_then(|j| j["value"]["ready"].as_bool())
                }
                _ => None,
            };
            let log = log.display();
            ready!(
                ready == Some(true),
                (),
                "chromedriver on port {port} was not ready within 20 s (log: {log})"
            )
        })?;
        Ok(driver)
    }

    /// One WebDriver command; returns the answer's `value`, or an error with WebDriver's error
    /// code and message.
    pub fn command(&self, method: &str, path: &str, body: Option<&Json>) -> Result<Json, String> {
        let url = format!("{}{path}", self.base);
        let (status, text) = http(&self.agent, method, &url, body)?;
        let json = json::parse(&text)
            .map_err(|e| format!("{method} {path}: answer is not JSON ({e}): {text:.300}"))?;
        let value = json.get("value").cloned().unwrap_or(Json::Null);
        if status == 200 {
            return Ok(value);
        }
        let error = value.get("error").and_then(Json::as_str).unwrap_or("?");
        let message = value.get("message").and_then(Json::as_str).unwrap_or("");
        let message = message.lines().next().unwrap_or("");
        Err(format!("{method} {path}: HTTP {status} {error}: {message}"))
    }

    /// A new browser session with these `goog:chromeOptions` (`binary`, `args`).
    pub fn session(&self, chrome_options: Json) -> Result<Session<'_>, String> {
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome", "goog:chromeOptions": chrome_options, "pageLoadStrategy": "normal",
            "timeouts": {"script": 30_000, "pageLoad": 120_000, "implicit": 0},
        }}});
        let value = self.command("POST", "/session", Some(&capabilities))?;
        let id = value["sessionId"].as_str().ok_or("new session: no sessionId in the answer")?;
        Ok(Session { driver: self, id: id.to_string() })
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let descendants = descendants(self.child.id());
        let _ = self.child.kill();
        let _ = self.child.wait();
        for pid in descendants {
            kill_pid(pid);
        }
    }
}

/// The ids of all processes below `root` in the process tree (from `/proc`; empty elsewhere).
fn descendants(root: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let parents: Vec<(u32, u32)> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            // `pid (comm) state ppid ...`; comm may hold spaces and parentheses.
            let after = &stat[stat.rfind(')')? + 1..];
            let ppid: u32 = after.split_whitespace().nth(1)?.parse().ok()?;
            Some((pid, ppid))
        })
        .collect();
    let mut found = vec![root];
    let mut index = 0;
    while index < found.len() {
        let parent = found[index];
        found.extend(parents.iter().filter(|(_, ppid)| *ppid == parent).map(|(pid, _)| *pid));
        index += 1;
    }
    found.remove(0);
    found
}

/// Sends SIGKILL to one process by id (ignoring one that is already gone).
#[cfg(unix)]
fn kill_pid(pid: u32) {
    unsafe extern "C" {
        fn kill(pid: i32, sig: i32) -> i32;
    }
    const SIGKILL: i32 = 9;
    if let Ok(pid) = i32::try_from(pid)
        && pid > 0
    {
        // SAFETY: kill(2) takes plain integers and has no memory effects on this process.
        unsafe {
            kill(pid, SIGKILL);
        }
    }
}

#[cfg(not(unix))]
fn kill_pid(_pid: u32) {}

/// A browser session; dropping it deletes the session, which closes the browser.
pub struct Session<'d> {
    driver: &'d Driver,
    id: String,
}

impl Session<'_> {
    fn command(&self, method: &str, path: &str, body: Option<&Json>) -> Result<Json, String> {
        self.driver.command(method, &format!("/session/{}{path}", self.id), body)
    }

    /// Navigates and waits for the page's load event.
    pub fn navigate(&self, url: &str) -> Result<(), String> {
        self.command("POST", "/url", Some(&json!({"url": url}))).map(drop)
    }

    /// Runs `script` (a function body; `arguments` holds `args`) and returns its result.
    pub fn execute(&self, script: &str, args: Vec<Json>) -> Result<Json, String> {
        let body = json!({"script": script, "args": args});
        self.command("POST", "/execute/sync", Some(&body))
    }

    pub fn script(&self, script: &str) -> Result<Json, String> {
        self.execute(script, vec![])
    }

    /// Runs `script` without arguments; its result as text ("" when it is not text).
    pub fn text(&self, script: &str) -> Result<String, String> {
        Ok(self.script(script)?.as_str().unwrap_or_default().to_string())
    }

    /// Runs a Chrome DevTools Protocol command through chromedriver's `goog/cdp/execute`
    /// (Chromium only) and returns its result.
    pub fn cdp(&self, cmd: &str, params: Json) -> Result<Json, String> {
        let body = json!({"cmd": cmd, "params": params});
        self.command("POST", "/goog/cdp/execute", Some(&body))
    }

    /// The WebDriver id of the first element matching a CSS selector.
    pub fn find(&self, css: &str) -> Result<String, String> {
        let body = json!({"using": "css selector", "value": css});
        let value = self.command("POST", "/element", Some(&body))?;
        let id = value[ELEMENT_KEY].as_str();
        id.map(str::to_string)
            .ok_or_else(|| format!("element {css}: no element id in the answer {value}"))
    }

    /// Makes the iframe found by CSS selector the context of later commands; `None` goes back
    /// to the top-level page.
    pub fn switch_to_frame(&self, css: Option<&str>) -> Result<(), String> {
        let id = match css {
            Some(css) => json!({ELEMENT_KEY: self.find(css)?}),
            None => Json::Null,
        };
        self.command("POST", "/frame", Some(&json!({"id": id}))).map(drop)
    }

    pub fn click(&self, css: &str) -> Result<(), String> {
        let element = self.find(css)?;
        self.command("POST", &format!("/element/{element}/click"), Some(&json!({}))).map(drop)
    }

    /// Presses and releases one key (a character, or a WebDriver key code such as [`TAB`]) on
    /// whatever has the focus, through the Actions API.
    pub fn press(&self, key: &str) -> Result<(), String> {
        let step = |kind: &str| json!({"type": kind, "value": key});
        let body = json!({"actions": [{"type": "key", "id": "keyboard", "actions": [step("keyDown"), step("keyUp")]}]});
        self.command("POST", "/actions", Some(&body))?;
        self.command("DELETE", "/actions", None).map(drop)
    }

    pub fn screenshot(&self) -> Result<Vec<u8>, String> {
        decode_png(&self.command("GET", "/screenshot", None)?)
    }

    pub fn element_screenshot(&self, css: &str) -> Result<Vec<u8>, String> {
        let element = self.find(css)?;
        decode_png(&self.command("GET", &format!("/element/{element}/screenshot"), None)?)
    }
}

impl Drop for Session<'_> {
    fn drop(&mut self) {
        let _ = self.driver.command("DELETE", &format!("/session/{}", self.id), None);
    }
}

fn decode_png(value: &Json) -> Result<Vec<u8>, String> {
    let text = value.as_str().ok_or("screenshot: the answer is not a string")?;
    let png = base64_decode(text)?;
    fail_if!(!png.starts_with(b"\x89PNG"), "screenshot: the answer is not a PNG");
    Ok(png)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Read, Write};

    /// Serves one canned answer to one request and returns the server's URL and a handle that
    /// gives what the client sent (header names lower-cased).
    fn one_shot(answer: &'static [u8]) -> (String, thread::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let handle = thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request = String::new();
            let mut length = 0;
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                let line = match line.split_once(':') {
                    Some((name, value)) => format!("{}:{value}", name.to_ascii_lowercase()),
                    None => line,
                };
                if let Some(v) = line.strip_prefix("content-length: ") {
                    length = v.trim().parse().unwrap();
                }
                request.push_str(&line);
                if line == "\r\n" {
                    break;
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            request.push_str(&String::from_utf8(body).unwrap());
            stream.write_all(answer).unwrap();
            request
        });
        (url, handle)
    }

    #[test]
    fn posts_json_and_reads_content_length() {
        let (base, server) = one_shot(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 14\r\n\r\n{\"value\":null}",
        );
        let body = json!({"url": "http://x/"});
        let url = format!("{base}/session/1/url");
        let (status, text) = http(&agent(POLL * 8), "POST", &url, Some(&body)).unwrap();
        assert_eq!((status, text.as_str()), (200, "{\"value\":null}"));
        let request = server.join().unwrap();
        assert!(request.starts_with("POST /session/1/url HTTP/1.1\r\n"));
        assert!(request.contains("content-length: 19\r\n"));
        assert!(request.contains("content-type: application/json; charset=utf-8\r\n"));
        assert!(request.ends_with("\r\n\r\n{\"url\":\"http://x/\"}"));
    }

    #[test]
    fn reads_chunked_and_until_eof() {
        let (base, server) = one_shot(
            b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"va\r\na\r\nlue\":null}\r\n0\r\n\r\n",
        );
        let (status, text) = http(&agent(POLL * 8), "GET", &format!("{base}/x"), None).unwrap();
        assert_eq!((status, text.as_str()), (404, "{\"value\":null}"));
        assert!(server.join().unwrap().starts_with("GET /x HTTP/1.1\r\n"));

        let (base, server) = one_shot(b"HTTP/1.1 200 OK\r\n\r\nuntil eof");
        let (status, text) = http(&agent(POLL * 8), "DELETE", &format!("{base}/y"), None).unwrap();
        assert_eq!((status, text.as_str()), (200, "until eof"));
        server.join().unwrap();
    }

    #[test]
    fn finds_descendants_of_this_process() {
        let mut child = Command::new("sleep").arg("5").spawn().unwrap();
        let found = descendants(std::process::id());
        let _ = child.kill();
        let _ = child.wait();
        assert!(found.contains(&child.id()));
    }
}
