// The desk: a reception logged in one tap; a convenience service from receipt to completion — the
// documents checked, the one-time notice (一次性告知) of everything missing printed from the
// station's own read of the service (so from any tab), the hand-off to the agency of record and
// the completion; and a residence certificate issued from the registry's facts, printed.
import { api, openFile } from "../api.js";
import { day, enumLabel, when } from "../i18n.js";
import { announce, field, form, h, select, showError } from "../ui.js";

const PURPOSES = ["consultation", "convenience_service", "certificate", "elderly_window", "complaint", "other"];
const FINISHED = ["completed", "refused"];

export async function desk(current) {
  const area = current.areas[0];
  const root = h("section", {}, h("h1", {}, "窗口服务"));
  const tally = h("p", { class: "muted", "data-receptions": "0" }, "本次已登记来访 0 人次");
  let logged = 0;
  const taps = h("div", { class: "taps", role: "group", "aria-label": "一键登记来访" },
    PURPOSES.map((purpose) => h("button", {
      type: "button",
      onclick: async (e) => {
        const button = e.currentTarget;
        button.disabled = true;
        try {
          await api.post("station", "/receptions", { area_id: area, purposes: [purpose] });
          logged += 1;
          tally.dataset.receptions = String(logged);
          tally.textContent = `本次已登记来访 ${logged} 人次`;
          announce(`已登记来访：${enumLabel("station.Purpose", purpose)}`);
        } catch (error) {
          showError(receptionBox, error);
        } finally {
          button.disabled = false;
        }
      },
    }, enumLabel("station.Purpose", purpose))));
  const receptionBox = h("div", { class: "card" }, h("h2", {}, "来访登记"), h("p", {}, "按来访事由点一下即可登记。"), taps, tally);
  root.append(receptionBox, await serviceBox(area), certificateBox(area));
  return root;
}

async function serviceBox(area) {
  const box = h("div", { class: "card", "data-section": "services" }, h("h2", {}, "便民服务"));
  let catalogue, open;
  try {
    [catalogue, open] = await Promise.all([
      api.get("station", "/catalogue"),
      api.get("query", `/station/services?area_id=${area}&limit=50`),
    ]);
  } catch (error) {
    showError(box, error);
    return box;
  }
  const kind = select(Object.entries(catalogue).map(([code, type]) => [code, type.name]));
  box.append(form("接收便民服务", [field("服务事项", kind, "service_type")], "接收", async (node) => {
    try {
      const answer = await api.post("station", "/services", { service_type: kind.value, area_id: area });
      announce("已接收便民服务申请");
      location.hash = `#/service/${answer.id}`;
    } catch (error) {
      showError(node, error);
    }
  }));
  const pending = open.items.filter((s) => !FINISHED.includes(s.status));
  box.append(h("h3", {}, "在办的便民服务"), pending.length
    ? h("ul", { "aria-label": "在办的便民服务" }, pending.map((s) => h("li", { "data-service": s.id },
        h("a", { href: `#/service/${s.id}` }, `${(catalogue[s.service_type] || {}).name || s.service_type}${s.resident_name ? ` · ${s.resident_name}` : ""}`),
        " · ", enumLabel("station.ServiceStatus", s.status), " · 接收于 ", when(s.received_at),
        s.overdue ? [" ", h("span", { class: "badge state-overdue" }, "转交超期")] : null)))
    : h("p", { class: "muted" }, "没有在办的便民服务。"));
  return box;
}

// -- one convenience service, step by step --------------------------------------------------------

export async function serviceCase(current, serviceId) {
  const root = h("article", { "aria-labelledby": "service-title" });
  await renderService(root, current, serviceId);
  return root;
}

