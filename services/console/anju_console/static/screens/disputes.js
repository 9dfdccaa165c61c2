// The mediator's screens (also the community police's and the director's): the dispute board with
// its SLA colours, and a dispute's case page, where the dispute is worked from registration to the
// parties' agreement. The case page reads the dispute twice: mediation's own view (its version,
// its parties' ids, its sessions) and the query service's (the whole timeline), the latter with
// the last command's consistency token so that it shows what was just done.
import { api } from "../api.js";
import { enumLabel, event, status, when } from "../i18n.js";
import { announce, check, field, form, group, h, select, showError, tokenOf } from "../ui.js";

const SLA_STATES = ["breached", "at_risk", "on_track"];

export async function disputeBoard(current, consistency) {
  const root = h("section", { "aria-labelledby": "disputes-title" });
  const filters = h("form", { class: "row", "aria-label": "筛选" });
  const sla = select([["", "全部"], ...SLA_STATES.map((s) => [s, status("sla", s)])]);
  const state = select([["open", status("dispute", "open")], ["resolved", status("dispute", "resolved")], ["closed", status("dispute", "closed")], ["", "全部"]], "open");
  filters.append(field("办理时限", sla, "sla_state"), field("状态", state, "status"));
  const list = h("div", {});
  const counts = h("div", { class: "counts", "aria-label": "统计" });
  const load = async (token) => {
    const query = new URLSearchParams({ limit: "100" });
    if (sla.value) query.set("sla_state", sla.value);
    if (state.value) query.set("status", state.value);
    try {
      const [page, ...totals] = await Promise.all([
        api.get("query", `/disputes?${query}`, { consistency: token }),
        ...SLA_STATES.map((s) => api.get("query", `/disputes?status=open&sla_state=${s}&limit=1`)),
      ]);
      counts.replaceChildren(...SLA_STATES.map((s, i) => h("p", { class: `card slacard slacard-${s}` },
        h("span", { class: "count", "data-count": s }, totals[i].total), " ", status("sla", s))));
      list.replaceChildren(page.items.length
        ? h("ul", { class: "cards", "aria-label": "纠纷" }, page.items.map(card))
        : h("p", { class: "card done" }, "没有符合条件的纠纷。"));
    } catch (error) {
      showError(list, error);
    }
  };
  sla.addEventListener("change", () => load());
  state.addEventListener("change", () => load());
  root.append(h("h1", { id: "disputes-title" }, "纠纷调解"), counts, filters, list);
  await load(consistency);
  return root;
}

function card(item) {
  const colour = item.sla_state || "none";
  return h("li", { class: `card slacard slacard-${colour}`, "data-dispute": item.id },
    h("h2", {}, h("a", { href: `#/dispute/${item.id}` }, `${enumLabel("mediation.Category", item.category)} · ${item.description.slice(0, 24)}`)),
    h("p", {},
      h("span", { class: "badge" }, status("dispute", item.status)), " ",
      h("span", { class: "badge" }, enumLabel("mediation.Tier", item.tier)), " ",
      item.sla_state ? h("span", { class: `badge sla-${item.sla_state}`, "data-sla": item.sla_state }, status("sla", item.sla_state)) : null,
      item.sensitivity === "sensitive" ? h("span", { class: "badge tier-red" }, enumLabel("mediation.Sensitivity", "sensitive")) : null),
    h("p", { class: "muted" }, "办结时限：", when(item.sla_due_by)),
    h("p", { class: "muted" }, "登记于 ", when(item.registered_at), item.mediators.length ? ` · 调解员 ${item.mediators.join("、")}` : " · 尚未指派调解员"));
}

// -- the case page -----------------------------------------------------------------------------

export async function disputeCase(current, disputeId, consistency) {
  const root = h("article", { "aria-labelledby": "case-title" });
  await renderCase(root, current, disputeId, consistency);
  return root;
}

