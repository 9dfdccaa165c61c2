// The director's screens: the dashboard of the community's report figures with charts drawn here
// as inline SVG (no chart library), the records behind a figure (drill-down), the work-list board
// with its supervision colours (督办), and the printable report, fetched with the token and opened
// from a blob so that the token never travels in a URL.
import { api, openFile } from "../api.js";
import { day, enumLabel, role, route as routeLabel, status, when } from "../i18n.js";
import { field, h, select, showError } from "../ui.js";

const SVG = "http://www.w3.org/2000/svg";
const CHARTS = [
  ["disputes_resolved", "矛盾纠纷化解（按层级）"],
  ["convenience_services", "便民服务（按事项）"],
  ["volunteer_hours_approved", "志愿服务时长（按志愿者类别）"],
  ["special_group_flags", "特殊群体（按类别）"],
];

function isoDay(d) { return d.toISOString().slice(0, 10); }

// The period shown: this month so far, unless the director chose another (kept in the hash).
function period(from, to) {
  const today = new Date();
  return {
    from: from || isoDay(new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), 1))),
    to: to || isoDay(today),
  };
}

function periodQuery(current, { from, to }) {
  const q = new URLSearchParams({ from, to });
  if (current.areas[0]) q.set("community_id", current.areas[0]);
  return q;
}

function number(value, summed) {
  if (value === null || value === undefined) return "—";
  return summed ? String(Math.round(value * 10) / 10) : String(value);
}

export async function dashboardScreen(current, from, to) {
  const chosen = period(from, to);
  const root = h("section", { "aria-labelledby": "dashboard-title" }, h("h1", { id: "dashboard-title" }, "工作仪表盘"));
  const fromInput = h("input", { type: "date", value: chosen.from });
  const toInput = h("input", { type: "date", value: chosen.to });
  const choose = h("form", { class: "row no-print", "aria-label": "统计期间" },
    field("起始日期", fromInput, "from"), field("截止日期", toInput, "to"),
    h("button", { type: "submit" }, "查看"),
    h("button", { type: "button", class: "secondary", onclick: () => openReport(current, chosen, "html", choose) }, "打印报表"),
    h("button", { type: "button", class: "secondary", onclick: () => openReport(current, chosen, "pdf", choose) }, "下载PDF报表"));
  choose.addEventListener("submit", (e) => {
    e.preventDefault();
    location.hash = `#/dashboard/${fromInput.value}/${toInput.value}`;
  });
  root.append(choose);
  let board;
  try {
    board = await api.get("query", `/dashboard?${periodQuery(current, chosen)}`);
  } catch (error) {
    showError(choose, error);
    return root;
  }
  const link = (name) => `#/figure/${name}/${chosen.from}/${chosen.to}`;
  root.append(
    h("p", { class: "muted" }, `统计期间：${day(chosen.from)} 至 ${day(chosen.to)}`),
    h("div", { class: "counts", "aria-label": "主要比率" }, Object.entries(board.rates).map(([name, rate]) =>
      h("p", { class: "card", "data-rate": name }, h("span", { class: "count" }, rateText(name, rate.value)), " ", rate.label || name))),
    h("h2", {}, "图表"),
    h("div", { class: "sections" },
      figureChart(board, link),
      ...CHARTS.filter(([name]) => board.figures[name]).map(([name, title]) => groupChart(board.figures[name], title, link(name)))),
    h("h2", {}, "各项数据"),
    h("table", { "aria-label": "各项数据" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "项目"), h("th", { scope: "col" }, "数值"), h("th", { scope: "col" }, "明细"))),
      h("tbody", {}, Object.entries(board.figures).map(([name, figure]) => h("tr", { "data-figure": name },
        h("th", { scope: "row" }, figure.label || name),
        h("td", {}, number(figure.value, figure.summed), figure.suppressed ? "（部分数据已隐藏）" : ""),
        h("td", {}, h("a", { href: link(name), "aria-label": `${figure.label || name}的明细` }, "查看明细")))))),
  );
  return root;
}

function rateText(name, value) {
  if (value === null || value === undefined) return "—";
  return name === "satisfaction" ? `${value} 分` : `${Math.round(value * 1000) / 10}%`;
}

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}

