// The dashboard's shell: router over the hub's page routes, the header (nav, time range,
// refresh, theme) and the mounting of pages (see ctx.js for what a page receives).
import "./styles.css";
import { h, replace } from "./dom.js";
import { createApi } from "./api.js";
import { createCtx } from "./ctx.js";
import {
  RANGE_PRESETS,
  REFRESH_OPTIONS,
  DEFAULT_FROM,
  DEFAULT_TO,
  DEFAULT_REFRESH,
  isTimeValue,
  durationSeconds,
  rangeLabel,
} from "./lib/time.js";
import * as overview from "./pages/overview.js";
import * as service from "./pages/service.js";
import * as logs from "./pages/logs.js";
import * as alerts from "./pages/alerts.js";
import * as login from "./pages/login.js";
import * as traces from "./pages/traces.js";
import * as trace from "./pages/trace.js";
import * as dashboards from "./pages/dashboards.js";
import * as dashboard from "./pages/dashboard.js";

// [pattern, page module, nav section, bare (no time controls)]
const ROUTES = [
  [/^\/$/, overview, "overview"],
  [/^\/services\/(?<name>[^/]+)\/?$/, service, "overview"],
  [/^\/traces\/?$/, traces, "traces"],
  [/^\/traces\/(?<id>[^/]+)\/?$/, trace, "traces"],
  [/^\/logs\/?$/, logs, "logs"],
  [/^\/alerts\/?$/, alerts, "alerts"],
  [/^\/dashboards\/?$/, dashboards, "dashboards"],
  [/^\/dashboards\/(?<id>[^/]+)\/?$/, dashboard, "dashboards"],
  [/^\/login\/?$/, login, null, true],
];

const NAV = [
  ["overview", "/", "Overview"],
  ["traces", "/traces", "Traces"],
  ["logs", "/logs", "Logs"],
  ["alerts", "/alerts", "Alerts"],
  ["dashboards", "/dashboards", "Dashboards"],
];

const SHELL_KEYS = ["from", "to", "refresh"];
const THEME_KEY = "bm-theme";

const notFound = {
  mount(el) {
    el.append(
      h("h1", null, "Page not found"),
      h("p", null, "There is no page at ", h("code", null, window.location.pathname), ". "),
      h("p", null, h("a", { href: "/" }, "Go to the overview")),
    );
  },
};

function match(pathname) {
  for (const [re, page, section, bare] of ROUTES) {
    const m = re.exec(pathname);
    if (m) {
      const params = {};
      for (const [k, v] of Object.entries(m.groups || {})) {
        try {
          params[k] = decodeURIComponent(v);
        } catch {
          params[k] = v;
        }
      }
      return { page, section, params, bare: Boolean(bare) };
    }
  }
  return { page: notFound, section: null, params: {}, bare: false };
}

// ---- theme ---------------------------------------------------------------------------

function systemTheme() {
  return window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}
function currentTheme() {
  return localStorage.getItem(THEME_KEY) || systemTheme();
}
function applyTheme(theme) {
  document.documentElement.dataset.theme = theme;
  window.dispatchEvent(new CustomEvent("bm-theme", { detail: theme }));
}

// ---- shell state -----------------------------------------------------------------------

const state = { from: DEFAULT_FROM, to: DEFAULT_TO, refresh: DEFAULT_REFRESH };

function readState() {
  const q = new URLSearchParams(window.location.search);
  const from = q.get("from");
  const to = q.get("to");
  const refresh = q.get("refresh");
  state.from = isTimeValue(from) ? from : DEFAULT_FROM;
  state.to = isTimeValue(to) ? to : DEFAULT_TO;
  state.refresh = REFRESH_OPTIONS.includes(refresh) ? refresh : DEFAULT_REFRESH;
}

function urlWith(changes, base = window.location.href) {
  const url = new URL(base, window.location.origin);
  for (const [k, v] of Object.entries(changes)) {
    if (Array.isArray(v)) {
      url.searchParams.delete(k);
      for (const x of v) if (x !== null && x !== undefined && x !== "") url.searchParams.append(k, String(x));
    } else if (v === null || v === undefined || v === "") url.searchParams.delete(k);
    else url.searchParams.set(k, String(v));
  }
  return url.pathname + url.search + url.hash;
}

