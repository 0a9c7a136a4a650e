// The trace waterfall in the DOM: virtualised, so that a 10,000-span trace costs what the
// screen shows. Rows have a fixed height; a spacer gives the scroll area its full height and
// only the rows in view (plus a few either side) exist as elements, placed with transforms.
//
//   const view = createWaterfall(container, model, { onSelect(i), logs: true });
//   view.toggle(i); view.expandAll(); view.collapseAll(); view.setHits(hits); view.jumpTo(i);
//   view.destroy();
import { h } from "../dom.js";
import { SERVICE_SLOTS, childCountOf, collapseBelow, fmtNs, reveal, ticks, visibleRows } from "./waterfall.js";
import "./waterfall.css";

export const ROW_HEIGHT = 24;
const OVERSCAN = 12;

/** A CSS class for a service colour slot. */
export function serviceClass(slot) {
  return `svc-${slot % SERVICE_SLOTS}`;
}

/** Element.append without the null and false that h() children may hold. */
function add(el, ...children) {
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c);
}

const LEVEL_CLASS = (n) => (n >= 17 ? "err" : n >= 13 ? "warn" : n >= 9 ? "info" : "");

export function createWaterfall(container, model, { onSelect = () => {}, logs = true, critical = true } = {}) {
  const total = Math.max(model.end - model.start, 1);
  let collapsed = new Set();
  let showLogs = logs;
  let showCritical = critical;
  let rows = visibleRows(model, collapsed, { showLogs });
  let rowOf = null; // span index -> row position, built lazily
  let selected = -1;
  let hits = new Set();
  let current = -1;
  const rendered = new Map(); // row position -> element
  let frame = 0;

  const pct = (ns) => `${(((ns - model.start) / total) * 100).toFixed(4)}%`;

  const axis = h("div", { class: "wf-axis", "aria-hidden": "true" },
    h("div", { class: "wf-name wf-axis-name" }, "Service · operation"),
    h("div", { class: "wf-track" },
      ticks(total).map((t) => {
        const tick = h("span", { class: "wf-tick" }, fmtNs(t));
        tick.style.left = `${(t / total) * 100}%`;
        return tick;
      }),
    ),
  ); // prettier-ignore
  const spacer = h("div", { class: "wf-spacer" });
  const scroller = h(
    "div",
    {
      class: "wf-scroll",
      tabindex: "0",
      role: "tree",
      "aria-label": "spans of the trace (arrow keys move, left and right collapse and expand, Enter opens)",
      onscroll: () => schedule(),
      onkeydown: onKey,
    },
    spacer,
  );
  const root = h("div", { class: ["waterfall", showCritical && "show-critical"] }, axis, scroller);
  container.replaceChildren(root);

  function schedule() {
    if (!frame) frame = requestAnimationFrame(() => {
      frame = 0;
      render(false);
    }); // prettier-ignore
  }

  function rowPositions() {
    if (!rowOf) {
      rowOf = new Int32Array(model.n).fill(-1);
      for (let r = 0; r < rows.length; r++) if (rows[r] >= 0) rowOf[rows[r]] = r;
    }
    return rowOf;
  }

  function spanRow(i) {
    const s = model.spans[i];
    const slot = serviceClass(model.serviceOf[i]);
    const kids = childCountOf(model, i);
    const name = h("div", { class: "wf-name" });
    name.style.paddingLeft = `${6 + model.depth[i] * 14}px`;
    if (kids) {
      const open = !collapsed.has(i);
      name.append(
        h(
          "button",
          {
            class: "wf-toggle",
            "aria-expanded": String(open),
            "aria-label": `${open ? "Collapse" : "Expand"} ${kids} child span${kids === 1 ? "" : "s"}`,
            tabindex: "-1",
            onclick: (ev) => {
              ev.stopPropagation();
              toggle(i);
            },
          },
          open ? "▾" : "▸",
        ),
      );
    } else {
      name.append(h("span", { class: "wf-toggle wf-leaf", "aria-hidden": "true" }));
    }
    add(
      name,
      h("span", { class: ["wf-swatch", slot] }),
      h("span", { class: "wf-svc" }, s.service),
      h("span", { class: "wf-op" }, s.name),
      kids > 0 && collapsed.has(i) ? h("span", { class: "wf-count" }, `+${model.subtreeEnd[i] - model.pos[i] - 1}`) : null,
      model.error[i] ? h("span", { class: "wf-errmark", title: "error" }, "!") : null,
    );
    const bar = h("div", { class: ["wf-bar", slot, model.error[i] && "err", model.critical[i] && "crit"] });
    bar.style.left = pct(model.starts[i]);
    bar.style.width = `${(((model.ends[i] - model.starts[i]) / total) * 100).toFixed(4)}%`;
    if (showCritical && model.critical[i]) {
      const span = model.ends[i] - model.starts[i] || 1;
      for (const [a, b] of model.segments.get(i) || []) {
        const seg = h("span", { class: "wf-crit" });
        seg.style.left = `${((a - model.starts[i]) / span) * 100}%`;
        seg.style.width = `${((b - a) / span) * 100}%`;
        bar.append(seg);
      }
    }
    const track = h("div", { class: "wf-track" }, bar);
    const list = model.logsOf.get(i);
    if (list && !showLogs) {
      for (const li of list.slice(0, 50)) {
        const tick = h("span", { class: ["wf-logtick", LEVEL_CLASS(model.logs[li].severity_number)] });
        tick.style.left = pct(Number(model.logs[li].time_ns));
        track.append(tick);
      }
    }
    const label = h("span", { class: "wf-dur" }, fmtNs(model.ends[i] - model.starts[i]));
    const after = (model.ends[i] - model.start) / total;
    if (after > 0.85) {
      label.classList.add("inside");
      label.style.right = `${(1 - after) * 100}%`;
    } else {
      label.style.left = `calc(${pct(model.ends[i])} + 4px)`;
    }
    track.append(label);
    return h(
      "div",
      {
        class: ["wf-row", selected === i && "selected", hits.has(i) && "hit", current === i && "hit-current"],
        role: "treeitem",
        "aria-level": String(model.depth[i] + 1),
        "aria-selected": String(selected === i),
        "aria-expanded": kids ? String(!collapsed.has(i)) : null,
        dataset: { span: s.span_id },
        onclick: () => select(i),
      },
      name,
      track,
    );
  }

  function logRow(li) {
    const rec = model.logs[li];
    const si = model.logSpan[li];
    const name = h(
      "div",
      { class: "wf-name" },
      h("span", { class: ["wf-level", LEVEL_CLASS(rec.severity_number)] }, rec.severity_text || "LOG"),
      h("span", { class: "wf-logbody" }, rec.body),
    );
    name.style.paddingLeft = `${6 + (si >= 0 ? model.depth[si] + 1 : 0) * 14 + 16}px`;
    const dot = h("span", { class: ["wf-logdot", LEVEL_CLASS(rec.severity_number)] });
    dot.style.left = pct(Number(rec.time_ns));
    const at = h("span", { class: "wf-dur" }, `+${fmtNs(Number(rec.time_ns) - model.start)}`);
    at.style.left = `calc(${pct(Number(rec.time_ns))} + 8px)`;
    return h(
      "div",
      { class: "wf-row wf-log", role: "treeitem", "aria-level": String(si >= 0 ? model.depth[si] + 2 : 1), onclick: () => si >= 0 && select(si) },
      name,
      h("div", { class: "wf-track" }, dot, at),
    );
  }

  function render(all) {
    spacer.style.height = `${rows.length * ROW_HEIGHT}px`;
    const top = scroller.scrollTop;
    const height = scroller.clientHeight || 600;
    const first = Math.max(0, Math.floor(top / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(rows.length, Math.ceil((top + height) / ROW_HEIGHT) + OVERSCAN);
    for (const [r, el] of rendered) {
      if (all || r < first || r >= last) {
        el.remove();
        rendered.delete(r);
      }
    }
    for (let r = first; r < last; r++) {
      if (rendered.has(r)) continue;
      const item = rows[r];
      const el = item >= 0 ? spanRow(item) : logRow(-item - 1);
      el.style.transform = `translateY(${r * ROW_HEIGHT}px)`;
      spacer.append(el);
      rendered.set(r, el);
    }
  }

  function relayout() {
    rows = visibleRows(model, collapsed, { showLogs });
    rowOf = null;
    render(true);
  }

  function toggle(i) {
    if (!childCountOf(model, i)) return;
    if (collapsed.has(i)) collapsed.delete(i);
    else collapsed.add(i);
    relayout();
  }

  function select(i, { scroll = false } = {}) {
    selected = i;
    if (scroll) scrollToSpan(i);
    render(true);
    onSelect(i);
  }

  function scrollToSpan(i) {
    const r = rowPositions()[i];
    if (r < 0) return;
    spacer.style.height = `${rows.length * ROW_HEIGHT}px`; // rows may have grown: room first
    const y = r * ROW_HEIGHT;
    const h = scroller.clientHeight;
    if (y < scroller.scrollTop || y + ROW_HEIGHT > scroller.scrollTop + h) {
      scroller.scrollTop = Math.max(0, y - h / 2);
    }
  }

  function onKey(ev) {
    if (ev.target !== scroller) return;
    const positions = rowPositions();
    let r = selected >= 0 ? positions[selected] : -1;
    const step = (d) => {
      let k = r;
      do k += d;
      while (k >= 0 && k < rows.length && rows[k] < 0);
      return k >= 0 && k < rows.length ? rows[k] : -1;
    };
    let next = -1;
    if (ev.key === "ArrowDown") next = step(1);
    else if (ev.key === "ArrowUp") next = step(-1);
    else if (ev.key === "Home") next = rows.length ? rows[0] : -1;
    else if (ev.key === "End") {
      r = rows.length;
      next = step(-1);
    } else if ((ev.key === "ArrowLeft" || ev.key === "ArrowRight") && selected >= 0) {
      const open = !collapsed.has(selected);
      if ((ev.key === "ArrowLeft") === open && childCountOf(model, selected)) toggle(selected);
      else if (ev.key === "ArrowLeft" && model.parent[selected] >= 0) next = model.parent[selected];
      ev.preventDefault();
    } else if (ev.key === "Enter" && selected >= 0) {
      onSelect(selected);
      ev.preventDefault();
    }
    if (next >= 0) {
      ev.preventDefault();
      select(next, { scroll: true });
    }
  }

  render(true);

  return {
    root,
    scroller,
    get rowCount() {
      return rows.length;
    },
    toggle,
    select,
    expandAll() {
      collapsed = new Set();
      relayout();
    },
    collapseAll(depth = 1) {
      collapsed = collapseBelow(model, depth);
      relayout();
    },
    setLogs(on) {
      showLogs = on;
      relayout();
    },
    setCritical(on) {
      showCritical = on;
      root.classList.toggle("show-critical", on);
      render(true);
    },
    setHits(list, cur = -1) {
      hits = new Set(list);
      current = cur;
      render(true);
    },
    jumpTo(i) {
      current = i;
      const before = collapsed.size;
      reveal(model, collapsed, i);
      if (collapsed.size !== before) {
        rows = visibleRows(model, collapsed, { showLogs });
        rowOf = null;
      }
      select(i, { scroll: true });
    },
    destroy() {
      cancelAnimationFrame(frame);
      root.remove();
    },
  };
}
