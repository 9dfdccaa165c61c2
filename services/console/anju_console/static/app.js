// The staff console: sign in, then the screens of one's role. Plain ES modules, no build step.
import { api, configure, session } from "./api.js";
import { load, role } from "./i18n.js";
import { h } from "./ui.js";
import { signIn } from "./screens/signin.js";
import { followUps } from "./screens/grid.js";
import { desk, notice } from "./screens/desk.js";
import { disputeBoard, disputeCase } from "./screens/disputes.js";
import { dashboardScreen, figureScreen, workItems } from "./screens/director.js";

const HOME = {
  grid_worker: "#/grid",
  desk_staff: "#/desk",
  mediator: "#/disputes",
  police: "#/disputes",
  director: "#/dashboard",
};
const MENU = {
  grid_worker: [["#/grid", "走访任务"]],
  desk_staff: [["#/desk", "窗口服务"]],
  mediator: [["#/disputes", "纠纷调解"]],
  police: [["#/disputes", "纠纷调解"]],
  director: [["#/dashboard", "工作仪表盘"], ["#/work-items", "工作事项督办"], ["#/disputes", "纠纷调解"]],
};

async function boot() {
  const [config, labels] = await Promise.all([
    fetch("/config.json").then((r) => r.json()),
    fetch("/labels.json").then((r) => r.json()),
  ]);
  configure(config);
  load(labels);
  window.addEventListener("hashchange", () => route(config));
  await route(config);
}

function header(current) {
  const nav = document.getElementById("nav");
  const who = document.getElementById("who");
  nav.replaceChildren();
  who.replaceChildren();
  if (!current) return;
  for (const [href, label] of MENU[current.role] || []) nav.append(h("a", { href }, label));
  who.append(
    h("span", {}, `${role(current.role)} · ${current.name}`),
    h("button", { type: "button", onclick: () => { session.clear(); location.hash = "#/sign-in"; } }, "退出"),
  );
}

async function route(config) {
  const main = document.getElementById("app");
  const current = session.get();
  header(current);
  const [, screen, id, ...rest] = location.hash.split("/");
  if (!current || screen === "sign-in") {
    if (current && screen === "sign-in") session.clear();
    header(null);
    return show(main, await signIn(config, (home) => { location.hash = home || HOME[session.get().role] || "#/none"; }, HOME));
  }
  const screens = {
    grid: () => followUps(current),
    desk: () => desk(current),
    notice: () => notice(current, id),
    disputes: () => disputeBoard(current),
    dispute: () => disputeCase(current, id),
    dashboard: () => dashboardScreen(current, id, rest[0]),
    figure: () => figureScreen(current, id, rest[0], rest[1]),
    "work-items": () => workItems(current),
  };
  const render = screens[screen];
  if (!render) {
    const home = HOME[current.role];
    if (home && location.hash !== home) { location.hash = home; return; }
    return show(main, h("div", {}, h("h1", {}, "工作台"), h("p", {}, `${role(current.role)}的页面正在建设中。`)));
  }
  show(main, await render());
}

function show(main, node) {
  main.replaceChildren(node);
  main.focus();
}

boot();
export { api };
