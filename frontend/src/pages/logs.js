import { h } from "../dom.js";

export function mount(el) {
  el.append(h("h1", null, "logs"));
}
