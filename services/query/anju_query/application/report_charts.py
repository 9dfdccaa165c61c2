"""The report's charts, drawn once with reportlab's graphics: a ``Drawing`` for the PDF, the same
drawing as inline SVG for the HTML page.

Chinese text uses the PDF standard's CID font STSong-Light (every PDF reader supplies it, so no
font file ships with the service); numbers use Helvetica. In the SVG those become font stacks a
browser has (Songti, SimSun, Noto Serif CJK; Helvetica, Arial).
"""

from __future__ import annotations

import math
import re
from html import escape

from reportlab.graphics import renderSVG
from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.piecharts import Pie
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib.colors import Color, HexColor, white
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont

from anju_query.application.report import Chart, number

FONT = "STSong-Light"
NUMBERS = "Helvetica"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))

WIDTH, HEIGHT = 450, 210
PALETTE = [
    HexColor("#3b6ea5"),
    HexColor("#e07b39"),
    HexColor("#5a9e6f"),
    HexColor("#c44e52"),
    HexColor("#8172b2"),
    HexColor("#937860"),
    HexColor("#da8bc3"),
    HexColor("#8c8c8c"),
]
GREY = Color(0.45, 0.45, 0.45)


def _colour(n: int) -> Color:
    colour: Color = PALETTE[n % len(PALETTE)]
    return colour


def _label(value: float) -> str:
    return number(value) if value else ""


def _step(chart: Chart) -> float | None:
    """Whole steps on the value axis of counts (no 0.5 of a dispute); else reportlab's."""
    values = [v for s in chart.series for v in s.values]
    if not all(float(v).is_integer() for v in values):
        return None
    return float(max(1, math.ceil(max(values) / 5)))


def _bars(d: Drawing, chart: Chart) -> None:
    bars = VerticalBarChart()
    bars.x, bars.y = 45, 40
    bars.width, bars.height = WIDTH - 65, HEIGHT - 100
    bars.data = [tuple(s.values) for s in chart.series]
    bars.categoryAxis.categoryNames = chart.categories
    axis = bars.categoryAxis.labels
    axis.fontName, axis.fontSize = NUMBERS, 7
    if len(chart.categories) > 8:
        axis.angle, axis.boxAnchor, axis.dx, axis.dy = 35, "ne", 2, -2
    bars.valueAxis.valueMin = 0
    bars.valueAxis.valueStep = _step(chart)
    bars.valueAxis.labels.fontName = NUMBERS
    bars.valueAxis.labels.fontSize = 7
    bars.valueAxis.labelTextFormat = number
    bars.valueAxis.visibleGrid = True
    bars.valueAxis.gridStrokeColor = Color(0.85, 0.85, 0.85)
    for n in range(len(chart.series)):
        bars.bars[n].fillColor = _colour(n)
        bars.bars[n].strokeColor = None
    if len(chart.categories) * len(chart.series) <= 24:
        bars.barLabelFormat = _label
        bars.barLabels.fontName = NUMBERS
        bars.barLabels.fontSize = 6
        bars.barLabels.nudge = 6
    d.add(bars)
    if len(chart.series) > 1:
        legend = Legend()
        legend.x, legend.y = 50, HEIGHT - 28
        legend.fontName, legend.fontSize = FONT, 8
        legend.columnMaximum = 1
        legend.alignment = "right"  # the swatch, then its name
        legend.deltax = 70
        legend.dx = legend.dy = 7
        legend.colorNamePairs = [(_colour(n), s.name) for n, s in enumerate(chart.series)]
        d.add(legend)


def _hbars(d: Drawing, chart: Chart) -> None:
    bars = HorizontalBarChart()
    bars.x, bars.y = 130, 20
    bars.width, bars.height = WIDTH - 170, HEIGHT - 50
    bars.data = [tuple(chart.series[0].values)]
    bars.categoryAxis.categoryNames = chart.categories
    bars.categoryAxis.reverseDirection = 1
    bars.categoryAxis.labels.fontName = FONT
    bars.categoryAxis.labels.fontSize = 8
    bars.valueAxis.valueMin = 0
    bars.valueAxis.valueStep = _step(chart)
    bars.valueAxis.labels.fontName = NUMBERS
    bars.valueAxis.labels.fontSize = 7
    bars.valueAxis.labelTextFormat = number
    bars.bars[0].fillColor = _colour(0)
    bars.bars[0].strokeColor = None
    bars.barLabelFormat = _label
    bars.barLabels.fontName = NUMBERS
    bars.barLabels.fontSize = 7
    bars.barLabels.nudge = 8
    d.add(bars)


def _pie(d: Drawing, chart: Chart) -> None:
    shares = [(c, v) for c, v in zip(chart.categories, chart.series[0].values, strict=True) if v]
    total = sum(v for _, v in shares)
    pie = Pie()
    size = HEIGHT - 70
    pie.x, pie.y = (WIDTH - size) // 2, 25
    pie.width = pie.height = size
    pie.data = [v for _, v in shares]
    pie.labels = [f"{c} {number(v)}（{v / total:.0%}）" for c, v in shares]
    pie.sideLabels = True
    pie.slices.fontName = FONT
    pie.slices.fontSize = 8
    pie.slices.strokeColor = white
    for n in range(len(shares)):
        pie.slices[n].fillColor = _colour(n)
    d.add(pie)


def drawing(chart: Chart) -> Drawing:
    """The chart with its title; "no data" when every value is zero."""
    d = Drawing(WIDTH, HEIGHT)
    d.add(
        String(WIDTH / 2, HEIGHT - 14, chart.title, fontName=FONT, fontSize=11, textAnchor="middle")
    )
    if chart.empty:
        d.add(
            String(
                WIDTH / 2,
                HEIGHT / 2,
                "本期无数据",
                fontName=FONT,
                fontSize=10,
                textAnchor="middle",
                fillColor=GREY,
            )
        )
    elif chart.kind == "bars":
        _bars(d, chart)
    elif chart.kind == "hbars":
        _hbars(d, chart)
    else:
        _pie(d, chart)
    return d


_CJK_FONTS = "'Songti SC', SimSun, 'Noto Serif CJK SC', 'Source Han Serif SC', serif"


def svg(chart: Chart, n: int) -> str:
    """The chart as an ``<svg>`` element to inline in an HTML page; ``n`` makes its ids unique
    on the page."""
    text = renderSVG.drawToString(drawing(chart))
    text = text[text.index("<svg") :]
    text = re.sub(r'\s+xmlns(:xlink)?="[^"]*"', "", text)
    text = text.replace('id="clip"', f'id="clip-{n}"').replace("url(#clip)", f"url(#clip-{n})")
    text = text.replace(' id="group"', "")
    text = re.sub(
        r"<title>.*?</title>", f"<title>{escape(chart.title)}</title>", text, count=1, flags=re.S
    )
    text = re.sub(r"\s*<desc>.*?</desc>", "", text, count=1, flags=re.S)
    text = text.replace(f"font-family: {FONT}", f"font-family: {_CJK_FONTS}")
    text = text.replace(f"font-family: {NUMBERS}", "font-family: Helvetica, Arial, sans-serif")
    return text.replace("<svg ", '<svg role="img" class="chart" ', 1)
