"""A printable sheet of the demo's barcodes, so a person with a webcam or a USB scanner can try every
flow on paper or on a screen: RMA and tracking labels (Code 128), orders to pack (Code 128), product
barcodes (EAN-13 / UPC-A), GS1 DataMatrix for lot-tracked items ((01) GTIN, (17) expiry, (10) lot)
and serial-numbered ones ((01) GTIN, (21) serial), and badges (Code 128).

Symbols are encoded by zxing-cpp and drawn as vector rectangles, so they print sharp at any size.
Each page is a reportlab Drawing: :func:`write_label_sheet` writes them as a PDF, and tests render
the same drawings to images and decode them. PINs are not printed: see the README.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import zxingcpp
from reportlab.graphics.shapes import Drawing, Rect, String
from reportlab.lib.colors import black, white
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm

from sync.erp.tryton.demo import DemoPlan, plan

PAGE_W, PAGE_H = A4
MARGIN = 12 * mm
CELL_H = 34 * mm
MODULE_1D = 0.33 * mm  # one bar module: EAN-13 at 100 % magnification
MODULE_2D = 0.75 * mm
BAR_HEIGHT = 14 * mm


@dataclass(frozen=True)
class Label:
    """One symbol on the sheet and the words printed under it."""

    content: str  # what the symbol encodes (GS1 element strings in "(01)…" form)
    format: str  # "Code128", "Code128GS1", "EAN13", "UPCA", "DataMatrixGS1"
    caption: str
    detail: str = ""

    @property
    def decoded(self) -> str:
        """What zxing-cpp returns when it reads this symbol (a UPC-A reads as its EAN-13, a leading 0)."""
        return "0" + self.content if self.format == "UPCA" else self.content


def gtin14(barcode: str) -> str:
    return barcode.zfill(14)


def demo_labels(demo: DemoPlan | None = None) -> list[tuple[str, list[Label], int]]:
    """The sheet's sections, in order: (title, labels, columns)."""
    demo = demo or plan()
    returns = [
        label
        for r in demo.returns
        for label in (
            Label(r.rma, "Code128", f"{r.rma}  return label", f"{r.customer}; order {r.order}"),
            Label(r.tracking, "Code128", "Carrier tracking", f"parcel for {r.rma}"),
        )
    ]
    orders = [
        Label(o.shipment, "Code128", f"{o.shipment}  pick list", f"order {o.order}; {o.customer}")
        for o in demo.orders
    ]
    products = [
        Label(p.barcode, "UPCA" if len(p.barcode) == 12 else "EAN13", p.code, p.name) for p in demo.products
    ]
    lots = []
    for lot in demo.lots:
        product = demo.product(lot.product)
        if lot.expiration_date is not None:
            expiry = lot.expiration_date
            state = (
                "EXPIRED" if expiry < demo.today else "short-dated" if expiry <= _soon(demo) else "in date"
            )
            content = f"(01){gtin14(product.barcode)}(17){expiry:%y%m%d}(10){lot.number}"
            lots.append(
                Label(
                    content,
                    "DataMatrixGS1",
                    f"{product.code} lot {lot.number}",
                    f"expires {expiry.isoformat()} ({state})",
                )
            )
        else:
            content = f"(01){gtin14(product.barcode)}(21){lot.number}"
            lots.append(Label(content, "DataMatrixGS1", f"{product.code}", f"serial {lot.number}"))
    badges = [
        Label(
            p.badge,
            "Code128",
            f"{p.badge}  {p.name}",
            ", ".join(p.roles) + ("" if p.active else " (inactive)"),
        )
        for p in demo.people
    ]
    return [
        ("Customer returns: RMA labels and carrier tracking numbers", returns, 2),
        ("Orders to pack: pick lists", orders, 3),
        ("Products: EAN-13 / UPC-A", products, 3),
        ("Lots and serial numbers: GS1 DataMatrix", lots, 3),
        ("Badges (PINs: see the README)", badges, 3),
    ]


def badge_labels(people: Sequence[tuple[str, str, Sequence[str], bool]]) -> list[Section]:
    """Badge sections for ``people`` as (badge, name, roles, active): Code 128, as the demo's."""
    badges = [
        Label(badge, "Code128", f"{badge}  {name}", ", ".join(roles) + ("" if active else " (inactive)"))
        for badge, name, roles, active in people
    ]
    return [("Badges", badges, 3)]


def _soon(demo: DemoPlan) -> dt.date:
    return demo.today + dt.timedelta(days=30)


def symbol_matrix(label: Label) -> np.ndarray:
    """The symbol's modules, True = dark: one row for linear symbols, a square grid for DataMatrix."""
    if label.format == "DataMatrixGS1":
        barcode = zxingcpp.create_barcode(label.content, zxingcpp.BarcodeFormat.DataMatrix, gs1=True)
    elif label.format == "Code128GS1":
        barcode = zxingcpp.create_barcode(label.content, zxingcpp.BarcodeFormat.Code128, gs1=True)
    else:
        barcode = zxingcpp.create_barcode(label.content, getattr(zxingcpp.BarcodeFormat, label.format))
    image = np.asarray(barcode.to_image(scale=1, add_quiet_zones=False))
    dark = image < 128
    if label.format != "DataMatrixGS1":
        dark = dark[:1]
    return dark


