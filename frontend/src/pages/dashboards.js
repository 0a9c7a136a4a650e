// PLACEHOLDER owned by the webtrace branch: replace this whole file with the real page.
// It exists only so that the shell (main.js) builds before webtrace's page lands.
import { h, emptyState } from "../dom.js";

export function mount(el, ctx) {
  el.append(
    h("h1", null, "dashboards"),
    emptyState("This page is being built.", "Route parameters: ", JSON.stringify(ctx.params)),
  );
}
