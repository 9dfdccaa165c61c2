// The volunteer coordinator's screens: the service requests nobody has yet (微心愿), each assigned
// to a volunteer from the list of those serving here; the volunteers, and one volunteer's hours,
// approved one by one, and a certificate of the approved hours in a period. Each command reads
// what it changed again: the request board with the command's consistency token (the query
// service), the hours from the volunteering service itself.
import { api } from "../api.js";
import { day, enumLabel, status, when } from "../i18n.js";
import { announce, field, h, select, showError, tokenOf } from "../ui.js";

function isoDay(d) { return d.toISOString().slice(0, 10); }

export async function openRequests(current, consistency) {
  const root = h("section", { "aria-labelledby": "requests-title" });
  await renderRequests(root, current, consistency);
  return root;
}

async function renderRequests(root, current, consistency) {
  let board, volunteers;
  try {
    [board, volunteers] = await Promise.all([
      api.get("query", "/volunteering/requests?status=open&limit=100", { consistency }),
      api.get("query", "/volunteering/volunteers?limit=200"),
    ]);
  } catch (error) {
    const box = h("div", {});
    showError(box, error);
    root.replaceChildren(h("h1", { id: "requests-title" }, "服务需求派单"), box);
    return;
  }
  const serving = volunteers.items.filter((v) => v.status === "active");
  const overdue = board.items.filter((r) => r.response_overdue).length;
  root.replaceChildren(
    h("h1", { id: "requests-title" }, "服务需求派单"),
    h("div", { class: "counts", "aria-label": "统计" },
      h("p", { class: "card" }, h("span", { class: "count", "data-count": "open" }, board.total), " ", status("service_request", "open")),
      h("p", { class: "card" }, h("span", { class: "count", "data-count": "overdue" }, overdue), " 响应超时")),
    board.items.length
      ? h("ul", { class: "cards", "aria-label": "待派单的服务需求" }, board.items.map((item) => requestCard(root, current, item, serving)))
      : h("p", { class: "card done" }, "没有待派单的服务需求。"),
  );
}

function requestCard(root, current, item, serving) {
  const li = h("li", { class: `card slacard ${item.response_overdue ? "slacard-breached" : "slacard-on_track"}`, "data-request": item.id },
    h("h2", {}, `${enumLabel("volunteering.RequestKind", item.kind)} · ${item.resident_name || "（居民信息同步中）"}`),
    h("p", {},
      h("span", { class: "badge" }, status("service_request", item.status)), " ",
      item.response_overdue ? h("span", { class: "badge state-overdue" }, "响应超时") : null),
    h("p", { class: "muted" }, "提出于 ", when(item.raised_at), " · 应于 ", when(item.respond_by), " 前响应"),
    item.grid_name ? h("p", { class: "muted" }, item.grid_name) : null,
    item.declines ? h("p", { class: "muted" }, `已被拒单 ${item.declines} 次`) : null,
  );
  const volunteer = select([["", "请选择志愿者"], ...serving.map((v) => [v.id, `${v.name} · ${enumLabel("volunteering.VolunteerKind", v.kind)}`])]);
  const form = h("form", { novalidate: true, "aria-label": "派单" },
    field("派给志愿者", volunteer, "volunteer_id"),
    h("p", {}, h("button", { type: "submit" }, "派单")));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const state = await api.get("volunteering", `/requests/${item.id}`);
      const answer = await api.post("volunteering", `/requests/${item.id}/assignment`, {
        volunteer_id: volunteer.value || null, expected_version: state.version,
      });
      announce("已派单");
      await renderRequests(root, current, tokenOf(answer));
    } catch (error) {
      // Neither a team nor a volunteer chosen: the reason belongs beside the choice.
      showError(form, error, { assignee_required: "volunteer_id", volunteer_not_active: "volunteer_id", volunteer_not_found: "volunteer_id" });
    }
  });
  li.append(form);
  return li;
}

// -- volunteers, hours and certificates ----------------------------------------------------------

export async function volunteerList(current) {
  const root = h("section", { "aria-labelledby": "volunteers-title" }, h("h1", { id: "volunteers-title" }, "志愿者与服务时长"));
  let page;
  try {
    page = await api.get("query", "/volunteering/volunteers?limit=200");
  } catch (error) {
    showError(root, error);
    return root;
  }
  root.append(
    h("p", { class: "muted" }, `近 12 个月活跃志愿者 ${page.active_volunteers} 人（月均服务不少于 ${page.monthly_hours} 小时）`),
    page.items.length
      ? h("table", { "aria-label": "志愿者" },
          h("thead", {}, h("tr", {}, ["姓名", "类别", "网格", "状态", "近12个月时长"].map((t) => h("th", { scope: "col" }, t)))),
          h("tbody", {}, page.items.map((v) => h("tr", { "data-volunteer": v.id },
            h("th", { scope: "row" }, h("a", { href: `#/volunteer/${v.id}` }, v.name)),
            h("td", {}, enumLabel("volunteering.VolunteerKind", v.kind)), h("td", {}, v.grid_name || "—"),
            h("td", {}, status("volunteer", v.status)), h("td", {}, `${v.hours_last_12_months} 小时`)))))
      : h("p", { class: "card" }, "还没有志愿者。"));
  return root;
}

