// The only way this app puts data into the DOM. Text goes in through textContent (text
// nodes), never innerHTML, so a service name or log body like `<img src=x onerror=...>`
// shows as the characters it is.
//
//   h("a", { href: "/logs", class: "btn", onclick: fn }, "text", child, [more, children])
//
// attrs: `class` (string or array, falsy entries dropped), `on<event>` (a function: added
// with addEventListener), `style` is refused (the CSP forbids inline styles; use classes or
// `setVar(el, name, value)`), `href`/`src`/`action` only accept safe URLs (see safeUrl),
// `dataset` (object), boolean `true` sets an empty attribute, `false`/null/undefined skips.
// children: strings/numbers (text nodes), nodes, arrays (flattened), null/false (skipped).

const SVG_NS = "http://www.w3.org/2000/svg";
const URL_ATTRS = new Set(["href", "src", "action", "formaction", "xlink:href"]);

/** A URL safe to put in href/src: same-origin paths, http(s) and mailto; anything else
 * (javascript:, data:, vbscript:, ...) becomes "#". */
export function safeUrl(value) {
  const s = String(value).trim();
  if (s.startsWith("/") && !s.startsWith("//")) return s;
  if (s.startsWith("#") || s.startsWith("?")) return s;
  try {
    const u = new URL(s, window.location.origin);
    if (u.protocol === "http:" || u.protocol === "https:" || u.protocol === "mailto:") return u.href;
  } catch {
    /* not a URL */
  }
  return "#";
}

function setAttrs(el, attrs) {
  if (!attrs) return;
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "style") throw new Error("inline styles are forbidden by the CSP; use a class");
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (key === "class" || key === "className") {
      const cls = Array.isArray(value) ? value.filter(Boolean).join(" ") : String(value);
      if (cls) el.setAttribute("class", cls);
    } else if (key === "dataset") {
      for (const [k, v] of Object.entries(value)) if (v != null) el.dataset[k] = String(v);
    } else if (key === "value" && "value" in el) {
      el.value = String(value);
    } else if (key === "checked" || key === "selected" || key === "disabled") {
      el[key] = Boolean(value);
      if (value) el.setAttribute(key, "");
    } else if (URL_ATTRS.has(key)) {
      el.setAttribute(key, safeUrl(value));
    } else if (value === true) {
      el.setAttribute(key, "");
    } else {
      el.setAttribute(key, String(value));
    }
  }
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false || child === true) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }
}

/** An HTML element: h("div", {class: "x"}, "text", childNode). */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs && (attrs instanceof Node || Array.isArray(attrs) || typeof attrs !== "object")) {
    children.unshift(attrs);
    attrs = null;
  }
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

/** An SVG element, same signature as h(). */
export function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

/** Replace every child of `el` with `children`. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** Set a CSS custom property (allowed under the CSP: CSSOM, not an inline style attribute). */
export function setVar(el, name, value) {
  el.style.setProperty(name, String(value));
  return el;
}

/** An "empty" panel: what is missing and what to do about it. */
export function emptyState(title, ...hint) {
  return h("div", { class: "state state-empty", role: "status" }, h("strong", null, title), hint.length ? h("p", null, ...hint) : null);
}

/** An "error" panel for a failed request: says which endpoint and why. */
export function errorState(err, what) {
  const msg = err && err.message ? err.message : String(err);
  return h(
    "div",
    { class: "state state-error", role: "alert" },
    h("strong", null, what ? `Could not load ${what}` : "Could not load"),
    h("p", null, msg),
  );
}

/** The state for a failed request: a calm "not available" when the hub lacks the endpoint
 * (an older hub, or a feature not built in), the error otherwise. */
export function failedState(err, what, endpoint) {
  if (err && err.missing) {
    return h(
      "div",
      { class: "state state-empty", role: "status" },
      h("strong", null, `${what[0].toUpperCase()}${what.slice(1)}: not available on this hub`),
      h("p", null, "This hub does not serve ", h("code", null, endpoint || "the endpoint"), " yet; upgrade the hub to see it."),
    );
  }
  return errorState(err, what);
}

/** A loading placeholder. */
export function loading(what) {
  return h("div", { class: "state state-loading", "aria-busy": "true" }, what ? `Loading ${what}…` : "Loading…");
}

/** The standard hint for a hub with no data yet. */
export function noDataHint() {
  return [
    "No data yet: point a service at this hub with ",
    h("code", null, `setup_monitoring(app, hub_url="${window.location.origin}")`),
    " (or set ",
    h("code", null, "BERRYS_MONITORING_HUB_URL"),
    "), or send OTLP to ",
    h("code", null, `${window.location.origin}/v1/traces`),
    ".",
  ];
}
