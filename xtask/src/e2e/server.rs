//! A small static file server for the end-to-end test: GET (and HEAD) only, one thread per
//! connection, the Content-Types a trunk build needs, 404 for anything else and no way out of the
//! served directory. The site is mounted under a sub-path so that the test also proves the build
//! works when deployed below the root of a host.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// The sub-path the site is served under (a host that deploys it below its root).
pub const MOUNT: &str = "/firefly-playground/";
/// How long a connection may take to send its request or receive the answer.
const IO_TIMEOUT: Duration = Duration::from_secs(30);
/// The longest request head read; anything longer is refused.
const MAX_HEAD: usize = 16 * 1024;

pub struct StaticServer {
    addr: SocketAddr,
    mount: String,
    stop: Arc<AtomicBool>,
    accept_thread: Option<JoinHandle<()>>,
}

impl StaticServer {
    /// Serves `root` on 127.0.0.1 at a free port, under [`MOUNT`].
    pub fn start(root: &Path) -> Result<Self, String> {
        Self::start_at(root, MOUNT)
    }

    /// Serves `root` on 127.0.0.1 at a free port, under `mount` (a path that starts and ends
    /// with `/`, such as `/course/playground/`).
    pub fn start_at(root: &Path, mount: &str) -> Result<Self, String> {
        fail_if!(
            !(mount.starts_with('/') && mount.ends_with('/')),
            "the mount {mount:?} must start and end with /"
        );
        let root =
            root.canonicalize().map_err(|e| format!("cannot serve {}: {e}", root.display()))?;
        let listener = TcpListener::bind("127.0.0.1:0")
            .map_err(|e| format!("cannot listen on 127.0.0.1: {e}"))?;
        let addr = listener.local_addr().map_err(|e| format!("no local address: {e}"))?;
        let stop = Arc::new(AtomicBool::new(false));
        let stop_flag = Arc::clone(&stop);
        let root = Arc::new(root);
        let served_mount = Arc::new(mount.to_string());
        let accept_thread = thread::Builder::new()
            .name("e2e-static-server".into())
            .spawn(move || {
                for stream in listener.incoming() {
                    if stop_flag.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let (root, mount) = (Arc::clone(&root), Arc::clone(&served_mount));
                    let _ = thread::Builder::new()
                        .name("e2e-static-conn".into())
                        .spawn(move || handle_connection(stream, &root, &mount));
                }
            })
            .map_err(|e| format!("cannot start the server thread: {e}"))?;
        Ok(Self { addr, mount: mount.to_string(), stop, accept_thread: Some(accept_thread) })
    }

    /// `http://127.0.0.1:PORT/firefly-playground/` (the mount it serves under).
    pub fn base_url(&self) -> String {
        format!("http://{}{}", self.addr, self.mount)
    }
}

impl Drop for StaticServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept() so that the loop sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(thread) = self.accept_thread.take() {
            let _ = thread.join();
        }
    }
}

/// Answers requests on one connection until the client closes it (keep-alive), an error or a
/// timeout.
fn handle_connection(stream: TcpStream, root: &Path, mount: &str) {
    let _ = stream.set_read_timeout(Some(IO_TIMEOUT));
    let _ = stream.set_write_timeout(Some(IO_TIMEOUT));
    let Ok(write_half) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    let mut writer = write_half;
    while let Some(head) = read_head(&mut reader) {
        let keep_alive = !head.close;
        let (status, content_type, body) = respond(&head.method, &head.target, root, mount);
        let connection = if keep_alive { "keep-alive" } else { "close" };
        let answer = format!(
            "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
             Cache-Control: no-store\r\nConnection: {connection}\r\n\r\n",
            body.len()
        );
        // HEAD: the headers of the GET answer but no body.
        let body = if head.method == "HEAD" { &[][..] } else { &body[..] };
        let sent = writer.write_all(answer.as_bytes()).and_then(|()| writer.write_all(body));
        if sent.and_then(|()| writer.flush()).is_err() || !keep_alive {
            break;
        }
    }
    let _ = writer.shutdown(Shutdown::Both);
}

/// A request line, and whether its headers say `Connection: close`.
struct Head {
    method: String,
    target: String,
    close: bool,
}

