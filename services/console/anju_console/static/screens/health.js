// The family doctor's screens: the check-ups and follow-ups due in my areas (the query service's
// health board), recording a check-up — readings, findings, guidance — after which the board is
// read again with the check-up's consistency token, and the clinic days (义诊, health talks) held
// and recorded.
import { api } from "../api.js";
import { day, enumLabel, status } from "../i18n.js";
import { announce, field, h, select, showError, tokenOf } from "../ui.js";

const HORIZON_DAYS = 60;
const READINGS = [
  ["systolic_mmhg", "收缩压（mmHg）", "1"],
  ["diastolic_mmhg", "舒张压（mmHg）", "1"],
  ["fasting_glucose_mmol_l", "空腹血糖（mmol/L）", "0.1"],
  ["heart_rate_bpm", "心率（次/分）", "1"],
  ["weight_kg", "体重（kg）", "0.1"],
];
const INTEGER = new Set(["systolic_mmhg", "diastolic_mmhg", "heart_rate_bpm"]);

function isoDay(d) { return d.toISOString().slice(0, 10); }

export async function dueCheckUps(current, consistency) {
  const root = h("section", { "aria-labelledby": "checkups-title" });
  await renderBoard(root, current, consistency);
  return root;
}

async function renderBoard(root, current, consistency) {
  let board;
  try {
    board = await api.get("query", `/health/visits?within_days=${HORIZON_DAYS}&limit=100`, { consistency });
  } catch (error) {
    const box = h("div", {});
    showError(box, error);
    root.replaceChildren(h("h1", { id: "checkups-title" }, "体检随访"), box);
    return;
  }
  const overdue = board.groups.reduce((n, g) => n + g.overdue, 0);
  const due = board.groups.reduce((n, g) => n + g.due, 0);
  root.replaceChildren(
    h("h1", { id: "checkups-title" }, "体检随访"),
    h("p", { class: "muted" }, `${day(board.due_by)} 前到期的体检、随访，以及所有已逾期的。`),
    h("div", { class: "counts", "aria-label": "统计" },
      h("p", { class: "card" }, h("span", { class: "count", "data-count": "overdue" }, overdue), " ", status("health_visit", "overdue")),
      h("p", { class: "card" }, h("span", { class: "count", "data-count": "due" }, due), " ", status("health_visit", "due"))),
    board.items.length
      ? h("ul", { class: "cards", "aria-label": "待体检随访的居民" }, board.items.map((item) => visitCard(root, current, item)))
      : h("p", { class: "card done" }, "近期没有到期的体检或随访。"),
  );
}

function visitCard(root, current, item) {
  const what = item.programme ? enumLabel("health.Programme", item.programme) : enumLabel("health.VisitKind", item.kind);
  const li = h("li", { class: "card", "data-visit": item.visit_id, "data-resident": item.resident_id },
    h("h2", {}, item.name || "（居民信息同步中）"),
    h("p", {}, h("span", { class: `badge state-${item.state}` }, status("health_visit", item.state)), " ", what),
    h("p", {}, "应于 ", day(item.due_on), " 前完成"),
    item.grid_name ? h("p", { class: "muted" }, item.grid_name) : null,
  );
  const open = h("button", { type: "button" }, "记录体检");
  open.addEventListener("click", () => {
    open.hidden = true;
    li.append(checkUpForm(root, current, item, () => { open.hidden = false; }));
    li.querySelector("input").focus();
  });
  li.append(open);
  return li;
}

