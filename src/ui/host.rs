//! The page in a course page: the host-page API's edge (`postMessage` in, events out, through
//! `serde-wasm-bindgen`), the embed layout and hidden controls, pausing while unseen, the Share /
//! embed dialog, and Save (one [`save`] for either mode: the page model says what each kind
//! writes, [`Saves`]) and *Open a run*. What the commands do and which events are due is the
//! engine's ([`crate::playground::Playground::command`], and [`HostPage`], which both modes of
//! the page implement); this file only carries them across the page's edge, one [`Host`] for
//! either mode.

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{
    Blob, BlobPropertyBag, CanvasRenderingContext2d, Element, HtmlAnchorElement, HtmlCanvasElement,
    HtmlElement, HtmlInputElement, HtmlTextAreaElement, MessageEvent, Url, Window,
};

use super::dom::{self, by_id, listen, set_attr};
use super::{Event, Inbox, push};
use crate::playground::{Command, HostEvent, HostPage, SaveBody, SaveKind, Saves};
use crate::settings::{self, PageOptions};
use crate::url::{iframe_snippet, share_link};

/// The largest message a host page may post (bytes of JSON); an imported run may be large.
pub const MAX_MESSAGE_BYTES: usize = crate::playground::MAX_IMPORT_BYTES;
/// How often the page's height is checked for `height` events (ms).
const HEIGHT_EVERY_MS: f64 = 500.0;

/// What the page has told its host page, and where it is; `C` is the page's cursor
/// ([`HostPage::Cursor`]), so one edge serves both modes of the page.
pub struct Host<C> {
    cursor: C,
    ready: bool,
    height: f64,
    height_at: f64,
    parent: Option<Window>,
    own_origin: String,
}

impl<C: Default> Default for Host<C> {
    fn default() -> Self {
        Self::new()
    }
}

impl<C: Default> Host<C> {
    /// Finds the parent page (none when the page is not in a frame).
    pub fn new() -> Self {
        let window = dom::window().ok();
        let parent = window.as_ref().and_then(|w| {
            w.parent()
                .ok()
                .flatten()
                .filter(|p| !js_sys::Object::is(p, w.as_ref()))
        });
        let own_origin = window
            .and_then(|w| w.location().origin().ok())
            .unwrap_or_default();
        Host {
            cursor: C::default(),
            ready: false,
            height: 0.0,
            height_at: f64::NEG_INFINITY,
            parent,
            own_origin,
        }
    }

    /// The page's origin.
    pub fn own_origin(&self) -> &str {
        &self.own_origin
    }

    /// Posts `event` to the host page: to the page's own origin and to each allowed one (`*`
    /// when `allow-origin` says any). Nothing when the page is not in a frame.
    pub fn post(&self, options: &PageOptions, event: &HostEvent) {
        let Some(parent) = &self.parent else {
            return;
        };
        // Events go out as JSON text parsed by the browser: the same serde_json code that Save
        // uses, rather than a second serializer for every event type (150 KB of wasm gzip).
        let Ok(text) = serde_json::to_string(event) else {
            return;
        };
        let Ok(value) = js_sys::JSON::parse(&text) else {
            return;
        };
        let mut targets: Vec<&str> = vec![&self.own_origin];
        if options.allow_origins.iter().any(|o| o == "*") {
            targets = vec!["*"];
        } else {
            targets.extend(options.allow_origins.iter().map(String::as_str));
        }
        for target in targets {
            let _ = parent.post_message(&value, target);
        }
    }

    /// After each frame: `ready` once, then the events that are due (growth mode: growths,
    /// settings and `epoch`; continual mode: `task-done` and `progress`), and the page's height
    /// when it changed.
    pub fn tick<P: HostPage<Cursor = C>>(&mut self, page: &P) {
        if self.parent.is_none() {
            return;
        }
        let now = dom::now();
        let due = page.host_events(&mut self.cursor, now);
        self.post_due(page.options(), || page.ready_event(), due, now);
    }

