// The services' public HTTP APIs, called with the staff member's token. The token lives in this
// tab's sessionStorage only: never in a URL, a log or localStorage.
const SESSION = "anju.session";

export const session = {
  get() {
    const raw = sessionStorage.getItem(SESSION);
    if (!raw) return null;
    const value = JSON.parse(raw);
    if (new Date(value.expires_at) <= new Date()) { sessionStorage.removeItem(SESSION); return null; }
    return value;
  },
  set(value) { sessionStorage.setItem(SESSION, JSON.stringify(value)); },
  clear() { sessionStorage.removeItem(SESSION); },
};

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details || {};
  }
}

let apis = {};
export function configure(config) { apis = config.apis; }
export const apiUrl = (service, path) => `${apis[service]}${path}`;

async function call(service, method, path, { body, consistency } = {}) {
  const s = session.get();
  const headers = { Accept: "application/json" };
  if (s) headers.Authorization = `Bearer ${s.token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  // Read your writes: the token a command answered travels in a header, not in the URL.
  if (consistency) headers["X-Consistency-Token"] = consistency;
  let response;
  try {
    response = await fetch(apiUrl(service, path), {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, "unavailable", "network");
  }
  const text = await response.text();
  const data = text ? JSON.parse(text) : null;
  if (!response.ok) {
    const error = (data && data.error) || {};
    throw new ApiError(response.status, error.code || "internal_error", error.message || "", error.details);
  }
  return data;
}

export const api = {
  get: (service, path, options) => call(service, "GET", path, options),
  post: (service, path, body, options) => call(service, "POST", path, { ...options, body }),
};

// A file an API answers only with the token (a printable report, a certificate's PDF): fetched
// with it and opened in a new tab from a blob URL, so the token never travels in a URL.
export async function openFile(service, path) {
  const opened = window.open("", "_blank");
  try {
    const response = await fetch(apiUrl(service, path), {
      headers: { Authorization: `Bearer ${session.get().token}` },
    });
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      const error = body.error || {};
      throw new ApiError(response.status, error.code || "internal_error", error.message || "", error.details);
    }
    const url = URL.createObjectURL(await response.blob());
    if (opened) opened.location.href = url; else location.assign(url);
  } catch (error) {
    if (opened) opened.close();
    throw error;
  }
}