// A horizontal bar chart: one bar per row, each a link (drill-down) that keyboard users reach too.
function barChart(title, rows) {
  const width = 360, barH = 22, gap = 8, labelW = 150, valueW = 40;
  const max = Math.max(1, ...rows.map((r) => r.value || 0));
  const height = rows.length * (barH + gap) + gap;
  const titleId = `chart${Math.random().toString(36).slice(2, 8)}`;
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, width: "100%", role: "group", "aria-labelledby": titleId, class: "svgchart" },
    svg("title", { id: titleId }, title));
  rows.forEach((row, i) => {
    const y = gap + i * (barH + gap);
    const w = Math.max(row.value ? 2 : 0, ((width - labelW - valueW) * (row.value || 0)) / max);
    const bar = [
      svg("text", { x: labelW - 6, y: y + barH * 0.72, "text-anchor": "end", "font-size": 13, fill: "#1b1b1b" }, row.label),
      svg("rect", { x: labelW, y, width: w, height: barH, rx: 3, fill: "#0b5cad" }),
      svg("text", { x: labelW + w + 4, y: y + barH * 0.72, "font-size": 13, fill: "#1b1b1b" }, row.value === null ? "—" : row.value),
    ];
    chart.append(row.href
      ? svg("a", { href: row.href, "aria-label": `${row.label}：${row.value === null ? "已隐藏" : row.value}，查看明细` }, ...bar)
      : svg("g", { role: "img", "aria-label": `${row.label}：${row.value === null ? "已隐藏" : row.value}` }, ...bar));
  });
  return h("figure", { class: "card chart-card" }, h("figcaption", {}, h("strong", {}, title)), chart);
}

function figureChart(board, link) {
  const counted = Object.entries(board.figures).filter(([, f]) => !f.summed);
  return barChart("各项工作量", counted.map(([name, f]) => ({ label: shortLabel(f.label || name), value: f.value, href: link(name) })));
}

function groupChart(figure, title, href) {
  const rows = Object.entries(figure.by).map(([group, value]) => ({ label: (figure.group_labels || {})[group] || group, value, href }));
  if (!rows.length) rows.push({ label: "合计", value: figure.value, href });
  return barChart(title, rows);
}

function shortLabel(label) { return label.replace(/（.*?）$/, ""); }

// -- drill-down -------------------------------------------------------------------------------

export async function figureScreen(current, name, from, to) {
  const chosen = period(from, to);
  const root = h("section", { "aria-labelledby": "figure-title" });
  const back = h("p", { class: "no-print" }, h("a", { href: `#/dashboard/${chosen.from}/${chosen.to}` }, "← 返回仪表盘"));
  let page;
  try {
    page = await api.get("query", `/dashboard/figures/${encodeURIComponent(name)}?${periodQuery(current, chosen)}&limit=200`);
  } catch (error) {
    const box = h("div", {}, h("h1", { id: "figure-title" }, "数据明细"));
    showError(box, error);
    root.append(back, box);
    return root;
  }
  const groups = page.group_labels || {};
  root.append(back,
    h("h1", { id: "figure-title" }, page.label || name),
    h("p", {}, `${day(chosen.from)} 至 ${day(chosen.to)}：`, h("strong", { "data-value": page.value }, page.value), `（共 ${page.total} 条记录${page.total > page.items.length ? `，显示前 ${page.items.length} 条` : ""}）`),
    page.items.length
      ? h("table", { "aria-label": "记录" },
          h("thead", {}, h("tr", {}, ["日期", "内容", "类别", "数量"].map((t) => h("th", { scope: "col" }, t)))),
          h("tbody", {}, page.items.map((r) => h("tr", { "data-record": r.id },
            h("td", {}, day(r.date)), h("td", {}, r.label), h("td", {}, r.group ? groups[r.group] || r.group : "—"), h("td", {}, r.amount)))))
      : h("p", { class: "card" }, "这一期间没有记录。"));
  return root;
}

// -- the printable report ------------------------------------------------------------------------

// The report needs the token: fetch it, and open what came back from a blob URL (no token in it).
async function openReport(current, chosen, format, form) {
  const q = periodQuery(current, chosen);
  q.set("format", format);
  try {
    await openFile("query", `/reports/community?${q}`);
  } catch (error) {
    showError(form, error);
  }
}

// -- the work-list board ------------------------------------------------------------------------

const COLOURS = ["red", "yellow", "blue"];

