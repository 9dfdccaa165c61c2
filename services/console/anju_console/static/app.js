// The staff console: sign in, then the screens of one's role. Plain ES modules, no build step.
import { api, configure, session } from "./api.js";
import { load, role } from "./i18n.js";
import { h } from "./ui.js";
import { signIn } from "./screens/signin.js";
import { finishSignIn, signOut } from "./oidc.js";
import { followUps } from "./screens/grid.js";
import { certificate, desk, notice, serviceCase } from "./screens/desk.js";
import { residentProfile } from "./screens/resident.js";
import { disputeBoard, disputeCase } from "./screens/disputes.js";
import { auditScreen, dashboardScreen, figureScreen, workItems } from "./screens/director.js";
import { clinicDays, dueCheckUps } from "./screens/health.js";
import { openRequests, volunteerHours, volunteerList } from "./screens/volunteering.js";
import { petitionCase, petitionList } from "./screens/petitions.js";

const HOME = {
  grid_worker: "#/grid",
  desk_staff: "#/desk",
  mediator: "#/disputes",
  police: "#/disputes",
  director: "#/dashboard",
  doctor: "#/checkups",
  volunteer_coordinator: "#/requests",
  petition_agent: "#/petitions",
};
const MENU = {
  grid_worker: [["#/grid", "走访任务"]],
  desk_staff: [["#/desk", "窗口服务"]],
  mediator: [["#/disputes", "纠纷调解"]],
  police: [["#/disputes", "纠纷调解"]],
  director: [["#/dashboard", "工作仪表盘"], ["#/work-items", "工作事项督办"], ["#/disputes", "纠纷调解"],
    ["#/petitions", "信访代办"], ["#/audit", "敏感信息查阅记录"]],
  doctor: [["#/checkups", "体检随访"], ["#/clinic-days", "义诊与健康活动"]],
  volunteer_coordinator: [["#/requests", "服务需求派单"], ["#/volunteers", "志愿者与服务时长"]],
  petition_agent: [["#/petitions", "信访代办"]],
};

async function boot() {
  const [config, labels] = await Promise.all([
    fetch("/config.json").then((r) => r.json()),
    fetch("/labels.json").then((r) => r.json()),
  ]);
  configure(config);
  load(labels);
  if (config.sign_in.mode === "oidc") await returnedFromProvider(config);
  window.addEventListener("hashchange", () => route(config));
  await route(config);
}

// Back from the identity provider: the session it signed in (the screen asked for before, or the
// role's home), or why not, for the sign-in page to say.
let signInFailure = null;
async function returnedFromProvider(config) {
  try {
    const signed = await finishSignIn(config.sign_in);
    if (!signed) return;
    const role = signed.session.roles.find((r) => HOME[r]) || signed.session.roles[0];
    session.set({ ...signed.session, role });
    history.replaceState(null, "", location.pathname + (signed.back || HOME[role] || "#/"));
  } catch (error) {
    signInFailure = error;
  }
}

function leave(config) {
  if (config.sign_in.mode === "oidc") return signOut(config.sign_in);
  session.clear();
  location.hash = "#/sign-in";
}

function header(current, config) {
  const nav = document.getElementById("nav");
  const who = document.getElementById("who");
  nav.replaceChildren();
  who.replaceChildren();
  if (!current) return;
  for (const [href, label] of MENU[current.role] || []) nav.append(h("a", { href }, label));
  who.append(
    h("span", {}, `${role(current.role)} · ${current.name}`),
    h("button", { type: "button", onclick: () => leave(config) }, "退出"),
  );
}

// Each navigation renders its screen asynchronously; only the latest may show what it rendered,
// so a slow screen left behind (the home page still loading when staff pick another) never
// replaces the one they went to.
let navigation = 0;

async function route(config) {
  const mine = ++navigation;
  const main = document.getElementById("app");
  const current = session.get();
  header(current, config);
  const [, screen, id, ...rest] = location.hash.split("/");
  if (!current || screen === "sign-in") {
    if (current && screen === "sign-in") session.clear();
    header(null);
    const failed = signInFailure;
    signInFailure = null;
    const page = await signIn(config, (home) => { location.hash = home || HOME[session.get().role] || "#/none"; }, HOME, failed);
    if (mine === navigation) show(main, page);
    return;
  }
  const screens = {
    grid: () => followUps(current),
    resident: () => residentProfile(current, id),
    desk: () => desk(current),
    service: () => serviceCase(current, id),
    notice: () => notice(current, id),
    certificate: () => certificate(current, id),
    disputes: () => disputeBoard(current),
    dispute: () => disputeCase(current, id),
    dashboard: () => dashboardScreen(current, id, rest[0]),
    figure: () => figureScreen(current, id, rest[0], rest[1]),
    "work-items": () => workItems(current),
    audit: () => auditScreen(current, id, rest[0]),
    checkups: () => dueCheckUps(current),
    "clinic-days": () => clinicDays(current),
    requests: () => openRequests(current),
    volunteers: () => volunteerList(current),
    volunteer: () => volunteerHours(current, id, rest[0]),
    petitions: () => petitionList(current),
    petition: () => petitionCase(current, id),
  };
  const render = screens[screen];
  if (!render) {
    const home = HOME[current.role];
    if (home && location.hash !== home) { location.hash = home; return; }
    return show(main, h("div", {}, h("h1", {}, "工作台"), h("p", {}, `${role(current.role)}的页面正在建设中。`)));
  }
  const node = await render();
  if (mine === navigation) show(main, node);
}

function show(main, node) {
  main.replaceChildren(node);
  main.focus();
}

boot();
export { api };
