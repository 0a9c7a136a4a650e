// Log Explorer (/logs): filters (time, service, level, text, trace id, attributes) kept in
// the URL, a histogram of matching lines where dragging zooms, a virtualised list whose
// lines expand to their fields, live tail (SSE) with pause, saved searches (localStorage).
import { h, replace, emptyState, errorState, loading, noDataHint } from "../dom.js";
import { timeSeries } from "../lib/chart.js";
import { fmtTime } from "../lib/time.js";
import { isAbort, rafThrottle } from "../lib/util.js";

const LEVELS = ["", "trace", "debug", "info", "warn", "error", "fatal"];
const ROW_H = 24;
const PAGE = 500;
const MAX_ROWS = 20000;
const SAVED_KEY = "bm-saved-log-searches";

function bodyText(body) {
  if (body == null) return "";
  return typeof body === "string" ? body : JSON.stringify(body);
}

function loadSaved() {
  try {
    const list = JSON.parse(localStorage.getItem(SAVED_KEY) || "[]");
    return Array.isArray(list) ? list.filter((s) => s && typeof s.name === "string" && typeof s.query === "string") : [];
  } catch {
    return [];
  }
}

export function mount(el, ctx) {
  ctx.setTitle("Logs");
  const q0 = ctx.query;
  const filters = {
    service: q0.get("service") || "",
    level: LEVELS.includes(q0.get("level") || "") ? q0.get("level") || "" : "",
    q: q0.get("q") || "",
    trace_id: q0.get("trace_id") || "",
    attribute: q0.getAll("attribute").filter((a) => a.includes("=")),
  };

  // ---- filter form ----
  const serviceInput = h("input", { list: "log-services", id: "f-service", value: filters.service, placeholder: "any", autocomplete: "off" });
  const serviceList = h("datalist", { id: "log-services" });
  const levelSelect = h("select", { id: "f-level" }, LEVELS.map((l) => h("option", { value: l, selected: l === filters.level }, l ? `${l} and above` : "any")));
  const textInput = h("input", { type: "search", id: "f-q", value: filters.q, placeholder: "text in the message", size: 28 });
  const traceInput = h("input", { id: "f-trace", value: filters.trace_id, placeholder: "32 hex digits", size: 20, pattern: "[0-9a-fA-F]{32}" });
  const attrInput = h("input", { id: "f-attr", placeholder: "key=value, Enter to add", size: 20 });
  const chips = h("div", { class: "chips", "aria-label": "attribute filters" });
  function renderChips() {
    replace(
      chips,
      filters.attribute.map((a, i) =>
        h("span", { class: "chip" }, a, h("button", { type: "button", class: "btn btn-quiet btn-small", "aria-label": `remove filter ${a}`, onclick: () => { filters.attribute.splice(i, 1); renderChips(); search(); } }, "×")),
      ),
    );
  }
  attrInput.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter") {
      ev.preventDefault();
      addAttr();
    }
  });
  function addAttr() {
    const v = attrInput.value.trim();
    if (!v) return;
    if (!/^[^=]+=/.test(v)) {
      attrInput.setCustomValidity("write key=value");
      attrInput.reportValidity();
      return;
    }
    attrInput.setCustomValidity("");
    filters.attribute.push(v);
    attrInput.value = "";
    renderChips();
  }
  const form = h(
    "form",
    {
      class: "toolbar",
      role: "search",
      onsubmit: (ev) => {
        ev.preventDefault();
        addAttr();
        filters.service = serviceInput.value.trim();
        filters.level = levelSelect.value;
        filters.q = textInput.value;
        filters.trace_id = traceInput.value.trim().toLowerCase();
        search();
      },
    },
    h("label", { for: "f-service" }, "Service", serviceInput),
    serviceList,
    h("label", { for: "f-level" }, "Level", levelSelect),
    h("label", { for: "f-q" }, "Text", textInput),
    h("label", { for: "f-trace" }, "Trace id", traceInput),
    h("label", { for: "f-attr" }, "Attribute", attrInput),
    h("button", { type: "submit", class: "btn btn-primary" }, "Search"),
  );

  // ---- saved searches ----
  const savedBox = h("div", { class: "chips saved" });
  const saveName = h("input", { placeholder: "name this search", size: 16, "aria-label": "Saved search name" });
  const saveForm = h(
    "form",
    {
      class: "inline-form",
      onsubmit: (ev) => {
        ev.preventDefault();
        const name = saveName.value.trim() || filterSummary();
        const list = loadSaved().filter((s) => s.name !== name);
        list.push({ name, query: queryString() });
        localStorage.setItem(SAVED_KEY, JSON.stringify(list));
        saveName.value = "";
        renderSaved();
      },
    },
    saveName,
    h("button", { type: "submit", class: "btn btn-small" }, "Save search"),
  );
  function renderSaved() {
    const list = loadSaved();
    replace(
      savedBox,
      list.length ? h("span", { class: "sub" }, "Saved:") : null,
      list.map((s) =>
        h(
          "span",
          { class: "chip" },
          h("a", { href: `/logs?${s.query}` }, s.name),
          h("button", {
            type: "button",
            class: "btn btn-quiet btn-small",
            "aria-label": `delete saved search ${s.name}`,
            onclick: () => {
              localStorage.setItem(SAVED_KEY, JSON.stringify(loadSaved().filter((x) => x.name !== s.name)));
              renderSaved();
            },
          }, "×"),
        ),
      ),
    );
  }

  // ---- histogram, status, list ----
  const histBox = h("div", { class: "histogram" });
  const countsNote = h("p", { class: "sub", role: "status" });
  const status = h("span", { class: "sub", role: "status", "aria-live": "polite" });
  const liveButton = h("button", { type: "button", class: "btn", "aria-pressed": "false", onclick: () => (tail ? stopTail() : startTail()) }, "▶ Live tail");
  const pauseButton = h("button", { type: "button", class: "btn", hidden: true, "aria-pressed": "false", onclick: () => togglePause() }, "Pause");
  const listState = h("div");
  const inner = h("div", { class: "loglist-inner" });
  const list = h("div", { class: "loglist", role: "list", "aria-label": "log lines", tabindex: "0" }, inner);

  el.append(
    h("div", { class: "page-head" }, h("h1", null, "Log Explorer"), status),
    form,
    chips,
    h("div", { class: "toolbar" }, savedBox, h("span", { class: "spacer" }), saveForm),
    h("div", { class: "card" }, histBox, countsNote),
    h("div", { class: "toolbar section" }, liveButton, pauseButton, h("span", { class: "spacer" }), h("span", { class: "sub" }, "Click a line (or press Enter on it) to see its fields; drag across the histogram to zoom.")),
    listState,
    list,
  );
  renderChips();
  renderSaved();

  let histStep = 60;
  const hist = timeSeries(histBox, {
    height: 110,
    bars: true,
    legend: false,
    // a bar stands for [t, t + step): the selection covers the whole buckets it touches
    onZoom: (a, b) => {
      const end = Math.min(b + histStep, ctx.timeRange.end);
      ctx.setTimeRange(String(Math.floor(a * 1000)), String(Math.ceil(end * 1000)));
    },
  });

  // ---- data ----
  let rows = []; // newest first
  let cursor = null;
  let loadingMore = false;
  const expanded = new Map(); // id -> measured height of its detail
  let offsets = [0];
  let generation = 0;

  function params() {
    const { start, end } = ctx.timeRange;
    return {
      start: start.toFixed(3),
      end: end.toFixed(3),
      service: filters.service,
      level: filters.level,
      q: filters.q,
      trace_id: filters.trace_id,
      attribute: filters.attribute,
    };
  }
  function queryString() {
    const q = new URLSearchParams();
    for (const k of ["service", "level", "q", "trace_id"]) if (filters[k]) q.set(k, filters[k]);
    for (const a of filters.attribute) q.append("attribute", a);
    return q.toString();
  }
  function filterSummary() {
    const parts = [];
    if (filters.service) parts.push(filters.service);
    if (filters.level) parts.push(`≥${filters.level}`);
    if (filters.q) parts.push(`"${filters.q}"`);
    if (filters.trace_id) parts.push(`trace ${filters.trace_id.slice(0, 8)}`);
    parts.push(...filters.attribute);
    return parts.join(" ") || "all logs";
  }

  function search() {
    ctx.setQuery({ service: filters.service, level: filters.level, q: filters.q, trace_id: filters.trace_id, attribute: filters.attribute });
    if (tail) stopTail();
    load();
  }

  async function load() {
    if (tail) return; // the live tail owns the list
    const gen = ++generation;
    const p = params();
    const { start, end } = ctx.timeRange;
    const step = ctx.timeRange.step(80);
    histStep = step;
    status.textContent = "Searching…";
    if (!rows.length) replace(listState, loading("log lines"));
    const counts = ctx.api
      .get("/api/v1/logs/counts", { ...p, step: `${step}s` }, { signal: ctx.signal })
      .then((body) => {
        if (gen !== generation) return;
        countsNote.textContent = "";
        const xs = [];
        const ys = [];
        const byStart = new Map((body.buckets || []).map((b) => [Math.round(b.start_ns / 1e9), b.count]));
        const first = Math.floor(body.start_ns / 1e9 / step) * step;
        for (let t = Math.round(body.start_ns / 1e9); t <= end; t += step) {
          xs.push(t);
          ys.push(byStart.get(t) || 0);
        }
        if (!xs.length) xs.push(first);
        hist.setData({ xs, series: [{ label: "lines", values: ys }] });
        const total = ys.reduce((a, b) => a + b, 0);
        return total;
      })
      .catch((err) => {
        if (!isAbort(err) && gen === generation) countsNote.textContent = `Histogram unavailable: ${err.message}`;
        return null;
      });
    try {
      const body = await ctx.api.get("/api/v1/logs", { ...p, limit: PAGE }, { signal: ctx.signal });
      if (gen !== generation) return;
      rows = body.logs || [];
      cursor = body.next_cursor || null;
      expanded.clear();
      list.scrollTop = 0;
      layout();
      const total = await counts;
      if (gen !== generation) return;
      const n = total != null ? total : rows.length;
      status.textContent = `${n.toLocaleString()} ${n === 1 ? "line" : "lines"} · ${ctx.timeRange.label}`;
      if (!rows.length) {
        const any = filters.service || filters.level || filters.q || filters.trace_id || filters.attribute.length;
        replace(listState, any ? emptyState("No log lines match these filters in this time range", "Widen the time range or remove a filter.") : emptyState("No log lines in this time range", ...noDataHint()));
      } else replace(listState);
    } catch (err) {
      if (isAbort(err) || gen !== generation) return;
      status.textContent = "";
      replace(listState, errorState(err, "log lines"));
    }
  }

  async function loadMore() {
    if (!cursor || loadingMore || tail) return;
    loadingMore = true;
    const gen = generation;
    try {
      const body = await ctx.api.get("/api/v1/logs", { ...params(), limit: PAGE, cursor }, { signal: ctx.signal });
      if (gen !== generation) return;
      rows = rows.concat(body.logs || []).slice(0, MAX_ROWS);
      cursor = rows.length >= MAX_ROWS ? null : body.next_cursor || null;
      layout();
    } catch (err) {
      if (!isAbort(err)) replace(listState, errorState(err, "more log lines"));
    } finally {
      loadingMore = false;
    }
  }

  // ---- virtualised rendering ----
  function layout() {
    offsets = new Array(rows.length + 1);
    offsets[0] = 0;
    for (let i = 0; i < rows.length; i++) offsets[i + 1] = offsets[i] + ROW_H + (expanded.get(rows[i].id) || 0);
    inner.style.height = `${offsets[rows.length]}px`;
    render();
  }
  function indexAt(y) {
    let lo = 0;
    let hi = rows.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (offsets[mid + 1] <= y) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
  const rendered = new Map(); // id -> {row, detail}
  function render() {
    const top = list.scrollTop;
    const bottom = top + list.clientHeight + 400;
    const first = Math.max(0, indexAt(Math.max(0, top - 400)));
    const keep = new Set();
    const frag = document.createDocumentFragment();
    let measure = false;
    for (let i = first; i < rows.length && offsets[i] < bottom; i++) {
      const r = rows[i];
      keep.add(r.id);
      let item = rendered.get(r.id);
      if (!item) {
        item = { row: lineRow(r), detail: null };
        rendered.set(r.id, item);
        frag.append(item.row);
      }
      item.row.style.top = `${offsets[i]}px`;
      const open = expanded.has(r.id);
      item.row.setAttribute("aria-expanded", String(open));
      if (open) {
        if (!item.detail) {
          item.detail = lineDetail(r);
          frag.append(item.detail);
          measure = true;
        }
        item.detail.style.top = `${offsets[i] + ROW_H}px`;
      } else if (item.detail) {
        item.detail.remove();
        item.detail = null;
      }
    }
    for (const [id, item] of rendered) {
      if (!keep.has(id)) {
        item.row.remove();
        if (item.detail) item.detail.remove();
        rendered.delete(id);
      }
    }
    inner.append(frag);
    if (measure) {
      let changed = false;
      for (const [id, item] of rendered) {
        if (item.detail && expanded.get(id) === 0) {
          expanded.set(id, item.detail.offsetHeight);
          changed = true;
        }
      }
      if (changed) layout();
    }
    if (top + list.clientHeight > offsets[rows.length] - 1200) loadMore();
  }
  list.addEventListener("scroll", rafThrottle(render), { passive: true });

  function toggle(r) {
    if (expanded.has(r.id)) expanded.delete(r.id);
    else expanded.set(r.id, 0);
    const item = rendered.get(r.id);
    if (item && item.detail) {
      item.detail.remove();
      item.detail = null;
    }
    layout();
  }

  function lineRow(r) {
    const level = String(r.severity_text || "").toUpperCase();
    const row = h(
      "div",
      {
        class: "logrow",
        role: "listitem",
        tabindex: "0",
        dataset: { id: r.id },
        onclick: (ev) => {
          if (ev.target instanceof Element && ev.target.closest("a")) return;
          toggle(r);
        },
        onkeydown: (ev) => {
          if (ev.target !== row) return;
          if (ev.key === "Enter" || ev.key === " ") {
            ev.preventDefault();
            toggle(r);
          } else if (ev.key === "ArrowDown" && row.nextElementSibling) {
            ev.preventDefault();
            focusSibling(row, 1);
          } else if (ev.key === "ArrowUp") {
            ev.preventDefault();
            focusSibling(row, -1);
          }
        },
      },
      h("span", { class: "ts" }, fmtTime(r.time_ns / 1e9, true)),
      h("span", { class: `lvl ${level}` }, level || "—"),
      h("span", { class: "svc" }, r.service || ""),
      h("span", { class: "body" }, bodyText(r.body)),
      r.trace_id ? h("a", { href: `/traces/${r.trace_id}`, class: "trace-link", title: `trace ${r.trace_id}` }, "trace") : null,
    );
    return row;
  }
  function focusSibling(row, dir) {
    const i = rows.findIndex((x) => String(x.id) === row.dataset.id) + dir;
    if (i < 0 || i >= rows.length) return;
    if (offsets[i] < list.scrollTop) list.scrollTop = offsets[i];
    else if (offsets[i + 1] > list.scrollTop + list.clientHeight) list.scrollTop = offsets[i + 1] - list.clientHeight;
    render();
    const item = rendered.get(rows[i].id);
    if (item) item.row.focus();
  }

  function lineDetail(r) {
    const fields = [
      ["time", fmtTime(r.time_ns / 1e9, true)],
      ["severity", `${r.severity_text || ""} (${r.severity_number ?? "–"})`],
      ["service", r.service || ""],
    ];
    const kv = h("dl", { class: "kv" });
    const add = (k, v) => kv.append(h("dt", null, k), h("dd", null, v));
    for (const [k, v] of fields) add(k, v);
    if (r.trace_id) {
      add("trace_id", h("a", { href: `/traces/${r.trace_id}` }, r.trace_id));
      add("", h("a", { href: `/logs?trace_id=${r.trace_id}` }, "all logs of this trace"));
    }
    if (r.span_id) add("span_id", r.span_id);
    for (const [k, v] of Object.entries(r.attributes || {})) add(k, typeof v === "string" ? v : JSON.stringify(v));
    for (const [k, v] of Object.entries(r.resource || {})) add(`resource.${k}`, typeof v === "string" ? v : JSON.stringify(v));
    return h("div", { class: "logdetail", role: "region", "aria-label": "log line fields" }, h("pre", { class: "full" }, bodyText(r.body)), kv);
  }

  // ---- live tail ----
  let tail = null;
  let paused = false;
  let buffer = [];
  function startTail() {
    generation++;
    const p = params();
    delete p.start;
    delete p.end;
    tail = ctx.api.stream(
      "/api/v1/logs/tail",
      p,
      (record) => {
        if (paused) {
          buffer.push(record);
          pauseButton.textContent = `Resume (${buffer.length} new)`;
          return;
        }
        pushLive([record]);
      },
      (closed) => {
        status.textContent = closed ? "Live tail disconnected." : "Live tail: reconnecting…";
      },
    );
    liveButton.textContent = "■ Stop live tail";
    liveButton.setAttribute("aria-pressed", "true");
    pauseButton.hidden = false;
    status.replaceChildren(h("span", { class: "live" }, "● Live"), " — new lines appear at the top");
  }
  const flush = rafThrottle(() => layout());
  function pushLive(records) {
    rows = records.reverse().concat(rows).slice(0, MAX_ROWS);
    replace(listState);
    flush();
  }
  function togglePause() {
    paused = !paused;
    pauseButton.setAttribute("aria-pressed", String(paused));
    if (!paused) {
      pushLive(buffer);
      buffer = [];
      pauseButton.textContent = "Pause";
    } else pauseButton.textContent = "Resume";
  }
  function stopTail() {
    if (tail) tail();
    tail = null;
    paused = false;
    buffer = [];
    liveButton.textContent = "▶ Live tail";
    liveButton.setAttribute("aria-pressed", "false");
    pauseButton.hidden = true;
    pauseButton.textContent = "Pause";
    status.textContent = "";
  }

  ctx.api
    .get("/api/v1/services", null, { signal: ctx.signal })
    .then((b) => replace(serviceList, (b.services || []).map((s) => h("option", { value: s.name }))))
    .catch(() => {});
  load();
  ctx.onRefresh(() => load());
  return () => {
    if (tail) tail();
    hist.destroy();
  };
}
