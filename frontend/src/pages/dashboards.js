// /dashboards: the built-in dashboards and the saved ones; create, copy, import and export.
import { h, replace, emptyState, errorState, loading } from "../dom.js";
import "./dashboards.css";

/** Download `text` as a file (a Blob URL: nothing inline, nothing from elsewhere). */
export function download(name, text, type = "application/json") {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement("a");
  a.href = url; // a blob: URL made here, not user data
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** The dashboard's own link: its default time range and refresh, unless the URL says. */
export function dashboardHref(d, full) {
  const q = new URLSearchParams();
  if (full && full.time) {
    q.set("from", full.time.from);
    q.set("to", full.time.to);
  }
  if (full) q.set("refresh", full.refresh || "off");
  const s = q.toString();
  return `/dashboards/${encodeURIComponent(d.id)}${s ? `?${s}` : ""}`;
}

function stripMeta(d) {
  const { builtin, created, updated, ...rest } = d;
  return rest;
}

export function mount(el, ctx) {
  ctx.setTitle("Dashboards");
  const list = h("div", null, loading("dashboards"));
  const message = h("div", { class: "dash-message", role: "status", "aria-live": "polite" });
  const fileInput = h("input", { type: "file", accept: "application/json,.json", class: "visually-hidden", "aria-label": "dashboard JSON file", onchange: () => importFile() });
  const importBox = h("textarea", { rows: 8, class: "mono dash-import", placeholder: '{"title": "My dashboard", "panels": [...]}', "aria-label": "dashboard JSON to import" });
  const importDialog = h(
    "dialog",
    { class: "dash-dialog", "aria-label": "import a dashboard" },
    h("h2", null, "Import a dashboard"),
    h("p", { class: "sub" }, "Paste a dashboard exported from this hub (JSON), or choose a file."),
    importBox,
    h(
      "div",
      { class: "toolbar" },
      h("button", { class: "btn", type: "button", onclick: () => fileInput.click() }, "Choose a file…"),
      fileInput,
      h("span", { class: "spacer" }),
      h("button", { class: "btn", type: "button", onclick: () => importDialog.close() }, "Cancel"),
      h("button", { class: "btn btn-primary", type: "button", onclick: () => importText(importBox.value) }, "Import"),
    ),
  );

  el.append(
    h(
      "div",
      { class: "page-head" },
      h("h1", null, "Dashboards"),
      h("span", { class: "sub" }, "The built-in dashboards are read-only: copy one to change it."),
      h("span", { class: "spacer" }),
      h("button", { class: "btn", onclick: () => importDialog.showModal() }, "Import JSON"),
      h("button", { class: "btn btn-primary", id: "new-dashboard", onclick: () => create() }, "New dashboard"),
    ),
    message,
    list,
    importDialog,
  );

  function say(text, error = false) {
    message.className = `dash-message ${error ? "state state-error" : ""}`;
    message.textContent = text;
  }

  async function create() {
    try {
      const d = await ctx.api.post("/api/v1/dashboards", { title: "New dashboard", time: { from: ctx.timeRange.from, to: ctx.timeRange.to }, refresh: "30s", panels: [] });
      ctx.navigate(`${dashboardHref(d, d)}&edit=1`);
    } catch (err) {
      say(`Could not create the dashboard: ${err.message}`, true);
    }
  }

  async function copy(d) {
    try {
      const full = await ctx.api.get(`/api/v1/dashboards/${encodeURIComponent(d.id)}`, null, { signal: ctx.signal });
      const made = await ctx.api.post("/api/v1/dashboards", { ...stripMeta(full), id: "", title: `Copy of ${full.title}`, tags: (full.tags || []).filter((t) => t !== "built-in") });
      ctx.navigate(dashboardHref(made, made));
    } catch (err) {
      say(`Could not copy: ${err.message}`, true);
    }
  }

  async function exportJson(d) {
    const full = await ctx.api.get(`/api/v1/dashboards/${encodeURIComponent(d.id)}`, null, { signal: ctx.signal });
    download(`${d.id}.json`, `${JSON.stringify(stripMeta(full), null, 2)}\n`);
  }

  async function exportGrafana(d) {
    const g = await ctx.api.get(`/api/v1/dashboards/${encodeURIComponent(d.id)}/grafana`, null, { signal: ctx.signal });
    download(`${d.id}.grafana.json`, `${JSON.stringify(g, null, 2)}\n`);
  }

  async function remove(d) {
    if (!window.confirm(`Delete the dashboard "${d.title}"?`)) return;
    try {
      await ctx.api.del(`/api/v1/dashboards/${encodeURIComponent(d.id)}`);
      say(`Deleted "${d.title}".`);
      load();
    } catch (err) {
      say(`Could not delete: ${err.message}`, true);
    }
  }

  async function importText(text) {
    let data;
    try {
      data = JSON.parse(text);
    } catch (err) {
      say(`That is not JSON: ${err.message}`, true);
      return;
    }
    try {
      const made = await ctx.api.post("/api/v1/dashboards", stripMeta(data));
      importDialog.close();
      ctx.navigate(dashboardHref(made, made));
    } catch (err) {
      say(`Could not import: ${err.message}`, true);
      importDialog.close();
    }
  }

  async function importFile() {
    const file = fileInput.files && fileInput.files[0];
    if (file) importBox.value = await file.text();
  }

  async function load() {
    let answer;
    try {
      answer = await ctx.api.get("/api/v1/dashboards", null, { signal: ctx.signal });
    } catch (err) {
      if (err && err.name === "AbortError") return;
      replace(list, errorState(err, "the dashboards"));
      return;
    }
    const all = answer.dashboards || [];
    const row = (d) =>
      h(
        "tr",
        { dataset: { dashboard: d.id } },
        h("td", null, h("a", { href: `/dashboards/${encodeURIComponent(d.id)}`, class: "dash-link" }, d.title), d.description ? h("div", { class: "sub small" }, d.description) : null),
        h("td", null, (d.tags || []).map((t) => h("span", { class: "badge" }, t))),
        h("td", { class: "num" }, String(d.panels)),
        h("td", null, d.builtin ? h("span", { class: "badge info" }, "built-in") : d.updated ? new Date(d.updated / 1e6).toLocaleString() : ""),
        h(
          "td",
          { class: "dash-actions" },
          h("button", { class: "btn btn-small", onclick: () => copy(d), "aria-label": `copy ${d.title}` }, "Copy"),
          h("button", { class: "btn btn-small", onclick: () => exportJson(d).catch((e) => say(e.message, true)) }, "Export JSON"),
          h("button", { class: "btn btn-small", onclick: () => exportGrafana(d).catch((e) => say(e.message, true)) }, "Grafana JSON"),
          d.builtin ? null : h("button", { class: "btn btn-small btn-danger", onclick: () => remove(d), "aria-label": `delete ${d.title}` }, "Delete"),
        ),
      );
    const builtins = all.filter((d) => d.builtin);
    const saved = all.filter((d) => !d.builtin);
    const table = (items) =>
      h("table", { class: "dash-index" }, h("thead", null, h("tr", null, h("th", null, "Title"), h("th", null, "Tags"), h("th", { class: "num" }, "Panels"), h("th", null, "Saved"), h("th", null, ""))), h("tbody", null, items.map(row)));
    replace(
      list,
      h("div", { class: "card" }, h("h2", null, "Your dashboards"), saved.length ? table(saved) : emptyState("No saved dashboards yet.", "Create one with “New dashboard”, copy a built-in one below, or import JSON.")),
      h("div", { class: "card" }, h("h2", null, "Built-in"), table(builtins)),
    );
    // links open with the dashboard's own time range and refresh
    for (const d of all) {
      const a = list.querySelector(`tr[data-dashboard="${CSS.escape(d.id)}"] a.dash-link`);
      if (a) {
        a.addEventListener("click", async (ev) => {
          if (ev.ctrlKey || ev.metaKey || ev.shiftKey || ev.button !== 0) return;
          ev.preventDefault();
          ev.stopPropagation();
          try {
            const full = await ctx.api.get(`/api/v1/dashboards/${encodeURIComponent(d.id)}`, null, { signal: ctx.signal });
            ctx.navigate(dashboardHref(d, full));
          } catch {
            ctx.navigate(`/dashboards/${encodeURIComponent(d.id)}`);
          }
        });
      }
    }
  }

  ctx.onRefresh(() => load());
  load();
  return () => {};
}
