"""Settings hold the ERP login: once a station has an ERP configured, opening them in the browser
asks for a supervisor, and a receiver who signs in is refused (against the real Tryton ERP)."""

from __future__ import annotations

import pytest

from tests.fixtures.browser import DESKTOP

pytestmark = [pytest.mark.browser, pytest.mark.erp]


def type_badge_and_pin(page, badge: str, pin: str) -> None:
    """After pressing Settings the person types their badge's number into the field (no scan)."""
    page.type_into("Badge", badge)
    page.field("PIN").wait_for(timeout=10_000)
    page.scan(pin)


def test_settings_on_a_station_with_an_erp_ask_for_a_supervisor_and_refuse_a_receiver(
    erp, serve_station, open_station
):
    served = serve_station(erp=erp.address)
    page = open_station(served.url, DESKTOP)
    page.press("Settings")
    page.see("Settings need a supervisor: scan a supervisor's badge")
    assert page.field("ERP host").count() == 0

    type_badge_and_pin(page, "U-RECV-1", "1111")  # the ERP checks it: no verifier here yet
    page.see("Settings need a supervisor: Rosa Diaz may not change this station's settings")
    page.see("Open a returned parcel")
    assert page.field("ERP host").count() == 0
    assert page.button("Settings").count() == 0
    page.press("Sign out")

    page.press("Settings")
    type_badge_and_pin(page, "U-SUPV-1", "444444")
    page.field("ERP host").wait_for(timeout=15_000)
    page.screenshot("settings-supervisor")
    assert "admin@" not in page.page.content()