async function renderCase(root, current, disputeId, consistency) {
  let state, detail;
  try {
    [state, detail] = await Promise.all([
      api.get("mediation", `/disputes/${disputeId}`),
      api.get("query", `/disputes/${disputeId}`, { consistency }),
    ]);
  } catch (error) {
    const box = h("div", {}, h("h1", { id: "case-title" }, "纠纷"));
    showError(box, error);
    root.replaceChildren(box, h("p", {}, h("a", { href: "#/disputes" }, "返回纠纷调解")));
    return;
  }
  const again = (answer, text) => {
    announce(text);
    return renderCase(root, current, disputeId, tokenOf(answer));
  };
  const item = detail.dispute;
  const open = state.status === "open";
  const names = Object.fromEntries(detail.parties.map((p) => [p.party_id, p.name || enumLabel("mediation.PartyRole", p.role)]));
  const entries = (type) => detail.timeline.filter((e) => e.type === type);
  root.replaceChildren(
    h("p", { class: "no-print" }, h("a", { href: "#/disputes" }, "← 返回纠纷调解")),
    h("h1", { id: "case-title" }, `${enumLabel("mediation.Category", item.category)}纠纷`),
    h("p", {},
      h("span", { class: "badge", "data-status": state.status }, status("dispute", state.status)), " ",
      h("span", { class: "badge" }, enumLabel("mediation.Tier", state.tier)), " ",
      item.sla_state ? h("span", { class: `badge sla-${item.sla_state}` }, `${status("sla", item.sla_state)} · ${when(item.sla_due_by)} 前办结`) : null),
    h("p", {}, item.description),
    h("dl", { class: "facts" },
      h("dt", {}, "登记渠道"), h("dd", {}, enumLabel("mediation.Channel", item.channel)),
      h("dt", {}, "登记时间"), h("dd", {}, when(item.registered_at)),
      h("dt", {}, "敏感程度"), h("dd", {}, enumLabel("mediation.Sensitivity", item.sensitivity))),
    h("div", { class: "sections" },
      section("当事人", "parties", h("ul", {}, detail.parties.map((p) =>
        h("li", { "data-party": p.party_id }, `${p.name || "（未登记姓名）"} · ${enumLabel("mediation.PartyRole", p.role)}`)))),
      section("调解员", "mediators",
        detail.mediators.length
          ? h("ul", {}, detail.mediators.map((m) => h("li", {}, `${m.name || m.mediator_id} · ${enumLabel("mediation.MediatorRole", m.role)}`, m.active ? "" : "（已撤出）")))
          : h("p", { class: "muted" }, "尚未指派调解员。"),
        open ? assignForm(current, state, again) : null),
      section("调解会", "sessions", sessionList(state, entries, again, open), open ? scheduleForm(state, again) : null),
      section("调解协议", "agreement", agreement(state, detail, names, entries, again, open)),
      section("转办", "referrals", referrals(entries)),
      section("回访", "return-visits", returnVisits(entries, names))),
    section("办理经过", "timeline", h("ol", { class: "timeline" }, detail.timeline.map((e) =>
      h("li", { "data-event": e.type }, h("strong", {}, event(`mediation.${e.type}`)), " · ", when(e.occurred_at), h("span", { class: "muted" }, ` · ${e.actor_id}`))))),
  );
}

function section(title, name, ...children) {
  return h("section", { class: "card", "data-section": name, "aria-label": title }, h("h2", {}, title), ...children);
}

function assignForm(current, state, again) {
  const id = h("input", { type: "text", value: current.name, autocomplete: "off" });
  const name = h("input", { type: "text", autocomplete: "off" });
  const roles = ["peoples_mediator", "grid_worker", "police_mediator", "law_enforcement_officer", "volunteer_mediator", "lawyer"];
  const role = select(roles.map((r) => [r, enumLabel("mediation.MediatorRole", r)]), current.role === "police" ? "police_mediator" : "peoples_mediator");
  return form("指派调解员", [field("调解员工号", id, "mediator_id"), field("调解员姓名（可不填）", name, "name"), field("身份", role, "role")], "指派", async (node) => {
    try {
      const answer = await api.post("mediation", `/disputes/${state.id}/mediators`, {
        mediator_id: id.value.trim(), role: role.value, name: name.value.trim() || null, expected_version: state.version,
      });
      await again(answer, "已指派调解员");
    } catch (error) { showError(node, error); }
  });
}

function sessionList(state, entries, again, open) {
  const scheduled = entries("MediationSessionScheduled");
  const held = Object.fromEntries(entries("MediationSessionHeld").map((e) => [e.data.session_id, e.data]));
  const unplanned = Object.values(held).filter((s) => !scheduled.some((e) => e.data.session_id === s.session_id));
  const rows = [
    ...scheduled.map((e) => ({ id: e.data.session_id, at: e.data.scheduled_for, place: e.data.place })),
    ...unplanned.map((s) => ({ id: s.session_id, at: s.held_at, place: s.place })),
  ];
  if (!rows.length) return h("p", { class: "muted" }, "尚未安排调解会。");
  return h("ul", { class: "plain" }, rows.map((row) => {
    const done = held[row.id];
    return h("li", { "data-session": row.id },
      h("p", {}, `${when(row.at)} · ${enumLabel("mediation.SessionPlace", row.place)} · `,
        h("span", { class: done ? "badge done" : "badge state-due" }, done ? "已召开" : "待召开")),
      done ? h("p", { class: "muted" }, `参加人：${done.attendees.join("、")}；记录：${done.minutes}`) : null,
      !done && open ? holdForm(state, row.id, again) : null);
  }));
}

