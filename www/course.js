// An example host page for Firefly Playground's host-page API (README "Embed").
//
// Commands go to an embedded playground with postMessage:
//   {type: "set", settings: {dataset: "xor", lr: 0.03, grow_hide: 1}}   (link keys; all or none)
//   {type: "play"} {type: "pause"} {type: "step"} {type: "grow"} {type: "reset"}
//   {type: "export"}   -> answered with an "export" event carrying the run
//   {type: "import", run}
// Events come back: ready, epoch (at most 4 a second: as the runs train, and whenever their
// state, units or growths change), grew, settings, height, error, export.
//
// This page is served from the playground's own origin. A page on another origin posts to the
// playground's origin and adds allow-origin=<its own origin> to the iframe's link; the playground
// ignores messages from any origin it does not allow.
"use strict";

const frames = { a: document.getElementById("a"), b: document.getElementById("b") };
const course = document.getElementById("course");
const log = document.getElementById("log");
const playgroundOrigin = window.location.origin;
let ready = 0;
let errors = 0;
let copying = false;

function send(name, message) {
  frames[name].contentWindow.postMessage(message, playgroundOrigin);
}

function both(message) {
  send("a", message);
  send("b", message);
}

function note(text) {
  const item = document.createElement("li");
  item.textContent = text;
  log.prepend(item);
  while (log.children.length > 50) log.lastChild.remove();
}

// Each caption says what its playground compares, on which data, and where it stands.
function caption(name, text) {
  document.getElementById("status-" + name).textContent = text;
}

function compares(method, baseline, data) {
  return `${method} vs ${baseline} on ${data}`;
}

function which(source) {
  return Object.keys(frames).find((name) => frames[name].contentWindow === source);
}

window.addEventListener("message", (e) => {
  if (e.origin !== playgroundOrigin) return;
  const name = which(e.source);
  const event = e.data;
  if (!name || !event || typeof event.type !== "string") return;
  const key = name.toUpperCase();
  switch (event.type) {
    case "ready":
      ready += 1;
      course.dataset.ready = String(ready);
      course.dataset["link" + key] = event.link;
      note(`${name}: ready (${event.link})`);
      caption(name, `${compares(event.settings.method, event.settings.baseline, event.settings.dataset)} · ready`);
      break;
    case "epoch": {
      const [m, b] = [event.main, event.baseline];
      course.dataset["epoch" + key] = String(m.epoch);
      course.dataset["state" + key] = event.state;
      const loss = (run) => (run.train_loss === null ? "—" : run.train_loss.toFixed(3));
      let text = `${compares(m.method, b.method, event.data)} · ${event.state} · epoch ${m.epoch}` +
        ` · ${m.architecture} vs ${b.architecture} · training loss ${loss(m)} vs ${loss(b)}`;
      if (event.state === "paused" && m.epoch === 0) text += " · press Play both";
      caption(name, text);
      break;
    }
    case "grew":
      if (event.run === "main") {
        course.dataset["grew" + key] = String(Number(course.dataset["grew" + key]) + 1);
      }
      if (event.growth.architecture_before === event.growth.architecture_after) {
        note(`${name}: ${event.run} found nothing worth growing (${event.growth.architecture_before} kept)`);
      } else {
        note(`${name}: ${event.run} grew ${event.growth.architecture_before} → ${event.growth.architecture_after}`);
      }
      break;
    case "settings":
      course.dataset["link" + key] = event.link;
      note(`${name}: settings ${event.link}`);
      break;
    case "height":
      frames[name].style.height = Math.min(Math.max(event.height, 400), 2000) + "px";
      break;
    case "error":
      errors += 1;
      course.dataset.errors = String(errors);
      note(`${name}: refused ${event.command || "a message"}: ${event.message}`);
      break;
    case "export":
      if (copying && name === "a") {
        copying = false;
        const main = event.run.runs.find((r) => r.role === "main" && r.index === 0);
        const last = main.history.epochs[main.history.epochs.length - 1];
        course.dataset.exportedEpoch = String(last ? last.epoch : 0);
        course.dataset.exportedLoss = last ? String(last.train_loss) : "";
        send("b", { type: "import", run: event.run });
        note(`a: exported at epoch ${last ? last.epoch : 0}; shown on the right`);
      }
      break;
  }
});

const buttons = {
  "play-both": () => both({ type: "play" }),
  "pause-both": () => both({ type: "pause" }),
  "step-both": () => both({ type: "step" }),
  "grow-both": () => both({ type: "grow" }),
  "reset-both": () => both({ type: "reset" }),
  "xor-both": () => both({ type: "set", settings: { dataset: "xor" } }),
  "copy-a-to-b": () => {
    copying = true;
    send("a", { type: "pause" });
    send("a", { type: "export" });
  },
};
for (const [id, action] of Object.entries(buttons)) {
  document.getElementById(id).addEventListener("click", action);
}
