// A resident's profile for the grid worker (phone-sized): who they are and where they live, their
// special-group flags with the risk tier, the follow-up plan and the visits, the household, the
// disputes the caller may see, the service requests raised for them and the conflict signals of
// their building. From it the grid worker raises a flag (registry), reports a conflict signal
// (mediation) and raises a service request (volunteering); after each, the profile is read again
// with the command's consistency token, so it shows the change at once.
import { api } from "../api.js";
import { day, enumCodes, enumLabel, status, when } from "../i18n.js";
import { announce, field, form, h, select, showError, tokenOf } from "../ui.js";

export async function residentProfile(current, residentId) {
  const root = h("article", { "aria-labelledby": "resident-title" });
  await render(root, current, residentId);
  return root;
}

async function render(root, current, residentId, consistency) {
  let profile, signals;
  try {
    profile = await api.get("query", `/residents/${residentId}`, { consistency });
    const area = profile.resident.location.building_id || profile.resident.location.grid_id;
    signals = area ? await api.get("query", `/signals?area_id=${area}&limit=20`, { consistency }) : { items: [] };
  } catch (error) {
    const box = h("div", {}, h("h1", { id: "resident-title" }, "居民档案"));
    showError(box, error);
    root.replaceChildren(box, h("p", {}, h("a", { href: "#/grid" }, "返回走访任务")));
    return;
  }
  const again = (answer, text) => { announce(text); return render(root, current, residentId, tokenOf(answer)); };
  const r = profile.resident;
  const place = [r.location.community_name, r.location.grid_name, r.location.building_name, r.location.unit_name].filter(Boolean).join(" · ");
  root.replaceChildren(
    h("p", { class: "no-print" }, h("a", { href: "#/grid" }, "← 返回走访任务")),
    h("h1", { id: "resident-title" }, r.name),
    h("dl", { class: "facts" },
      h("dt", {}, "性别"), h("dd", {}, enumLabel("registry.Sex", r.sex)),
      h("dt", {}, "年龄"), h("dd", {}, `${r.age} 岁`),
      h("dt", {}, "身份证号"), h("dd", {}, r.id_number),
      h("dt", {}, "住址"), h("dd", {}, place || "—"),
      h("dt", {}, "联系电话"), h("dd", {}, profile.phone || "—"),
      h("dt", {}, "状态"), h("dd", {}, status("resident", r.status))),
    flagsSection(profile, again),
    followUpSection(profile),
    householdSection(profile),
    disputesSection(profile),
    signalsSection(profile, signals, again),
    servicesSection(profile, again),
  );
}

function section(name, title, ...children) {
  return h("section", { class: "card", "data-section": name, "aria-labelledby": `${name}-title` },
    h("h2", { id: `${name}-title` }, title), ...children);
}

function flagsSection(profile, again) {
  const active = profile.flags.filter((f) => f.active);
  const type = select([["", "请选择"], ...enumCodes("registry.FlagType").map((c) => [c, enumLabel("registry.FlagType", c)])]);
  const tier = select(enumCodes("registry.RiskTier").map((c) => [c, enumLabel("registry.RiskTier", c)]), "blue");
  const note = h("input", { type: "text", autocomplete: "off" });
  return section("flags", "特殊群体标记",
    active.length
      ? h("ul", { "aria-label": "特殊群体标记" }, active.map((f) => h("li", { "data-flag": f.type },
          h("span", { class: `badge tier-${f.tier}` }, `${enumLabel("registry.FlagType", f.type)} · ${enumLabel("registry.RiskTier", f.tier)}`),
          " 自 ", day(f.since), f.note ? ` · ${f.note}` : "")))
      : h("p", { class: "muted" }, "没有特殊群体标记。"),
    form("新增标记", [field("类别", type, "flag"), field("风险等级", tier, "tier"), field("说明（可不填）", note, "note")], "新增标记", async (node) => {
      try {
        const answer = await api.post("registry", `/residents/${profile.resident.id}/flags`, {
          flag: type.value || null, tier: tier.value, note: note.value.trim() || null,
        });
        await again(answer, `已标记为${enumLabel("registry.FlagType", type.value)}`);
      } catch (error) {
        showError(node, error, { flag_already_raised: "flag" });
      }
    }));
}

