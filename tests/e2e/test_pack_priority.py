"""Pack priority in headless Chromium against the real Tryton ERP: a packer sees on Home how many
orders are late, then the waiting orders on Pack, most urgent first, the late ones marked "LATE" in
their accessible names and on screen (an alarm badge, not colour alone); at 360×640 and 1280×800."""

from __future__ import annotations

import datetime as dt
import re
import time

import pytest

from sync.erp.tryton.connector import TrytonConnector
from sync.operations import new_operation
from tests.e2e.steps import DEMO, sign_in
from tests.fixtures.browser import DESKTOP, HANDHELD

pytestmark = [pytest.mark.browser, pytest.mark.erp]

# The demo's ORDER_SERVICE, most urgent first (see tests/test_pack_priority_erp.py)
MOST_URGENT_FIRST = [
    "OUT-1103",
    "OUT-1101",
    "OUT-1108",
    "OUT-1105",
    "OUT-1107",
    "OUT-1110",
    "OUT-1102",
    "OUT-1109",
    "OUT-1106",
    "OUT-1104",
]


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


def test_a_wrong_item_stopped_at_pack_reaches_the_supervisors_station_health(
    erp, serve_station, open_station
):
    # Another station whose clock is five minutes ahead (an older station: the ERP measures it)
    ahead = (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    skewed = new_operation(
        "station_status", {"outbox": {}, "app_version": "0.0.9"}, station="ST-SKEW", user="", created_at=ahead
    )
    connector = TrytonConnector(erp.station_address("ST-SKEW"))  # its own ERP user
    try:
        connector.apply_batch([skewed], lambda digest: b"")
    finally:
        connector.close()
    served = serve_station(erp=erp.address)
    page = open_station(served.url, HANDHELD)
    sign_in(page, "U-PACK-1", "3333")
    page.press(re.compile("^Pack"))
    page.scan("OUT-1102")  # running shoes and boots
    page.scan(DEMO.product("ACC-WALLET-BLK").barcode)
    page.see(re.compile("^wrong item: order OUT-1102 needs"))
    page.press("Sign out")
    engine = served.station.engine
    assert engine.queue_status() is not None
    deadline = time.monotonic() + 60
    while [op["state"] for op in served.station.store.operations() if op["type"] == "station_status"] != [
        "done"
    ]:
        engine.request_sync()
        assert time.monotonic() < deadline, "the status never reached the ERP"
        time.sleep(0.5)
    sign_in(page, "U-SUPV-1", "444444")
    page.press(re.compile("^Figures"))
    page.see(
        re.compile(r"^Station S1: last seen .*, clock [-+]\d.* s, version .*, wrong items stopped 1"),
        timeout_ms=30_000,
    )
    page.see(re.compile(r"wrong items stopped by scan 1"))
    page.press("Home")
    page.press(re.compile("^Supervise"))
    page.see(re.compile(r"^Stations: 2 \(as of"))
    page.see(re.compile(r"^Station ST-SKEW: .* — CLOCK OFF by \+\d{3} s"))
    page.see(re.compile(r"^Station S1: .*wrong items stopped 1 — healthy$"))
    for size in (HANDHELD, DESKTOP):
        page.resize(size)
        page.page.mouse.move(size["width"] / 2, size["height"] / 2)
        page.page.mouse.wheel(0, 3000)  # the stations come after the queues
        page.screenshot("supervise-stations")