// Each step is read back from the station's own store, which answers with the command's write.
async function renderService(root, current, serviceId) {
  let service, catalogue, organisations;
  try {
    [service, catalogue] = await Promise.all([
      api.get("station", `/services/${serviceId}`),
      api.get("station", "/catalogue"),
    ]);
    organisations = await api.get("query", `/organisations?community_id=${service.community_id}&limit=100`);
  } catch (error) {
    const box = h("div", {}, h("h1", { id: "service-title" }, "便民服务"));
    showError(box, error);
    root.replaceChildren(box, h("p", {}, h("a", { href: "#/desk" }, "返回窗口服务")));
    return;
  }
  const again = (text) => { announce(text); return renderService(root, current, serviceId); };
  const name = (catalogue[service.service_type] || {}).name || service.service_type;
  const agency = organisations.items.find((o) => o.id === service.organisation_id);
  root.replaceChildren(
    h("p", { class: "no-print" }, h("a", { href: "#/desk" }, "← 返回窗口服务")),
    h("h1", { id: "service-title" }, name),
    h("p", {}, h("span", { class: "badge", "data-status": service.status }, enumLabel("station.ServiceStatus", service.status)),
      service.overdue ? [" ", h("span", { class: "badge state-overdue" }, "转交超期")] : null),
    h("dl", { class: "facts" },
      h("dt", {}, "接收时间"), h("dd", {}, when(service.received_at)),
      service.notice ? [h("dt", {}, "一次性告知"), h("dd", {}, `${service.notice.number}（${service.notice.missing.join("、")}）`)] : null,
      service.organisation_id ? [h("dt", {}, "承办单位"), h("dd", {}, agency ? agency.name : "—")] : null,
      service.due_by ? [h("dt", {}, "办结期限"), h("dd", {}, when(service.due_by))] : null,
      service.satisfaction ? [h("dt", {}, "回访满意度"), h("dd", {}, `${service.satisfaction} / 5`)] : null),
    h("section", { class: "card", "data-section": "steps", "aria-label": "办理" }, h("h2", {}, "办理"),
      nextSteps(service, organisations.items, again)),
  );
}

function nextSteps(service, organisations, again) {
  const post = (path, body, text, byCode = {}) => async (node) => {
    try {
      await api.post("station", `/services/${service.id}/${path}`, { ...body(), expected_version: service.version });
      await again(text);
    } catch (error) {
      showError(node, error, { wrong_service_state: "step", ...byCode });
    }
  };
  const step = h("div", { "data-field": "step" }, h("p", { class: "field-error", hidden: true }));
  const parts = [];
  if (service.status === "received" || service.status === "notice_issued") {
    if (service.notice) {
      parts.push(h("p", {}, "已出具一次性告知，请打印交给居民。"),
        h("p", {}, h("a", { class: "button", href: `#/notice/${service.id}` }, "打印一次性告知单")));
    }
    const missing = h("textarea", { placeholder: "每行一项；材料齐全则留空" });
    const label = service.notice ? "仍缺少的材料（材料已补齐则留空）" : "缺少的材料（一次性全部告知）";
    parts.push(form("核对材料", [field(label, missing, "missing"), step], "核对完成",
      post("documents", () => ({ missing: missing.value.split("\n").map((s) => s.trim()).filter(Boolean) }), "已核对材料")));
  }
  if (service.status === "accepted") {
    const agency = select([["", "请选择承办单位"], ...organisations.map((o) => [o.id, `${o.name} · ${enumLabel("registry.OrganisationKind", o.kind)}`])]);
    parts.push(form("转交承办单位", [field("承办单位", agency, "organisation_id"), step], "转交",
      post("hand-off", () => ({ organisation_id: agency.value || null }), "已转交承办单位", { organisation_not_found: "organisation_id" })));
  }
  if (service.status === "accepted" || service.status === "handed_off") {
    const outcome = h("input", { type: "text", autocomplete: "off" });
    parts.push(form("办结", [field("办理结果（可不填）", outcome, "outcome")], "办结",
      post("completion", () => ({ outcome: outcome.value.trim() || null }), "已办结")));
  }
  if (FINISHED.includes(service.status)) {
    parts.push(h("p", { class: "done" }, service.status === "completed" ? "本项服务已办结。" : "本项服务不予受理。"));
    if (!service.satisfaction) {
      const rating = select([["", "请选择"], ...[5, 4, 3, 2, 1].map((n) => [String(n), `${n} 分`])]);
      parts.push(form("回访", [field("居民满意度", rating, "satisfaction")], "记录回访",
        post("callback", () => ({ satisfaction: rating.value ? Number(rating.value) : null }), "已记录回访")));
    }
  }
  return parts;
}

