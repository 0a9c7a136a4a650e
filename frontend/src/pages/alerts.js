// Alerts (/alerts): firing, acknowledged and resolved alerts with severity, duration and
// history; acknowledge / resolve / silence from the page; the rules with their state and
// last evaluation; the silences. The APIs are Prometheus' and Alertmanager's shapes plus
// the hub's acknowledge/resolve (see the alerts API contract).
import { h, replace, emptyState, errorState, loading, noDataHint } from "../dom.js";
import { fmtDuration, fmtTime, fmtAgo, toSeconds } from "../lib/time.js";
import { isAbort, card, alertsOf, severityOf, alertTitle, alertStart, alertEnd } from "../lib/util.js";

const USER_KEY = "bm-user";
const MAIN_SEVERITIES = ["critical", "page", "warning", "info"];
const VIEWS = [
  ["active", "Active (firing, pending)"],
  ["acknowledged", "Acknowledged"],
  ["resolved", "Resolved"],
  ["all", "All"],
];

function stateOf(a) {
  if (a.state === "resolved" || a.status === "resolved") return "resolved";
  if (a.acknowledged) return "acknowledged";
  return a.state || "firing";
}
function alertKey(a) {
  return String(a.id || a.fingerprint || "");
}

export function mount(el, ctx) {
  ctx.setTitle("Alerts");
  const q = ctx.query;
  const view = VIEWS.some(([v]) => v === q.get("view")) ? q.get("view") : "active";
  const state = { view, severity: q.get("severity") || "", text: q.get("text") || "", open: new Set(q.get("alert") ? [q.get("alert")] : []) };

  const counts = h("div", { class: "counts" });
  const viewSelect = h("select", { id: "a-view" }, VIEWS.map(([v, l]) => h("option", { value: v, selected: v === state.view }, l)));
  const sevSelect = h("select", { id: "a-sev" }, ["", "critical", "warning", "info", "other"].map((s) => h("option", { value: s, selected: s === state.severity }, s || "any")));
  const textInput = h("input", { type: "search", id: "a-text", value: state.text, placeholder: "title or label", size: 24 });
  const apply = () => {
    state.view = viewSelect.value;
    state.severity = sevSelect.value;
    state.text = textInput.value;
    ctx.setQuery({ view: state.view === "active" ? null : state.view, severity: state.severity, text: state.text });
    renderAlerts();
  };
  viewSelect.addEventListener("change", apply);
  sevSelect.addEventListener("change", apply);
  textInput.addEventListener("input", apply);
  const alertsBox = h("div", null, loading("alerts"));
  const rulesBox = h("div", null, loading("rules"));
  const silencesBox = h("div", null, loading("silences"));
  const flash = h("div", { role: "status", "aria-live": "polite", class: "sub" });
  const dialog = h("dialog", { "aria-labelledby": "dlg-title" });

  el.append(
    h("div", { class: "page-head" }, h("h1", null, "Alerts"), flash),
    counts,
    h(
      "div",
      { class: "section" },
      card(
        "Alerts",
        h(
          "div",
          null,
          h("div", { class: "toolbar" }, h("label", { for: "a-view" }, "Show", viewSelect), h("label", { for: "a-sev" }, "Severity", sevSelect), h("label", { for: "a-text" }, "Filter", textInput)),
          alertsBox,
        ),
      ),
    ),
    h("div", { class: "section" }, card("Rules", rulesBox)),
    h("div", { class: "section" }, card("Silences", silencesBox)),
    dialog,
  );

  let alerts = [];
  let alertsError = null;
  let generation = 0;

  async function load() {
    const gen = ++generation;
    const opts = { signal: ctx.signal };
    await Promise.all([
      ctx.api
        .get("/api/v1/alerts", { limit: 1000 }, opts)
        .then((body) => {
          if (gen !== generation) return;
          alerts = alertsOf(body);
          alertsError = null;
          renderAlerts();
        })
        .catch((err) => {
          if (isAbort(err) || gen !== generation) return;
          alertsError = err;
          renderAlerts();
        }),
      ctx.api
        .get("/api/v1/rules", null, opts)
        .then((body) => gen === generation && renderRules(body))
        .catch((err) => {
          if (isAbort(err) || gen !== generation) return;
          replace(rulesBox, err.missing ? emptyState("This hub has no rules API yet", "Alerting rules are evaluated by the hub when rule files are configured (GET /api/v1/rules).") : errorState(err, "rules"));
        }),
      ctx.api
        .get("/api/v2/silences", null, opts)
        .then((body) => gen === generation && renderSilences(Array.isArray(body) ? body : []))
        .catch((err) => {
          if (isAbort(err) || gen !== generation) return;
          replace(silencesBox, err.missing ? emptyState("This hub has no silences API yet", "Silences are created here once the hub's alert routing is on (/api/v2/silences).") : errorState(err, "silences"));
        }),
    ]);
  }

  function renderAlerts() {
    const by = { firing: 0, pending: 0, acknowledged: 0, resolved: 0 };
    for (const a of alerts) by[stateOf(a)] = (by[stateOf(a)] || 0) + 1;
    replace(
      counts,
      [
        ["firing", "Firing", "critical"],
        ["pending", "Pending", "warning"],
        ["acknowledged", "Acknowledged", "info"],
        ["resolved", "Resolved", ""],
      ].map(([k, label, cls]) => h("div", { class: `count ${cls}` }, h("span", { class: "n" }, String(by[k] || 0)), label)),
    );
    if (alertsError) {
      replace(alertsBox, errorState(alertsError, "alerts"));
      return;
    }
    const text = state.text.toLowerCase();
    const shown = alerts.filter((a) => {
      const s = stateOf(a);
      if (state.view === "active" && !(s === "firing" || s === "pending")) return false;
      if (state.view === "acknowledged" && s !== "acknowledged") return false;
      if (state.view === "resolved" && s !== "resolved") return false;
      if (state.severity === "other" ? MAIN_SEVERITIES.includes(severityOf(a)) : state.severity && severityOf(a) !== state.severity) return false;
      if (text) {
        const hay = `${alertTitle(a)} ${JSON.stringify(a.labels || {})} ${JSON.stringify(a.annotations || {})}`.toLowerCase();
        if (!hay.includes(text)) return false;
      }
      return true;
    });
    if (!alerts.length) {
      replace(
        alertsBox,
        emptyState(
          "No alerts yet",
          "Alerts arrive from the hub's alerting rules, from services' library alerts, and from any Prometheus or Alertmanager client posting to /api/v2/alerts. ",
          ...noDataHint(),
        ),
      );
      return;
    }
    if (!shown.length) {
      replace(alertsBox, emptyState("No alert matches", "Choose another view or clear the filter."));
      return;
    }
    const order = { critical: 0, page: 0, warning: 1, info: 2 };
    shown.sort((a, b) => (order[severityOf(a)] ?? 3) - (order[severityOf(b)] ?? 3) || alertStart(b) - alertStart(a));
    replace(
      alertsBox,
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { class: "alerts" },
          h("thead", null, h("tr", null, ["Severity", "Alert", "State", "Started", "Duration", "Source", ""].map((t) => h("th", null, t)))),
          h("tbody", null, shown.map(alertRows)),
        ),
      ),
    );
  }

  function alertRows(a) {
    const sev = severityOf(a);
    const s = stateOf(a);
    const key = alertKey(a);
    const start = alertStart(a);
    const end = s === "resolved" ? alertEnd(a) : Date.now() / 1000;
    const labels = Object.entries(a.labels || {}).filter(([k]) => k !== "alertname" && k !== "severity");
    const historyCell = h("td", { colspan: "7" });
    const historyRow = h("tr", { class: "history-row", hidden: !state.open.has(key) }, historyCell);
    const toggle = h(
      "button",
      {
        type: "button",
        class: "btn btn-small",
        "aria-expanded": String(state.open.has(key)),
        onclick: () => {
          if (state.open.has(key)) state.open.delete(key);
          else state.open.add(key);
          historyRow.hidden = !state.open.has(key);
          toggle.setAttribute("aria-expanded", String(!historyRow.hidden));
          if (!historyRow.hidden) loadHistory(a, historyCell);
        },
      },
      "History",
    );
    if (state.open.has(key)) loadHistory(a, historyCell);
    const canAct = Boolean(a.id) && s !== "resolved";
    const actions = h(
      "div",
      { class: "chips" },
      s !== "acknowledged" && canAct ? h("button", { type: "button", class: "btn btn-small", onclick: () => openAction(a, "acknowledge") }, "Acknowledge") : null,
      canAct ? h("button", { type: "button", class: "btn btn-small", onclick: () => openAction(a, "resolve") }, "Resolve") : null,
      s !== "resolved" ? h("button", { type: "button", class: "btn btn-small", onclick: () => openSilence(a) }, "Silence") : null,
      toggle,
    );
    const main = h(
      "tr",
      { class: ["alert-row", `sev-${sev}`], dataset: { key } },
      h("td", null, h("span", { class: `badge ${sev}` }, sev)),
      h(
        "td",
        null,
        h("strong", { class: "alert-title" }, alertTitle(a)),
        a.annotations && a.annotations.description ? h("div", { class: "sub" }, String(a.annotations.description)) : null,
        labels.length ? h("div", { class: "chips" }, labels.map(([k, v]) => h("span", { class: "chip" }, `${k}=${v}`))) : null,
        a.annotations && a.annotations.runbook_url ? h("a", { href: String(a.annotations.runbook_url), rel: "noopener noreferrer", target: "_blank" }, "runbook") : null,
      ),
      h(
        "td",
        null,
        h("span", { class: `badge ${s}` }, s),
        a.silenced ? [" ", h("span", { class: "badge silenced" }, "silenced")] : null,
        a.acknowledgedBy ? h("div", { class: "sub" }, `by ${a.acknowledgedBy}`) : null,
      ),
      h("td", { class: "sub" }, isFinite(start) ? fmtTime(start) : "–"),
      h("td", { class: "num" }, isFinite(start) && isFinite(end) ? fmtDuration(end - start) : "–"),
      h("td", { class: "sub" }, String(a.source || "")),
      h("td", null, actions),
    );
    return [main, historyRow];
  }

  async function loadHistory(a, cell) {
    replace(cell, loading("history"));
    if (!a.id) {
      replace(cell, h("p", { class: "sub" }, "This hub keeps no history for this alert."));
      return;
    }
    try {
      const body = await ctx.api.get(`/api/v1/alerts/${encodeURIComponent(a.id)}`, null, { signal: ctx.signal });
      const detail = (body && body.data) || body || {};
      const history = Array.isArray(detail.history) ? detail.history : [];
      replace(
        cell,
        history.length
          ? h(
              "ul",
              { class: "history" },
              history.map((ev) =>
                h("li", null, h("span", { class: "mono" }, fmtTime(toSeconds(ev.time))), " ", h("strong", null, String(ev.event || "")), ev.by ? ` by ${ev.by}` : "", ev.note ? ` — ${ev.note}` : ""),
              ),
            )
          : h("p", { class: "sub" }, "No history recorded."),
      );
    } catch (err) {
      if (!isAbort(err)) replace(cell, errorState(err, "history"));
    }
  }

  // ---- actions ----
  function user() {
    return localStorage.getItem(USER_KEY) || "";
  }
  function openAction(a, action) {
    const byInput = h("input", { id: "dlg-by", value: user(), required: true, placeholder: "your name" });
    const noteInput = h("textarea", { id: "dlg-note", rows: "3", placeholder: "what you are doing about it" });
    const err = h("p", { role: "alert", class: "sub" });
    const submit = h("button", { type: "submit", class: "btn btn-primary" }, action === "acknowledge" ? "Acknowledge" : "Resolve");
    replace(
      dialog,
      h(
        "form",
        {
          onsubmit: async (ev) => {
            ev.preventDefault();
            submit.disabled = true;
            localStorage.setItem(USER_KEY, byInput.value.trim());
            try {
              await ctx.api.post(`/api/v1/alerts/${encodeURIComponent(a.id)}/${action}`, { by: byInput.value.trim(), note: noteInput.value }, { signal: ctx.signal });
              dialog.close();
              flash.textContent = `${action === "acknowledge" ? "Acknowledged" : "Resolved"}: ${alertTitle(a)}`;
              load();
            } catch (e) {
              if (isAbort(e)) return;
              err.textContent = `Failed: ${e.message}`;
              submit.disabled = false;
            }
          },
        },
        h("h2", { id: "dlg-title" }, `${action === "acknowledge" ? "Acknowledge" : "Resolve"}: ${alertTitle(a)}`),
        h("label", { for: "dlg-by" }, "By", byInput),
        h("label", { for: "dlg-note" }, "Note", noteInput),
        err,
        h("div", { class: "toolbar" }, submit, h("button", { type: "button", class: "btn", onclick: () => dialog.close() }, "Cancel")),
      ),
    );
    dialog.showModal();
    (byInput.value ? noteInput : byInput).focus();
  }

  function openSilence(a) {
    const labels = Object.entries(a.labels || {});
    const checks = labels.map(([k, v], i) => {
      const box = h("input", { type: "checkbox", id: `dlg-m${i}`, checked: k === "alertname" || labels.length === 1 });
      return { k, v, box, row: h("label", { class: "inline", for: `dlg-m${i}` }, box, h("code", null, `${k}="${v}"`)) };
    });
    const duration = h("select", { id: "dlg-dur" }, [["1h", 3600], ["2h", 7200], ["4h", 14400], ["1d", 86400], ["1w", 604800]].map(([l, s]) => h("option", { value: String(s) }, l)));
    const byInput = h("input", { id: "dlg-by", value: user(), required: true, placeholder: "your name" });
    const comment = h("textarea", { id: "dlg-comment", rows: "2", required: true, placeholder: "why" });
    const err = h("p", { role: "alert", class: "sub" });
    const submit = h("button", { type: "submit", class: "btn btn-primary" }, "Create silence");
    replace(
      dialog,
      h(
        "form",
        {
          onsubmit: async (ev) => {
            ev.preventDefault();
            const matchers = checks.filter((c) => c.box.checked).map((c) => ({ name: c.k, value: String(c.v), isRegex: false, isEqual: true }));
            if (!matchers.length) {
              err.textContent = "Choose at least one label to match.";
              return;
            }
            submit.disabled = true;
            localStorage.setItem(USER_KEY, byInput.value.trim());
            const now = Date.now();
            try {
              await ctx.api.post(
                "/api/v2/silences",
                { matchers, startsAt: new Date(now).toISOString(), endsAt: new Date(now + Number(duration.value) * 1000).toISOString(), createdBy: byInput.value.trim(), comment: comment.value },
                { signal: ctx.signal },
              );
              dialog.close();
              flash.textContent = `Silenced: ${alertTitle(a)}`;
              load();
            } catch (e) {
              if (isAbort(e)) return;
              err.textContent = `Failed: ${e.message}`;
              submit.disabled = false;
            }
          },
        },
        h("h2", { id: "dlg-title" }, `Silence: ${alertTitle(a)}`),
        h("fieldset", null, h("legend", null, "Match alerts with"), checks.map((c) => c.row)),
        h("label", { for: "dlg-dur" }, "For", duration),
        h("label", { for: "dlg-by" }, "Created by", byInput),
        h("label", { for: "dlg-comment" }, "Comment", comment),
        err,
        h("div", { class: "toolbar" }, submit, h("button", { type: "button", class: "btn", onclick: () => dialog.close() }, "Cancel")),
      ),
    );
    dialog.showModal();
    byInput.focus();
  }

  // ---- rules ----
  function renderRules(body) {
    const groups = (body && body.data && body.data.groups) || [];
    const rules = groups.flatMap((g) => (g.rules || []).map((r) => ({ ...r, group: g.name, file: g.file })));
    if (!rules.length) {
      replace(rulesBox, emptyState("No rules loaded", "Give the hub Prometheus rule files (see docs/alert-rules.md) and their alerting and recording rules show here."));
      return;
    }
    replace(
      rulesBox,
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { class: "rules" },
          h("thead", null, h("tr", null, ["Group", "Rule", "Type", "State", "Health", "Last evaluation", "Took", "Query"].map((t) => h("th", null, t)))),
          h(
            "tbody",
            null,
            rules.map((r) =>
              h(
                "tr",
                null,
                h("td", { class: "sub" }, String(r.group || "")),
                h("td", null, h("strong", null, String(r.name || ""))),
                h("td", { class: "sub" }, String(r.type || "")),
                h("td", null, r.state ? h("span", { class: `badge ${r.state}` }, String(r.state)) : "–"),
                h("td", null, h("span", { class: `badge ${r.health === "ok" ? "ok" : r.health === "err" ? "err" : ""}` }, String(r.health || "unknown")), r.lastError ? h("div", { class: "sub" }, String(r.lastError)) : null),
                h("td", { class: "sub" }, r.lastEvaluation && !String(r.lastEvaluation).startsWith("0001") ? fmtAgo(toSeconds(r.lastEvaluation)) : "never"),
                h("td", { class: "num" }, r.evaluationTime != null ? fmtDuration(Number(r.evaluationTime)) : "–"),
                h("td", null, h("code", null, String(r.query || ""))),
              ),
            ),
          ),
        ),
      ),
    );
  }

  // ---- silences ----
  function renderSilences(list) {
    const live = list.filter((s) => !s.status || s.status.state !== "expired");
    if (!live.length) {
      replace(silencesBox, emptyState("No active silences", "Silence an alert from its row above; matching alerts stop notifying until the silence ends."));
      return;
    }
    replace(
      silencesBox,
      h(
        "table",
        null,
        h("thead", null, h("tr", null, ["Matchers", "State", "Ends", "Created by", "Comment", ""].map((t) => h("th", null, t)))),
        h(
          "tbody",
          null,
          live.map((s) =>
            h(
              "tr",
              null,
              h("td", null, h("div", { class: "chips" }, (s.matchers || []).map((m) => h("code", { class: "chip" }, `${m.name}${m.isEqual === false ? "!" : ""}${m.isRegex ? "=~" : "="}"${m.value}"`)))),
              h("td", null, h("span", { class: `badge ${s.status ? s.status.state : ""}` }, s.status ? String(s.status.state) : "?")),
              h("td", { class: "sub" }, s.endsAt ? fmtTime(toSeconds(s.endsAt)) : "–"),
              h("td", null, String(s.createdBy || "")),
              h("td", null, String(s.comment || "")),
              h(
                "td",
                null,
                h(
                  "button",
                  {
                    type: "button",
                    class: "btn btn-small btn-danger",
                    onclick: async (ev) => {
                      ev.currentTarget.disabled = true;
                      try {
                        await ctx.api.del(`/api/v2/silence/${encodeURIComponent(s.id)}`, null, { signal: ctx.signal });
                        flash.textContent = "Silence expired.";
                      } catch (e) {
                        if (!isAbort(e)) flash.textContent = `Could not expire the silence: ${e.message}`;
                      }
                      load();
                    },
                  },
                  "Expire",
                ),
              ),
            ),
          ),
        ),
      ),
    );
  }

  load();
  ctx.onRefresh(load);
}
