"""The web harness itself: the app served from this machine only, readable through accessibility."""

import pytest

from app.config import load_settings
from app.runtime import Station
from app.ui.app import station_main
from app.ui.web import WebServer, web_app
from tests.fixtures.browser import DESKTOP, HANDHELD

pytestmark = pytest.mark.browser


@pytest.fixture
def bare_app(tmp_path, store):
    settings = load_settings(data_dir=tmp_path, station_id="ST-HARNESS", environ={})
    server = WebServer(web_app(station_main(Station(settings, store)))).start()
    yield server
    server.stop()


def test_station_opens_offline_with_labelled_controls(bare_app, open_station):
    station = open_station(bare_app.url, DESKTOP)
    station.field("Badge").wait_for(timeout=30_000)
    station.see("Scan your badge")
    station.screenshot("harness")
    assert station.non_local_requests() == []
    assert any("canvaskit" in url for url in station.requests)


def test_unknown_badge_on_an_empty_station_says_to_connect_first(bare_app, open_station):
    station = open_station(bare_app.url, HANDHELD)
    station.field("Badge").wait_for(timeout=30_000)
    station.scan("U-RECV-1")
    station.see("no data from the ERP yet")
    station.screenshot("harness-refusal")
    assert station.non_local_requests() == []
