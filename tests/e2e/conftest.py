"""Fixtures for the browser tests: a station (store + optional sync engine) served on loopback."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from app.config import load_settings
from app.runtime import Station, open_station
from app.tls import TlsFiles, station_certificate
from app.ui.app import station_main
from app.ui.web import WebServer, web_app
from tests.e2e import demo_store


class Served:
    """A station and its web server: ``url`` to open, ``station`` to check the store behind it."""

    def __init__(self, station: Station, tls: TlsFiles | None = None) -> None:
        self.station = station
        self.tls = tls
        self.server = WebServer(web_app(station_main(station)), tls=tls).start()
        self.url = self.server.url

    def stop(self) -> None:
        self.server.stop()
        self.station.close()


@pytest.fixture
def serve_station(tmp_path: Path) -> Iterator[Callable[..., Served]]:
    """``serve_station(erp=None, fill=True)``: a fresh station in tmp_path, served to the browser.

    With ``erp`` (an ErpAddress) the station runs its sync engine against that ERP; with ``fill``
    and no ERP, the demo plan is written into the store directly; with ``tls`` it is served over
    HTTPS/WSS with the station's own generated certificate."""
    served: list[Served] = []

    def start(
        erp=None,
        fill: bool = True,
        station_id: str = "S1",  # the id the erp fixture's station user (erp.address) speaks for
        pull_interval: float = 2.0,
        tls: bool = False,
    ) -> Served:
        folder = tmp_path / f"station-{len(served)}"
        settings = load_settings(data_dir=folder, station_id=station_id, environ={})
        if erp is not None:
            settings = settings.with_erp(erp)
        station = open_station(settings, sync=erp is not None, pull_interval=pull_interval)
        if erp is None and fill:
            demo_store.fill(station.store)
        if station.engine is not None:
            station.engine.sync_once()
            station.engine.start()
        one = Served(station, station_certificate(folder, station_id=station_id) if tls else None)
        served.append(one)
        return one

    yield start
    for one in served:
        one.stop()
