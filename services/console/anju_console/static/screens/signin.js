// Sign-in. In the dev stack: pick a role and an area, the console signs the token. In production
// the organisation's identity provider signs staff in (OIDC) and this page says so.
import { session } from "../api.js";
import { errorText, role as roleLabel } from "../i18n.js";
import { field, h, select, showError } from "../ui.js";

export async function signIn(config, done) {
  const mode = config.sign_in.mode;
  if (mode !== "dev") {
    const configured = config.sign_in.issuer && config.sign_in.client_id;
    return h("div", { class: "card" },
      h("h1", {}, "登录"),
      h("p", { class: "form-error", role: "alert" }, configured
        ? "请通过单位统一身份认证登录（OIDC）。本控制台尚未接入登录跳转，请联系系统管理员。"
        : "统一身份认证（OIDC）尚未配置：请设置 ANJU_CONSOLE_OIDC_ISSUER 和 ANJU_CONSOLE_OIDC_CLIENT_ID。"));
  }
  let areas = [];
  try {
    const response = await fetch("/sign-in/areas");
    if (response.ok) areas = await response.json();
  } catch { /* no query service yet: type the area's id */ }
  const roleSelect = select(config.sign_in.roles.map((r) => [r, roleLabel(r)]), "grid_worker");
  const areaControl = areas.length
    ? select(areas.map((a) => [a.id, `${a.kind === "grid" ? "　" : ""}${a.name}`]))
    : h("input", { type: "text", autocomplete: "off" });
  const name = h("input", { type: "text", autocomplete: "username", value: "" });
  const form = h("form", { class: "card", novalidate: true },
    h("h1", {}, "登录（开发环境）"),
    h("p", { class: "muted" }, "选择角色和负责的区域。"),
    field("角色", roleSelect, "role"),
    field("区域", areaControl, "areas"),
    field("工号（可不填）", name, "name"),
    h("p", {}, h("button", { type: "submit" }, "登录")));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = { role: roleSelect.value, areas: areaControl.value ? [areaControl.value] : [], name: name.value.trim() };
    const response = await fetch("/sign-in/dev", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    });
    const data = await response.json();
    if (!response.ok) {
      const error = data.error || { code: "internal_error" };
      showError(form, { code: error.code, details: error.details });
      return;
    }
    session.set({ token: data.token, expires_at: data.expires_at, role: body.role, areas: body.areas, name: body.name || roleLabel(body.role) });
    done();
  });
  return form;
}
export { errorText };
