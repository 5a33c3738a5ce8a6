"""A handheld on slow Wi-Fi stays connected to its station whatever the worker's taps do: a press
that ends a step replaces the scan field, and nothing the page is still answering may name the
field that is gone (Flet 1.0.5 drops the whole connection then, and the scans typed until the page
reconnects are lost)."""

from __future__ import annotations

import pytest

from tests.e2e.demo_store import return_spec
from tests.e2e.slow_network import SlowNetwork
from tests.e2e.steps import DEMO, barcode, sign_in, slow_press
from tests.fixtures.browser import HANDHELD

pytestmark = pytest.mark.browser


@pytest.fixture
def slow_wifi():
    """``slow_wifi(url)``: the same station behind 0.2 s of latency each way (0.4 s round trip)."""
    networks: list[SlowNetwork] = []

    def around(url: str) -> str:
        networks.append(SlowNetwork(url, delay_s=0.2))
        return networks[-1].url

    yield around
    for network in networks:
        network.close()


def test_slow_taps_over_slow_wifi_keep_the_handheld_connected(serve_station, open_station, slow_wifi):
    served = serve_station()
    page = open_station(slow_wifi(served.url), HANDHELD)
    sign_in(page, "U-RECV-1", "1111")
    page.see("Hello Rosa Diaz")
    slow_press(page, "Receive", hold_s=0.3)
    page.see("Scan the parcel")
    for rma in ("RMA-000101", "RMA-000102"):
        spec = return_spec(DEMO, rma)
        page.scan(spec.rma)
        page.see(spec.customer)
        for line in spec.box:
            page.scan(barcode(line.product))
        page.see("All expected items scanned")
        slow_press(page, "Confirm receipt", hold_s=0.3)
        page.see(f"{rma} received")
    sockets = [url for url in page.requests if url.startswith("ws")]
    assert len(sockets) == 1, f"the page lost its connection and reconnected: {sockets}"
    assert [op["type"] for op in served.station.store.operations()] == ["receive_return"] * 2