    /// Posts `ready` the first time, then `due`, then the height when it changed.
    fn post_due(
        &mut self,
        options: &PageOptions,
        ready: impl FnOnce() -> HostEvent,
        due: Vec<HostEvent>,
        now: f64,
    ) {
        if !self.ready {
            self.ready = true;
            self.post(options, &ready());
        }
        for event in &due {
            self.post(options, event);
        }
        self.post_height(options, now);
    }

    fn post_height(&mut self, options: &PageOptions, now: f64) {
        if now - self.height_at >= HEIGHT_EVERY_MS {
            self.height_at = now;
            let height = dom::document()
                .ok()
                .and_then(|d| d.document_element())
                .map_or(0.0, |e| f64::from(e.scroll_height()));
            if height != self.height {
                self.height = height;
                self.post(options, &HostEvent::Height { height });
            }
        }
    }

    /// Takes a host page's message for a page with these options, or answers it with an
    /// `error` event. Messages from an origin the page does not allow are dropped unanswered.
    pub fn accept(
        &self,
        options: &PageOptions,
        origin: &str,
        command: Result<Command, String>,
    ) -> Option<Command> {
        if !settings::origin_allowed(options, origin, &self.own_origin) {
            web_sys::console::warn_1(
                &format!(
                    "Firefly Playground: ignored a message from {} (not in allow-origin)",
                    settings::echo(origin)
                )
                .into(),
            );
            return None;
        }
        match command {
            Ok(command) => Some(command),
            Err(message) => {
                self.refuse(options, None, message);
                None
            }
        }
    }

    /// Answers the `export` command with the page's whole run, or an `error` event.
    pub async fn export<P: HostPage<Cursor = C>>(&self, page: &P) {
        match page.export_event().await {
            Ok(event) => self.post(page.options(), &event),
            Err(message) => self.refuse(page.options(), Some("export"), message),
        }
    }

    /// Answers a refused command with an `error` event.
    pub fn refuse(&self, options: &PageOptions, command: Option<&str>, message: String) {
        self.post(
            options,
            &HostEvent::Error {
                command: command.map(str::to_string),
                message,
            },
        );
    }
}

/// Listens for host pages' messages; each becomes an [`Event::HostMessage`] (read here, checked
/// against the allowed origins in the loop).
pub fn bind_messages(inbox: &Inbox) -> Result<(), JsValue> {
    let inbox = inbox.clone();
    let window = dom::window()?;
    listen(&window, "message", move |e: MessageEvent| {
        let data = e.data();
        let command = match data.as_string() {
            Some(text) => crate::playground::parse_command(&text, MAX_MESSAGE_BYTES),
            None => serde_wasm_bindgen::from_value::<serde_json::Value>(data)
                .map_err(|e| format!("not a command: {e}"))
                .and_then(|value| Command::from_posted_object(value, MAX_MESSAGE_BYTES)),
        };
        push(
            &inbox,
            Event::HostMessage {
                origin: e.origin(),
                command,
            },
        );
    })
}

/// Pauses the loop while the page is hidden (another tab) or scrolled out of view.
pub fn bind_visibility(inbox: &Inbox) -> Result<(), JsValue> {
    {
        let inbox = inbox.clone();
        let document = dom::document()?;
        let source = document.clone();
        listen(&document, "visibilitychange", move |_: web_sys::Event| {
            push(&inbox, Event::PageHidden(source.hidden()));
        })?;
    }
    let inbox = inbox.clone();
    let callback = Closure::<dyn FnMut(js_sys::Array)>::new(move |entries: js_sys::Array| {
        let seen = entries.iter().any(|entry| {
            entry
                .dyn_into::<web_sys::IntersectionObserverEntry>()
                .is_ok_and(|e| e.is_intersecting())
        });
        push(&inbox, Event::OnScreen(seen));
    });
    let observer = web_sys::IntersectionObserver::new(callback.as_ref().unchecked_ref())?;
    callback.forget();
    observer.observe(&by_id::<Element>("app")?);
    Ok(())
}

