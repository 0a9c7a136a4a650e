// The trace waterfall's model, kept apart from the DOM so that it is fast and testable:
// the span tree, its depth-first order, the critical path, which rows are visible given
// the collapsed spans, and search. Everything is computed once per trace in O(n) (plus one
// sort of each span's children by end time for the critical path); toggling a subtree
// recomputes the visible rows in O(visible + collapsed).
//
//   const model = buildTrace(spans, logs);   // spans as /api/v1/traces/{id} gives them
//   const rows = visibleRows(model, collapsed); // Int32Array: span index >= 0, log -(i+1)
//   const hits = searchTrace(model, "timeout");  // span indices in display order

/** Service colour slots (CSS variables --svc-0 .. --svc-11 in waterfall.css). */
export const SERVICE_SLOTS = 12;

function num(v) {
  return typeof v === "number" ? v : Number(v);
}

/**
 * Build the model. `spans`: objects with span_id, parent_span_id, start_ns, end_ns,
 * service, name, status {code}; `logs`: records with time_ns, span_id (optional).
 */
export function buildTrace(spans, logs = []) {
  const n = spans.length;
  const index = new Map();
  for (let i = 0; i < n; i++) index.set(spans[i].span_id, i);
  const parent = new Int32Array(n).fill(-1);
  const childCount = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const p = spans[i].parent_span_id;
    const pi = p != null ? index.get(p) : undefined;
    if (pi !== undefined && pi !== i) {
      parent[i] = pi;
      childCount[pi]++;
    }
  }
  // children in CSR form (offsets + flat array), in the order given: the API gives spans
  // oldest first, so children come sorted by start time without a sort
  const childStart = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) childStart[i + 1] = childStart[i] + childCount[i];
  const children = new Int32Array(childStart[n]);
  const fill = childStart.slice(0, n);
  const roots = [];
  for (let i = 0; i < n; i++) {
    if (parent[i] >= 0) children[fill[parent[i]]++] = i;
    else roots.push(i);
  }
  // a cycle (a corrupt trace) leaves spans unreachable from any root: they become roots
  const order = new Int32Array(n);
  const depth = new Int32Array(n);
  const subtreeEnd = new Int32Array(n); // position after the subtree in `order`
  const pos = new Int32Array(n).fill(-1);
  let k = 0;
  const stack = [];
  const visit = (root) => {
    stack.push(root, 0);
    depth[root] = 0;
    while (stack.length) {
      const state = stack.pop();
      const i = stack.pop();
      if (state === 0) {
        pos[i] = k;
        order[k++] = i;
        stack.push(i, 1);
        for (let c = childStart[i + 1] - 1; c >= childStart[i]; c--) {
          const ch = children[c];
          if (pos[ch] !== -1) continue;
          depth[ch] = depth[i] + 1;
          stack.push(ch, 0);
        }
      } else {
        subtreeEnd[i] = k;
      }
    }
  };
  for (const r of roots) visit(r);
  for (let i = 0; i < n; i++) {
    if (pos[i] === -1) {
      roots.push(i);
      visit(i);
    }
  }

  let start = Infinity;
  let end = -Infinity;
  const starts = new Float64Array(n);
  const ends = new Float64Array(n);
  const services = new Map();
  const serviceOf = new Int32Array(n);
  let errors = 0;
  const error = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const s = spans[i];
    starts[i] = num(s.start_ns);
    ends[i] = Math.max(num(s.end_ns), starts[i]);
    if (starts[i] < start) start = starts[i];
    if (ends[i] > end) end = ends[i];
    let slot = services.get(s.service);
    if (slot === undefined) {
      slot = services.size;
      services.set(s.service, slot);
    }
    serviceOf[i] = slot;
    if (s.status && s.status.code === "ERROR") {
      error[i] = 1;
      errors++;
    }
  }
  if (!n) start = end = 0;

  // logs, each under its span (or under the first root), sorted by time
  const logsOf = new Map();
  const sortedLogs = [...logs].sort((a, b) => num(a.time_ns) - num(b.time_ns));
  const logSpan = new Int32Array(sortedLogs.length);
  sortedLogs.forEach((rec, li) => {
    let si = rec.span_id != null ? index.get(rec.span_id) : undefined;
    if (si === undefined) si = roots.length ? roots[0] : -1;
    logSpan[li] = si;
    if (si < 0) return;
    let list = logsOf.get(si);
    if (!list) logsOf.set(si, (list = []));
    list.push(li);
  });

  const model = {
    spans, n, index, parent, childStart, children, roots, order, depth, pos, subtreeEnd,
    starts, ends, start, end, services, serviceOf, error, errors,
    logs: sortedLogs, logsOf, logSpan,
    critical: new Uint8Array(n),
    segments: new Map(),
  };
  computeCriticalPath(model);
  return model;
}

