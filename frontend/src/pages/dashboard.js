// /dashboards/{id}: a custom (or built-in) dashboard on a 24-column grid. Panels can be
// dragged, resized and edited; variables come from label values and go into the queries;
// the URL carries the time range, the refresh and the variables (var-NAME), so it can be
// shared as it is. Saved through /api/v1/dashboards.
import { h, replace, emptyState, errorState, loading } from "../dom.js";
import { createGrid, firstFree } from "../lib/grid.js";
import "../lib/grid.css";
import { PANEL_TYPES, UNITS, parseVariableQuery, queryKind, varsFromQuery } from "./dashboards-model.js";
import { STALE, renderPanel } from "./dashboards-panels.js";
import { download } from "./dashboards.js";
import "./dashboards.css";

const REFRESH = ["off", "5s", "10s", "30s", "1m", "5m"];

function stripMeta(d) {
  const { builtin, created, updated, ...rest } = d;
  return rest;
}

function field(label, control, hint) {
  return h("label", { class: "dash-field" }, label, control, hint ? h("span", { class: "sub small" }, hint) : null);
}

export function mount(el, ctx) {
  const id = String(ctx.params.id || "");
  ctx.setTitle("Dashboard");
  const body = h("div", { class: "dash-page" }, loading("the dashboard"));
  el.append(body);

  let dash = null;
  let builtin = false;
  let editing = ctx.query.get("edit") === "1";
  let dirty = false;
  let values = {};
  let grid = null;
  let generation = 0;
  const cells = new Map(); // panel id -> {el, body, renderer, observer}
  const status = h("span", { class: "sub dash-status", role: "status", "aria-live": "polite" });
  const gridBox = h("div", { class: "dash-grid" });
  const varBar = h("div", { class: "dash-vars" });
  const head = h("div", { class: "page-head dash-head" });

  async function load() {
    try {
      const d = await ctx.api.get(`/api/v1/dashboards/${encodeURIComponent(id)}`, null, { signal: ctx.signal });
      builtin = Boolean(d.builtin);
      dash = stripMeta(d);
    } catch (err) {
      if (err && err.name === "AbortError") return;
      replace(body, err && err.status === 404 ? emptyState(`No dashboard "${id}".`, h("a", { href: "/dashboards" }, "See every dashboard")) : errorState(err, "the dashboard"));
      return;
    }
    values = varsFromQuery(ctx.query, dash.variables || []);
    replace(body, head, varBar, gridBox);
    grid = createGrid(gridBox, { onChange: onLayout });
    drawHead();
    await drawVariables();
    drawPanels();
  }

  function setDirty(on = true) {
    dirty = on;
    drawHead();
  }

  function drawHead() {
    ctx.setTitle(dash.title);
    const saveLabel = builtin ? "Save as a copy" : "Save";
    replace(
      head,
      h("h1", null, dash.title),
      (dash.tags || []).filter((t) => !(builtin && t === "built-in")).map((t) => h("span", { class: "badge" }, t)),
      builtin ? h("span", { class: "badge info" }, "built-in") : null,
      dirty ? h("span", { class: "badge warn" }, "unsaved changes") : null,
      status,
      h("span", { class: "spacer" }),
      editing ? h("button", { class: "btn", id: "add-panel", onclick: () => editPanel(null) }, "Add panel") : null,
      editing ? h("button", { class: "btn", onclick: () => editSettings() }, "Settings") : null,
      h("button", { class: ["btn", editing && "btn-primary"], id: "edit-toggle", "aria-pressed": String(editing), onclick: () => setEditing(!editing) }, editing ? "Done editing" : "Edit"),
      dirty || (editing && builtin) ? h("button", { class: "btn btn-primary", id: "save-dashboard", onclick: () => save() }, saveLabel) : null,
      h("button", { class: "btn", id: "share-dashboard", onclick: () => share() }, "Share"),
      h("button", { class: "btn", onclick: () => download(`${dash.id}.json`, `${JSON.stringify(dash, null, 2)}\n`) }, "Export JSON"),
      h("button", {
        class: "btn",
        onclick: async () => {
          try {
            const g = await ctx.api.get(`/api/v1/dashboards/${encodeURIComponent(dash.id)}/grafana`, null, { signal: ctx.signal });
            download(`${dash.id}.grafana.json`, `${JSON.stringify(g, null, 2)}\n`);
          } catch (err) {
            say(`Grafana export failed: ${err.message}`);
          }
        },
      }, "Grafana JSON"), // prettier-ignore
    );
  }

  function say(text) {
    status.textContent = text;
  }

  function setEditing(on) {
    editing = on;
    ctx.setQuery({ edit: on ? "1" : null });
    grid.setEditable(on);
    for (const [pid, cell] of cells) cell.el.classList.toggle("editing", on), drawCellHead(pid);
    drawHead();
  }

  async function save() {
    try {
      const withDefaults = { ...dash, time: { from: ctx.timeRange.from, to: ctx.timeRange.to }, refresh: (ctx.query.get("refresh") || "off") === "off" ? null : ctx.query.get("refresh") };
      if (builtin) {
        const made = await ctx.api.post("/api/v1/dashboards", { ...withDefaults, id: "", title: `Copy of ${dash.title}`, tags: (dash.tags || []).filter((t) => t !== "built-in") });
        ctx.navigate(`/dashboards/${encodeURIComponent(made.id)}${window.location.search}`);
        return;
      }
      const saved = await ctx.api.put(`/api/v1/dashboards/${encodeURIComponent(dash.id)}`, withDefaults);
      dash = stripMeta(saved);
      setDirty(false);
      say("Saved.");
    } catch (err) {
      say(`Could not save: ${err.message}`);
    }
  }

  async function share() {
    const url = window.location.href.replace(/([?&])edit=1&?/, "$1").replace(/[?&]$/, "");
    try {
      await navigator.clipboard.writeText(url);
      say("Link copied: it carries the time range, the refresh and the variables.");
    } catch {
      const input = h("input", { value: url, readonly: true, class: "mono dash-share", "aria-label": "share link" });
      replace(status, input);
      input.select();
    }
  }

  // ---- variables -----------------------------------------------------------------------

  async function optionsOf(v) {
    const q = parseVariableQuery(v);
    if (q.values) return q.values;
    if (q.error) throw new Error(q.error);
    const range = ctx.timeRange;
    const params = { start: range.start.toFixed(3), end: range.end.toFixed(3) };
    if (q.match) params["match[]"] = q.match;
    const body = await ctx.api.get(`/api/v1/label/${encodeURIComponent(q.label)}/values`, params, { signal: ctx.signal });
    return (body && body.data) || [];
  }

  function writeVarsToUrl() {
    const url = new URL(window.location.href);
    for (const k of [...url.searchParams.keys()]) if (k.startsWith("var-")) url.searchParams.delete(k);
    for (const [name, list] of Object.entries(values)) for (const v of list) url.searchParams.append(`var-${name}`, v);
    history.replaceState(history.state, "", url);
  }

  async function drawVariables() {
    const vars = dash.variables || [];
    if (!vars.length) {
      replace(varBar);
      return;
    }
    const controls = await Promise.all(
      vars.map(async (v) => {
        let options = [];
        let problem = null;
        try {
          options = await optionsOf(v);
        } catch (err) {
          if (err && err.name === "AbortError") throw err;
          problem = err.message;
        }
        const chosen = values[v.name] || [];
        if (!chosen.length && options.length && !v.include_all) values[v.name] = v.multi ? [options[0]] : [options[0]];
        if (!chosen.length && v.include_all) values[v.name] = options.length ? [...options] : [];
        const all = v.include_all && options.length && (values[v.name] || []).length === options.length;
        const select = h(
          "select",
          {
            name: `var-${v.name}`,
            multiple: v.multi || null,
            "aria-label": v.label || v.name,
            onchange: () => {
              const picked = [...select.selectedOptions].map((o) => o.value);
              values[v.name] = picked.includes("$__all") ? [...options] : picked;
              writeVarsToUrl();
              refreshAll();
            },
          },
          v.include_all ? h("option", { value: "$__all", selected: all }) : null,
          options.map((o) => h("option", { value: o, selected: !all && (values[v.name] || []).includes(o) }, o)),
        );
        if (v.include_all) select.options[0].textContent = "All";
        if (v.multi) select.size = Math.min(4, options.length + (v.include_all ? 1 : 0)) || 1;
        return h("label", { class: "dash-var" }, `$${v.name}${v.label && v.label !== v.name ? ` (${v.label})` : ""}`, select, problem ? h("span", { class: "state-error small" }, problem) : !options.length ? h("span", { class: "sub small" }, "no values yet") : null);
      }),
    );
    writeVarsToUrl();
    replace(varBar, controls);
  }

  // ---- panels --------------------------------------------------------------------------

  function drawCellHead(pid) {
    const cell = cells.get(pid);
    const panel = dash.panels.find((p) => p.id === pid);
    if (!cell || !panel) return;
    replace(
      cell.head,
      h("span", { class: "dash-panel-title", title: panel.description || null }, panel.title || "(untitled)"),
      h("span", { class: "spacer" }),
      editing ? h("button", { class: "btn btn-small btn-quiet", onclick: () => editPanel(panel), "aria-label": `edit panel ${panel.title}`, title: "Edit" }, "✎") : null,
      editing ? h("button", { class: "btn btn-small btn-quiet", onclick: () => duplicate(panel), "aria-label": `duplicate panel ${panel.title}`, title: "Duplicate" }, "⧉") : null,
      editing ? h("button", { class: "btn btn-small btn-quiet btn-danger", onclick: () => removePanel(panel), "aria-label": `remove panel ${panel.title}`, title: "Remove" }, "✕") : null,
    );
    cell.head.tabIndex = editing ? 0 : -1;
    cell.head.setAttribute("aria-label", editing ? `${panel.title}: arrow keys move the panel, shift+arrow keys resize it` : panel.title);
  }

  function drawPanels() {
    for (const cell of cells.values()) {
      if (cell.renderer) cell.renderer.destroy();
      cell.observer.disconnect();
    }
    cells.clear();
    if (!dash.panels.length) {
      grid.setItems([]);
      replace(gridBox.querySelector(".dash-empty") ? gridBox.querySelector(".dash-empty") : gridBox.appendChild(h("div", { class: "dash-empty" })), emptyState("This dashboard has no panels yet.", editing ? "Add one with “Add panel”." : "Press “Edit”, then “Add panel”."));
      return;
    }
    const empty = gridBox.querySelector(".dash-empty");
    if (empty) empty.remove();
    const items = dash.panels.map((p) => {
      const headEl = h("div", { class: "dash-panel-head", "data-grid-drag": "" });
      const panelBody = h("div", { class: "dash-panel-body" });
      const cellEl = h("section", { class: ["card", "dash-panel", `dash-type-${p.type}`, editing && "editing"], "aria-label": p.title || "panel", dataset: { panel: p.id } }, headEl, panelBody, h("span", { "data-grid-resize": "", "aria-hidden": "true" }));
      let pending = 0;
      const observer = new ResizeObserver(() => {
        cancelAnimationFrame(pending);
        pending = requestAnimationFrame(() => {
          const c = cells.get(p.id);
          if (c && c.renderer && c.renderer.resize) c.renderer.resize();
        });
      });
      observer.observe(panelBody);
      cells.set(p.id, { el: cellEl, head: headEl, body: panelBody, renderer: null, observer });
      drawCellHead(p.id);
      return { id: p.id, ...p.grid, el: cellEl };
    });
    grid.setItems(items);
    grid.setEditable(editing);
    refreshAll();
  }

  async function refreshPanel(panel, gen) {
    const cell = cells.get(panel.id);
    if (!cell) return;
    if (!cell.body.firstChild) replace(cell.body, loading()); // later refreshes keep the old view
    try {
      const previous = cell.renderer;
      const env = { api: ctx.api, range: ctx.timeRange, values, signal: ctx.signal, current: () => gen === generation };
      const renderer = await renderPanel(cell.body, panel, env);
      if (previous) previous.destroy(); // its DOM is already replaced
      cell.renderer = renderer;
    } catch (err) {
      if (err === STALE || (err && err.name === "AbortError")) return;
      replace(cell.body, errorState(err, "this panel"));
    }
  }

  function refreshAll() {
    const gen = ++generation;
    const done = dash.panels.map((p) => refreshPanel(p, gen));
    Promise.all(done).then(() => {
      if (gen !== generation) return;
      el.dataset.refreshed = String(gen);
      // the first complete render, in ms since navigation start (what the benchmarks read)
      if (!el.dataset.renderedAt) el.dataset.renderedAt = String(Math.round(performance.now()));
    });
  }

  function onLayout(layout) {
    for (const item of layout) {
      const p = dash.panels.find((q) => q.id === item.id);
      if (p) p.grid = { x: item.x, y: item.y, w: item.w, h: item.h };
    }
    setDirty();
  }

  function duplicate(panel) {
    const idNew = Math.max(0, ...dash.panels.map((p) => p.id)) + 1;
    const pos = firstFree(dash.panels.map((p) => ({ id: p.id, ...p.grid })), panel.grid.w, panel.grid.h);
    dash.panels.push({ ...JSON.parse(JSON.stringify(panel)), id: idNew, title: `${panel.title} (copy)`, grid: { ...panel.grid, ...pos } });
    setDirty();
    drawPanels();
  }

  function removePanel(panel) {
    dash.panels = dash.panels.filter((p) => p.id !== panel.id);
    setDirty();
    drawPanels();
  }

  // ---- the panel editor ----------------------------------------------------------------

  function editPanel(panel) {
    const isNew = !panel;
    const p = panel
      ? JSON.parse(JSON.stringify(panel))
      : { id: Math.max(0, ...dash.panels.map((q) => q.id)) + 1, type: "timeseries", title: "New panel", query: { kind: "promql", expr: "" }, legend: "", unit: "short", thresholds: [], grid: { w: 12, h: 8 } };
    const title = h("input", { value: p.title, name: "title", required: true });
    const type = h("select", { name: "type" }, PANEL_TYPES.map(([v, t]) => h("option", { value: v, selected: p.type === v }, t)));
    const expr = h("textarea", { name: "expr", rows: 4, class: "mono", value: p.query.expr });
    expr.value = p.query.expr;
    const exprHint = h("span", { class: "sub small" });
    const legend = h("input", { name: "legend", value: p.legend || "", placeholder: "{{route}} {{status}}" });
    const unit = h("select", { name: "unit" }, UNITS.map(([v, t]) => h("option", { value: v, selected: (p.unit || "short") === v }, t)));
    const decimals = h("input", { name: "decimals", type: "number", min: 0, max: 10, value: p.decimals ?? "" });
    const min = h("input", { name: "min", type: "number", step: "any", value: p.min ?? "" });
    const max = h("input", { name: "max", type: "number", step: "any", value: p.max ?? "" });
    const thresholdRows = h("div", { class: "dash-thresholds" });
    const addThreshold = (t = { value: "", color: "red" }) => {
      const value = h("input", { type: "number", step: "any", value: t.value ?? "", placeholder: "base", "aria-label": "threshold value" });
      const color = h("select", { "aria-label": "threshold colour" }, ["green", "orange", "red", "blue", "purple"].map((c) => h("option", { value: c, selected: t.color === c }, c)));
      if (![...color.options].some((o) => o.value === t.color)) color.append(h("option", { value: t.color, selected: true }, t.color));
      const row = h("div", { class: "dash-threshold" }, value, color, h("button", { class: "btn btn-small", type: "button", onclick: () => row.remove(), "aria-label": "remove threshold" }, "✕"));
      thresholdRows.append(row);
    };
    (p.thresholds || []).forEach(addThreshold);
    const error = h("div", { class: "state-error small", role: "alert", hidden: true });
    const hintFor = () => {
      const k = queryKind(type.value);
      exprHint.textContent =
        k === "promql"
          ? 'PromQL; variables as $name, e.g. sum by (route) (rate(http_requests_total{job=~"$service"}[5m])). A heatmap takes histogram buckets: sum by (le) (rate(..._bucket[5m])).'
          : k === "logs"
            ? "The Log Explorer's search: service=$service&level=error&q=timeout (service, level, q, trace_id, attribute, limit)."
            : "The trace search: service=$service&status=error&min_duration=500ms (service, operation, status, min_duration, max_duration, attribute, limit).";
    };
    type.addEventListener("change", hintFor);
    hintFor();
    const dialog = h(
      "dialog",
      { class: "dash-dialog", "aria-label": isNew ? "add a panel" : "edit the panel" },
      h(
        "form",
        { method: "dialog", class: "dash-form" },
        h("h2", null, isNew ? "Add a panel" : "Edit the panel"),
        h("div", { class: "dash-form-row" }, field("Title", title), field("Type", type)),
        field("Query", expr, exprHint),
        h("div", { class: "dash-form-row" }, field("Legend", legend, "{{label}} of each series"), field("Unit", unit), field("Decimals", decimals), field("Min", min), field("Max", max)),
        h("fieldset", null, h("legend", null, "Thresholds (a value colours from its step up)"), thresholdRows, h("button", { class: "btn btn-small", type: "button", onclick: () => addThreshold() }, "Add threshold")),
        error,
        h("div", { class: "toolbar" }, h("span", { class: "spacer" }), h("button", { class: "btn", value: "cancel", type: "button", onclick: () => dialog.close() }, "Cancel"), h("button", { class: "btn btn-primary", id: "apply-panel", type: "submit" }, isNew ? "Add" : "Apply")),
      ),
    );
    dialog.querySelector("form").addEventListener("submit", (ev) => {
      const k = queryKind(type.value);
      if (k === "promql" && !expr.value.trim()) {
        ev.preventDefault();
        error.hidden = false;
        error.textContent = "A PromQL panel needs a query.";
        return;
      }
      p.title = title.value;
      p.type = type.value;
      p.query = { kind: k, expr: expr.value.trim() };
      p.legend = legend.value;
      p.unit = unit.value;
      p.decimals = decimals.value === "" ? null : Number(decimals.value);
      p.min = min.value === "" ? null : Number(min.value);
      p.max = max.value === "" ? null : Number(max.value);
      p.thresholds = [...thresholdRows.children].map((row) => {
        const [v, c] = row.querySelectorAll("input, select");
        return { value: v.value === "" ? null : Number(v.value), color: c.value };
      });
      if (isNew) {
        const pos = firstFree(dash.panels.map((q) => ({ id: q.id, ...q.grid })), 12, 8);
        p.grid = { x: pos.x, y: pos.y, w: 12, h: 8 };
        dash.panels.push(p);
      } else {
        dash.panels[dash.panels.findIndex((q) => q.id === p.id)] = p;
      }
      setDirty();
      drawPanels();
    });
    dialog.addEventListener("close", () => dialog.remove());
    el.append(dialog);
    dialog.showModal();
    title.focus();
  }

  // ---- dashboard settings --------------------------------------------------------------

  function editSettings() {
    const title = h("input", { name: "dashboard-title", value: dash.title, required: true });
    const description = h("input", { name: "description", value: dash.description || "" });
    const tags = h("input", { name: "tags", value: (dash.tags || []).join(", ") });
    const refresh = h("select", { name: "refresh" }, REFRESH.map((r) => h("option", { value: r, selected: (dash.refresh || "off") === r }, r)));
    const from = h("input", { name: "from", value: dash.time.from });
    const to = h("input", { name: "to", value: dash.time.to });
    const varRows = h("div", { class: "dash-varrows" });
    const addVar = (v = { name: "", query: "label_values(up, job)", multi: false, include_all: false }) => {
      const name = h("input", { value: v.name, placeholder: "service", "aria-label": "variable name", size: 10 });
      const query = h("input", { value: v.query, class: "mono", "aria-label": "variable query", size: 36 });
      const type = h("select", { "aria-label": "variable type" }, [["query", "label values"], ["custom", "custom list"]].map(([k, t]) => h("option", { value: k, selected: (v.type || "query") === k }, t)));
      const multi = h("input", { type: "checkbox", checked: v.multi });
      const all = h("input", { type: "checkbox", checked: v.include_all });
      const row = h("div", { class: "dash-varrow" }, name, type, query, h("label", { class: "inline" }, multi, "multi"), h("label", { class: "inline" }, all, "All"), h("button", { class: "btn btn-small", type: "button", onclick: () => row.remove(), "aria-label": "remove variable" }, "✕"));
      row._read = () => ({ name: name.value.trim(), type: type.value, query: query.value.trim(), multi: multi.checked, include_all: all.checked, label: "", current: [] });
      varRows.append(row);
    };
    (dash.variables || []).forEach(addVar);
    const dialog = h(
      "dialog",
      { class: "dash-dialog", "aria-label": "dashboard settings" },
      h(
        "form",
        { method: "dialog", class: "dash-form" },
        h("h2", null, "Dashboard settings"),
        h("div", { class: "dash-form-row" }, field("Title", title), field("Tags (comma-separated)", tags)),
        field("Description", description),
        h("div", { class: "dash-form-row" }, field("Default from", from, "now-1h, now-7d or epoch ms"), field("Default to", to), field("Default refresh", refresh)),
        h("fieldset", null, h("legend", null, "Variables: label_values(metric, label) or label_values(label); use them as $name"), varRows, h("button", { class: "btn btn-small", type: "button", onclick: () => addVar() }, "Add variable")),
        h("div", { class: "toolbar" }, h("span", { class: "spacer" }), h("button", { class: "btn", type: "button", onclick: () => dialog.close() }, "Cancel"), h("button", { class: "btn btn-primary", type: "submit" }, "Apply")),
      ),
    );
    dialog.querySelector("form").addEventListener("submit", () => {
      dash.title = title.value.trim() || dash.title;
      dash.description = description.value;
      dash.tags = tags.value.split(",").map((t) => t.trim()).filter(Boolean);
      dash.refresh = refresh.value === "off" ? null : refresh.value;
      dash.time = { from: from.value.trim() || "now-1h", to: to.value.trim() || "now" };
      dash.variables = [...varRows.children].map((r) => r._read()).filter((v) => v.name);
      setDirty();
      drawVariables().then(refreshAll);
    });
    dialog.addEventListener("close", () => dialog.remove());
    el.append(dialog);
    dialog.showModal();
  }

  ctx.onRefresh((reason) => {
    if (!dash) return;
    if (reason === "range") drawVariables().then(refreshAll);
    else refreshAll();
  });
  const onTheme = () => dash && refreshAll();
  window.addEventListener("bm-theme", onTheme, { signal: ctx.signal });
  load();
  return () => {
    for (const cell of cells.values()) {
      if (cell.renderer) cell.renderer.destroy();
      cell.observer.disconnect();
    }
    if (grid) grid.destroy();
  };
}