/// The embed layout and the hidden controls, from the options.
pub fn write_layout(options: &PageOptions) {
    if let Ok(root) = by_id::<Element>("app") {
        let _ = root.class_list().toggle_with_force("embed", options.embed);
    }
    // Embedded, the paragraph on what to look for is one line that opens when focused (a tap
    // or Tab), so it takes the focus there only.
    if let Ok(look_for) = by_id::<Element>("look-for") {
        let _ = if options.embed {
            look_for.set_attribute("tabindex", "0")
        } else {
            look_for.remove_attribute("tabindex")
        };
    }
    for (key, id) in settings::hideable() {
        let Ok(element) = by_id::<Element>(id) else {
            continue;
        };
        // A setting's control sits in its label; a button or a list stands alone.
        let target = element.closest("label").ok().flatten().unwrap_or(element);
        if let Ok(target) = target.dyn_into::<HtmlElement>() {
            dom::set_hidden(&target, options.hidden.contains(&key));
        }
    }
}

/// The readable name of a hideable control (for the Share dialog).
fn control_label(key: &str) -> String {
    match settings::find(key) {
        Some(s) => s.label.to_string(),
        None => match key {
            "csv" => "Upload CSV".into(),
            "export" => "Save buttons".into(),
            "import" => "Open a run".into(),
            other => {
                let mut chars = other.chars();
                chars
                    .next()
                    .map(|c| c.to_uppercase().chain(chars).collect())
                    .unwrap_or_default()
            }
        },
    }
}

/// Builds the Share dialog's checkboxes and binds its buttons.
pub fn bind_share(inbox: &Inbox) -> Result<(), JsValue> {
    let document = dom::document()?;
    let list: Element = by_id("share-hide")?;
    for (key, _) in settings::hideable() {
        let label = document.create_element("label")?;
        label.set_class_name("inline");
        let input = document.create_element("input")?;
        input.set_attribute("type", "checkbox")?;
        input.set_attribute("data-hide", key)?;
        label.append_child(&input)?;
        let text = document.create_element("span")?;
        text.set_text_content(Some(&control_label(key)));
        label.append_child(&text)?;
        list.append_child(&label)?;
    }
    let dialog: Element = by_id("share-dialog")?;
    for (id, event) in [
        ("share", Event::Share(true)),
        ("share-close", Event::Share(false)),
    ] {
        let inbox = inbox.clone();
        let button: Element = by_id(id)?;
        listen(&button, "click", move |_: web_sys::Event| {
            push(&inbox, event.clone())
        })?;
    }
    {
        let inbox = inbox.clone();
        listen(&dialog, "change", move |_: web_sys::Event| {
            push(&inbox, Event::ShareChanged)
        })?;
    }
    for (button, field) in [
        ("share-copy-link", "share-link"),
        ("share-copy-iframe", "share-iframe"),
    ] {
        let element: Element = by_id(button)?;
        let source = button.to_string();
        listen(&element, "click", move |_: web_sys::Event| {
            copy_field(field, &source);
        })?;
    }
    Ok(())
}

/// Copies a field's text to the clipboard and says so on the button.
fn copy_field(field: &str, button: &str) {
    let text = by_id::<HtmlInputElement>(field)
        .map(|i| i.value())
        .or_else(|_| by_id::<HtmlTextAreaElement>(field).map(|t| t.value()))
        .unwrap_or_default();
    let Ok(window) = dom::window() else { return };
    let promise = window.navigator().clipboard().write_text(&text);
    let button = button.to_string();
    wasm_bindgen_futures::spawn_local(async move {
        let done = wasm_bindgen_futures::JsFuture::from(promise).await.is_ok();
        if let Ok(b) = by_id::<Element>(&button) {
            let word = if done {
                "Copied"
            } else {
                "Select the text and copy it"
            };
            b.set_attribute("data-copied", word).ok();
        }
    });
}

