"""The web harness itself: the app served from this machine only, readable through accessibility."""

import pytest

from app.ui.app import station_main
from app.ui.web import WebServer, web_app
from tests.fixtures.browser import DESKTOP, HANDHELD

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def bare_app():
    server = WebServer(web_app(station_main)).start()
    yield server
    server.stop()


def test_station_opens_offline_with_labelled_controls(bare_app, open_station):
    station = open_station(bare_app.url, DESKTOP)
    station.field("Badge").wait_for(timeout=30_000)
    station.see("Scan your badge to sign in")
    station.screenshot("harness")
    assert station.non_local_requests() == []
    assert any(url.endswith("/canvaskit/skwasm.wasm") or "canvaskit" in url for url in station.requests)


def test_typed_scan_reaches_the_app_at_handheld_size(bare_app, open_station):
    station = open_station(bare_app.url, HANDHELD)
    station.type_into("Badge", "U-RECV-1")
    station.see("Badge U-RECV-1")
    station.screenshot("harness")
    assert station.non_local_requests() == []