def _draw_symbol(drawing: Drawing, label: Label, x: float, top: float, cell_width: float) -> None:
    """Draw ``label``'s symbol with its quiet zone, its top left corner at (x, top)."""
    matrix = symbol_matrix(label)
    linear = matrix.shape[0] == 1
    if linear:
        module = min(MODULE_1D, (cell_width - 8 * mm) / (matrix.shape[1] + 20))
        quiet, height, row_height = 10 * module, BAR_HEIGHT, BAR_HEIGHT
    else:
        module = MODULE_2D
        quiet, height, row_height = 2 * module, matrix.shape[0] * module, module
    width = matrix.shape[1] * module
    drawing.add(
        Rect(
            x,
            top - height - 2 * quiet,
            width + 2 * quiet,
            height + 2 * quiet,
            fillColor=white,
            strokeColor=None,
        )
    )
    for index, row in enumerate(matrix):
        y = top - quiet - (index + 1) * row_height
        start = None
        for i, dark in enumerate([*row, False]):
            if dark and start is None:
                start = i
            elif not dark and start is not None:
                drawing.add(
                    Rect(
                        x + quiet + start * module,
                        y,
                        (i - start) * module,
                        row_height,
                        fillColor=black,
                        strokeColor=None,
                        strokeWidth=0,
                    )
                )
                start = None


Section = tuple[str, list[Label], int]  # (title, labels, columns)


def label_pages(
    demo: DemoPlan | None = None,
    extra: Sequence[Section] = (),
    *,
    sections: Sequence[Section] | None = None,
    heading: str = "Returns Station demo labels",
) -> list[Drawing]:
    """The sheet as A4 drawings (points), ready for renderPDF or renderPM, with the ``extra`` sections
    (the station's own labels, such as the scanner check-up) after the demo's; ``sections`` instead
    of the demo's (e.g. the ERP's badges, ``station erp people badges``)."""
    pages: list[Drawing] = []
    top = PAGE_H - MARGIN

    def new_page() -> Drawing:
        drawing = Drawing(PAGE_W, PAGE_H)
        drawing.add(Rect(0, 0, PAGE_W, PAGE_H, fillColor=white, strokeColor=None))
        drawing.add(
            String(
                MARGIN,
                PAGE_H - MARGIN + 3 * mm,
                f"{heading}, page {len(pages) + 1}",
                fontName="Helvetica",
                fontSize=7,
            )
        )
        pages.append(drawing)
        return drawing

    page, y = new_page(), top
    for title, labels, columns in [*(demo_labels(demo) if sections is None else sections), *extra]:
        cell_width = (PAGE_W - 2 * MARGIN) / columns
        if y - 9 * mm - CELL_H < MARGIN:
            page, y = new_page(), top
        page.add(String(MARGIN, y - 6 * mm, title, fontName="Helvetica-Bold", fontSize=11))
        y -= 9 * mm
        for index, label in enumerate(labels):
            column = index % columns
            if column == 0 and index:
                y -= CELL_H
            if column == 0 and y - CELL_H < MARGIN:
                page, y = new_page(), top
            x = MARGIN + column * cell_width
            _draw_symbol(page, label, x, y - 1 * mm, cell_width)
            if label.format in ("EAN13", "UPCA"):
                page.add(String(x, y - CELL_H + 11.5 * mm, label.content, fontName="Helvetica", fontSize=7))
            page.add(
                String(x, y - CELL_H + 8 * mm, label.caption[:44], fontName="Helvetica-Bold", fontSize=7)
            )
            page.add(String(x, y - CELL_H + 4.5 * mm, label.detail[:56], fontName="Helvetica", fontSize=6.5))
        y -= CELL_H
    return pages


def write_label_sheet(
    out: Path,
    demo: DemoPlan | None = None,
    extra: Sequence[Section] = (),
    *,
    sections: Sequence[Section] | None = None,
    heading: str = "Returns Station demo labels",
) -> int:
    """Write the demo label sheet (or ``sections``) to ``out`` as a PDF; return the number of pages.
    OSError if unwritable."""
    from reportlab.graphics import renderPDF
    from reportlab.pdfgen.canvas import Canvas

    pages = label_pages(demo, extra, sections=sections, heading=heading)
    out = Path(out)
    canvas = Canvas(str(out), pagesize=A4, invariant=True)
    canvas.setTitle(heading)
    for drawing in pages:
        renderPDF.draw(drawing, canvas, 0, 0)
        canvas.showPage()
    canvas.save()
    return len(pages)