/// Reads one request head; `None` on EOF, error, timeout or an oversized head. Request bodies
/// are not expected (GET/HEAD only) and not read.
fn read_head(reader: &mut impl BufRead) -> Option<Head> {
    let mut lines = Vec::new();
    let mut total = 0;
    loop {
        let mut line = String::new();
        let n = reader.read_line(&mut line).ok()?;
        total += n;
        if n == 0 || total > MAX_HEAD {
            return None;
        }
        match line.trim_end_matches(['\r', '\n']) {
            "" if lines.is_empty() => {} // tolerate stray blank lines between requests
            "" => break,
            line => lines.push(line.to_string()),
        }
    }
    let mut request_line = lines[0].split_whitespace();
    let method = request_line.next()?.to_string();
    let target = request_line.next()?.to_string();
    let close = lines[1..].iter().filter_map(|l| l.split_once(':')).any(|(k, v)| {
        k.trim().eq_ignore_ascii_case("connection") && v.trim().eq_ignore_ascii_case("close")
    });
    Some(Head { method, target, close })
}

/// The status, Content-Type and body of the answer to `method target`.
fn respond(
    method: &str, target: &str, root: &Path, mount: &str,
) -> (&'static str, &'static str, Vec<u8>) {
    let text = |status, message: &str| {
        (status, "text/plain; charset=utf-8", format!("{message}\n").into_bytes())
    };
    if method != "GET" && method != "HEAD" {
        return text("405 Method Not Allowed", "only GET and HEAD");
    }
    let Some(path) = resolve(root, mount, target) else {
        return text("404 Not Found", "not found");
    };
    let Some(content_type) = content_type(&path) else {
        return text("404 Not Found", "not found (unknown file type)");
    };
    match fs::read(&path) {
        Ok(body) => ("200 OK", content_type, body),
        Err(_) => text("404 Not Found", "not found"),
    }
}