export async function volunteerHours(current, volunteerId, certificateId) {
  const root = h("article", { "aria-labelledby": "volunteer-title" });
  await renderHours(root, current, volunteerId, certificateId);
  return root;
}

async function renderHours(root, current, volunteerId, certificateId) {
  let person, ledger, certificate;
  try {
    [person, ledger, certificate] = await Promise.all([
      api.get("volunteering", `/volunteers/${volunteerId}`),
      api.get("volunteering", `/volunteers/${volunteerId}/hours`),
      certificateId ? api.get("volunteering", `/certificates/${certificateId}`) : null,
    ]);
  } catch (error) {
    const box = h("div", {}, h("h1", { id: "volunteer-title" }, "志愿者"));
    showError(box, error);
    root.replaceChildren(box, h("p", {}, h("a", { href: "#/volunteers" }, "返回志愿者列表")));
    return;
  }
  const again = (text, issued) => { announce(text); return renderHours(root, current, volunteerId, issued); };
  root.replaceChildren(
    h("p", { class: "no-print" }, h("a", { href: "#/volunteers" }, "← 返回志愿者列表")),
    h("h1", { id: "volunteer-title" }, person.name),
    h("div", { class: "counts", "aria-label": "服务时长" },
      h("p", { class: "card" }, h("span", { class: "count", "data-hours": "approved" }, ledger.approved_hours), " 小时已核准"),
      h("p", { class: "card" }, h("span", { class: "count", "data-hours": "pending" }, ledger.pending_hours), " 小时待审核")),
    h("section", { class: "card", "data-section": "hours", "aria-label": "服务时长记录" },
      h("h2", {}, "服务时长记录"),
      ledger.entries.length
        ? h("table", { "aria-label": "服务时长记录" },
            h("thead", {}, h("tr", {}, ["服务日期", "来源", "时长", "状态", "审核"].map((t) => h("th", { scope: "col" }, t)))),
            h("tbody", {}, ledger.entries.map((entry) => h("tr", { "data-entry": entry.entry_id, "data-status": entry.status },
              h("td", {}, day(entry.served_on)), h("td", {}, enumLabel("volunteering.HoursSource", entry.source)),
              h("td", {}, `${entry.hours} 小时`), h("td", {}, status("hours", entry.status)),
              h("td", {}, entry.status === "pending" ? approveButton(root, volunteerId, entry, again) : "—")))))
        : h("p", { class: "muted" }, "还没有服务时长。")),
    h("section", { class: "card", "data-section": "certificate", "aria-label": "志愿服务证书" },
      h("h2", {}, "志愿服务证书"),
      certificate ? certificateView(certificate, person) : null,
      certificateForm(current, volunteerId, again)),
  );
}

function approveButton(root, volunteerId, entry, again) {
  const box = h("div", {});
  const button = h("button", { type: "button", "aria-label": `核准 ${day(entry.served_on)} 的 ${entry.hours} 小时` }, "核准");
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await api.post("volunteering", `/volunteers/${volunteerId}/hours/${entry.entry_id}/approval`, {});
      await again(`已核准 ${entry.hours} 小时`);
    } catch (error) {
      button.disabled = false;
      showError(box, error);
    }
  });
  box.append(button);
  return box;
}

function certificateForm(current, volunteerId, again) {
  const today = new Date();
  const from = h("input", { type: "date", value: isoDay(new Date(Date.UTC(today.getUTCFullYear(), 0, 1))) });
  const to = h("input", { type: "date", value: isoDay(today) });
  const content = h("input", { type: "text", autocomplete: "off", value: "参加社区志愿服务" });
  const issuer = h("input", { type: "text", autocomplete: "organization", value: current.name });
  const form = h("form", { novalidate: true, "aria-label": "颁发证书", class: "no-print" },
    h("div", { class: "sections" }, field("起始日期", from, "period_from"), field("截止日期", to, "period_to")),
    field("服务内容", content, "content"), field("颁发单位", issuer, "issuer"),
    h("p", {}, h("button", { type: "submit" }, "颁发证书")));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const answer = await api.post("volunteering", `/volunteers/${volunteerId}/certificates`, {
        period_from: from.value || null, period_to: to.value || null, content: content.value.trim(), issuer: issuer.value.trim(),
      });
      announce("已颁发证书");
      location.hash = `#/volunteer/${volunteerId}/${answer.id}`;
    } catch (error) {
      showError(form, error, { no_approved_hours: "period_from", bad_period: "period_to" });
    }
  });
  return form;
}

function certificateView(c, person) {
  return h("div", { class: "notice", "data-certificate": c.number },
    h("h3", {}, "志愿服务证明"),
    h("p", {}, `兹证明 ${person.name} 于 ${day(c.period_from)} 至 ${day(c.period_to)} ${c.content}，累计服务 `,
      h("strong", { "data-certificate-hours": c.hours }, c.hours), ` 小时、${c.services} 次。`),
    h("p", {}, "证书编号：", h("strong", {}, c.number)),
    h("p", {}, c.issuer, "　", day(c.issued_on)),
    h("p", { class: "no-print" }, h("button", { type: "button", class: "secondary", onclick: () => window.print() }, "打印证书")));
}
