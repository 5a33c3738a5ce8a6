"""Sort to tote in headless Chromium against the real ERP: after each confirmed unit the station asks
for the tote of its disposition, refuses a tote of another disposition in red, Supervise shows the
open tote and its age, and the tote closed by scan reaches its location in the ERP as a whole.
Screenshots at 1280×800 and 360×640."""

from __future__ import annotations

import re
import time

import pytest

from app.workflows.station import StationSession
from tests.e2e.steps import answer_checklist, jpeg, sign_in
from tests.e2e.test_roles_erp import eventually, search
from tests.fixtures.browser import DESKTOP, HANDHELD

pytestmark = [pytest.mark.browser, pytest.mark.erp, pytest.mark.slow]

RMA = "RMA-000101"  # a tee and a wallet, both restocked when graded A and undamaged


def both_sizes(page, name: str, *, scanning: bool = True) -> None:
    page.screenshot(name)
    page.resize(HANDHELD)
    time.sleep(1)  # the handheld layout is drawn again before the picture
    page.screenshot(name)
    page.resize(DESKTOP)
    time.sleep(1)
    if scanning:
        page.field("Scan").first.click()  # a resized window loses the focus; no worker resizes one
        focus_back(page)


def focus_back(page) -> None:
    """Wait for the scan field to hold the focus again after a button press. The field keeps its
    element (it takes the focus back when it loses it), which the press marked as left behind:
    a scan after a press would otherwise wait for a field that never comes."""
    page.page.wait_for_function(
        "() => document.activeElement?.tagName === 'INPUT' && !document.activeElement.value", timeout=5_000
    )
    page.page.evaluate("() => { delete document.activeElement.dataset.stale; }")


def received_here(station, demo) -> None:
    """Earlier at this station: the parcel was received and the receipt delivered."""
    spec = next(r for r in demo.returns if r.rma == RMA)
    desk = StationSession(station.store, station.station_id, requester=station.engine.request)
    desk.sign_in("U-RECV-1", "1111")
    desk.start("receive")
    desk.scan(spec.rma)
    for line in spec.box:
        desk.scan(demo.product(line.product).barcode)
    assert desk.confirm().ok
    desk.sign_out()
    eventually(
        lambda: station.store.find_return(RMA)["state"] == "received" or station.engine.sync_once() and False,
        what="the pull to bring the received return",
    )


def photos(page, tmp_path, colours: tuple[str, ...]) -> None:
    files = []
    for colour in colours:
        files.append(tmp_path / f"{colour}.jpg")
        files[-1].write_bytes(jpeg(colour))
    with page.page.expect_file_chooser() as chooser:
        page.press("Add photo")
    chooser.value.set_files([str(p) for p in files])
    page.see(f"Photos: {len(colours)} of {len(colours)} needed")


def test_units_sorted_into_a_tote_reach_their_location_when_it_is_closed(
    erp, serve_station, open_station, tmp_path
):
    served = serve_station(erp=erp.address)
    station = served.station
    station.sort_to_totes = True  # this station sorts (station settings --sort-to-totes on)
    received_here(station, erp.demo)
    spec = next(r for r in erp.demo.returns if r.rma == RMA)
    tee, wallet = (erp.demo.product(line.product).barcode for line in spec.lines)

    page = open_station(served.url, DESKTOP)
    sign_in(page, "U-INSP-1", "2222")
    page.press("Inspect")
    page.scan(RMA)
    page.see("waiting for inspection")
    page.scan(tee)
    photos(page, tmp_path, ("navy", "teal"))
    page.press(re.compile("^A like new"))
    answer_checklist(
        page, [("Tags attached?", "Yes"), ("Signs of wear?", "No"), ("Stains?", "No"), ("Odour?", "No")]
    )
    page.press("Confirm disposition")
    page.see("Restock tote: TOTE-RESTOCK-…")
    both_sizes(page, "tote-asked")

    page.scan("TOTE-REFURB-0001")  # the wrong tote: refused in red, saying which one
    page.see(re.compile("TOTE-REFURB-0001 is a Refurbish tote: this unit is Restock, put it in a RESTOCK"))
    both_sizes(page, "tote-wrong")
    page.scan("TOTE-RESTOCK-0001")
    page.see(re.compile(r"is in TOTE-RESTOCK-0001 \(1 unit\)"))

    page.scan(wallet)
    photos(page, tmp_path, ("olive",))
    page.press(re.compile("^A like new"))
    answer_checklist(
        page, [("Packaging intact?", "Yes"), ("Damaged (scratches, broken clasp, tears)?", "No")]
    )
    page.press("Confirm disposition")
    page.see("Restock tote: TOTE-RESTOCK-…")
    focus_back(page)
    page.scan("TOTE-RESTOCK-0001")
    page.see(re.compile(r"is in TOTE-RESTOCK-0001 \(2 units\)"))
    both_sizes(page, "tote-filled")
    page.press("Sign out")

    sign_in(page, "U-SUPV-1", "444444")  # the supervisor sees the open tote and its age
    page.press("Supervise")
    page.see("Open totes: 1")
    page.see(re.compile(r"TOTE-RESTOCK-0001 · Restock · 2 unit\(s\)"))
    both_sizes(page, "tote-supervise", scanning=False)
    page.press("Sign out")

    sign_in(page, "U-INSP-1", "2222")  # the tote is full: Close tote, then its label
    page.see("Resumed your inspect and grade")
    page.press("Close tote")
    page.see("Scan the label of the tote to close")
    focus_back(page)
    page.scan("TOTE-RESTOCK-0001")
    page.see(re.compile("TOTE-RESTOCK-0001 closed: take it to Restock"))
    both_sizes(page, "tote-closed")

    (package,) = eventually(
        lambda: search(erp, "stock.package", [("number", "=", "TOTE-RESTOCK-0001")], ["state", "moves"])
    )
    eventually(
        lambda: (
            search(erp, "stock.package", [("number", "=", "TOTE-RESTOCK-0001")], ["state"])[0]["state"]
            == "closed"
        ),
        what="the tote to be closed in the ERP",
    )
    moves = search(erp, "stock.move", [("id", "in", package["moves"])], ["state", "to_location"])
    (storage,) = search(erp, "stock.location", [("code", "=", "STO")], ["id"])
    assert [(m["state"], m["to_location"]) for m in moves] == [("done", storage["id"])] * 2
