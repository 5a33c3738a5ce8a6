"""Unannounced parcels against the real ERP: a return opened at the station against the sale a
search found, and a blind receipt to quarantine; each reaches the ERP once, through ``station
replay`` and ``station sync --once``."""

from __future__ import annotations

import pytest

from sync.erp.protocol import ErpConflict
from sync.erp.tryton.connector import TrytonConnector
from sync.erp.tryton.demo import customer_email
from sync.operations import new_operation
from sync.store import Store
from tests.test_repack_erp import at_station, replay
from tests.test_replay_erp import sync

pytestmark = [pytest.mark.erp, pytest.mark.slow]

RECEIVER = [{"signin": {"badge": "U-RECV-1", "pin": "1111"}}, {"task": "receive"}]
PARCEL = "1ZUNANNOUNCED0001"


def plain_returns(erp, customer: str):
    """The customer's demo returns whose lines need no lot or serial (any unit of the product will do)."""
    return [
        spec
        for spec in erp.demo.returns
        if spec.customer == customer and not spec.mismatch and not any(line.lot for line in spec.lines)
    ]


def barcodes(erp, spec) -> list[str]:
    return [erp.demo.product(line.product).barcode for line in spec.lines for _ in range(int(line.quantity))]


def returns_of(
    erp, domain, fields=("state", "reference", "return_reason", "returned_sale", "station_review")
):
    return erp.call("model.stock.shipment.out.return.search_read", domain, 0, None, None, list(fields), {})


def test_an_unannounced_parcel_is_opened_against_its_sale_and_received_once(
    erp, tmp_path, monkeypatch, capsys
):
    # Bruno bought twice and sends both back without a label: the announced returns were cancelled.
    first, spec = plain_returns(erp, "Bruno Costa")[:2]
    for cancelled in (first, spec):
        (announced,) = returns_of(erp, [("reference", "=", cancelled.rma)])
        erp.call("model.stock.shipment.out.return.cancel", [announced["id"]], {})
    at_station(monkeypatch, tmp_path, erp, "dock-1")
    report = replay(tmp_path, capsys, "unannounced", [
        *RECEIVER,
        {"scan": PARCEL, "expect": "unknown_return"},
        {"search": customer_email(spec.customer)},  # both sales are listed, masked
        {"sale": spec.order},
        *({"scan": code} for code in barcodes(erp, spec)),
        {"confirm": {}},
        {"signout": {}},
    ])  # fmt: skip
    ops = report["operations"]
    assert [op["type"] for op in ops] == ["open_return", "receive_return"]
    opened, receipt = ops
    assert receipt["depends_on"] == [opened["id"]] and receipt["payload"]["return_op"] == opened["id"]
    assert opened["payload"]["parcel_code"] == PARCEL
    sync(capsys)
    sync(capsys)  # a second sync changes nothing
    rma = opened["payload"]["rma"]
    (row,) = returns_of(erp, [("reference", "=", rma)])
    assert row["state"] == "received" and row["return_reason"] == "unannounced"
    (sale,) = erp.call(
        "model.sale.sale.search_read", [("number", "=", spec.order)], 0, None, None, ["id"], {}
    )
    assert row["returned_sale"] == sale["id"]
    moves = erp.call(
        "model.stock.move.search_read",
        [("shipment", "=", f"stock.shipment.out.return,{row['id']}"), ("state", "=", "done")],
        0, None, None, ["quantity", "from_location"], {},
    )  # fmt: skip
    assert sum(m["quantity"] for m in moves) == len(barcodes(erp, spec))

    # Another station opens the same sale's lines again: they are already returned.
    again = new_operation("open_return", opened["payload"], station="dock-2", user="U-RECV-1")
    connector = TrytonConnector(erp.station_address("dock-2"), timeout=60)
    try:
        with pytest.raises(ErpConflict, match="already returned"):
            connector.apply(again, lambda digest: b"")
    finally:
        connector.close()
    assert len(returns_of(erp, [("returned_sale", "=", sale["id"]), ("state", "!=", "cancelled")])) == 1


