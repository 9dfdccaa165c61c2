// The Chinese label table (/labels.json, one place for every code) and local dates.
let table = { roles: {}, enums: {}, statuses: {}, events: {}, routes: {}, errors: {}, field_errors: {} };
export function load(labels) { table = labels; }

export const role = (code) => table.roles[code] || code;
export const enumLabel = (name, code) => (table.enums[name] || {})[code] || code;
// An enumeration's codes, in the table's order (the table has every code of the contracts).
export const enumCodes = (name) => Object.keys(table.enums[name] || {});
export const status = (kind, code) => (table.statuses[kind] || {})[code] || code;
export const event = (type) => table.events[type] || type;
// The route an audited read came by (``GET /disputes/{dispute_id}``), as staff know the screen.
export const route = (path) => (table.routes || {})[path] || path;
export function errorText(code) {
  return table.errors[code] || table.errors.internal_error || "出错了";
}
export function fieldErrorText(type) {
  return table.field_errors[type] || table.field_errors.value_error || "填写的内容有误。";
}

const dateTime = new Intl.DateTimeFormat("zh-CN", { dateStyle: "medium", timeStyle: "short" });
const dateOnly = new Intl.DateTimeFormat("zh-CN", { dateStyle: "long" });
// Times come from the APIs in UTC; staff read them in the browser's local time.
export const when = (iso) => (iso ? dateTime.format(new Date(iso)) : "—");
export const day = (iso) => (iso ? dateOnly.format(new Date(iso)) : "—");
