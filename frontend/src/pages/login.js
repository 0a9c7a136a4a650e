// /login: trade the hub's token for a session cookie (POST /login). The token is sent once
// and never stored by the page; the session cookie is HttpOnly.
import { h, replace } from "../dom.js";

/** A same-origin path to go to after logging in (anything else goes to "/"). */
function nextPath(q) {
  const next = q.get("next") || "/";
  return next.startsWith("/") && !next.startsWith("//") && !next.startsWith("/\\") ? next : "/";
}

export function mount(el, ctx) {
  ctx.setTitle("Log in");
  const input = h("input", {
    type: "password",
    name: "token",
    id: "token",
    autocomplete: "current-password",
    required: true,
    placeholder: "the hub's token",
  });
  const message = h("p", { class: "sub", role: "status", "aria-live": "polite" });
  const button = h("button", { type: "submit", class: "btn btn-primary" }, "Log in");
  const form = h(
    "form",
    {
      method: "post",
      action: "/login",
      onsubmit: async (ev) => {
        ev.preventDefault();
        button.disabled = true;
        message.textContent = "Checking…";
        try {
          const body = await ctx.api.post("/login", { token: input.value }, { signal: ctx.signal });
          input.value = "";
          message.textContent = body && body.auth === "none" ? "This hub needs no token." : "Logged in.";
          window.location.assign(nextPath(ctx.query));
        } catch (err) {
          if (err.name === "AbortError") return;
          message.textContent = err.status === 401 ? "Wrong token." : `Could not log in: ${err.message}`;
          message.className = "state state-error";
          button.disabled = false;
          input.focus();
        }
      },
    },
    h("label", { for: "token" }, "Token"),
    input,
    button,
  );
  replace(
    el,
    h(
      "div",
      { class: "login card" },
      h("h1", null, "Log in to the hub"),
      h("p", { class: "sub" }, "This hub requires its token (the one given with --token or BERRYS_MONITORING_TOKEN). The browser keeps a signed session cookie, not the token."),
      form,
      message,
    ),
  );
  input.focus();
}
