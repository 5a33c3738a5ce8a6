"""The compact app bar at 360x640: Home and Sign out are icon buttons found by their accessible
names, beside the title on one row, and the status strip, the bar and the scan field end within
the top quarter of the screen."""

from __future__ import annotations

import pytest

from tests.e2e.demo_store import return_spec
from tests.e2e.steps import DEMO, sign_in
from tests.fixtures.browser import HANDHELD

pytestmark = pytest.mark.browser


def box(locator) -> dict:
    found = locator.first.bounding_box()
    assert found is not None
    return found


def test_at_360x640_the_app_bar_is_one_row_and_the_scan_field_ends_in_the_top_quarter(
    serve_station, open_station
):
    served = serve_station()
    page = open_station(served.url, HANDHELD)
    sign_in(page, "U-RECV-1", "1111")
    page.press("Receive")
    page.see("Scan the parcel")
    spec = return_spec(DEMO, "RMA-000101")
    page.scan(spec.rma)
    page.see(spec.customer)
    page.screenshot("receive-compact")
    field = box(page.page.get_by_role("textbox"))
    home = box(page.button("Home"))
    sign_out = box(page.button("Sign out"))
    title = box(page.text("Return RMA-0001"))
    print(f"field {field} home {home} sign_out {sign_out} title {title}")
    assert home["y"] < field["y"] and sign_out["y"] < field["y"]  # in the bar, above the scan field
    assert abs(home["y"] - title["y"]) < 40  # one row: title, Home, Sign out
    assert field["y"] + field["height"] <= HANDHELD["height"] / 4
    page.press("Home")
    page.see("Hello Rosa Diaz")
    page.press("Sign out")
    page.see("Rosa Diaz signed out")
