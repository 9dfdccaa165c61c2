// The grid worker's follow-up board (phone-sized): who is due or overdue for a visit in my grids,
// and recording a visit, after which the board is read again with the visit's consistency token
// so that it shows the visit at once.
import { api } from "../api.js";
import { enumLabel, status, when } from "../i18n.js";
import { announce, field, h, showError } from "../ui.js";

export async function followUps(current, consistency) {
  const root = h("section", { "aria-labelledby": "board-title" });
  await render(root, consistency);
  return root;
}

async function render(root, consistency) {
  let board;
  try {
    board = await api.get("query", "/follow-ups?limit=100", { consistency });
  } catch (error) {
    const box = h("div", {});
    showError(box, error);
    root.replaceChildren(h("h1", { id: "board-title" }, "走访任务"), box);
    return;
  }
  const due = board.groups.reduce((n, g) => n + g.due, 0);
  const overdue = board.groups.reduce((n, g) => n + g.overdue, 0);
  root.replaceChildren(
    h("h1", { id: "board-title" }, "走访任务"),
    h("div", { class: "counts", "aria-label": "统计" },
      h("p", { class: "card" }, h("span", { class: "count", "data-count": "overdue" }, overdue), " ", status("follow_up", "overdue")),
      h("p", { class: "card" }, h("span", { class: "count", "data-count": "due" }, due), " ", status("follow_up", "due"))),
    board.items.length
      ? h("ul", { class: "cards", "aria-label": "待走访居民" }, board.items.map((item) => card(root, item)))
      : h("p", { class: "card done" }, "本网格暂无待走访的居民。"),
  );
}

function card(root, item) {
  const place = [item.location.grid_name, item.location.building_name, item.location.unit_name].filter(Boolean).join(" · ");
  const li = h("li", { class: "card", "data-resident": item.resident_id },
    h("h2", {}, h("a", { href: `#/resident/${item.resident_id}` }, item.name)),
    h("p", {}, h("span", { class: `badge state-${item.state}` }, status("follow_up", item.state)), " 应于 ", when(item.due_by), " 前走访"),
    place ? h("p", { class: "muted" }, place) : null,
    h("p", {}, item.flags.map((f) => h("span", { class: `badge tier-${f.tier}` }, `${enumLabel("registry.FlagType", f.type)} · ${enumLabel("registry.RiskTier", f.tier)}`))),
    h("p", { class: "muted" }, "上次走访：", when(item.last_visit_at)),
  );
  const open = h("button", { type: "button", "aria-expanded": "false" }, "记录走访");
  open.addEventListener("click", () => {
    open.hidden = true;
    li.append(visitForm(root, item, () => { open.hidden = false; }));
    li.querySelector("textarea").focus();
  });
  li.append(open);
  return li;
}

function visitForm(root, item, cancelled) {
  const findings = h("textarea", { required: true });
  const actions = h("textarea", {});
  const errands = h("textarea", { placeholder: "每行一件" });
  const form = h("form", { novalidate: true, "aria-label": `走访${item.name}` },
    field("走访情况", findings, "findings"),
    field("采取的措施（可不填）", actions, "actions"),
    field("代办事项（每行一件，可不填）", errands, "errands"),
    h("div", { class: "row" },
      h("button", { type: "submit" }, "提交走访记录"),
      h("button", { type: "button", class: "secondary", onclick: () => { form.remove(); cancelled(); } }, "取消")));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = {
      findings: findings.value.trim(),
      actions: actions.value.trim() || null,
      errands: errands.value.split("\n").map((s) => s.trim()).filter(Boolean),
    };
    try {
      const answer = await api.post("registry", `/residents/${item.resident_id}/visits`, body);
      announce(`已记录对${item.name}的走访`);
      await render(root, answer.consistency_token);
    } catch (error) {
      showError(form, error);
    }
  });
  return form;
}
