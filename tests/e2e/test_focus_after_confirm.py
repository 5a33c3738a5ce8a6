"""After a button ends a step, the scan field has the focus again: a worker with a keyboard-wedge
scanner scans the next parcel (order, unit) at once, without touching the screen. Every scan here
types into whatever has the focus (``StationPage.scan``): nothing clicks the field first."""

from __future__ import annotations

import re

import pytest

from tests.e2e.demo_store import return_spec
from tests.e2e.steps import DEMO, answer_checklist, barcode, jpeg, mark_received, sign_in
from tests.fixtures.browser import DESKTOP, HANDHELD

pytestmark = pytest.mark.browser


def receive(page, rma: str) -> None:
    spec = return_spec(DEMO, rma)
    page.scan(spec.rma)
    page.see(spec.customer)
    for line in spec.box:
        page.scan(barcode(line.product))
    page.see("All expected items scanned")
    page.press("Confirm receipt")
    page.see(f"{rma} received")


@pytest.mark.parametrize("size", [DESKTOP, HANDHELD], ids=["desk", "hand"])
def test_parcel_after_parcel_is_received_by_wedge_scans_alone(serve_station, open_station, size):
    served = serve_station()
    page = open_station(served.url, size)
    sign_in(page, "U-RECV-1", "1111")
    page.press("Receive")
    page.see("Scan the parcel")
    receive(page, "RMA-000101")
    receive(page, "RMA-000102")  # no click first: the scan field has the focus back
    ops = served.station.store.operations()
    assert [(op["type"], op["operation"]["payload"]["rma"]) for op in ops] == [
        ("receive_return", "RMA-000101"),
        ("receive_return", "RMA-000102"),
    ]


def plain_orders():
    """Orders without lot- or serial-tracked items."""
    return [o for o in DEMO.orders if all(DEMO.product(ln.product).tracking == "none" for ln in o.lines)]


def test_order_after_order_is_packed_by_wedge_scans_alone(serve_station, open_station):
    served = serve_station()
    page = open_station(served.url, HANDHELD)
    sign_in(page, "U-PACK-1", "3333")
    page.press("Pack")
    page.see("Scan the pick list")
    orders = plain_orders()[:2]
    for order in orders:
        page.scan(order.shipment)
        page.see(order.customer)
        for line in order.lines:
            for _ in range(line.quantity):
                page.scan(barcode(line.product))
        page.press("Confirm pack")
        page.see("packed and confirmed")
    packed = [op["operation"]["payload"] for op in served.station.store.operations()]
    assert len(packed) == 2 and packed[0] != packed[1]


def test_the_next_unit_is_scanned_right_after_confirm_disposition(serve_station, open_station, tmp_path):
    served = serve_station()
    spec = return_spec(DEMO, "RMA-000101")  # a tee and a wallet
    mark_received(served.station.store, spec.rma)
    tee, wallet = (line.product for line in spec.lines)
    photos = []
    for colour in ("navy", "teal"):
        photos.append(tmp_path / f"{colour}.jpg")
        photos[-1].write_bytes(jpeg(colour))
    page = open_station(served.url, HANDHELD)
    sign_in(page, "U-INSP-1", "2222")
    page.press("Inspect")
    page.see("Scan a received return")
    page.scan(spec.rma)
    page.see("waiting for inspection")
    page.scan(barcode(tee))
    with page.page.expect_file_chooser() as chooser:
        page.press("Add photo")
    chooser.value.set_files([str(p) for p in photos])
    page.see("Photos: 2 of 2 needed")
    page.press(re.compile("^A like new"))
    answer_checklist(
        page, [("Tags attached?", "Yes"), ("Signs of wear?", "No"), ("Stains?", "No"), ("Odour?", "No")]
    )
    page.press("Confirm disposition")
    page.see("Saved at this station")
    page.scan(barcode(wallet))  # no click first
    page.see("Photos: 0 of 1 needed")
    page.see(DEMO.product(wallet).name)
