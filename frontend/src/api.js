// The one way pages talk to the hub: its documented JSON API (/api/v1/..., /api/v2/...).
//
//   const api = createApi({ onUnauthorized });
//   await api.get("/api/v1/services")                        -> parsed JSON
//   await api.get("/api/v1/logs", { service: "x", attribute: ["a=1", "b=2"] })  (arrays repeat)
//   await api.post("/api/v1/alerts/ID/acknowledge", { by, note })   (also put, patch, del)
//   await api.query(expr, timeS)                   -> Prometheus `data` of /api/v1/query
//   await api.queryRange(expr, startS, endS, stepS) -> Prometheus `data` of /api/v1/query_range
//   const stop = api.stream("/api/v1/logs/tail", params, onJson, onError)  (Server-Sent Events)
//
// Every call accepts a final `{ signal }` (AbortSignal). Errors throw ApiError with
// `.status` (0 for a network error) and the hub's message. State-changing requests send the
// CSRF header (double-submit: the `bm_csrf` cookie echoed in X-CSRF-Token). A 401 calls
// onUnauthorized (the shell sends the browser to /login?next=...).

export const CSRF_COOKIE = "bm_csrf";
export const CSRF_HEADER = "X-CSRF-Token";

export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.body = body;
  }
  /** The endpoint is not there (an older hub, or a feature not built in): 404/405/501. */
  get missing() {
    return this.status === 404 || this.status === 405 || this.status === 501;
  }
}

function cookie(name) {
  for (const part of document.cookie.split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === name) return decodeURIComponent(v.join("="));
  }
  return "";
}

/** "/path?k=v&k=w" from a params object (arrays repeat, null/""/undefined are dropped). */
export function withQuery(path, params) {
  if (!params) return path;
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (Array.isArray(v)) v.forEach((x) => x !== "" && x != null && q.append(k, String(x)));
    else if (v !== undefined && v !== null && v !== "") q.append(k, String(v));
  }
  const s = q.toString();
  return s ? `${path}${path.includes("?") ? "&" : "?"}${s}` : path;
}

function messageOf(status, body, text) {
  if (body && typeof body === "object") {
    if (typeof body.error === "string") return body.error;
    if (typeof body.detail === "string") return body.detail;
    if (typeof body.message === "string") return body.message;
  }
  if (status === 404) return "not found (this hub has no such endpoint yet)";
  return text ? text.slice(0, 200) : `HTTP ${status}`;
}

export function createApi({ onUnauthorized = () => {} } = {}) {
  async function request(method, path, { params, body, signal } = {}) {
    const headers = { Accept: "application/json" };
    if (method !== "GET" && method !== "HEAD") {
      const csrf = cookie(CSRF_COOKIE);
      if (csrf) headers[CSRF_HEADER] = csrf;
    }
    let payload;
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      payload = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(withQuery(path, params), {
        method,
        headers,
        body: payload,
        signal,
        credentials: "same-origin",
      });
    } catch (err) {
      if (err && err.name === "AbortError") throw err;
      throw new ApiError(0, `the hub did not answer (${err && err.message ? err.message : err})`);
    }
    if (res.status === 204) return null;
    const text = await res.text();
    let data = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = null;
      }
    }
    if (res.status === 401) {
      onUnauthorized();
      throw new ApiError(401, messageOf(401, data, text), data);
    }
    if (!res.ok) throw new ApiError(res.status, messageOf(res.status, data, text), data);
    if (data && data.status === "error") throw new ApiError(res.status, data.error || "error", data);
    return data;
  }

  function promData(body) {
    if (!body || body.status !== "success" || !body.data) throw new ApiError(200, "malformed PromQL response", body);
    return body.data;
  }

  return {
    request,
    get: (path, params, opts = {}) => request("GET", path, { ...opts, params }),
    post: (path, body, opts = {}) => request("POST", path, { ...opts, body }),
    put: (path, body, opts = {}) => request("PUT", path, { ...opts, body }),
    patch: (path, body, opts = {}) => request("PATCH", path, { ...opts, body }),
    del: (path, params, opts = {}) => request("DELETE", path, { ...opts, params }),
    async query(expr, time, opts = {}) {
      return promData(await request("GET", "/api/v1/query", { ...opts, params: { query: expr, time } }));
    },
    async queryRange(expr, start, end, step, opts = {}) {
      return promData(
        await request("GET", "/api/v1/query_range", { ...opts, params: { query: expr, start, end, step } }),
      );
    },
    stream(path, params, onMessage, onError) {
      const source = new EventSource(withQuery(path, params), { withCredentials: true });
      source.onmessage = (ev) => {
        try {
          onMessage(JSON.parse(ev.data));
        } catch {
          /* a keep-alive or a non-JSON line */
        }
      };
      source.onerror = () => {
        if (onError) onError(source.readyState === EventSource.CLOSED);
      };
      return () => source.close();
    },
  };
}
