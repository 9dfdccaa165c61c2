"""A residence certificate as a printable A4 PDF.

The text uses the PDF standard's Chinese font STSong-Light (a CID font every PDF reader
supplies), so nothing is embedded and no font file ships with the service. A revoked
certificate still prints, marked 已作废 (revoked) across the page.
"""

from __future__ import annotations

from datetime import date
from io import BytesIO

from reportlab.lib.colors import Color, black
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph

from anju_station.domain.certificates import Certificate

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))

_BODY = ParagraphStyle("body", fontName=FONT, fontSize=14, leading=26, wordWrap="CJK")
_SMALL = ParagraphStyle("small", fontName=FONT, fontSize=9, leading=13, wordWrap="CJK")


def _day(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def certificate_pdf(c: Certificate, verify_url: str) -> bytes:
    """The certificate on one A4 page; the same certificate always gives the same bytes."""
    buffer = BytesIO()
    pdf = Canvas(buffer, pagesize=A4, invariant=True)
    pdf.setTitle(f"居住证明 {c.number}")
    pdf.setSubject(c.number)
    pdf.setAuthor(c.community_name)
    pdf.setCreator("Anju station")
    width, height = A4
    left, text_width = 25 * mm, width - 50 * mm

    pdf.setFont(FONT, 24)
    pdf.drawCentredString(width / 2, height - 45 * mm, "居 住 证 明")

    body = (
        f"兹证明 <u>{_escape(c.holder_name)}</u> 自 {_day(c.living_since)} 起"
        f"居住于 {_escape(c.address)}。"
    )
    if c.purpose:
        body += f"<br/>此证明用于：{_escape(c.purpose)}。"
    body += "<br/>特此证明。"
    paragraph = Paragraph(body, _BODY)
    _, used = paragraph.wrap(text_width, 120 * mm)
    paragraph.drawOn(pdf, left, height - 70 * mm - used)

    pdf.setFont(FONT, 14)
    pdf.drawRightString(width - left, height - 170 * mm, c.community_name)
    pdf.drawRightString(width - left, height - 180 * mm, _day(c.issued_on))

    footer = Paragraph(
        f"证明编号（验证码）：{c.number}<br/>"
        f"真伪查验：{_escape(verify_url)}<br/>"
        "本证明依据社区登记信息开具，凭编号可查验是否有效。",
        _SMALL,
    )
    _, used = footer.wrap(text_width, 40 * mm)
    footer.drawOn(pdf, left, 30 * mm)

    if not c.valid:
        pdf.saveState()
        pdf.setFillColor(Color(0.8, 0.1, 0.1, alpha=0.35))
        pdf.setFont(FONT, 72)
        pdf.translate(width / 2, height / 2)
        pdf.rotate(30)
        pdf.drawCentredString(0, 0, "已作废")
        pdf.restoreState()
        pdf.setFillColor(black)

    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
