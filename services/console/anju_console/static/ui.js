// Small helpers shared by the screens: building elements, forms, errors beside their fields.
import { errorText, fieldErrorText } from "./i18n.js";

export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "class") node.className = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

let ids = 0;
// A labelled input: the label names it for screen readers, the error sits right under it.
export function field(label, control, name) {
  const id = control.id || `f${++ids}`;
  control.id = id;
  control.name = name;
  const error = h("p", { class: "field-error", id: `${id}-error`, hidden: true });
  control.setAttribute("aria-describedby", error.id);
  return h("div", { class: "field", "data-field": name }, h("label", { for: id }, label), control, error);
}

export function select(options, value) {
  return h("select", {}, options.map(([code, label]) => h("option", { value: code, selected: code === value }, label)));
}

export function clearErrors(form) {
  form.querySelectorAll(".field-error").forEach((p) => { p.hidden = true; p.textContent = ""; });
  form.querySelectorAll("[aria-invalid]").forEach((c) => c.removeAttribute("aria-invalid"));
  const top = form.querySelector(".form-error");
  if (top) top.remove();
}

// An API error shown as a Chinese sentence next to the field that caused it, or above the form.
// A validation error names its fields; a rule the domain refused may name one (``details.field``),
// and a screen may say which field a code concerns (``byCode``: code → field name).
export function showError(form, error, byCode = {}) {
  clearErrors(form);
  const details = error.details || {};
  const problems = (details.fields || []).map((p) => [p.field, fieldErrorText(p.type)]);
  const named = details.field || byCode[error.code];
  if (error.code !== "validation_failed" && named) problems.push([named, errorText(error.code)]);
  let placed = false;
  for (const [field, text] of problems) {
    const name = String(field || "").split(".")[0];
    const wrapper = form.querySelector(`[data-field="${name}"]`);
    if (!wrapper) continue;
    const p = wrapper.querySelector(".field-error");
    p.textContent = text;
    p.hidden = false;
    const control = wrapper.querySelector("input, select, textarea");
    if (control) control.setAttribute("aria-invalid", "true");
    placed = true;
  }
  if (!placed || (error.code !== "validation_failed" && !named)) {
    form.prepend(h("p", { class: "form-error", role: "alert", "data-code": error.code }, errorText(error.code)));
  }
}

export function announce(text) {
  const status = document.getElementById("status");
  status.textContent = text;
  status.classList.add("shown");
  clearTimeout(announce.timer);
  announce.timer = setTimeout(() => status.classList.remove("shown"), 4000);
}

// A group of controls (checkboxes, one text box per party) under one legend, its error under it.
export function group(legend, controls, name) {
  const error = h("p", { class: "field-error", id: `g${++ids}-error`, hidden: true });
  return h("fieldset", { class: "field", "data-field": name, "aria-describedby": error.id },
    h("legend", {}, legend), controls, error);
}

// A checkbox with its label beside it.
export function check(label, value, checked = false) {
  const id = `c${++ids}`;
  return h("div", { class: "check" },
    h("input", { type: "checkbox", id, value, checked }), h("label", { for: id }, label));
}

// The sections a page is read again with after a command (read your writes): pass the
// command's consistency token on, so the query service answers only once it has the change.
export function tokenOf(answer) { return answer && answer.consistency_token; }

// A command's form: its fields and one submit button, disabled while the command is under way.
export function form(label, fields, submit, onsubmit) {
  const node = h("form", { novalidate: true, "aria-label": label }, ...fields, h("p", {}, h("button", { type: "submit" }, submit)));
  node.addEventListener("submit", async (e) => {
    e.preventDefault();
    const button = node.querySelector("button[type=submit]");
    button.disabled = true;
    try { await onsubmit(node); } finally { button.disabled = false; }
  });
  return node;
}