def test_a_parcel_no_sale_matches_is_received_blind_to_quarantine_once(erp, tmp_path, monkeypatch, capsys):
    (spec,) = plain_returns(erp, "Alma Jansen")
    at_station(monkeypatch, tmp_path, erp, "dock-1")
    codes = barcodes(erp, spec)[:1] + ["0000000000017"]  # a known product and a barcode nobody knows
    report = replay(tmp_path, capsys, "blind", [
        *RECEIVER,
        {"scan": PARCEL, "expect": "unknown_return"},
        {"search": "nobody@nowhere.example", "expect": "no_sale"},
        {"blind": {}},
        *({"scan": code} for code in codes),
        {"confirm": {}},
        {"signout": {}},
    ])  # fmt: skip
    (op,) = report["operations"]
    assert op["type"] == "blind_receipt" and op["payload"]["why"] == "no sale found"
    sync(capsys)
    sync(capsys)
    (row,) = returns_of(erp, [("reference", "=", op["payload"]["rma"])])
    assert row["state"] == "received" and row["return_reason"] == "unannounced"
    assert "Identify the sender" in row["station_review"] and "0000000000017" in row["station_review"]
    (quarantine,) = erp.call(
        "model.stock.location.search_read", [("code", "=", "QUAR")], 0, None, None, ["id"], {}
    )
    moves = erp.call(
        "model.stock.move.search_read",
        [("shipment", "=", f"stock.shipment.out.return,{row['id']}"), ("to_location", "=", quarantine["id"])],
        0, None, None, ["quantity", "state"], {},
    )  # fmt: skip
    assert [(m["quantity"], m["state"]) for m in moves] == [(1, "done")]
    # the pull brings the ERP's flag back to the station, where Supervise lists it
    store = Store.open(tmp_path / "dock-1" / "station.sqlite")
    try:
        pulled = store.find_return(op["payload"]["rma"])
    finally:
        store.close()
    assert pulled is not None and pulled["review"] == row["station_review"]


def test_a_search_lists_every_matching_sale_masked_and_a_serial_sold_finds_its_sale(erp, store):
    from app.workflows.station import StationSession
    from sync.engine import SyncEngine
    from tests.workflows_world import seed_world

    for rma in ("RMA-000102", "RMA-000114", "RMA-000105"):  # Bruno's two, Elif's charger (serial)
        (announced,) = returns_of(erp, [("reference", "=", rma)])
        erp.call("model.stock.shipment.out.return.cancel", [announced["id"]], {})
    seed_world(store, erp.demo.today)
    engine = SyncEngine(
        store, lambda: TrytonConnector(erp.station_address("dock-1"), timeout=60), station="dock-1"
    )
    session = StationSession(store, "dock-1", requester=engine.request)
    try:
        assert session.sign_in("U-RECV-1", "1111").ok
        assert session.start("receive").ok
        listed = session.search_sales("Bruno Costa")
        assert listed.ok and "2 sales match" in listed.message, listed
        assert "SO-1002" in listed.message and "SO-1014" in listed.message
        assert "Bruno C." in listed.message and "b***@example.com" in listed.message
        assert "bruno.costa" not in listed.message and "Costa" not in listed.message.replace(
            "Bruno Costa", ""
        )
        assert session.choose_sale("SO-1099").code == "unknown_sale"
        serial = next(s for s in erp.demo.returns if s.rma == "RMA-000105").lines[0].lot
        opened = session.search_sales(serial)
        assert opened.ok and "unannounced return of SO-1005" in opened.message, opened
        assert session.view().lines[0].lot == serial
        none = session.search_sales("SO-1001")  # its announced return still takes every unit back
        assert none.code == "task_open"
        session.cancel()
        none = session.search_sales("SO-1001")
        assert none.code == "no_sale" and "receive the parcel blind" in none.message
    finally:
        engine.stop()
