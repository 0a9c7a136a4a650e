// /traces/{id}: one trace as a waterfall (lib/waterfall-view.js), with its log lines inline,
// the critical path, search within the trace, and the selected span's details.
import { h, replace, emptyState, errorState, loading } from "../dom.js";
import { buildTrace, fmtNs, searchTrace } from "../lib/waterfall.js";
import { createWaterfall, serviceClass } from "../lib/waterfall-view.js";
import "./traces.css";

const TRACE_ID = /^[0-9a-f]{32}$/;

function value(v) {
  return typeof v === "string" ? v : JSON.stringify(v);
}

function attrTable(attrs, empty = "none") {
  const entries = attrs ? Object.entries(attrs) : [];
  if (!entries.length) return h("p", { class: "sub" }, empty);
  return h(
    "table",
    { class: "kv" },
    h("tbody", null, entries.sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => h("tr", null, h("th", null, k), h("td", { class: "mono" }, value(v))))),
  );
}

function fmtClock(ns) {
  const d = new Date(Number(ns) / 1e6);
  return `${d.toLocaleString()}.${String(d.getMilliseconds()).padStart(3, "0")}`;
}

export function mount(el, ctx) {
  const id = String(ctx.params.id || "").toLowerCase();
  ctx.setTitle(`Trace ${id.slice(0, 8)}`);
  const body = h("div", { class: "trace-page" }, loading("the trace"));
  el.append(body);
  let view = null;

  if (!TRACE_ID.test(id)) {
    replace(body, emptyState("That is not a trace id.", "A trace id is 32 hexadecimal digits. ", h("a", { href: "/traces" }, "Search traces")));
    return () => {};
  }

  let shown = ""; // span and log counts on screen: a refresh redraws only when they change

  async function load() {
    let trace;
    let logs = [];
    try {
      const [t, l] = await Promise.all([
        ctx.api.get(`/api/v1/traces/${id}`, null, { signal: ctx.signal }),
        ctx.api.get("/api/v1/logs", { trace_id: id, limit: 1000 }, { signal: ctx.signal }).catch(() => ({ logs: [] })),
      ]);
      trace = t;
      logs = (l && l.logs) || [];
    } catch (err) {
      if (err && err.name === "AbortError") return;
      if (shown) return; // a failed refresh keeps the trace on screen
      if (err && err.status === 404) {
        replace(body, emptyState(`No trace ${id} in this hub.`, "It may not have arrived yet, or retention removed it. ", h("a", { href: "/traces" }, "Search traces")));
      } else {
        replace(body, errorState(err, "the trace"));
      }
      return;
    }
    const spans = trace.spans || [];
    const key = `${spans.length}/${logs.length}`;
    if (key === shown) return;
    shown = key;
    if (view) view.destroy();
    render(spans, logs);
  }

  function render(spans, logs) {
    const t0 = performance.now();
    const model = buildTrace(spans, logs);
    const rootSpan = model.roots.length ? spans[model.roots[0]] : spans[0];
    ctx.setTitle(`${rootSpan.service}: ${rootSpan.name}`);
    const detail = h("aside", { class: "wf-detail card", "aria-label": "span details", hidden: true });
    const waterfallBox = h("div", { class: "wf-box" });
    const counter = h("span", { class: "sub wf-counter", "aria-live": "polite" });
    let hits = [];
    let hitAt = -1;

    const search = h("input", {
      type: "search",
      placeholder: "Search in this trace: name, service, attribute…",
      "aria-label": "search in this trace",
      class: "wf-search",
      oninput: () => {
        clearTimeout(search._t);
        search._t = setTimeout(runSearch, 120);
      },
      onkeydown: (ev) => {
        if (ev.key === "Enter") {
          ev.preventDefault();
          move(ev.shiftKey ? -1 : 1);
        } else if (ev.key === "Escape") {
          search.value = "";
          runSearch();
        }
      },
    });
    function runSearch() {
      hits = searchTrace(model, search.value);
      hitAt = -1;
      view.setHits(hits);
      counter.textContent = search.value.trim() ? (hits.length ? `${hits.length} match${hits.length === 1 ? "" : "es"}` : "no match") : "";
      ctx.setQuery({ q: search.value.trim() || null });
      if (hits.length) move(1);
    }
    function move(d) {
      if (!hits.length) return;
      hitAt = (hitAt + d + hits.length) % hits.length;
      counter.textContent = `${hitAt + 1} of ${hits.length}`;
      view.jumpTo(hits[hitAt]);
      view.setHits(hits, hits[hitAt]);
    }

    const services = [...model.services.entries()];
    const legend = h(
      "div",
      { class: "wf-legend" },
      services.map(([name, slot]) => h("span", { class: "wf-legend-item" }, h("span", { class: ["wf-swatch", serviceClass(slot)] }), name)),
    );
    const logsToggle = h("input", { type: "checkbox", checked: true, onchange: () => view.setLogs(logsToggle.checked) });
    const critToggle = h("input", { type: "checkbox", checked: true, onchange: () => view.setCritical(critToggle.checked) });

    replace(
      body,
      h(
        "div",
        { class: "page-head" },
        h("h1", null, h("span", { class: "sub" }, `${rootSpan.service}: `), rootSpan.name),
        h("code", { class: "sub", title: "trace id" }, id),
      ),
      h(
        "div",
        { class: "wf-summary" },
        h("span", null, h("strong", null, fmtNs(model.end - model.start)), " total"),
        h("span", null, h("strong", null, String(model.n)), ` span${model.n === 1 ? "" : "s"}`),
        h("span", null, h("strong", null, String(model.services.size)), ` service${model.services.size === 1 ? "" : "s"}`),
        model.errors ? h("span", { class: "badge err" }, `${model.errors} error${model.errors === 1 ? "" : "s"}`) : h("span", { class: "badge ok" }, "no errors"),
        h("span", null, h("strong", null, String(logs.length)), " log lines"),
        h("span", { class: "sub" }, fmtClock(model.start)),
        h("span", { class: "spacer" }),
        h("a", { href: `/logs?trace_id=${id}`, class: "btn" }, "Logs of this trace"),
        h("a", { href: "/traces", class: "btn" }, "Search traces"),
      ),
      h(
        "div",
        { class: "toolbar wf-toolbar" },
        search,
        h("button", { class: "btn", onclick: () => move(-1), "aria-label": "previous match" }, "↑"),
        h("button", { class: "btn", onclick: () => move(1), "aria-label": "next match" }, "↓"),
        counter,
        h("span", { class: "spacer" }),
        h("label", { class: "inline" }, logsToggle, "Logs inline"),
        h("label", { class: "inline" }, critToggle, "Critical path"),
        h("button", { class: "btn", onclick: () => view.expandAll() }, "Expand all"),
        h("button", { class: "btn", onclick: () => view.collapseAll(1) }, "Collapse all"),
      ),
      legend,
      h("div", { class: "wf-layout" }, waterfallBox, detail),
    );
    view = createWaterfall(waterfallBox, model, { onSelect: (i) => showDetail(model, i, detail, view) });
    el.dataset.renderMs = String(Math.round(performance.now() - t0));
    el.dataset.renderedAt = String(Math.round(performance.now())); // since navigation start
    const q = ctx.query.get("q");
    if (q) {
      search.value = q;
      runSearch();
    }
    const focus = ctx.query.get("span");
    if (focus && model.index.has(focus)) view.jumpTo(model.index.get(focus));
  }

  function showDetail(model, i, detail, v) {
    const s = model.spans[i];
    const offset = model.starts[i] - model.start;
    const events = s.events || [];
    const exceptions = events.filter((e) => e.name === "exception");
    const others = events.filter((e) => e.name !== "exception");
    const spanLogs = (model.logsOf.get(i) || []).map((li) => model.logs[li]);
    const parent = model.parent[i];
    ctx.setQuery({ span: s.span_id });
    detail.hidden = false;
    replace(
      detail,
      h(
        "div",
        { class: "card-head" },
        h("h2", null, h("span", { class: ["wf-swatch", serviceClass(model.serviceOf[i])] }), " ", s.name),
        h("button", { class: "btn btn-small btn-quiet", "aria-label": "close details", onclick: () => { detail.hidden = true; ctx.setQuery({ span: null }); } }, "✕"),
      ),
      h(
        "table",
        { class: "kv" },
        h(
          "tbody",
          null,
          h("tr", null, h("th", null, "service"), h("td", null, s.service)),
          h("tr", null, h("th", null, "duration"), h("td", null, fmtNs(model.ends[i] - model.starts[i]))),
          h("tr", null, h("th", null, "starts at"), h("td", null, `+${fmtNs(offset)}`)),
          h("tr", null, h("th", null, "kind"), h("td", null, s.kind || "")),
          h("tr", null, h("th", null, "status"), h("td", null, h("span", { class: ["badge", s.status && s.status.code === "ERROR" ? "err" : "ok"] }, (s.status && s.status.code) || "UNSET"), s.status && s.status.message ? ` ${s.status.message}` : "")),
          h("tr", null, h("th", null, "span id"), h("td", { class: "mono" }, s.span_id)),
          h("tr", null, h("th", null, "parent"), h("td", null, parent >= 0 ? h("a", { href: "#", onclick: (ev) => { ev.preventDefault(); v.jumpTo(parent); } }, model.spans[parent].name) : "(root)")),
          model.critical[i] ? h("tr", null, h("th", null, "critical path"), h("td", null, "on the critical path")) : null,
        ),
      ),
      exceptions.length
        ? h(
            "section",
            { class: "wf-sec" },
            h("h3", null, `Exceptions (${exceptions.length})`),
            exceptions.map((e) =>
              h(
                "div",
                { class: "wf-exc" },
                h("strong", null, value(e.attributes["exception.type"] || "exception")),
                ": ",
                value(e.attributes["exception.message"] || ""),
                e.attributes["exception.stacktrace"] ? h("pre", null, value(e.attributes["exception.stacktrace"])) : null,
              ),
            ),
          )
        : null,
      h("section", { class: "wf-sec" }, h("h3", null, "Attributes"), attrTable(s.attributes)),
      others.length
        ? h(
            "section",
            { class: "wf-sec" },
            h("h3", null, `Events (${others.length})`),
            others.map((e) => h("div", { class: "wf-event" }, h("span", { class: "sub" }, `+${fmtNs(Number(e.time_ns) - model.start)} `), h("strong", null, e.name), attrTable(e.attributes, ""))),
          )
        : null,
      spanLogs.length
        ? h(
            "section",
            { class: "wf-sec" },
            h("h3", null, `Logs (${spanLogs.length})`),
            spanLogs.map((r) => h("div", { class: "wf-event mono" }, h("span", { class: "sub" }, `+${fmtNs(Number(r.time_ns) - model.start)} ${r.severity_text} `), r.body)),
          )
        : null,
      (s.links || []).length
        ? h(
            "section",
            { class: "wf-sec" },
            h("h3", null, "Links"),
            s.links.map((l) =>
              h("div", null, TRACE_ID.test(l.trace_id) ? h("a", { href: `/traces/${l.trace_id}?span=${encodeURIComponent(l.span_id)}` }, `${l.trace_id.slice(0, 12)}… / ${l.span_id}`) : `${l.trace_id} / ${l.span_id}`, attrTable(l.attributes, "")),
            ),
          )
        : null,
      h("section", { class: "wf-sec" }, h("h3", null, "Resource"), attrTable(s.resource)),
      s.scope && s.scope.name ? h("section", { class: "wf-sec" }, h("h3", null, "Instrumentation scope"), h("p", { class: "mono" }, `${s.scope.name} ${s.scope.version || ""}`)) : null,
    );
  }

  // spans of a trace still in flight keep arriving: pick them up on the refresh ticks
  ctx.onRefresh(() => load());
  load();
  return () => {
    if (view) view.destroy();
  };
}
