// The desk: a reception logged in one tap, and a convenience service from receipt to hand-off,
// with the one-time notice (一次性告知) of everything missing, printed from its own view.
import { api } from "../api.js";
import { day, enumLabel, when } from "../i18n.js";
import { announce, field, h, select, showError } from "../ui.js";

const PURPOSES = ["consultation", "convenience_service", "certificate", "elderly_window", "complaint", "other"];
const NOTICES = "anju.notices";

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
  root.append(receptionBox, await serviceBox(area));
  return root;
}

async function serviceBox(area) {
  const box = h("div", { class: "card" }, h("h2", {}, "便民服务"));
  let catalogue = {};
  try {
    catalogue = await api.get("station", "/catalogue");
  } catch (error) {
    showError(box, error);
    return box;
  }
  const kind = select(Object.entries(catalogue).map(([code, type]) => [code, type.name]));
  const form = h("form", { novalidate: true, "aria-label": "接收便民服务" },
    field("服务事项", kind, "service_type"),
    h("p", {}, h("button", { type: "submit" }, "接收")));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      const answer = await api.post("station", "/services", { service_type: kind.value, area_id: area });
      announce("已接收便民服务申请");
      form.replaceWith(documentsForm(answer, catalogue[kind.value].name));
    } catch (error) {
      showError(form, error);
    }
  });
  box.append(form);
  return box;
}

function documentsForm(service, name) {
  const missing = h("textarea", { placeholder: "每行一项；材料齐全则留空" });
  const form = h("form", { novalidate: true, "aria-label": "核对材料" },
    h("p", {}, `已接收：${name}`),
    field("缺少的材料（一次性全部告知）", missing, "missing"),
    h("p", {}, h("button", { type: "submit" }, "核对完成")));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const items = missing.value.split("\n").map((s) => s.trim()).filter(Boolean);
    try {
      await api.post("station", `/services/${service.id}/documents`, { missing: items, expected_version: service.version });
      if (items.length) {
        const kept = JSON.parse(sessionStorage.getItem(NOTICES) || "{}");
        kept[service.id] = { name, missing: items };
        sessionStorage.setItem(NOTICES, JSON.stringify(kept));
        form.replaceWith(h("div", {},
          h("p", {}, "已出具一次性告知，请打印交给居民。"),
          h("a", { class: "button", href: `#/notice/${service.id}` }, "打印一次性告知单")));
      } else {
        form.replaceWith(h("p", { class: "done" }, "材料齐全，已受理。"));
      }
    } catch (error) {
      showError(form, error);
    }
  });
  return form;
}

// The printable one-time notice: the service as the station has it, and what is missing.
export async function notice(current, serviceId) {
  const kept = JSON.parse(sessionStorage.getItem(NOTICES) || "{}")[serviceId];
  const root = h("article", { class: "notice" });
  let service;
  try {
    service = await api.get("station", `/services/${serviceId}`);
  } catch (error) {
    showError(root, error);
    return root;
  }
  root.append(
    h("h1", {}, "一次性告知单"),
    h("p", {}, "服务事项：", kept ? kept.name : service.service_type),
    h("p", {}, "受理时间：", when(service.received_at)),
    h("p", {}, "您办理的事项尚缺以下材料，请备齐后一次性提交："),
    h("ol", {}, (kept ? kept.missing : []).map((item) => h("li", {}, item))),
    h("p", {}, "窗口：", current.name, "　　日期：", day(new Date().toISOString())),
    h("p", { class: "row no-print" },
      h("button", { type: "button", onclick: () => window.print() }, "打印"),
      h("a", { href: "#/desk" }, "返回窗口服务")),
  );
  return root;
}