function followUpSection(profile) {
  const plan = profile.follow_up;
  return section("follow-up", "走访计划",
    plan && !plan.stopped
      ? h("dl", { class: "facts" },
          h("dt", {}, "下次走访"), h("dd", {}, when(plan.due_by), plan.state ? [" ", h("span", { class: `badge state-${plan.state}` }, status("follow_up", plan.state))] : null),
          h("dt", {}, "走访周期"), h("dd", {}, plan.interval_days ? `每 ${plan.interval_days} 天` : "—"),
          h("dt", {}, "上次走访"), h("dd", {}, when(plan.last_visit_at)),
          h("dt", {}, "走访人"), h("dd", {}, plan.grid_worker_id || "—"))
      : h("p", { class: "muted" }, "没有走访计划。"),
    h("h3", {}, "走访记录"),
    profile.visits.length
      ? h("ol", { class: "timeline", "aria-label": "走访记录" }, profile.visits.map((v) => h("li", { "data-visit": v.id },
          h("strong", {}, when(v.visited_at)), ` · ${v.grid_worker_id}`, h("br"), v.findings,
          v.actions ? [h("br"), `措施：${v.actions}`] : null,
          v.errands.length ? [h("br"), `代办：${v.errands.join("、")}`] : null)))
      : h("p", { class: "muted" }, "还没有走访记录。"));
}

function householdSection(profile) {
  const household = profile.household;
  return section("household", "家庭成员",
    household && household.members.length
      ? h("ul", { "aria-label": "家庭成员" }, household.members.map((m) => h("li", {},
          `${m.name || "（信息同步中）"} · ${enumLabel("registry.Relation", m.relation)}`, m.is_head ? "（户主）" : "",
          m.status && m.status !== "active" ? ` · ${status("resident", m.status)}` : "")))
      : h("p", { class: "muted" }, "没有登记家庭。"));
}

function disputesSection(profile) {
  return section("disputes", "矛盾纠纷",
    profile.disputes.length
      ? h("ul", { "aria-label": "矛盾纠纷" }, profile.disputes.map((d) => h("li", { "data-dispute": d.id },
          h("a", { href: `#/dispute/${d.id}` }, `${enumLabel("mediation.Category", d.category)}纠纷`),
          ` · ${status("dispute", d.status)} · 登记于 `, when(d.registered_at))))
      : h("p", { class: "muted" }, "没有可查看的纠纷。"));
}

function signalsSection(profile, signals, again) {
  const r = profile.resident;
  const area = r.location.building_id || r.location.grid_id;
  const category = select([["", "请选择"], ...enumCodes("mediation.Category").map((c) => [c, enumLabel("mediation.Category", c)])]);
  const description = h("textarea", {});
  return section("signals", r.location.building_name ? `矛盾隐患（${r.location.building_name}）` : "矛盾隐患",
    signals.items.length
      ? h("ul", { "aria-label": "矛盾隐患" }, signals.items.map((s) => h("li", { "data-signal": s.id },
          h("strong", {}, enumLabel("mediation.Category", s.category)), ` · ${status("signal", s.status)} · `, when(s.reported_at),
          h("br"), s.description)))
      : h("p", { class: "muted" }, "没有上报的矛盾隐患。"),
    form("上报矛盾隐患", [field("类别", category, "category"), field("情况描述", description, "description")], "上报", async (node) => {
      try {
        const answer = await api.post("mediation", "/signals", {
          reporter_role: "grid_worker", area_id: area, category: category.value || null,
          description: description.value.trim(), involved_resident_ids: [r.id],
        });
        await again(answer, "已上报矛盾隐患");
      } catch (error) {
        showError(node, error);
      }
    }));
}

function servicesSection(profile, again) {
  const services = profile.services || { requests: [], cleaning_plan: null };
  const kind = select([["", "请选择"], ...enumCodes("volunteering.RequestKind").map((c) => [c, enumLabel("volunteering.RequestKind", c)])]);
  const description = h("textarea", {});
  const plan = services.cleaning_plan;
  return section("services", "志愿服务需求",
    plan && plan.active ? h("p", {}, `每月入户清洁，自 ${day(plan.started_on)} 起`) : null,
    services.requests.length
      ? h("ul", { "aria-label": "服务需求" }, services.requests.map((s) => h("li", { "data-request": s.id },
          h("strong", {}, enumLabel("volunteering.RequestKind", s.kind)), ` · ${status("service_request", s.status)} · 提出于 `, when(s.raised_at))))
      : h("p", { class: "muted" }, "没有服务需求。"),
    form("提出服务需求", [field("服务类型", kind, "kind"), field("需求描述", description, "description")], "提出需求", async (node) => {
      try {
        const answer = await api.post("volunteering", "/requests", {
          resident_id: profile.resident.id, kind: kind.value || null, description: description.value.trim(),
        });
        await again(answer, "已提出服务需求");
      } catch (error) {
        showError(node, error);
      }
    }));
}
