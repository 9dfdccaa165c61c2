// Sign-in. In the dev stack: pick a role and an area, the console signs the token. In production
// staff sign in at the organisation's identity provider (OIDC, see oidc.js): this page sends them
// there, and says why when coming back did not sign them in.
import { session } from "../api.js";
import { SignInFailed, startSignIn } from "../oidc.js";
import { errorText, role as roleLabel } from "../i18n.js";
import { field, h, select, showError } from "../ui.js";

const FAILED = {
  state: "登录未完成：返回的登录请求与本页发出的不一致，请重新登录。",
  refused: "统一身份认证未同意登录，请重新登录。",
  exchange: "未能从统一身份认证取得登录凭证，请重新登录。",
  nonce: "统一身份认证返回的凭证与本次登录不符，请重新登录。",
  no_role: "您的账号在本系统中没有角色，请联系系统管理员开通。",
  unavailable: "系统暂时无法确认您的身份，请稍后重试。",
  provider: "统一身份认证暂时无法访问，请稍后重试。",
};

export async function signIn(config, done, home, failed) {
  const mode = config.sign_in.mode;
  if (mode !== "dev") return oidcSignIn(config.sign_in, failed);
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
// The identity provider's sign-in: one button; what went wrong last time above it.
function oidcSignIn(oidc, failed) {
  const card = h("div", { class: "card" }, h("h1", {}, "登录"));
  if (!oidc.issuer || !oidc.client_id) {
    card.append(h("p", { class: "form-error", role: "alert" },
      "统一身份认证（OIDC）尚未配置：请设置 ANJU_CONSOLE_OIDC_ISSUER 和 ANJU_CONSOLE_OIDC_CLIENT_ID。"));
    return card;
  }
  const problem = h("p", { class: "form-error", role: "alert", hidden: !failed },
    failed ? FAILED[failed.reason] || FAILED.exchange : "");
  const go = h("button", { type: "button" }, "使用单位统一身份认证登录");
  go.addEventListener("click", async () => {
    go.disabled = true;
    try {
      const back = location.hash.startsWith("#/") && location.hash !== "#/sign-in" ? location.hash : "";
      await startSignIn(oidc, back);
    } catch (error) {
      problem.textContent = FAILED[error instanceof SignInFailed ? error.reason : "provider"] || FAILED.provider;
      problem.hidden = false;
      go.disabled = false;
    }
  });
  card.append(problem, h("p", { class: "muted" }, "本系统通过单位统一身份认证登录，账号和密码只在认证页面输入。"), h("p", {}, go));
  return card;
}

export { errorText };