/// Opens or closes the Share dialog; when open, writes its link and snippet from the options
/// and the dialog's checkboxes.
pub fn share(open: bool, options: &PageOptions, custom_data: bool) -> Result<(), JsValue> {
    let dialog: HtmlElement = by_id("share-dialog")?;
    if !open {
        dom::set_hidden(&dialog, true);
        return Ok(());
    }
    // A link carries settings, not points: say so when the runs train on the person's own.
    if let Ok(hint) = by_id::<Element>("share-hint") {
        dom::set_text(
            &hint,
            if custom_data {
                "The link opens this experiment's settings, but not your points: they are not in the link, so whoever opens it trains on the generated data set. Save → Run (JSON) keeps them."
            } else {
                "The link opens this experiment as it is set now: same seed, same data, same growth decisions."
            },
        );
    }
    if dialog.hidden() {
        // Opening: the checkboxes start from the page as it is.
        by_id::<HtmlInputElement>("share-embed")?.set_checked(options.embed);
        by_id::<HtmlInputElement>("share-autoplay")?.set_checked(options.autoplay);
        let boxes = dialog.query_selector_all("input[data-hide]")?;
        for i in 0..boxes.length() {
            if let Some(input) = boxes
                .item(i)
                .and_then(|n| n.dyn_into::<HtmlInputElement>().ok())
            {
                let key = input.get_attribute("data-hide").unwrap_or_default();
                input.set_checked(options.hidden.iter().any(|k| *k == key));
            }
        }
        dom::set_hidden(&dialog, false);
    }
    let mut shared = options.clone();
    shared.embed = by_id::<HtmlInputElement>("share-embed")?.checked();
    shared.autoplay = by_id::<HtmlInputElement>("share-autoplay")?.checked();
    shared.hidden.clear();
    let boxes = dialog.query_selector_all("input[data-hide]")?;
    for i in 0..boxes.length() {
        if let Some(input) = boxes
            .item(i)
            .and_then(|n| n.dyn_into::<HtmlInputElement>().ok())
            && input.checked()
            && let Some(key) = input.get_attribute("data-hide")
        {
            let _ = settings::set_hidden(&mut shared, &key, "1");
        }
    }
    let page = dom::window()?.location().href()?;
    let link = share_link(&page, &shared);
    by_id::<HtmlInputElement>("share-link")?.set_value(&link);
    by_id::<HtmlTextAreaElement>("share-iframe")?.set_value(&iframe_snippet(&link));
    Ok(())
}

/// The Save buttons and what each saves.
const SAVE_BUTTONS: [(&str, SaveKind); 3] = [
    ("export", SaveKind::Json),
    ("export-csv", SaveKind::Csv),
    ("export-png", SaveKind::Png),
];

/// Binds the Save buttons and the run file picker.
pub fn bind_export(inbox: &Inbox) -> Result<(), JsValue> {
    for (id, kind) in SAVE_BUTTONS {
        let inbox = inbox.clone();
        let button: Element = by_id(id)?;
        listen(&button, "click", move |_: web_sys::Event| {
            push(&inbox, Event::Save(kind))
        })?;
    }
    let inbox = inbox.clone();
    let input: HtmlInputElement = by_id("import")?;
    let source = input.clone();
    listen(&input, "change", move |_: web_sys::Event| {
        let Some(file) = source.files().and_then(|f| f.get(0)) else {
            return;
        };
        source.set_value("");
        let name = file.name();
        if file.size() > crate::playground::MAX_IMPORT_BYTES as f64 {
            let message = format!(
                "the file is {:.1} MB; a run file may be at most {} MB",
                file.size() / 1e6,
                crate::playground::MAX_IMPORT_BYTES >> 20
            );
            push(&inbox, Event::ImportFailed(name, message));
            return;
        }
        let inbox = inbox.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let event = match wasm_bindgen_futures::JsFuture::from(file.text()).await {
                Ok(text) => Event::App(crate::playground::Msg::ImportRun(
                    name,
                    text.as_string().unwrap_or_default(),
                )),
                Err(_) => Event::ImportFailed(name, "the file could not be read".into()),
            };
            push(&inbox, event);
        });
    })
}

