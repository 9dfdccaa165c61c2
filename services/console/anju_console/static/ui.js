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
export function showError(form, error) {
  clearErrors(form);
  const fields = (error.details && error.details.fields) || [];
  let placed = false;
  for (const problem of fields) {
    const name = String(problem.field || "").split(".")[0];
    const wrapper = form.querySelector(`[data-field="${name}"]`);
    if (!wrapper) continue;
    const p = wrapper.querySelector(".field-error");
    p.textContent = fieldErrorText(problem.type);
    p.hidden = false;
    wrapper.querySelector("input, select, textarea").setAttribute("aria-invalid", "true");
    placed = true;
  }
  if (!placed || error.code !== "validation_failed") {
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