function scheduleForm(state, again) {
  const at = h("input", { type: "datetime-local" });
  const places = ["fengqiao_hut", "police_point", "station", "on_site"];
  const place = select(places.map((p) => [p, enumLabel("mediation.SessionPlace", p)]));
  return form("安排调解会", [field("调解会时间", at, "scheduled_for"), field("地点", place, "place")], "安排调解会", async (node) => {
    try {
      const answer = await api.post("mediation", `/disputes/${state.id}/sessions`, {
        scheduled_for: at.value ? new Date(at.value).toISOString() : null, place: place.value, expected_version: state.version,
      });
      await again(answer, "已安排调解会");
    } catch (error) { showError(node, error); }
  });
}

function holdForm(state, sessionId, again) {
  const attendees = h("textarea", { placeholder: "每行一人" });
  const minutes = h("textarea", {});
  return form("记录调解会", [field("参加人（每行一人）", attendees, "attendees"), field("调解记录", minutes, "minutes")], "记录召开", async (node) => {
    try {
      const answer = await api.post("mediation", `/disputes/${state.id}/sessions/${sessionId}/held`, {
        attendees: attendees.value.split("\n").map((s) => s.trim()).filter(Boolean), minutes: minutes.value.trim(), expected_version: state.version,
      });
      await again(answer, "已记录调解会");
    } catch (error) { showError(node, error); }
  });
}

function agreement(state, detail, names, entries, again, open) {
  const reached = entries("AgreementReached")[0];
  if (reached) {
    return h("div", { "data-agreement": reached.data.agreement_id },
      h("p", { class: "badge done" }, "已达成调解协议"),
      h("ol", {}, reached.data.terms.map((t) => h("li", {}, `${names[t.party_id] || ""}：${t.action}`))),
      h("p", { class: "muted" }, `当事人确认：${reached.data.confirmed_by.map((id) => names[id] || id).join("、")} · ${when(reached.data.reached_at)}`),
      detail.carried_out === null ? null : h("p", {}, detail.carried_out ? "协议已履行" : "协议未履行"));
  }
  if (!open) return h("p", { class: "muted" }, "未达成调解协议。");
  if (state.failed) return h("p", {}, "调解未成功。");
  const terms = state.parties.map((p) => ({ party: p, box: h("textarea", { placeholder: "该当事人承诺做什么（可不填）" }) }));
  const confirms = state.parties.map((p) => check(names[p.party_id] || p.party_id, p.party_id));
  return form("达成调解协议", [
    ...terms.map(({ party, box }) => field(`${names[party.party_id] || "当事人"}的承诺`, box, `terms-${party.party_id}`)),
    h("div", { "data-field": "terms" }, h("p", { class: "field-error", hidden: true })),
    group("已当面确认协议的当事人（至少两名）", confirms, "confirmed_by"),
  ], "记录调解协议", async (node) => {
    const body = {
      terms: terms.filter(({ box }) => box.value.trim()).map(({ party, box }) => ({ party_id: party.party_id, action: box.value.trim() })),
      confirmed_by: confirms.map((c) => c.querySelector("input")).filter((i) => i.checked).map((i) => i.value),
      expected_version: state.version,
    };
    try {
      const answer = await api.post("mediation", `/disputes/${state.id}/agreement`, body);
      await again(answer, "已记录调解协议");
    } catch (error) {
      showError(node, error, { agreement_needs_two_parties: "confirmed_by", unknown_party: "confirmed_by" });
    }
  });
}

function referrals(entries) {
  const answers = Object.fromEntries(entries("ReferralAnswered").map((e) => [e.data.referral_id, e.data]));
  const made = entries("DisputeReferred");
  if (!made.length) return h("p", { class: "muted" }, "未转办。");
  return h("ul", {}, made.map((e) => h("li", {},
    `${when(e.data.referred_at)} 转${enumLabel("mediation.ReferralTarget", e.data.to)}`,
    e.data.note ? `（${e.data.note}）` : "",
    answers[e.data.referral_id] ? `；答复：${answers[e.data.referral_id].answer}` : "；尚未答复")));
}

function returnVisits(entries, names) {
  const visits = entries("ReturnVisitRecorded");
  if (!visits.length) return h("p", { class: "muted" }, "尚未回访。");
  return h("ul", {}, visits.map((e) => h("li", {},
    `${when(e.data.visited_at)} · 满意度 `,
    e.data.satisfaction.map((s) => `${names[s.party_id] || ""} ${s.score}/5`).join("，"),
    e.data.note ? ` · ${e.data.note}` : "")));
}
