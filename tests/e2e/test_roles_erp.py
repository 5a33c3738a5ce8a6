"""Each role's happy path in headless Chromium against the real Tryton ERP: the worker types as a
keyboard-wedge scanner types, the station's own sync engine delivers the work, and the ERP's
records (read over JSON-RPC) show it. Plus the offline path: the ERP goes away, work goes on and
queues, the ERP comes back, the status strip empties and the ERP holds the work."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pytest

from app.workflows.station import StationSession
from tests.e2e.steps import answer_checklist, jpeg, sign_in
from tests.fixtures.browser import DESKTOP

pytestmark = [pytest.mark.browser, pytest.mark.erp, pytest.mark.slow]

RETURN = "stock.shipment.out.return"


def eventually(check: Callable[[], object], timeout_s: float = 45, what: str = "the ERP to show the work"):
    deadline = time.monotonic() + timeout_s
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.5)


def search(erp, model: str, domain: list, fields: list[str]) -> list[dict]:
    return erp.call(f"model.{model}.search_read", domain, 0, None, None, fields, {})


def return_state(erp, rma: str) -> str:
    return search(erp, RETURN, [("reference", "=", rma)], ["state"])[0]["state"]


def receive_in_browser(page, demo, rma: str) -> None:
    spec = next(r for r in demo.returns if r.rma == rma)
    page.press("Receive")
    page.see("Scan the parcel")
    page.scan(rma)
    page.see(spec.customer)
    for line in spec.box:
        page.scan(demo.product(line.product).barcode)
    page.see("All expected items scanned")
    page.press("Confirm receipt")
    page.see(f"{rma} received")


def test_receiver_receipt_reaches_the_erp(erp, serve_station, open_station):
    served = serve_station(erp=erp.address)
    page = open_station(served.url, DESKTOP)
    sign_in(page, "U-RECV-1", "1111")
    receive_in_browser(page, erp.demo, "RMA-000101")
    eventually(lambda: return_state(erp, "RMA-000101") == "received")
    page.see(re.compile(r"Online · last sync .* · 0 waiting"))
    page.screenshot("receive-synced")


def test_inspector_inspection_reaches_the_erp(erp, serve_station, open_station, tmp_path):
    served = serve_station(erp=erp.address)
    station = served.station
    # earlier at this station: the parcel was received and the receipt delivered
    spec = next(r for r in erp.demo.returns if r.rma == "RMA-000101")
    desk = StationSession(station.store, station.station_id, requester=station.engine.request)
    desk.sign_in("U-RECV-1", "1111")
    desk.start("receive")
    desk.scan(spec.rma)
    for line in spec.box:
        desk.scan(erp.demo.product(line.product).barcode)
    assert desk.confirm().ok
    desk.sign_out()
    station.engine.sync_once()
    eventually(
        lambda: (
            station.store.find_return(spec.rma)["state"] == "received" or station.engine.sync_once() and False
        ),
        what="the pull to bring the received return",
    )

    photos = []
    for i, colour in enumerate(("navy", "teal")):
        photos.append(tmp_path / f"photo{i}.jpg")
        photos[-1].write_bytes(jpeg(colour))
    page = open_station(served.url, DESKTOP)
    sign_in(page, "U-INSP-1", "2222")
    page.press("Inspect")
    page.see("Scan a received return")
    page.scan(spec.rma)
    page.see("waiting for inspection")
    page.scan(erp.demo.product(spec.lines[0].product).barcode)
    page.see(re.compile("take 2 photo"))
    with page.page.expect_file_chooser() as chooser:
        page.press("Add photo")
    chooser.value.set_files([str(p) for p in photos])
    page.see("Photos: 2 of 2 needed")
    page.press(re.compile("^A like new"))
    answer_checklist(
        page, [("Tags attached?", "Yes"), ("Signs of wear?", "No"), ("Stains?", "No"), ("Odour?", "No")]
    )
    page.see(re.compile("Restock"))
    page.press("Confirm")
    page.see("Saved at this station")
    ret = search(erp, RETURN, [("reference", "=", spec.rma)], ["id"])[0]
    inspections = eventually(
        lambda: search(
            erp,
            "quality.inspection",
            [("origin", "=", f"{RETURN},{ret['id']}")],
            ["state", "station_disposition"],
        )
    )
    assert [(i["state"], i["station_disposition"]) for i in inspections] == [("passed", "restock")]
    assert eventually(
        lambda: (
            erp.call("model.ir.attachment.search_count", [("resource", "like", "quality.inspection,%")], {})
            >= 2
        )
    )


def test_packer_pack_reaches_the_erp(erp, serve_station, open_station):
    served = serve_station(erp=erp.address)
    target = next(
        o for o in erp.demo.orders if all(erp.demo.product(ln.product).tracking == "none" for ln in o.lines)
    )
    shipment = served.station.store.find_shipment(target.shipment)
    page = open_station(served.url, DESKTOP)
    sign_in(page, "U-PACK-1", "3333")
    page.press("Pack")
    page.see("Scan the pick list")
    page.scan(target.shipment)
    page.see(target.customer)
    for line in target.lines:
        for _ in range(line.quantity):
            page.scan(erp.demo.product(line.product).barcode)
    page.see("Order complete")
    page.press("Confirm")
    page.see("packed and confirmed")
    eventually(
        lambda: (
            search(erp, "stock.shipment.out", [("id", "=", shipment["id"])], ["state"])[0]["state"]
            == "packed"
        )
    )


def test_supervisor_approval_reaches_the_erp(erp, serve_station, open_station):
    served = serve_station(erp=erp.address)
    station = served.station
    target = next(
        o
        for o in erp.demo.orders
        if all(erp.demo.product(ln.product).tracking == "none" for ln in o.lines)
        and sum(ln.quantity for ln in o.lines) > 1
    )
    # a packer packed it short, which needs a supervisor
    desk = StationSession(station.store, station.station_id, requester=station.engine.request)
    desk.sign_in("U-PACK-1", "3333")
    desk.start("pack")
    desk.scan(target.shipment)
    desk.scan(erp.demo.product(target.lines[0].product).barcode)
    short = desk.confirm(reason="last unit damaged")
    assert short.ok, short
    desk.sign_out()
    station.engine.sync_once()
    eventually(
        lambda: station.store.approvals("pending") or station.engine.sync_once() and False,
        what="the pull to bring the approval request",
    )

    page = open_station(served.url, DESKTOP)
    sign_in(page, "U-SUPV-1", "444444")
    page.press("Supervise")
    page.see(re.compile(r"^Approvals \(1\)"))  # at the desk beside the queues and the outbox
    page.see("last unit damaged")
    page.screenshot("supervise-approvals")
    page.press("Approve")
    page.see(re.compile("approved", re.I))
    approvals = eventually(
        lambda: [
            a
            for a in search(erp, "returns.station.approval", [], ["state", "decided_by", "kind"])
            if a["state"] == "approved"
        ]
    )
    assert [(a["kind"], a["decided_by"]) for a in approvals] == [("short_pack", "U-SUPV-1")]
    stuck = [
        (op["type"], op["state"], op["error"])
        for op in station.store.operations()
        if op["state"] in ("failed", "conflict")
    ]
    assert stuck == []  # the short pack itself reached the ERP too


def test_work_goes_on_offline_and_reaches_the_erp_when_it_is_back(erp_private, serve_station, open_station):
    served = serve_station(erp=erp_private.address)
    page = open_station(served.url, DESKTOP)
    page.see(re.compile(r"Sync: Online"))
    sign_in(page, "U-RECV-1", "1111")  # online: the ERP checks the PIN and gives this station a verifier
    page.see("Hello Rosa Diaz")
    page.press("Sign out")
    erp_private.stop()
    sign_in(page, "U-INSP-1", "2222")  # never signed in here: offline, the ERP is needed
    page.see("your first sign-in here")
    sign_in(page, "U-RECV-1", "1111")  # offline, with the verifier
    receive_in_browser(page, erp_private.demo, "RMA-000102")
    page.see(re.compile(r"Sync: Offline · .* · 1 waiting"), timeout_ms=30_000)
    page.screenshot("offline-queued")
    erp_private.start()
    served.station.request_sync()
    page.see(re.compile(r"Sync: Online · .* · 0 waiting"), timeout_ms=60_000)
    assert return_state(erp_private, "RMA-000102") == "received"
    page.screenshot("offline-recovered")
