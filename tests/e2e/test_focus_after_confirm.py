"""After a button confirms a job, the scan field has the focus again: the worker scans the next
parcel (or order) at once, without touching the screen."""

from __future__ import annotations

import pytest

from tests.e2e.demo_store import return_spec
from tests.e2e.steps import DEMO, barcode, sign_in
from tests.fixtures.browser import DESKTOP, HANDHELD

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("size", [DESKTOP, HANDHELD], ids=["desk", "hand"])
def test_the_next_parcel_is_scanned_right_after_confirm_receipt(serve_station, open_station, size):
    served = serve_station()
    page = open_station(served.url, size)
    sign_in(page, "U-RECV-1", "1111")
    page.press("Receive")
    page.see("Scan the parcel")
    spec = return_spec(DEMO, "RMA-000101")
    page.scan(spec.rma)
    page.see(spec.customer)
    for line in spec.box:
        page.scan(barcode(line.product))
    page.press("Confirm receipt")
    page.see("RMA-000101 received")
    following = return_spec(DEMO, "RMA-000102")
    page.scan(following.rma)  # no click first: the scan field has the focus back
    page.see(following.customer)
    assert [op["type"] for op in served.station.store.operations()] == ["receive_return"]