// The printable one-time notice: the service and everything missing, as the station keeps them.
export async function notice(current, serviceId) {
  const root = h("article", { class: "notice" });
  let service, catalogue;
  try {
    [service, catalogue] = await Promise.all([
      api.get("station", `/services/${serviceId}`),
      api.get("station", "/catalogue"),
    ]);
  } catch (error) {
    showError(root, error);
    return root;
  }
  if (!service.notice) {
    root.append(h("h1", {}, "一次性告知单"), h("p", {}, "该服务没有出具一次性告知。"),
      h("p", {}, h("a", { href: `#/service/${service.id}` }, "返回该服务")));
    return root;
  }
  root.append(
    h("h1", {}, "一次性告知单"),
    h("p", {}, "编号：", service.notice.number),
    h("p", {}, "服务事项：", (catalogue[service.service_type] || {}).name || service.service_type),
    h("p", {}, "受理时间：", when(service.received_at)),
    h("p", {}, "您办理的事项尚缺以下材料，请备齐后一次性提交："),
    h("ol", {}, service.notice.missing.map((item) => h("li", {}, item))),
    h("p", {}, "窗口：", current.name, "　　日期：", day(service.notice.issued_at)),
    h("p", { class: "row no-print" },
      h("button", { type: "button", onclick: () => window.print() }, "打印"),
      h("a", { href: `#/service/${service.id}` }, "返回该服务")),
  );
  return root;
}

// -- residence certificates ----------------------------------------------------------------------

function certificateBox(area) {
  const box = h("div", { class: "card", "data-section": "certificate" }, h("h2", {}, "开具居住证明"));
  const name = h("input", { type: "search", autocomplete: "off" });
  const resident = select([["", "请先查找居民"]]);
  const purpose = h("input", { type: "text", autocomplete: "off" });
  const search = form("查找居民", [field("居民姓名", name, "q")], "查找", async (node) => {
    try {
      const found = await api.get("query", `/residents?q=${encodeURIComponent(name.value.trim())}&status=active&limit=20`);
      const living = found.items;
      resident.replaceChildren(...(living.length
        ? living.map((r) => h("option", { value: r.id }, `${r.name} · ${[r.location.building_name, r.location.unit_name].filter(Boolean).join(" ")} · ${r.id_number}`))
        : [h("option", { value: "" }, "没有找到在住的居民")]));
      announce(`找到 ${living.length} 位居民`);
    } catch (error) {
      showError(node, error);
    }
  });
  const issue = form("开具居住证明", [field("居民", resident, "resident_id"), field("用途（可不填）", purpose, "purpose")], "开具居住证明", async (node) => {
    try {
      const answer = await api.post("station", "/certificates", { resident_id: resident.value || null, purpose: purpose.value.trim() || null });
      announce("已开具居住证明");
      location.hash = `#/certificate/${answer.id}`;
    } catch (error) {
      showError(node, error, { unknown_resident: "resident_id", resident_not_living_here: "resident_id", residence_unknown: "resident_id" });
    }
  });
  box.append(search, issue);
  return box;
}

// The certificate as the station issued it, printable here or as the station's PDF (fetched with
// the token and opened from a blob: no token in any URL).
export async function certificate(current, certificateId) {
  const root = h("article", { class: "notice", "aria-labelledby": "certificate-title" });
  let c;
  try {
    c = await api.get("station", `/certificates/${certificateId}`);
  } catch (error) {
    showError(root, error);
    root.append(h("p", {}, h("a", { href: "#/desk" }, "返回窗口服务")));
    return root;
  }
  const actions = h("p", { class: "row no-print" },
    h("button", { type: "button", onclick: () => window.print() }, "打印"),
    h("button", { type: "button", class: "secondary", onclick: () => openFile("station", `/certificates/${c.id}/pdf`).catch((error) => showError(actions, error)) }, "下载PDF"),
    h("a", { href: "#/desk" }, "返回窗口服务"));
  root.append(
    h("h1", { id: "certificate-title" }, "居住证明"),
    c.valid ? null : h("p", { class: "form-error", "data-revoked": "yes" }, `该证明已撤销：${c.revoked_reason || ""}`),
    h("p", { "data-certificate": c.number }, `兹证明 ${c.holder_name} 自 ${day(c.living_since)} 起居住于 ${c.address}。`),
    c.purpose ? h("p", {}, `此证明用于${c.purpose}。`) : null,
    h("p", {}, "证明编号：", h("strong", {}, c.number)),
    h("p", {}, "核验地址：", c.verify_url),
    h("p", {}, c.community_name, "　", day(c.issued_on)),
    actions,
  );
  return root;
}