/// Saves what `page` writes for a Save of `kind` ([`Saves::save_file`]), in either mode.
pub async fn save<P: Saves>(kind: SaveKind, page: &P) -> Result<(), JsValue> {
    let file = page
        .save_file(kind)
        .await
        .map_err(|e| JsValue::from_str(&e))?;
    match file.body {
        SaveBody::Text(text) => download_text(&file.name, file.mime, &text),
        SaveBody::Picture => download_url(&file.name, &picture()?),
    }
}

/// Hides the Save buttons of the kinds `P` does not offer ([`Saves::KINDS`]).
pub fn hide_other_saves<P: Saves>() {
    for (id, kind) in SAVE_BUTTONS {
        if !P::KINDS.contains(&kind)
            && let Ok(button) = by_id::<HtmlElement>(id)
        {
            dom::set_hidden(&button, true);
        }
    }
}

fn download_text(name: &str, mime: &str, text: &str) -> Result<(), JsValue> {
    let parts = js_sys::Array::of1(&JsValue::from_str(text));
    let bag = BlobPropertyBag::new();
    bag.set_type(mime);
    let blob = Blob::new_with_str_sequence_and_options(&parts, &bag)?;
    let url = Url::create_object_url_with_blob(&blob)?;
    let result = download_url(name, &url);
    Url::revoke_object_url(&url)?;
    result
}

fn download_url(name: &str, url: &str) -> Result<(), JsValue> {
    let anchor: HtmlAnchorElement = dom::document()?.create_element("a")?.dyn_into()?;
    anchor.set_href(url);
    anchor.set_download(name);
    anchor.click();
    Ok(())
}

/// The two maps, the network and the Figure 3 and loss charts drawn into one picture (a data URL).
fn picture() -> Result<String, JsValue> {
    let canvas = |id: &str| by_id::<HtmlCanvasElement>(id);
    let (main, baseline, network) = (
        canvas("heatmap")?,
        canvas("baseline-heatmap")?,
        canvas("network")?,
    );
    let (curves, figure3) = (canvas("curves")?, canvas("figure3")?);
    let gap = 12.0;
    let row1 = f64::from(main.height().max(network.height()));
    let row2 = f64::from(curves.height().max(figure3.height()));
    let width = (f64::from(main.width() + baseline.width() + network.width()) + 4.0 * gap)
        .max(f64::from(curves.width() + figure3.width()) + 3.0 * gap);
    let out: HtmlCanvasElement = dom::document()?.create_element("canvas")?.dyn_into()?;
    out.set_width(width as u32);
    out.set_height((row1 + row2 + 3.0 * gap) as u32);
    let ctx: CanvasRenderingContext2d = out
        .get_context("2d")?
        .ok_or_else(|| JsValue::from_str("no 2d context"))?
        .dyn_into()?;
    ctx.set_fill_style_str("#ffffff");
    ctx.fill_rect(0.0, 0.0, f64::from(out.width()), f64::from(out.height()));
    let mut x = gap;
    for c in [&main, &baseline, &network] {
        ctx.draw_image_with_html_canvas_element(c, x, gap)?;
        x += f64::from(c.width()) + gap;
    }
    let mut x = gap;
    for c in [&curves, &figure3] {
        ctx.draw_image_with_html_canvas_element(c, x, row1 + 2.0 * gap)?;
        x += f64::from(c.width()) + gap;
    }
    out.to_data_url()
}

/// Marks the page's visibility in `data-visible` (the loop trains only while it is seen).
pub fn write_visible(visible: bool) {
    if let Ok(root) = by_id::<Element>("app") {
        set_attr(&root, "data-visible", if visible { "1" } else { "0" });
    }
}
