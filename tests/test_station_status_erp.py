"""The station's status against the real Tryton server: a status queued by the sync engine (as the
station's own ERP user) reaches the ERP, and the figures show the station's last seen time, outbox,
clock offset, version and the wrong items stopped by scan at Pack, counted exactly: a status re-sent
after its answer was lost adds nothing."""

from __future__ import annotations

import httpx
import pytest

from app.workflows.station import StationSession
from sync.engine import SyncEngine
from sync.erp.tryton.connector import TrytonConnector
from sync.operations import new_operation
from sync.station_status import installed_version
from tests.sync_ops import markers

pytestmark = pytest.mark.erp


class LoseResponses(httpx.BaseTransport):
    """The real transport, except that the answer to the first ``apply_batch`` never arrives (the
    ERP applied and committed it): the station sees a read timeout and sends it again."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.lost = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if not self.lost and b"apply_batch" in request.content:
            response.read()
            response.close()
            self.lost += 1
            raise httpx.ReadTimeout("the answer was lost on the way back", request=request)
        return response

    def close(self) -> None:
        self.inner.close()


def stop_wrong_items(erp, store, station: str, times: int) -> None:
    """A packer at ``station`` opens an order and scans an item not on it ``times`` times."""
    order = next(
        o for o in erp.demo.orders if all(erp.demo.product(ln.product).tracking == "none" for ln in o.lines)
    )
    foreign = next(
        p
        for p in erp.demo.products
        if p.tracking == "none" and p.code not in {ln.product for ln in order.lines}
    )
    session = StationSession(store, station)
    assert session.sign_in("U-PACK-1", "3333").ok
    assert session.start("pack").ok
    if session.view().subject != order.shipment:  # else resumed from the packer's draft
        assert session.scan(order.shipment).ok
    for _ in range(times):
        assert session.scan(foreign.barcode).code == "wrong_item"


def row_of(figures: dict, station: str) -> dict:
    (row,) = [r for r in figures["stations"] if r["station"] == station]
    return row


def test_a_stations_status_reaches_the_erp_and_the_figures_show_it(erp, seeded_store, connector):
    stop_wrong_items(erp, seeded_store, "pack-7", 2)
    engine = SyncEngine(
        seeded_store, lambda: TrytonConnector(erp.station_address("pack-7")), station="pack-7"
    )
    try:
        status = engine.queue_status()
        assert status is not None and engine.queue_status() is None  # one at a time
        report = engine.sync_once(pull=False)
    finally:
        engine.stop()
    assert report.applied == 1 and report.ok
    figures = connector.figures({})
    row = row_of(figures, "pack-7")
    assert row["minutes_since_seen"] < 1
    assert abs(row["clock_offset_s"]) < 2  # measured against the ERP's clock: same machine
    assert row["app_version"] == installed_version() != "unknown"
    assert row["refusals"]["wrong_item"] == 2
    assert (row["outbox_waiting"], row["outbox_failed"]) == (0, 0)  # nothing else was queued
    assert figures["pack"]["wrong_items_stopped"] == 2


def test_wrong_items_are_counted_exactly_when_a_status_is_sent_again(erp, seeded_store, connector):
    stop_wrong_items(erp, seeded_store, "pack-8", 1)
    transport = LoseResponses()
    client = httpx.Client(transport=transport, timeout=20)
    engine = SyncEngine(
        seeded_store, lambda: TrytonConnector(erp.station_address("pack-8"), client=client), station="pack-8"
    )
    try:
        engine.queue_status()
        first = engine.sync_once(pull=False)
        assert transport.lost == 1 and first.applied == 0  # the ERP applied it; the station never heard
        assert engine.queue_status() is None  # still waiting: no second status piles up
        second = engine.sync_once(pull=False)
        assert second.already == 1 and second.ok
        assert connector.figures({})["pack"]["wrong_items_stopped"] == 1
        stop_wrong_items(erp, seeded_store, "pack-8", 2)
        assert engine.queue_status() is not None
        assert engine.sync_once(pull=False).applied == 1
    finally:
        engine.stop()
        client.close()
    assert sum(1 for m in markers(erp) if m["type"] == "station_status") == 2
    figures = connector.figures({})
    assert figures["pack"]["wrong_items_stopped"] == 3
    assert row_of(figures, "pack-8")["refusals"]["wrong_item"] == 3
    assert connector.figures({"station": "pack-8"})["pack"]["wrong_items_stopped"] == 3
    assert connector.figures({"station": "pack-1"})["pack"]["wrong_items_stopped"] == 0


def test_only_a_status_may_come_without_a_badge(seeded_store, connector):
    shipment = seeded_store.shipments("assigned")[0]
    pack = new_operation("confirm_pack", {"shipment_id": shipment["id"], "lines": []}, station="S1", user="")
    status = new_operation("station_status", {"outbox": {}, "app_version": "1"}, station="S1", user="")
    results = connector.apply_batch([pack, status], lambda digest: b"")
    assert "carries no badge" in str(results[0])
    assert not isinstance(results[1], Exception) and not results[1].already