function writeState({ push = false } = {}) {
  const target = urlWith({ from: state.from, to: state.to, refresh: state.refresh });
  if (target !== window.location.pathname + window.location.search + window.location.hash) {
    history[push ? "pushState" : "replaceState"](history.state, "", target);
  }
}

// ---- the app ---------------------------------------------------------------------------

const root = document.getElementById("app");
let mounted = null; // {unmount, fire, dispose, path}
let timer = null;

const api = createApi({
  onUnauthorized() {
    if (window.location.pathname !== "/login") {
      navigate(`/login?next=${encodeURIComponent(window.location.pathname + window.location.search)}`, {
        replace: true,
      });
    }
  },
});

function navigate(path, { replace: rep = false } = {}) {
  const url = new URL(path, window.location.origin);
  if (url.origin !== window.location.origin) {
    window.location.assign(url.href);
    return;
  }
  // Carry the shell's time range and refresh unless the target sets its own.
  if (!url.pathname.startsWith("/login")) {
    for (const k of SHELL_KEYS) if (!url.searchParams.has(k)) url.searchParams.set(k, state[k]);
  }
  history[rep ? "replaceState" : "pushState"](null, "", url.pathname + url.search + url.hash);
  route();
}

function setQuery(obj, { push = false } = {}) {
  const target = urlWith(obj);
  history[push ? "pushState" : "replaceState"](history.state, "", target);
}

function setTimeRange(from, to) {
  state.from = String(from);
  state.to = String(to);
  writeState({ push: true });
  syncControls();
  if (mounted) mounted.fire("range");
}

const shell = { api, navigate, setQuery, setTimeRange, state };

function resetTimer() {
  if (timer) clearInterval(timer);
  timer = null;
  const seconds = durationSeconds(state.refresh);
  if (seconds > 0) {
    timer = setInterval(() => {
      if (!document.hidden && mounted) mounted.fire("tick");
    }, seconds * 1000);
  }
}

// ---- header controls -------------------------------------------------------------------

const rangeSelect = h(
  "select",
  {
    id: "range",
    "aria-label": "Time range",
    onchange: () => {
      if (rangeSelect.value === "custom") {
        openCustom();
        return;
      }
      setTimeRange(rangeSelect.value, "now");
    },
  },
  RANGE_PRESETS.map(([v, label]) => h("option", { value: v }, label)),
  h("option", { value: "custom" }, "Custom range…"),
);
const customFrom = h("input", { type: "datetime-local", step: "1", "aria-label": "From" });
const customTo = h("input", { type: "datetime-local", step: "1", "aria-label": "To" });
const customBox = h(
  "form",
  {
    class: "custom-range",
    hidden: true,
    onsubmit: (ev) => {
      ev.preventDefault();
      const f = Date.parse(customFrom.value);
      const t = Date.parse(customTo.value);
      if (!isFinite(f) || !isFinite(t) || f >= t) {
        customFrom.setCustomValidity("from must be before to");
        customFrom.reportValidity();
        return;
      }
      customFrom.setCustomValidity("");
      customBox.hidden = true;
      setTimeRange(String(f), String(t));
    },
  },
  customFrom,
  customTo,
  h("button", { type: "submit", class: "btn" }, "Apply"),
  h("button", { type: "button", class: "btn btn-quiet", onclick: () => { customBox.hidden = true; syncControls(); } }, "Cancel"),
);
function toLocalInput(ms) {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60000);
  return d.toISOString().slice(0, 19);
}
function openCustom() {
  const { start, end } = mounted && mounted.ctx ? mounted.ctx.timeRange : { start: Date.now() / 1000 - 3600, end: Date.now() / 1000 };
  customFrom.value = toLocalInput(start * 1000);
  customTo.value = toLocalInput(end * 1000);
  customBox.hidden = false;
  customFrom.focus();
}
const customOption = rangeSelect.querySelector('option[value="custom"]');

const refreshSelect = h(
  "select",
  {
    id: "refresh",
    "aria-label": "Auto refresh",
    onchange: () => {
      state.refresh = refreshSelect.value;
      writeState();
      resetTimer();
      syncControls();
    },
  },
  REFRESH_OPTIONS.map((v) => h("option", { value: v }, v === "off" ? "Auto refresh off" : `Every ${v}`)),
);
const refreshButton = h(
  "button",
  { type: "button", class: "btn", title: "Refresh now", onclick: () => mounted && mounted.fire("manual") },
  "↻ Refresh",
);
const themeButton = h("button", {
  type: "button",
  class: "btn btn-quiet",
  id: "theme-toggle",
  onclick: () => {
    const next = currentTheme() === "dark" ? "light" : "dark";
    localStorage.setItem(THEME_KEY, next);
    applyTheme(next);
    syncControls();
  },
});
const logoutButton = h(
  "button",
  {
    type: "button",
    class: "btn btn-quiet",
    id: "logout",
    hidden: true,
    onclick: async () => {
      try {
        await api.post("/logout", {});
      } catch {
        /* already logged out */
      }
      window.location.assign("/login");
    },
  },
  "Log out",
);
const rangeLabelEl = h("span", { class: "range-label", "aria-live": "polite" });

