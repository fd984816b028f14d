//! The end-to-end test's static file server: tiny_http speaks HTTP/1.1 (keep-alive, HEAD without
//! a body); this file decides what is served. GET and HEAD only, the Content-Types a trunk build
//! needs, `Cache-Control: no-store`, 404 for anything else and no way out of the served
//! directory. The site is mounted under a sub-path so that the test also proves the build works
//! when deployed below the root of a host.

use std::fs;
use std::io::Cursor;
use std::net::SocketAddr;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::thread::{self, JoinHandle};

use tiny_http::{Header, Method, Response, Server};

/// The sub-path the site is served under (a host that deploys it below its root).
pub const MOUNT: &str = "/firefly-playground/";

/// A running server; dropping it stops it.
pub struct StaticServer {
    addr: SocketAddr,
    mount: String,
    server: Arc<Server>,
    thread: Option<JoinHandle<()>>,
}

impl StaticServer {
    /// Serves `root` on 127.0.0.1 at a free port, under [`MOUNT`].
    pub fn start(root: &Path) -> Result<Self, String> {
        Self::start_at(root, MOUNT)
    }

    /// Serves `root` on 127.0.0.1 at a free port, under `mount` (a path that starts and ends
    /// with `/`, such as `/course/playground/`).
    pub fn start_at(root: &Path, mount: &str) -> Result<Self, String> {
        if !(mount.starts_with('/') && mount.ends_with('/')) {
            return Err(format!("the mount {mount:?} must start and end with /"));
        }
        let root = root
            .canonicalize()
            .map_err(|e| format!("cannot serve {}: {e}", root.display()))?;
        let server =
            Server::http("127.0.0.1:0").map_err(|e| format!("cannot listen on 127.0.0.1: {e}"))?;
        let addr = server
            .server_addr()
            .to_ip()
            .ok_or("the server has no IP address")?;
        let server = Arc::new(server);
        let requests = Arc::clone(&server);
        let served = Arc::new((root, mount.to_string()));
        // One thread per request, so that a client slow to read cannot hold up the others.
        let thread = thread::Builder::new()
            .name("e2e-static-server".into())
            .spawn(move || {
                for request in requests.incoming_requests() {
                    let served = Arc::clone(&served);
                    let _ = thread::Builder::new().spawn(move || {
                        let (root, mount) = &*served;
                        let response = respond(request.method(), request.url(), root, mount);
                        let _ = request.respond(response);
                    });
                }
            })
            .map_err(|e| format!("cannot start the server thread: {e}"))?;
        Ok(Self {
            addr,
            mount: mount.to_string(),
            server,
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT/firefly-playground/` (the mount it serves under).
    pub fn base_url(&self) -> String {
        format!("http://{}{}", self.addr, self.mount)
    }
}

impl Drop for StaticServer {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// What the server sends: a body in memory.
type Answer = Response<Cursor<Vec<u8>>>;

/// The answer to one request: the file with its Content-Type, or a short text error.
fn respond(method: &Method, target: &str, root: &Path, mount: &str) -> Answer {
    if !matches!(method, Method::Get | Method::Head) {
        return answer(
            405,
            "text/plain; charset=utf-8",
            b"only GET and HEAD\n".to_vec(),
        );
    }
    let not_found = |why: &str| answer(404, "text/plain; charset=utf-8", format!("{why}\n").into());
    let Some(path) = resolve(root, mount, target) else {
        return not_found("not found");
    };
    let Some(content_type) = content_type(&path) else {
        return not_found("not found (unknown file type)");
    };
    match fs::read(&path) {
        Ok(body) => answer(200, content_type, body),
        Err(_) => not_found("not found"),
    }
}

/// An answer with its Content-Type, Content-Length and `Cache-Control: no-store`.
fn answer(status: u16, content_type: &str, body: Vec<u8>) -> Answer {
    let header = |name: &str, value: &str| {
        Header::from_bytes(name, value).unwrap_or_else(|()| unreachable!("ASCII header"))
    };
    // Content-Length always, never chunked (tiny_http chunks from 32 KiB by default).
    Response::from_data(body)
        .with_chunked_threshold(usize::MAX)
        .with_status_code(status)
        .with_header(header("Content-Type", content_type))
        .with_header(header("Cache-Control", "no-store"))
}

/// The file a request target names: it must start with `mount`; the query and fragment are
/// dropped, `%XX` escapes decoded, a directory means its `index.html`, and any `..`, absolute
/// or otherwise odd component (or a symlink leading outside `root`) gives `None`.
fn resolve(root: &Path, mount: &str, target: &str) -> Option<PathBuf> {
    let path = target.split(['?', '#']).next()?;
    let rest = if path == mount.trim_end_matches('/') {
        ""
    } else {
        path.strip_prefix(mount)?
    };
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
    use std::io::{Read, Write};
    use std::net::TcpStream;

    /// A temporary site: `index.html`, `app.js`, `big.js`, `pkg/app_bg.wasm`, `notes.xyz`; and a
    /// secret file next to (outside) it.
    struct Site(PathBuf);

    impl Site {
        fn new(name: &str) -> Self {
            let base = std::env::temp_dir().join(format!("xtask-{name}-{}", std::process::id()));
            let _ = fs::remove_dir_all(&base);
            fs::create_dir_all(base.join("site/pkg")).unwrap();
            fs::write(base.join("site/index.html"), "<!doctype html>hi").unwrap();
            fs::write(base.join("site/app.js"), "export {}").unwrap();
            fs::write(base.join("site/big.js"), vec![b' '; 40_000]).unwrap();
            fs::write(base.join("site/pkg/app_bg.wasm"), b"\0asm\x01\0\0\0").unwrap();
            fs::write(base.join("site/notes.xyz"), "?").unwrap();
            fs::write(base.join("secret.html"), "secret").unwrap();
            Self(base)
        }
        fn root(&self) -> PathBuf {
            self.0.join("site").canonicalize().unwrap()
        }
    }

    impl Drop for Site {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn resolves_inside_the_mount_only() {
        let site = Site::new("resolve");
        let root = site.root();
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
    }

    #[test]
    fn resolves_under_a_deeper_mount() {
        let site = Site::new("deeper");
        let root = site.root();
        let ok = |target: &str| resolve(&root, "/course/playground/", target);
        assert_eq!(ok("/course/playground/").unwrap(), root.join("index.html"));
        assert_eq!(
            ok("/course/playground/pkg/app_bg.wasm").unwrap(),
            root.join("pkg/app_bg.wasm")
        );
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
        let site = Site::new("serve");
        let server = StaticServer::start(&site.root()).unwrap();
        let get = |path: &str| {
            raw(
                &server,
                &format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
            )
        };
        let wasm = get("/firefly-playground/pkg/app_bg.wasm");
        assert!(wasm.starts_with("HTTP/1.1 200 OK\r\n"), "{wasm}");
        assert!(wasm.contains("Content-Type: application/wasm\r\n"));
        assert!(wasm.contains("Content-Length: 8\r\n"));
        assert!(wasm.contains("Cache-Control: no-store\r\n"));
        assert!(wasm.ends_with("\0asm\x01\0\0\0"));
        // Large files too come with their length, not chunked.
        let big = get("/firefly-playground/big.js");
        assert!(big.contains("Content-Length: 40000\r\n"), "{big:.200}");
        let js = get("/firefly-playground/app.js");
        assert!(js.contains("Content-Type: text/javascript"));
        assert!(get("/firefly-playground/notes.xyz").starts_with("HTTP/1.1 404"));
        assert!(get("/firefly-playground/../secret.html").starts_with("HTTP/1.1 404"));
        let post = raw(
            &server,
            "POST /firefly-playground/ HTTP/1.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        );
        assert!(post.starts_with("HTTP/1.1 405"));
        let head = raw(
            &server,
            "HEAD /firefly-playground/ HTTP/1.1\r\nConnection: close\r\n\r\n",
        );
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
}
