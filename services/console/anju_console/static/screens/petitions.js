// The petition agent's screens (信访代办; also the director's): the petitions of my areas with
// their deadlines, and a petition's page, where it is taken through its steps — forwarded to its
// department, accepted, answered, closed. The page reads the petition twice: mediation's own
// view (its version, the stages whose deadline was missed) and the query service's (when each
// step happened), the latter with the last step's consistency token.
import { api } from "../api.js";
import { enumLabel, status, when } from "../i18n.js";
import { announce, field, form, h, select, showError, tokenOf } from "../ui.js";

const STATES = ["registered", "forwarded", "accepted", "answered", "closed"];

export async function petitionList(current, consistency) {
  const root = h("section", { "aria-labelledby": "petitions-title" });
  const state = select([["", "未办结的"], ...STATES.map((s) => [s, status("petition", s)]), ["all", "全部"]], "");
  const list = h("div", {});
  const counts = h("div", { class: "counts", "aria-label": "统计" });
  const load = async (token) => {
    const query = new URLSearchParams({ limit: "100" });
    if (state.value && state.value !== "all") query.set("status", state.value);
    try {
      const [page, late] = await Promise.all([
        api.get("query", `/petitions?${query}`, { consistency: token }),
        api.get("query", "/petitions?timeliness=late&limit=1"),
      ]);
      const items = state.value === "" ? page.items.filter((p) => p.status !== "closed") : page.items;
      counts.replaceChildren(
        h("p", { class: "card" }, h("span", { class: "count", "data-count": "open" }, page.items.filter((p) => p.status !== "closed").length), " 件办理中"),
        h("p", { class: "card slacard slacard-breached" }, h("span", { class: "count", "data-count": "late" }, late.total), " 件超过期限"));
      list.replaceChildren(items.length
        ? h("ul", { class: "cards", "aria-label": "信访" }, items.map(card))
        : h("p", { class: "card done" }, "没有符合条件的信访。"));
    } catch (error) {
      showError(list, error);
    }
  };
  state.addEventListener("change", () => load());
  root.append(h("h1", { id: "petitions-title" }, "信访代办"), counts,
    h("form", { class: "row", "aria-label": "筛选" }, field("状态", state, "status")), list);
  await load(consistency);
  return root;
}

function card(item) {
  const colour = item.late ? "breached" : "on_track";
  return h("li", { class: `card slacard slacard-${colour}`, "data-petition": item.id },
    h("h2", {}, h("a", { href: `#/petition/${item.id}` }, item.subject)),
    h("p", {},
      h("span", { class: "badge", "data-status": item.status }, status("petition", item.status)), " ",
      item.late ? h("span", { class: "badge sla-breached" }, "超过期限") : null),
    h("p", { class: "muted" }, `承办部门：${item.department}`),
    item.due_by ? h("p", { class: "muted" }, "期限：", when(item.due_by)) : null,
    h("p", { class: "muted" }, "登记于 ", when(item.registered_at)));
}

// -- a petition --------------------------------------------------------------------------------

export async function petitionCase(current, petitionId, consistency) {
  const root = h("article", { "aria-labelledby": "petition-title" });
  await renderCase(root, current, petitionId, consistency);
  return root;
}

async function renderCase(root, current, petitionId, consistency) {
  let state, listed;
  try {
    state = await api.get("mediation", `/petitions/${petitionId}`);
    const page = await api.get("query", `/petitions?resident_id=${state.resident_id}&limit=200`, { consistency });
    listed = page.items.find((p) => p.id === petitionId) || null;
  } catch (error) {
    const box = h("div", {}, h("h1", { id: "petition-title" }, "信访"));
    showError(box, error);
    root.replaceChildren(box, h("p", {}, h("a", { href: "#/petitions" }, "返回信访代办")));
    return;
  }
  const again = (answer, text) => {
    announce(text);
    return renderCase(root, current, petitionId, tokenOf(answer));
  };
  const steps = [
    ["registered", "登记", listed && listed.registered_at],
    ["forwarded", "转交承办部门", null],
    ["accepted", "部门受理", null],
    ["answered", "部门答复", listed && listed.answered_at],
    ["closed", "办结", listed && listed.closed_at],
  ];
  const reached = STATES.indexOf(state.status);
  root.replaceChildren(
    h("p", { class: "no-print" }, h("a", { href: "#/petitions" }, "← 返回信访代办")),
    h("h1", { id: "petition-title" }, state.subject),
    h("p", {}, h("span", { class: "badge", "data-status": state.status }, status("petition", state.status)),
      state.missed.length ? [" ", h("span", { class: "badge sla-breached" }, `${state.missed.map((s) => enumLabel("mediation.PetitionStage", s)).join("、")}超期`)] : null),
    h("dl", { class: "facts" },
      h("dt", {}, "承办部门"), h("dd", {}, state.department),
      h("dt", {}, "代办员"), h("dd", {}, state.agent_id),
      h("dt", {}, "当前期限"), h("dd", {}, when(state.due_by)),
      listed && listed.outcome ? [h("dt", {}, "办结结果"), h("dd", {}, listed.outcome)] : null),
    h("section", { class: "card", "data-section": "steps", "aria-label": "办理步骤" },
      h("h2", {}, "办理步骤"),
      h("ol", { class: "timeline" }, steps.map(([code, label, at], i) => h("li", { "data-step": code, "data-done": i <= reached ? "yes" : "no" },
        h("strong", {}, label), " · ", i <= reached ? h("span", { class: "badge done" }, at ? `已完成 ${when(at)}` : "已完成") : h("span", { class: "muted" }, "未到")))),
      nextStep(state, again)),
  );
}

// The one step the petition is ready for, and closing it at any time before it is closed.
function nextStep(state, again) {
  if (state.status === "closed") return h("p", { class: "done" }, "本件信访已办结。");
  const post = (path, body, text) => async (node) => {
    try {
      const answer = await api.post("mediation", `/petitions/${state.id}/${path}`, { ...body(), expected_version: state.version });
      await again(answer, text);
    } catch (error) {
      showError(node, error, { petition_out_of_order: "step", petition_closed: "step" });
    }
  };
  const parts = [];
  if (state.status === "registered") {
    parts.push(form("转交", [h("div", { "data-field": "step" }, h("p", { class: "field-error", hidden: true }))], "转交承办部门", post("forwarding", () => ({}), "已转交承办部门")));
  } else if (state.status === "forwarded") {
    parts.push(form("受理", [h("div", { "data-field": "step" }, h("p", { class: "field-error", hidden: true }))], "记录部门已受理", post("acceptance", () => ({}), "已记录受理")));
  } else if (state.status === "accepted") {
    const answer = h("textarea", {});
    parts.push(form("答复", [field("部门答复内容", answer, "answer")], "记录部门答复", post("answer", () => ({ answer: answer.value.trim() }), "已记录答复")));
  }
  const outcome = h("input", { type: "text", autocomplete: "off" });
  parts.push(form("办结", [field("办结结果", outcome, "outcome")], "办结", post("closing", () => ({ outcome: outcome.value.trim() }), "已办结")));
  return parts;
}
