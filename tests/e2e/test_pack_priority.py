"""Pack priority in headless Chromium against the real Tryton ERP: a packer sees on Home how many
orders are late, then the waiting orders on Pack, most urgent first, the late ones marked "LATE" in
their accessible names and on screen (an alarm badge, not colour alone); at 360×640 and 1280×800."""

from __future__ import annotations

import re

import pytest

from tests.e2e.steps import sign_in
from tests.fixtures.browser import DESKTOP, HANDHELD

pytestmark = [pytest.mark.browser, pytest.mark.erp]

# The demo's ORDER_SERVICE, most urgent first (see tests/test_pack_priority_erp.py)
MOST_URGENT_FIRST = ["OUT-1103", "OUT-1101", "OUT-1108", "OUT-1105", "OUT-1107", "OUT-1110", "OUT-1102",
                     "OUT-1109", "OUT-1106", "OUT-1104"]


def row(page, number: str):
    """An order's row, found by its accessible name (which starts with its number)."""
    return page.page.get_by_text(re.compile(rf"^{number} · ")).first


def test_packer_sees_the_late_orders_first_and_marked(erp, serve_station, open_station):
    served = serve_station(erp=erp.address)
    page = open_station(served.url, HANDHELD)
    sign_in(page, "U-PACK-1", "3333")
    page.see(re.compile(r"Scan an order's items into the box · 10 waiting · 3 late"))
    page.see("3 LATE")
    page.screenshot("home-late")
    page.resize(DESKTOP)
    page.screenshot("home-late")
    page.press(re.compile("^Pack"))
    page.see("Orders waiting: 10, 3 late — most urgent first", timeout_ms=30_000)
    for number in MOST_URGENT_FIRST:
        row(page, number).wait_for(timeout=15_000)
    late = [n for n in MOST_URGENT_FIRST if re.match(rf"^{n} · LATE · ", row(page, n).text_content() or "")]
    assert late == MOST_URGENT_FIRST[:3]
    tops = [row(page, n).bounding_box()["y"] for n in MOST_URGENT_FIRST[:6]]
    assert tops == sorted(tops)  # listed in that order, top to bottom
    page.screenshot("pack-priority")
    page.resize(HANDHELD)
    row(page, MOST_URGENT_FIRST[0]).wait_for(timeout=15_000)
    page.screenshot("pack-priority")
    # the first one is packed from its pick list like any other
    page.scan(MOST_URGENT_FIRST[0])
    page.see(re.compile(rf"^Order {MOST_URGENT_FIRST[0]} — "))