/** Number of children of span i. */
export function childCountOf(model, i) {
  return model.childStart[i + 1] - model.childStart[i];
}

/**
 * The critical path (as Jaeger defines it): from each root's end, walk back through the
 * child that finished last before the current point; the time no child covers belongs to
 * the span itself. Marks model.critical[i] and fills model.segments (i -> [[s, e], ...],
 * the stretches of span i that are on the path). Iterative: deep traces do not overflow.
 */
export function computeCriticalPath(model) {
  const { childStart, children, starts, ends, critical, segments, roots } = model;
  const byEnd = (a, b) => ends[b] - ends[a];
  const work = [];
  for (const r of roots) work.push([r, ends[r]]);
  while (work.length) {
    const [i, until] = work.pop();
    critical[i] = 1;
    const kids = Array.from(children.subarray(childStart[i], childStart[i + 1])).sort(byEnd);
    let cursor = Math.min(until, ends[i]);
    const segs = [];
    for (const c of kids) {
      if (cursor <= starts[i]) break;
      if (starts[c] >= cursor) continue; // starts after the point we are at: not on the path
      const cEnd = Math.min(ends[c], cursor);
      if (cEnd < cursor) segs.push([cEnd, cursor]); // the parent's own time
      work.push([c, cEnd]);
      cursor = Math.max(starts[c], starts[i]);
    }
    if (cursor > starts[i]) segs.push([starts[i], cursor]);
    segments.set(i, segs);
  }
}

/**
 * The rows to show: spans in depth-first order, each followed by its log lines, without
 * the descendants of collapsed spans. `collapsed`: a Set of span indices.
 */
export function visibleRows(model, collapsed, { showLogs = true } = {}) {
  const { order, subtreeEnd, logsOf, n } = model;
  const out = new Int32Array(n + (showLogs ? model.logs.length : 0));
  let k = 0;
  for (let p = 0; p < n; ) {
    const i = order[p];
    out[k++] = i;
    if (showLogs) {
      const list = logsOf.get(i);
      if (list) for (const li of list) out[k++] = -(li + 1);
    }
    p = collapsed.has(i) ? subtreeEnd[i] : p + 1;
  }
  return out.subarray(0, k);
}

/** Collapse every span below `depth` that has children (for "collapse all"). */
export function collapseBelow(model, depth) {
  const out = new Set();
  for (let i = 0; i < model.n; i++) {
    if (model.depth[i] >= depth && childCountOf(model, i) > 0) out.add(i);
  }
  return out;
}

/** Un-collapse the ancestors of span i, so that it is visible. */
export function reveal(model, collapsed, i) {
  for (let p = model.parent[i]; p >= 0; p = model.parent[p]) collapsed.delete(p);
}

function attrText(attrs) {
  if (!attrs) return "";
  if (Array.isArray(attrs)) return attrs.map((a) => `${a.key}=${JSON.stringify(a.value)}`).join(" ");
  return Object.entries(attrs)
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join(" ");
}

/** Span indices, in display order, whose name, service, id, attributes or events match
 * `text` (case-insensitive substring). */
export function searchTrace(model, text) {
  const needle = String(text || "").trim().toLowerCase();
  if (!needle) return [];
  const hits = [];
  for (let p = 0; p < model.n; p++) {
    const i = model.order[p];
    const s = model.spans[i];
    const hay = s._search || (s._search = [
      s.name, s.service, s.span_id, attrText(s.attributes),
      (s.events || []).map((e) => `${e.name} ${attrText(e.attributes)}`).join(" "),
      s.status && s.status.message,
    ].join("\u0000").toLowerCase()); // prettier-ignore
    if (hay.includes(needle)) hits.push(i);
  }
  return hits;
}

/** "1.23 s", "45.6 ms", "789 µs" from nanoseconds. */
export function fmtNs(ns) {
  const v = Math.abs(ns);
  if (v >= 6e10) return `${(ns / 6e10).toFixed(v >= 6e11 ? 0 : 1)} min`;
  if (v >= 1e9) return `${(ns / 1e9).toFixed(v >= 1e10 ? 1 : 2)} s`;
  if (v >= 1e6) return `${(ns / 1e6).toFixed(v >= 1e8 ? 0 : v >= 1e7 ? 1 : 2)} ms`;
  if (v >= 1e3) return `${(ns / 1e3).toFixed(v >= 1e5 ? 0 : 1)} µs`;
  return `${Math.round(ns)} ns`;
}

/** Nice tick positions (ns offsets from 0) for a timeline `total` ns wide. */
export function ticks(total, count = 5) {
  if (!(total > 0)) return [0];
  const raw = total / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) || raw;
  const out = [];
  for (let t = 0; t <= total + step * 1e-9; t += step) out.push(t);
  return out;
}
