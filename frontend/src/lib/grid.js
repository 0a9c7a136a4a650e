// A 24-column dashboard grid with drag and resize, on pointer events. Items are
// {id, x, y, w, h} in grid units; the layout functions are pure (and tested with node), the
// controller moves the elements and reports the new layout.
//
//   const grid = createGrid(container, { cols: 24, rowHeight: 30, onChange(layout) {} });
//   grid.setItems([{ id, x, y, w, h, el }]);  grid.setEditable(true);  grid.destroy();

export const COLS = 24;

export function collides(a, b) {
  return a.id !== b.id && a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

/** Move every item up as far as it goes (top to bottom), as Grafana's grid does; at equal
 * rows the item `firstId` (the one being moved) goes first. */
export function compact(items, firstId = null) {
  const sorted = [...items].sort((a, b) => a.y - b.y || (a.id === firstId ? -1 : b.id === firstId ? 1 : a.x - b.x));
  const placed = [];
  for (const it of sorted) {
    const item = { ...it, y: 0 };
    while (placed.some((p) => collides(item, p))) item.y++;
    placed.push(item);
  }
  const byId = new Map(placed.map((p) => [p.id, p]));
  return items.map((it) => byId.get(it.id));
}

/** Put `id` at (x, y, w, h), push what it overlaps below it, then compact: the moved item
 * takes the place it was dropped on and the others settle around it. */
export function place(items, id, { x, y, w, h }, cols = COLS) {
  const moved = items.map((it) => ({ ...it }));
  const target = moved.find((it) => it.id === id);
  if (!target) return moved;
  target.w = Math.max(1, Math.min(cols, w ?? target.w));
  target.h = Math.max(1, h ?? target.h);
  target.x = Math.max(0, Math.min(cols - target.w, x ?? target.x));
  target.y = Math.max(0, y ?? target.y);
  const queue = [target];
  while (queue.length) {
    const cur = queue.shift();
    for (const other of moved) {
      if (other === target || other === cur || !collides(cur, other)) continue;
      other.y = cur.y + cur.h;
      queue.push(other);
    }
  }
  return compact(moved, id);
}

/** Where a new item of w x h goes: the first row where it fits, left to right. */
export function firstFree(items, w, h, cols = COLS) {
  for (let y = 0; ; y++) {
    for (let x = 0; x + w <= cols; x++) {
      const probe = { id: "\u0000new", x, y, w, h };
      if (!items.some((it) => collides(probe, it))) return { x, y };
    }
  }
}

export function createGrid(container, { cols = COLS, rowHeight = 30, gap = 8, onChange = () => {} } = {}) {
  let items = [];
  let editable = false;
  container.classList.add("bm-grid");
  const ghost = document.createElement("div");
  ghost.className = "bm-grid-ghost";
  ghost.hidden = true;
  container.append(ghost);

  const colWidth = () => (container.clientWidth - gap * (cols - 1)) / cols;
  const box = (it) => {
    const cw = colWidth();
    return {
      left: it.x * (cw + gap),
      top: it.y * (rowHeight + gap),
      width: it.w * cw + (it.w - 1) * gap,
      height: it.h * rowHeight + (it.h - 1) * gap,
    };
  };
  const applyBox = (el, b) => {
    el.style.transform = `translate(${b.left}px, ${b.top}px)`;
    el.style.width = `${b.width}px`;
    el.style.height = `${b.height}px`;
  };

  function layout() {
    let bottom = 0;
    for (const it of items) {
      applyBox(it.el, box(it));
      bottom = Math.max(bottom, it.y + it.h);
      // animate moves, not the first placement (a new panel would fly in from the corner)
      if (!it.el.classList.contains("placed")) requestAnimationFrame(() => it.el.classList.add("placed"));
    }
    container.style.height = `${bottom * (rowHeight + gap)}px`;
  }

  function startGesture(ev, it, mode) {
    if (!editable || ev.button !== 0) return;
    ev.preventDefault();
    const handle = ev.currentTarget;
    handle.setPointerCapture(ev.pointerId);
    const startX = ev.clientX;
    const startY = ev.clientY;
    const from = { ...it };
    const cw = colWidth();
    let next = from;
    it.el.classList.add("dragging");
    ghost.hidden = false;
    applyBox(ghost, box(from));
    const move = (e) => {
      const dx = Math.round((e.clientX - startX) / (cw + gap));
      const dy = Math.round((e.clientY - startY) / (rowHeight + gap));
      next = mode === "move" ? { ...from, x: from.x + dx, y: from.y + dy } : { ...from, w: from.w + dx, h: from.h + dy };
      next.w = Math.max(2, Math.min(cols, next.w));
      next.h = Math.max(2, next.h);
      next.x = Math.max(0, Math.min(cols - next.w, next.x));
      next.y = Math.max(0, next.y);
      applyBox(ghost, box(next));
      // the element follows the pointer; the ghost shows where it lands
      const b = box(from);
      if (mode === "move") applyBox(it.el, { ...b, left: b.left + e.clientX - startX, top: b.top + e.clientY - startY });
      else applyBox(it.el, { ...b, width: Math.max(40, b.width + e.clientX - startX), height: Math.max(40, b.height + e.clientY - startY) });
    };
    const end = () => {
      handle.removeEventListener("pointermove", move);
      handle.removeEventListener("pointerup", end);
      handle.removeEventListener("pointercancel", end);
      it.el.classList.remove("dragging");
      ghost.hidden = true;
      commit(it.id, next);
    };
    handle.addEventListener("pointermove", move);
    handle.addEventListener("pointerup", end);
    handle.addEventListener("pointercancel", end);
  }

  function commit(id, pos) {
    const els = new Map(items.map((it) => [it.id, it.el]));
    items = place(items, id, pos, cols).map((it) => ({ ...it, el: els.get(it.id) }));
    layout();
    onChange(items.map(({ id: i, x, y, w, h }) => ({ id: i, x, y, w, h })));
  }

  function onKey(ev, it) {
    if (!editable) return;
    const d = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] }[ev.key];
    if (!d) return;
    ev.preventDefault();
    const cur = items.find((i) => i.id === it.id);
    if (ev.shiftKey) commit(it.id, { ...cur, w: Math.max(2, cur.w + d[0]), h: Math.max(2, cur.h + d[1]) });
    else commit(it.id, { ...cur, x: cur.x + d[0], y: cur.y + d[1] });
    ev.currentTarget.focus();
  }

  const observer = new ResizeObserver(() => layout());
  observer.observe(container);

  return {
    setItems(list) {
      for (const it of items) if (!list.some((n) => n.el === it.el)) it.el.remove();
      items = list.map((it) => ({ ...it }));
      for (const it of items) {
        it.el.classList.add("bm-grid-item");
        if (it.el.parentNode !== container) container.append(it.el);
        const drag = it.el.querySelector("[data-grid-drag]");
        const resize = it.el.querySelector("[data-grid-resize]");
        if (drag && !drag.dataset.gridBound) {
          drag.dataset.gridBound = "1";
          drag.addEventListener("pointerdown", (ev) => {
            if (ev.target.closest("button, a, input, select")) return;
            startGesture(ev, items.find((i) => i.el === it.el), "move");
          });
          drag.addEventListener("keydown", (ev) => {
            if (ev.target === drag) onKey(ev, items.find((i) => i.el === it.el));
          });
        }
        if (resize && !resize.dataset.gridBound) {
          resize.dataset.gridBound = "1";
          resize.addEventListener("pointerdown", (ev) => startGesture(ev, items.find((i) => i.el === it.el), "resize"));
        }
      }
      layout();
    },
    setEditable(on) {
      editable = on;
      container.classList.toggle("editing", on);
    },
    layout,
    destroy() {
      observer.disconnect();
    },
  };
}
