"""The community's report as an A4 PDF (see ``anju_query.application.report`` for what it says).

Chinese text is set in the standard CID font STSong-Light, nothing embedded; the figures' values
in Helvetica, so that any PDF reader or text extractor reads the numbers back.
"""

from __future__ import annotations

from io import BytesIO
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from anju_query.application import labels
from anju_query.application.report import (
    CommunityReport,
    breakdown,
    number,
    rate_text,
)
from anju_query.application.report_charts import FONT, NUMBERS, drawing

_TITLE = ParagraphStyle("title", fontName=FONT, fontSize=18, leading=26, alignment=1)
_SUBTITLE = ParagraphStyle("subtitle", fontName=FONT, fontSize=10, leading=16, alignment=1)
_H2 = ParagraphStyle("h2", fontName=FONT, fontSize=14, leading=22, spaceBefore=10, spaceAfter=4)
_H3 = ParagraphStyle("h3", fontName=FONT, fontSize=11, leading=18, spaceBefore=8, spaceAfter=3)
_CELL = ParagraphStyle("cell", fontName=FONT, fontSize=9, leading=12, wordWrap="CJK")
_VALUE = ParagraphStyle("value", fontName=NUMBERS, fontSize=10, leading=12, alignment=2)
_DATE = ParagraphStyle("date", fontName=NUMBERS, fontSize=9, leading=12)
_SMALL = ParagraphStyle("small", fontName=FONT, fontSize=8, leading=11, wordWrap="CJK")
_NOTE = ParagraphStyle("note", parent=_SMALL, textColor=colors.grey)

_GRID = TableStyle(
    [
        ("GRID", (0, 0), (-1, -1), 0.4, colors.Color(0.7, 0.7, 0.7)),
        ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.92, 0.94, 0.97)),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
)


def _p(text: str, style: ParagraphStyle = _CELL) -> Paragraph:
    return Paragraph(escape(text), style)


def _figures(report: CommunityReport) -> list[Flowable]:
    board = report.dashboard
    rows: list[list[Flowable]] = [[_p("指标"), _p("数值"), _p("构成")]]
    style = TableStyle(_GRID.getCommands())
    for pillar in report.pillars:
        style.add("SPAN", (0, len(rows)), (-1, len(rows)))
        style.add("BACKGROUND", (0, len(rows)), (-1, len(rows)), colors.Color(0.97, 0.97, 0.97))
        rows.append([_p(pillar.title, _H3), _p(""), _p("")])
        for name in pillar.figures:
            figure = board.figures[name]
            rows.append(
                [
                    _p(labels.figure_label(name)),
                    _p(number(figure.value), _VALUE),
                    _p(breakdown(figure) if figure.by else "", _SMALL),
                ]
            )
    style.add("SPAN", (0, len(rows)), (-1, len(rows)))
    rows.append([_p("综合指标", _H3), _p(""), _p("")])
    for name, rate in board.rates.items():
        rows.append(
            [_p(labels.RATES[name]), _p(rate_text(name, rate.value), _VALUE), _p("", _SMALL)]
        )
    table = Table(rows, colWidths=[62 * mm, 24 * mm, 84 * mm], repeatRows=1)
    table.setStyle(style)
    flowables: list[Flowable] = [table]
    if any(f.suppressed for f in board.figures.values()):
        flowables.append(Spacer(1, 2 * mm))
        flowables.append(_p("“—”：数量较少，为保护个人信息不予显示。", _NOTE))
    return flowables


def _appendix(report: CommunityReport) -> list[Flowable]:
    out: list[Flowable] = []
    for part in report.appendix:
        out.append(CondPageBreak(40 * mm))
        out.append(_p(f"{part.label}（共 {part.total} 条）", _H3))
        if part.hidden:
            out.append(_p("敏感群体的明细仅向社区主任提供。", _NOTE))
            continue
        if not part.records:
            out.append(_p("本期无记录。", _NOTE))
            continue
        rows: list[list[Flowable]] = [[_p("日期"), _p("内容"), _p("分组")]]
        for r in part.records:
            group = labels.group_label(r.group) if r.group else ""
            rows.append([_p(r.date.isoformat(), _DATE), _p(r.label, _SMALL), _p(group, _SMALL)])
        table = Table(rows, colWidths=[26 * mm, 110 * mm, 34 * mm], repeatRows=1)
        table.setStyle(_GRID)
        out.append(table)
        if part.more:
            out.append(_p(f"……及另外 {part.more} 条", _NOTE))
    return out


def _footer(canvas: Canvas, doc: SimpleDocTemplate) -> None:
    canvas.saveState()
    canvas.setFont(FONT, 8)
    canvas.setFillColor(colors.grey)
    canvas.drawCentredString(A4[0] / 2, 10 * mm, f"第 {doc.page} 页")
    canvas.restoreState()


def report_pdf(report: CommunityReport) -> bytes:
    """The report on A4 pages: title and period, the figures, a chart per pillar, the
    appendix."""
    buffer = BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=report.title,
        subject=report.period_text,
        author=report.community_name,
        creator="Anju query",
    )
    story: list[Flowable] = [
        _p(report.title, _TITLE),
        _p(f"统计期间：{report.period_text}", _SUBTITLE),
        _p(f"生成时间：{report.generated_at:%Y-%m-%d %H:%M} UTC", _SUBTITLE),
        Spacer(1, 6 * mm),
        _p("一、数据一览", _H2),
        *_figures(report),
        PageBreak(),
        _p("二、分项图表", _H2),
    ]
    for pillar in report.pillars:
        if not pillar.charts:
            continue
        first, *rest = pillar.charts  # the pillar's title stays with its first chart
        story.append(KeepTogether([_p(pillar.title, _H3), drawing(first), Spacer(1, 4 * mm)]))
        story.extend(KeepTogether([drawing(c), Spacer(1, 4 * mm)]) for c in rest)
    story += [PageBreak(), _p("附录：数据明细", _H2)]
    story += _appendix(report)
    doc.build(story, onFirstPage=_footer, onLaterPages=_footer)
    return buffer.getvalue()