const navLinks = NAV.map(([section, href, label]) => h("a", { href, dataset: { section } }, label));
const controls = h("div", { class: "controls" }, rangeSelect, customBox, rangeLabelEl, refreshSelect, refreshButton);
const header = h(
  "header",
  { class: "topbar" },
  h("a", { href: "/", class: "brand", "aria-label": "berrys-monitoring overview" }, h("span", { class: "brand-mark", "aria-hidden": "true" }), "berrys-monitoring"),
  h("nav", { "aria-label": "Main" }, navLinks),
  controls,
  h("div", { class: "account" }, themeButton, logoutButton),
);
const main = h("main", { id: "main", tabindex: "-1" });
const skip = h("a", { href: "#main", class: "skip-link" }, "Skip to content");

function syncControls(section) {
  const isPreset = state.to === "now" && RANGE_PRESETS.some(([v]) => v === state.from);
  customOption.textContent = isPreset ? "Custom range…" : rangeLabel(state.from, state.to);
  rangeSelect.value = isPreset ? state.from : "custom";
  rangeLabelEl.textContent = "";
  refreshSelect.value = state.refresh;
  const theme = currentTheme();
  themeButton.textContent = theme === "dark" ? "☀ Light" : "☾ Dark";
  themeButton.setAttribute("aria-label", theme === "dark" ? "Switch to the light theme" : "Switch to the dark theme");
  logoutButton.hidden = !document.cookie.split(";").some((c) => c.trim().startsWith("bm_csrf="));
  if (section !== undefined) {
    for (const a of navLinks) {
      if (a.dataset.section === section) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
    }
  }
  for (const a of navLinks) a.setAttribute("href", urlWith({ from: state.from, to: state.to, refresh: state.refresh }, a.pathname));
}

function route() {
  const path = window.location.pathname;
  const { page, section, params, bare } = match(path);
  if (mounted) {
    try {
      if (typeof mounted.unmount === "function") mounted.unmount();
    } catch (err) {
      console.error(err);
    }
    mounted.dispose();
    mounted = null;
  }
  readState();
  if (!bare) writeState();
  controls.hidden = bare;
  header.classList.toggle("bare", bare);
  syncControls(section);
  resetTimer();
  const el = h("section", { class: "page" });
  replace(main, el);
  const made = createCtx(shell, params);
  mounted = { ...made, ctx: made.ctx, unmount: null, path };
  made.ctx.setTitle(section ? NAV.find((n) => n[0] === section)[2] : "");
  try {
    mounted.unmount = page.mount(el, made.ctx) || null;
  } catch (err) {
    console.error(err);
    replace(el, h("div", { class: "state state-error", role: "alert" }, h("strong", null, "This page failed to load"), h("p", null, String(err && err.message ? err.message : err))));
  }
}

// Same-origin link clicks become client-side navigation (modifier keys keep browser behaviour).
document.addEventListener("click", (ev) => {
  if (ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
  const a = ev.target instanceof Element ? ev.target.closest("a[href]") : null;
  if (!a || a.getAttribute("target") || a.hasAttribute("download")) return;
  const url = new URL(a.getAttribute("href"), window.location.href);
  if (url.origin !== window.location.origin || url.pathname.startsWith("/api/") || url.pathname.startsWith("/assets/")) return;
  if (url.pathname === window.location.pathname && url.search === window.location.search && url.hash) return;
  ev.preventDefault();
  history.pushState(null, "", url.pathname + url.search + url.hash);
  route();
});
window.addEventListener("popstate", route);
if (window.matchMedia) {
  window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => {
    if (!localStorage.getItem(THEME_KEY)) {
      applyTheme(systemTheme());
      syncControls();
    }
  });
}

applyTheme(currentTheme());
replace(root, skip, header, main);
route();
