"""``station erp labels``: every symbol on the demo sheet decodes back to what was put in."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import zxingcpp
from reportlab.graphics.shapes import Drawing, Rect
from reportlab.lib.colors import black

from sync.erp.tryton.demo import plan
from sync.erp.tryton.labels import demo_labels, label_pages
from sync.erp.tryton.server import STATION

ROOT = Path(__file__).resolve().parents[1]


def rasterise(page: Drawing, dpi: int = 200) -> np.ndarray:
    """The page's filled rectangles (all its symbols and their quiet zones) as a grey image."""
    scale = dpi / 72
    image = np.full((round(page.height * scale) + 1, round(page.width * scale) + 1), 255, np.uint8)
    for shape in page.contents:
        if isinstance(shape, Rect) and shape.fillColor is not None:
            x0, x1 = round(shape.x * scale), round((shape.x + shape.width) * scale)
            y0 = round((page.height - shape.y - shape.height) * scale)
            y1 = round((page.height - shape.y) * scale)
            image[y0:y1, x0:x1] = 0 if shape.fillColor == black else 255
    return image


@pytest.fixture(scope="module")
def sheet():
    demo = plan()
    labels = [label for _, section, _ in demo_labels(demo) for label in section]
    return demo, labels, label_pages(demo)


def decoded(image: np.ndarray) -> dict[str, zxingcpp.Result]:
    return {result.text: result for result in zxingcpp.read_barcodes(image)}


def test_every_symbol_on_the_sheet_decodes_to_its_content(sheet):
    _, labels, pages = sheet
    read: dict[str, zxingcpp.Result] = {}
    for page in pages:
        read.update(decoded(rasterise(page)))
    assert sorted(label.decoded for label in labels if label.decoded not in read) == []


def test_sheet_holds_rmas_orders_products_lots_and_badges(sheet):
    demo, labels, _ = sheet
    contents = {label.content for label in labels}
    assert {r.rma for r in demo.returns} <= contents
    assert {r.tracking for r in demo.returns} <= contents
    assert {o.shipment for o in demo.orders} <= contents
    assert {p.barcode for p in demo.products} <= contents
    assert {p.badge for p in demo.people} <= contents
    assert not any(p.pin in label.caption + label.detail for p in demo.people for label in labels if p.pin)


def test_lot_labels_are_gs1_datamatrix_with_gtin_expiry_and_lot(sheet):
    demo, labels, pages = sheet
    health = [p for p in demo.products if p.tracking == "lot"][0]
    lot = demo.lots_of(health.code)[0]
    expected = f"(01){health.barcode.zfill(14)}(17){lot.expiration_date:%y%m%d}(10){lot.number}"
    read: dict[str, zxingcpp.Result] = {}
    for page in pages:
        read.update(decoded(rasterise(page)))
    result = read[expected]
    assert result.format == zxingcpp.BarcodeFormat.DataMatrix
    assert result.content_type == zxingcpp.ContentType.GS1  # FNC1 first: a GS1 scanner sees AIs


def test_labels_command_writes_a_pdf(tmp_path):
    out = tmp_path / "labels.pdf"
    result = subprocess.run(
        [*STATION, "erp", "labels", "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert out.read_bytes().startswith(b"%PDF")
    assert "pages of demo labels" in result.stdout


def test_labels_command_refuses_an_unwritable_path_in_one_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = subprocess.run(
        [*STATION, "erp", "labels", "--out", str(blocker / "labels.pdf")],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("station: cannot write")


@pytest.mark.skipif(shutil.which("gs") is None, reason="Ghostscript is not installed")
def test_printed_pdf_pages_decode_too(tmp_path, sheet):
    """The PDF itself, rasterised by Ghostscript, carries the same symbols (first page: RMAs)."""
    from PIL import Image

    from sync.erp.tryton.labels import write_label_sheet

    demo, _, _ = sheet
    pdf = tmp_path / "labels.pdf"
    write_label_sheet(pdf, demo)
    png = tmp_path / "page1.png"
    subprocess.run(
        [
            "gs",
            "-q",
            "-dSAFER",
            "-dBATCH",
            "-dNOPAUSE",
            "-sDEVICE=pnggray",
            "-r200",
            "-dFirstPage=1",
            "-dLastPage=1",
            f"-sOutputFile={png}",
            str(pdf),
        ],
        check=True,
    )
    read = decoded(np.asarray(Image.open(png)))
    assert {r.rma for r in demo.returns[:6]} <= set(read)
