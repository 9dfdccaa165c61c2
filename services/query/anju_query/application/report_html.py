"""The community's report as one self-contained, printable HTML page (see
``anju_query.application.report`` for what it says).

Nothing is fetched when it is opened: no script, no stylesheet or font from elsewhere; the
charts are inline SVG, the styles inline, with print rules (A4 pages, the appendix on a page of
its own, no table row or chart split across pages). Every text from the read models is escaped.
"""

from __future__ import annotations

from html import escape

from anju_query.application import labels
from anju_query.application.report import (
    AppendixPart,
    CommunityReport,
    breakdown,
    number,
    rate_text,
)
from anju_query.application.report_charts import svg

_STYLE = """
:root { --cjk: "Songti SC", SimSun, "Noto Serif CJK SC", "Source Han Serif SC", serif; }
body { font-family: var(--cjk); color: #222; max-width: 190mm; margin: 2em auto; padding: 0 1em;
       line-height: 1.5; }
h1 { text-align: center; font-size: 1.6em; margin-bottom: 0.2em; }
.period, .generated { text-align: center; margin: 0.2em 0; color: #444; }
h2 { border-bottom: 2px solid #3b6ea5; padding-bottom: 0.2em; margin-top: 1.6em; }
h3 { margin: 1.2em 0 0.4em; }
table { border-collapse: collapse; width: 100%; font-size: 0.9em; }
th, td { border: 1px solid #bbb; padding: 0.25em 0.5em; vertical-align: top; text-align: left; }
th { background: #eaf0f7; }
td.value { text-align: right; font-family: Helvetica, Arial, sans-serif;
           font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.pillar td { background: #f6f6f6; font-weight: bold; }
td.date { white-space: nowrap; font-family: Helvetica, Arial, sans-serif; }
.note, .more { color: #666; font-size: 0.85em; }
figure { margin: 0.8em 0; }
svg.chart { max-width: 100%; height: auto; }
@page { size: A4; margin: 16mm 14mm; }
@media print {
  body { margin: 0; max-width: none; padding: 0; font-size: 10pt; }
  th, td { padding: 0.15em 0.4em; }
  section.charts, section.appendix { break-before: page; }
  tr, figure, h3 { break-inside: avoid; }
  h3 { break-after: avoid; }
  thead { display: table-header-group; }
}
"""


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _figures(report: CommunityReport) -> str:
    board = report.dashboard
    rows = []
    for pillar in report.pillars:
        rows.append(f'<tr class="pillar"><td colspan="3">{_e(pillar.title)}</td></tr>')
        for name in pillar.figures:
            figure = board.figures[name]
            rows.append(
                f'<tr id="figure-{_e(name)}"><td>{_e(labels.figure_label(name))}</td>'
                f'<td class="value">{_e(number(figure.value))}</td>'
                f"<td>{_e(breakdown(figure) if figure.by else '')}</td></tr>"
            )
    rows.append('<tr class="pillar"><td colspan="3">综合指标</td></tr>')
    for name, rate in board.rates.items():
        rows.append(
            f'<tr id="rate-{_e(name)}"><td>{_e(labels.RATES[name])}</td>'
            f'<td class="value">{_e(rate_text(name, rate.value))}</td><td></td></tr>'
        )
    note = (
        '<p class="note">“—”：数量较少，为保护个人信息不予显示。</p>'
        if any(f.suppressed for f in board.figures.values())
        else ""
    )
    return (
        "<table><thead><tr><th>指标</th><th>数值</th><th>构成</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>{note}"
    )


def _charts(report: CommunityReport) -> str:
    parts = []
    n = 0
    for pillar in report.pillars:
        if not pillar.charts:
            continue
        parts.append(f"<h3>{_e(pillar.title)}</h3>")
        for chart in pillar.charts:
            n += 1
            parts.append(f"<figure>{svg(chart, n)}</figure>")
    return "".join(parts)


def _appendix_part(part: AppendixPart) -> str:
    head = f'<h3 id="records-{_e(part.figure)}">{_e(part.label)}（共 {part.total} 条）</h3>'
    if part.hidden:
        return head + '<p class="note">敏感群体的明细仅向社区主任提供。</p>'
    if not part.records:
        return head + '<p class="note">本期无记录。</p>'
    rows = "".join(
        f'<tr><td class="date">{r.date.isoformat()}</td><td>{_e(r.label)}</td>'
        f"<td>{_e(labels.group_label(r.group)) if r.group else ''}</td></tr>"
        for r in part.records
    )
    more = f'<p class="more">……及另外 {part.more} 条</p>' if part.more else ""
    return (
        f"{head}<table><thead><tr><th>日期</th><th>内容</th><th>分组</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>{more}"
    )


def report_html(report: CommunityReport) -> str:
    """The report as one HTML page: title and period, the figures, a chart per pillar, the
    appendix."""
    appendix = "".join(_appendix_part(p) for p in report.appendix)
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(report.title)}（{_e(report.period_text)}）</title>
<style>{_STYLE}</style>
</head>
<body>
<header>
<h1>{_e(report.title)}</h1>
<p class="period">统计期间：{_e(report.period_text)}</p>
<p class="generated">生成时间：{report.generated_at:%Y-%m-%d %H:%M} UTC</p>
</header>
<section class="figures"><h2>一、数据一览</h2>{_figures(report)}</section>
<section class="charts"><h2>二、分项图表</h2>{_charts(report)}</section>
<section class="appendix"><h2>附录：数据明细</h2>{appendix}</section>
</body>
</html>
"""
