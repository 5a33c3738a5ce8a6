"""Unannounced parcels in headless Chromium against the real ERP: a parcel nobody announced is
matched to its sale by the customer's email and opened and received; another, matched to no sale,
is received blind to quarantine. Screenshots at 1280×800 and 360×640."""

from __future__ import annotations

import re
import time

import pytest

from sync.erp.tryton.demo import customer_email
from tests.e2e.steps import barcode, sign_in
from tests.e2e.test_roles_erp import RETURN, eventually, search
from tests.fixtures.browser import DESKTOP, HANDHELD

pytestmark = [pytest.mark.browser, pytest.mark.erp, pytest.mark.slow]

SEARCH_FIELD = "Order number, customer email or name, or a serial sold"


def test_an_unannounced_parcel_and_a_blind_receipt_reach_the_erp(erp, serve_station, open_station):
    for rma in ("RMA-000102", "RMA-000114"):  # Bruno sends both purchases back without a label
        (row,) = search(erp, RETURN, [("reference", "=", rma)], ["id"])
        erp.call(f"model.{RETURN}.cancel", [row["id"]], {})
    served = serve_station(erp=erp.address)
    page = open_station(served.url, DESKTOP)
    sign_in(page, "U-RECV-1", "1111")
    page.press("Receive")
    page.see("Scan the parcel")
    page.scan("1ZUNANNOUNCED0001")
    page.see("Parcel without a return")
    time.sleep(1)  # the scan field, re-made without keeping the focus, settles first (as a hand would)
    page.type_into(SEARCH_FIELD, customer_email("Bruno Costa"))
    page.see(re.compile("2 sales match"), timeout_ms=60_000)  # the first request logs in
    page.see(re.compile(r"SO-1014 · .*Bruno C\. · b\*\*\*@example\.com"))
    page.screenshot("unannounced-sales-found")
    page.press(re.compile(r"^SO-1014 · "))
    page.see("unannounced return of SO-1014")
    page.scan(barcode("FTW-SNK-41"))
    page.see("1 of 1")
    page.screenshot("unannounced-scanned")
    page.resize(HANDHELD)
    page.screenshot("unannounced-scanned")
    page.resize(DESKTOP)
    page.field("Scan").first.click()  # a resized window loses the focus; no worker resizes one
    page.press("Open the return and receive")
    page.see(re.compile(r"unannounced return UA-\w+ of SO-1014 received"))
    opened = eventually(
        lambda: search(erp, RETURN, [("return_reason", "=", "unannounced"), ("state", "=", "received"),
                                     ("reference", "like", "UA-%")], ["reference"])
    )  # fmt: skip
    assert len(opened) == 1

    page.see("Scan the parcel")
    page.scan("1ZNOBODYKNOWS0002")  # the next parcel, at once: no sale matches it
    page.see("Parcel without a return")
    time.sleep(1)
    page.type_into(SEARCH_FIELD, "nobody@nowhere.example")
    page.see(re.compile("no sale with anything left to return"))
    page.screenshot("unannounced-no-sale")
    page.resize(HANDHELD)  # the same screens on a handheld
    page.screenshot("unannounced-no-sale")
    page.press("Receive blind")
    page.see("Blind receipt (to quarantine)")
    page.scan(barcode("ACC-BELT-BRN"))
    page.see(re.compile("1 item\\(s\\) in the blind receipt"))
    page.screenshot("blind-receipt")
    page.press("Confirm blind receipt")
    page.see(re.compile(r"blind receipt BLIND-\w+: 1 item\(s\) to quarantine"))
    blind = eventually(
        lambda: search(erp, RETURN, [("reference", "like", "BLIND-%"), ("state", "=", "received")],
                       ["station_review", "reference"])
    )  # fmt: skip
    assert len(blind) == 1 and "1ZNOBODYKNOWS0002" in blind[0]["station_review"]

    # the ERP flags it for a supervisor; the next pull brings the flag to Supervise
    eventually(lambda: (served.station.store.find_return(blind[0]["reference"]) or {}).get("review"))
    page.resize(DESKTOP)
    page.press("Sign out")
    sign_in(page, "U-SUPV-1", "444444")
    page.press("Supervise")
    page.see("Blind receipts to identify: 1")
    page.see(re.compile(re.escape(blind[0]["reference"]) + " · received"))
    page.see(re.compile("parcel 1ZNOBODYKNOWS0002. Identify the sender"))
    page.screenshot("supervise-blind-receipt")
    page.resize(HANDHELD)
    page.screenshot("supervise-blind-receipt")