function checkUpForm(root, current, item, cancelled) {
  const inputs = READINGS.map(([name, label, step]) => [name, label, h("input", { type: "number", step, inputmode: "decimal" })]);
  const findings = h("textarea", {});
  const guidance = h("textarea", {});
  const form = h("form", { novalidate: true, "aria-label": `${item.name || "居民"}的体检` },
    h("div", { class: "sections" }, inputs.map(([name, label, input]) => field(label, input, name))),
    field("检查所见", findings, "findings"),
    field("健康指导（可不填）", guidance, "guidance"),
    h("div", { class: "row" },
      h("button", { type: "submit" }, "提交体检记录"),
      h("button", { type: "button", class: "secondary", onclick: () => { form.remove(); cancelled(); } }, "取消")));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const observations = {};
    for (const [name, , input] of inputs) {
      if (input.value === "") continue;
      observations[name] = INTEGER.has(name) ? Math.round(Number(input.value)) : Number(input.value);
    }
    const body = {
      programme: item.programme || undefined,
      observations,
      findings: findings.value.trim() || null,
      guidance: guidance.value.trim() || null,
    };
    try {
      const answer = await api.post("health", `/records/${item.resident_id}/encounters`, body);
      announce(`已记录${item.name || ""}的体检`);
      await renderBoard(root, current, tokenOf(answer));
    } catch (error) {
      // A blood pressure given by half is refused as a whole: its error stands by the systolic.
      showError(form, error.details && error.details.field === "blood_pressure"
        ? { ...error, details: { ...error.details, field: "systolic_mmhg" } } : error);
    }
  });
  return form;
}

// -- clinic days --------------------------------------------------------------------------------

const KINDS = ["free_check_up_day", "on_site_consultation", "medical_advice", "prevention_talk"];

export async function clinicDays(current, consistency) {
  const root = h("section", { "aria-labelledby": "clinic-title" });
  await renderClinicDays(root, current, consistency);
  return root;
}

async function renderClinicDays(root, current, consistency) {
  const since = new Date();
  since.setUTCDate(since.getUTCDate() - 90);
  let page;
  try {
    page = await api.get("query", `/health/activities?from=${isoDay(since)}&limit=50`, { consistency });
  } catch (error) {
    const box = h("div", {});
    showError(box, error);
    root.replaceChildren(h("h1", { id: "clinic-title" }, "义诊与健康活动"), box);
    return;
  }
  root.replaceChildren(
    h("h1", { id: "clinic-title" }, "义诊与健康活动"),
    h("p", {}, "近 90 天：", h("strong", { "data-activities": page.summary.count }, page.summary.count), " 场，服务 ",
      h("strong", { "data-served": page.summary.served }, page.summary.served), " 人次"),
    page.items.length
      ? h("table", { "aria-label": "健康活动" },
          h("thead", {}, h("tr", {}, ["日期", "类型", "地点", "主题", "服务人次"].map((t) => h("th", { scope: "col" }, t)))),
          h("tbody", {}, page.items.map((a) => h("tr", { "data-activity": a.id },
            h("td", {}, day(a.held_on)), h("td", {}, enumLabel("health.ActivityKind", a.kind)),
            h("td", {}, a.place), h("td", {}, a.topic || "—"), h("td", {}, a.served)))))
      : h("p", { class: "card" }, "近 90 天没有健康活动。"),
    h("div", { class: "card" }, h("h2", {}, "登记一场活动"), activityForm(root, current)),
  );
}

function activityForm(root, current) {
  const kind = select(KINDS.map((k) => [k, enumLabel("health.ActivityKind", k)]));
  const heldOn = h("input", { type: "date", value: isoDay(new Date()) });
  const place = h("input", { type: "text", autocomplete: "off" });
  const topic = h("input", { type: "text", autocomplete: "off" });
  const served = h("input", { type: "number", min: "0", step: "1", inputmode: "numeric" });
  const form = h("form", { novalidate: true, "aria-label": "登记健康活动" },
    field("活动类型", kind, "kind"), field("日期", heldOn, "held_on"), field("地点", place, "place"),
    field("主题（可不填）", topic, "topic"), field("服务人次", served, "served"),
    h("p", {}, h("button", { type: "submit" }, "登记活动")));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = {
      kind: kind.value, held_on: heldOn.value || null, area_id: current.areas[0], place: place.value.trim(),
      topic: topic.value.trim() || null, served: served.value === "" ? null : Number(served.value),
    };
    try {
      const answer = await api.post("health", "/activities", body);
      announce("已登记健康活动");
      await renderClinicDays(root, current, tokenOf(answer));
    } catch (error) {
      showError(form, error);
    }
  });
  return form;
}