/// The file a request target names: it must start with `mount`; the query and fragment are
/// dropped, `%XX` escapes decoded, a directory means its `index.html`, and any `..`, absolute
/// or otherwise odd component (or a symlink leading outside `root`) gives `None`.
fn resolve(root: &Path, mount: &str, target: &str) -> Option<PathBuf> {
    let path = target.split(['?', '#']).next()?;
    let rest = if path == mount.trim_end_matches('/') { "" } else { path.strip_prefix(mount)? };
    let decoded = percent_decode(rest)?;
    if decoded.contains('\0') || decoded.contains('\\') {
        return None;
    }
    let mut file = root.to_path_buf();
    for component in Path::new(&decoded).components() {
        match component {
            Component::Normal(part) => file.push(part),
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    if file.is_dir() {
        file.push("index.html");
    }
    // Follow symlinks, then make sure the result is still inside the served directory.
    let real = file.canonicalize().ok()?;
    (real.starts_with(root) && real.is_file()).then_some(real)
}

/// Decodes `%XX` escapes; `None` for a broken escape or a result that is not UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The Content-Type for the file types a trunk build produces; `None` (→ 404) for others.
fn content_type(path: &Path) -> Option<&'static str> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    Some(match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "wasm" => "application/wasm",
        "css" => "text/css; charset=utf-8",
        "png" => "image/png",
        "svg" => "image/svg+xml",
        "json" => "application/json",
        "ico" => "image/x-icon",
        "txt" => "text/plain; charset=utf-8",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::TempDir;
    use std::io::Read;

    /// A temporary site, `site/` in the returned folder: `index.html`, `app.js`,
    /// `pkg/app_bg.wasm`, `notes.xyz`; and a secret file next to (outside) it. The second value
    /// is the site's root.
    fn site(name: &str) -> (TempDir, PathBuf) {
        let base = TempDir::new(&format!("xtask-{name}")).unwrap();
        fs::create_dir_all(base.0.join("site/pkg")).unwrap();
        fs::write(base.0.join("site/index.html"), "<!doctype html>hi").unwrap();
        fs::write(base.0.join("site/app.js"), "export {}").unwrap();
        fs::write(base.0.join("site/pkg/app_bg.wasm"), b"\0asm\x01\0\0\0").unwrap();
        fs::write(base.0.join("site/notes.xyz"), "?").unwrap();
        fs::write(base.0.join("secret.html"), "secret").unwrap();
        let root = base.0.join("site").canonicalize().unwrap();
        (base, root)
    }

    #[test]
    fn resolves_inside_the_mount_only_at_any_depth() {
        let (_site, root) = site("resolve");
        let ok = |target: &str| resolve(&root, MOUNT, target);
        assert_eq!(ok("/firefly-playground/").unwrap(), root.join("index.html"));
        assert_eq!(ok("/firefly-playground").unwrap(), root.join("index.html"));
        assert_eq!(
            ok("/firefly-playground/index.html?x=1#backend=cpu").unwrap(),
            root.join("index.html")
        );
        assert_eq!(
            ok("/firefly-playground/pkg/app%5Fbg.wasm").unwrap(),
            root.join("pkg/app_bg.wasm")
        );
        for bad in [
            "/index.html",
            "/firefly-playground/../secret.html",
            "/firefly-playground/%2e%2e/secret.html",
            "/firefly-playground/pkg/../../secret.html",
            "/firefly-playground/..%2Fsecret.html",
            "/firefly-playground/..%5Csecret.html",
            "/firefly-playground//etc/passwd",
            "/firefly-playground/missing.js",
            "/firefly-playground/%zz",
        ] {
            assert_eq!(ok(bad), None, "{bad} must not resolve");
        }
        // Under a deeper mount.
        let ok = |target: &str| resolve(&root, "/course/playground/", target);
        assert_eq!(ok("/course/playground/").unwrap(), root.join("index.html"));
        assert_eq!(ok("/course/playground/pkg/app_bg.wasm").unwrap(), root.join("pkg/app_bg.wasm"));
        for bad in ["/course/app.js", "/app.js", "/firefly-playground/app.js"] {
            assert_eq!(ok(bad), None, "{bad} must not resolve");
        }
        assert!(StaticServer::start_at(&root, "/no-slash").is_err());
    }

    #[test]
    fn content_types() {
        let ct = |name: &str| content_type(Path::new(name));
        assert_eq!(ct("a_bg.wasm"), Some("application/wasm"));
        assert_eq!(ct("a.js"), Some("text/javascript; charset=utf-8"));
        assert_eq!(ct("index.html"), Some("text/html; charset=utf-8"));
        assert_eq!(ct("s.css"), Some("text/css; charset=utf-8"));
        assert_eq!(ct("i.png"), Some("image/png"));
        assert_eq!(ct("i.svg"), Some("image/svg+xml"));
        assert_eq!(ct("m.json"), Some("application/json"));
        assert_eq!(ct("notes.xyz"), None);
        assert_eq!(ct("Makefile"), None);
    }

    /// Sends raw request text and returns the whole answer (the server closes after it).
    fn raw(server: &StaticServer, request: &str) -> String {
        let mut stream = TcpStream::connect(server.addr).unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).unwrap();
        String::from_utf8_lossy(&answer).into_owned()
    }

    #[test]
    fn serves_over_http() {
        let (_site, root) = site("serve");
        let server = StaticServer::start(&root).unwrap();
        let get = |path: &str| {
            raw(&server, &format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
        };
        let wasm = get("/firefly-playground/pkg/app_bg.wasm");
        assert!(wasm.starts_with("HTTP/1.1 200 OK\r\n"), "{wasm}");
        assert!(wasm.contains("Content-Type: application/wasm\r\n"));
        assert!(wasm.contains("Content-Length: 8\r\n"));
        assert!(wasm.ends_with("\0asm\x01\0\0\0"));
        let js = get("/firefly-playground/app.js");
        assert!(js.contains("Content-Type: text/javascript"));
        assert!(get("/firefly-playground/notes.xyz").starts_with("HTTP/1.1 404"));
        assert!(get("/firefly-playground/../secret.html").starts_with("HTTP/1.1 404"));
        let post = raw(
            &server,
            "POST /firefly-playground/ HTTP/1.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        );
        assert!(post.starts_with("HTTP/1.1 405"));
        let head = raw(&server, "HEAD /firefly-playground/ HTTP/1.1\r\nConnection: close\r\n\r\n");
        assert!(head.contains("Content-Length: 17\r\n") && head.ends_with("\r\n\r\n"));
        // Two requests on one kept-alive connection.
        let two = raw(
            &server,
            "GET /firefly-playground/app.js HTTP/1.1\r\n\r\n\
             GET /firefly-playground/app.js HTTP/1.1\r\nConnection: close\r\n\r\n",
        );
        assert_eq!(two.matches("HTTP/1.1 200 OK").count(), 2);
        drop(server);
    }

    /// A browser opens several connections at once and may ask on any of them: a request on one
    /// is answered while the others sit idle (tiny_http 0.12 left it unanswered in about half of
    /// the tries, and the page stayed loading).
    #[test]
    fn answers_beside_idle_connections() {
        let (_site, root) = site("idle");
        let server = StaticServer::start(&root).unwrap();
        let mut idle: Vec<TcpStream> =
            (0..8).map(|_| TcpStream::connect(server.addr).unwrap()).collect();
        let asking = idle.last_mut().unwrap();
        asking.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        asking.write_all(b"GET /firefly-playground/ HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        let mut answer = [0u8; 15];
        asking.read_exact(&mut answer).unwrap();
        assert_eq!(&answer, b"HTTP/1.1 200 OK");
    }
}