export async function workItems(current) {
  const root = h("section", { "aria-labelledby": "items-title" }, h("h1", { id: "items-title" }, "工作事项督办"));
  const q = new URLSearchParams({ limit: "100" });
  if (current.areas[0]) q.set("community_id", current.areas[0]);
  let board;
  try {
    board = await api.get("query", `/governance/work-items?${q}`);
  } catch (error) {
    showError(root, error);
    return root;
  }
  root.append(
    h("div", { class: "counts", "aria-label": "督办统计" },
      ...COLOURS.map((c) => h("p", { class: `card slacard colourcard-${c}` },
        h("span", { class: "count", "data-colour-count": c }, board.by_colour[c] || 0), " ", enumLabel("governance.SupervisionColour", c))),
      h("p", { class: "card" }, h("span", { class: "count", "data-count": "overdue" }, board.overdue), " 已逾期")),
    board.items.length
      ? h("table", { "aria-label": "工作事项" },
          h("thead", {}, h("tr", {}, ["事项", "督办", "牵头单位", "责任人", "办结期限", "优先级", "状态"].map((t) => h("th", { scope: "col" }, t)))),
          h("tbody", {}, board.items.map((item) => h("tr", { "data-item": item.id, "data-colour": item.colour || "" },
            h("th", { scope: "row" }, item.title),
            h("td", {}, item.colour ? h("span", { class: `badge colour-${item.colour}` }, enumLabel("governance.SupervisionColour", item.colour)) : "—"),
            h("td", {}, item.owner ? item.owner.name || "" : "未指定"),
            h("td", {}, item.responsible || "—"),
            h("td", {}, when(item.deadline), item.overdue ? h("span", { class: "badge state-overdue" }, "已逾期") : null),
            h("td", {}, enumLabel("governance.Priority", item.priority)),
            h("td", {}, enumLabel("governance.WorkItemStatus", item.status))))))
      : h("p", { class: "card done" }, "没有工作事项。"));
  return root;
}

// -- the audit of sensitive reads ----------------------------------------------------------------

const AUDITED = ["resident", "dispute", "work_item"];

// Who read which sensitive record of my areas, when and how: a full identity number, a sensitive
// dispute or work item. Filtered by kind and reader; each record links to its reads alone.
export async function auditScreen(current, kind, subject) {
  const root = h("section", { "aria-labelledby": "audit-title" }, h("h1", { id: "audit-title" }, "敏感信息查阅记录"));
  const single = kind && subject;
  const kindSelect = select([["", "全部"], ...AUDITED.map((k) => [k, status("audited_read", k)])], kind || "");
  const reader = h("input", { type: "text", autocomplete: "off" });
  const filters = h("form", { class: "row no-print", "aria-label": "筛选" },
    field("查阅内容", kindSelect, "kind"), field("查阅人工号（可不填）", reader, "reader"),
    h("button", { type: "submit" }, "查询"));
  const list = h("div", {});
  const load = async () => {
    const q = new URLSearchParams({ limit: "200" });
    let path = "/audit/reads";
    if (single) path = `/audit/reads/${encodeURIComponent(kind)}/${encodeURIComponent(subject)}`;
    else {
      if (kindSelect.value) q.set("kind", kindSelect.value);
      if (reader.value.trim()) q.set("reader", reader.value.trim());
    }
    try {
      const page = await api.get("query", `${path}?${q}`);
      list.replaceChildren(
        h("p", { class: "muted" }, `共 ${page.total} 次查阅${page.total > page.items.length ? `，显示最近 ${page.items.length} 次` : ""}`),
        page.items.length
          ? h("table", { "aria-label": "查阅记录" },
              h("thead", {}, h("tr", {}, ["时间", "查阅人", "角色", "查阅内容", "记录", "途径"].map((t) => h("th", { scope: "col" }, t)))),
              h("tbody", {}, page.items.map((r) => h("tr", { "data-read": r.id, "data-kind": r.kind },
                h("td", {}, when(r.read_at)), h("td", {}, r.reader), h("td", {}, r.roles.map(role).join("、")),
                h("td", {}, status("audited_read", r.kind)),
                h("td", {}, h("a", { href: `#/audit/${r.kind}/${r.subject}`, "aria-label": `${subjectLabel(r)}的全部查阅记录` }, subjectLabel(r))),
                h("td", {}, routeLabel(r.route))))))
          : h("p", { class: "card done" }, "没有查阅记录。"));
    } catch (error) {
      showError(list, error);
    }
  };
  filters.addEventListener("submit", (e) => { e.preventDefault(); load(); });
  root.append(single ? h("p", { class: "no-print" }, h("a", { href: "#/audit" }, "← 全部查阅记录")) : filters, list);
  await load();
  return root;
}

function subjectLabel(r) {
  if (r.kind === "dispute") return `${enumLabel("mediation.Category", r.label)}纠纷`;
  return r.label || "（已不在本区域）";
}
