"""One operation that makes a handler fail is answered ``rejected`` with the reason, and the rest of
its batch applies; a fault of the database itself (a lock) still fails the call, so the station retries.
Against the real embedded ERP."""

import sqlite3

import pytest

from sync.erp.protocol import ErpRejected, ErpUnavailable
from sync.erp.tryton.server import database_file
from sync.operations import ApplyResult, new_operation
from tests.sync_ops import erp_read, markers, receive_all

pytestmark = pytest.mark.erp


def return_state(erp, return_id):
    (row,) = erp_read(erp, "stock.shipment.out.return", [("id", "=", return_id)], ["state"])
    return row["state"]


def poisoned_receive(ret):
    """A receive whose ``extra`` holds a bare string where the handler expects an object: the
    handler raises AttributeError ('str' object has no attribute 'get') half-way through."""
    good = receive_all(ret)
    payload = {**good.payload, "extra": ["a scribbled note, not an item"]}
    return new_operation("receive_return", payload, station=good.station, user="U-RECV-1")


def test_a_poison_operation_mid_batch_is_rejected_with_its_reason_and_the_others_apply(
    seeded_store, connector, erp
):
    first, poisoned, last = (
        seeded_store.find_return(rma) for rma in ("RMA-000101", "RMA-000102", "RMA-000103")
    )
    ops = [receive_all(first), poisoned_receive(poisoned), receive_all(last)]

    results = connector.apply_batch(ops, seeded_store.photo_bytes)

    assert isinstance(results[0], ApplyResult) and results[0].erp_refs["state"] == "received"
    assert isinstance(results[2], ApplyResult) and results[2].erp_refs["state"] == "received"
    assert isinstance(results[1], ErpRejected)
    reason = str(results[1])
    assert "AttributeError" in reason and "has no attribute 'get'" in reason
    assert "Traceback" not in reason and ".py" not in reason  # the reason, not the server's insides
    assert return_state(erp, first["id"]) == "received"
    assert return_state(erp, last["id"]) == "received"
    # The poison's half-done effects were rolled back with its savepoint, and it left no marker.
    assert return_state(erp, poisoned["id"]) == "draft"
    moves = erp_read(
        erp, "stock.move", [("shipment", "=", f"stock.shipment.out.return,{poisoned['id']}")], ["state"]
    )
    assert {m["state"] for m in moves} == {"draft"}
    assert {m["operation_id"] for m in markers(erp)} == {ops[0].id, ops[2].id}


def test_a_database_fault_mid_batch_fails_the_call_and_the_resent_batch_applies(
    seeded_store, connector, erp, erp_server
):
    """A fault of the database itself (Tryton's DatabaseOperationalError: SQLite reports a lock, a
    full disk and a broken table alike) is not the operation's fault: the module lets it fail the
    whole call, so nothing of the batch is kept and the station re-sends it, instead of answering
    ``rejected`` and losing the operation. A trigger on the ERP's database raises one, for real,
    half-way through the second operation's handler."""
    first, second = (seeded_store.find_return(rma) for rma in ("RMA-000101", "RMA-000102"))
    ops = [receive_all(first), receive_all(second)]
    database = sqlite3.connect(database_file(erp_server.data_dir, erp.address.database), isolation_level=None)
    database.execute(
        "CREATE TRIGGER station_test_fault AFTER UPDATE ON stock_move"
        f" WHEN NEW.shipment = 'stock.shipment.out.return,{second['id']}'"
        " BEGIN INSERT INTO table_that_is_gone VALUES (1); END"
    )
    try:
        with pytest.raises(ErpUnavailable):  # the ERP answers 503 once its own retries fail too
            connector.apply_batch(ops, seeded_store.photo_bytes)
        assert return_state(erp, first["id"]) == "draft" and markers(erp) == []
    finally:
        database.execute("DROP TRIGGER station_test_fault")
        database.close()

    results = connector.apply_batch(ops, seeded_store.photo_bytes)

    assert [type(r) for r in results] == [ApplyResult, ApplyResult]
    assert return_state(erp, first["id"]) == return_state(erp, second["id"]) == "received"


def test_an_operation_type_or_version_the_module_does_not_know_is_rejected_by_name(
    seeded_store, connector, erp
):
    """Forged items (a newer station's): each is refused with a reason naming it; the rest apply."""
    good = receive_all(seeded_store.find_return("RMA-000101"))
    teleport = {**good.to_dict(), "id": "forged-1", "type": "teleport"}
    future = {**good.to_dict(), "id": "forged-2", "version": 7}
    items = [{"operation": op, "photo": None} for op in (teleport, future, good.to_dict())]

    replies = connector.rpc.call("model.returns.station.operation.apply_batch", items, {})

    assert [(r["id"], r["status"]) for r in replies] == [
        ("forged-1", "rejected"),
        ("forged-2", "rejected"),
        (good.id, "applied"),
    ]
    assert replies[0]["message"] == "unknown operation type 'teleport'"
    assert replies[1]["message"] == "receive_return version 7 is newer than this ERP module knows (up to 1)"
