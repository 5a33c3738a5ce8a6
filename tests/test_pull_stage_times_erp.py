"""The pull carries when each queue item's stage began, for the supervisor's queue ages: a return's
receipt (the station clock of the receive operation) and a shipment's creation; neither moves when
the ERP changes the record later (write_date does)."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.sync_ops import erp_read, receive_all

pytestmark = pytest.mark.erp


def test_a_received_return_is_pulled_with_its_receipt_time_which_a_later_change_keeps(
    erp, connector, seeded_store
):
    received = (dt.datetime.now(dt.UTC) - dt.timedelta(days=3)).replace(microsecond=0)
    ret = seeded_store.find_return("RMA-000101")
    op = receive_all(ret, created_at=received.strftime("%Y-%m-%dT%H:%M:%S.000Z"))
    (result,) = connector.apply_batch([op], lambda digest: b"")
    assert result is not None and not isinstance(result, Exception), result
    erp.call(
        "model.stock.shipment.out.return.write", [ret["id"]], {"tracking_number": "TRK-LATER-CHANGE"}, {}
    )

    pulled = connector.pull(seeded_store.cursors())
    (after,) = [r for r in pulled.records["returns"] if r["id"] == ret["id"]]
    assert after["state"] == "received"
    assert after["received_at"] == received.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert after["write_date"] > received.strftime("%Y-%m-%d %H:%M:%S")  # the later change


def test_a_shipment_is_pulled_with_its_creation_time(erp, seeded_store):
    shipment = seeded_store.shipments("assigned")[0]
    (row,) = erp_read(erp, "stock.shipment.out", [("id", "=", shipment["id"])], ["create_date"])
    assert shipment["created_at"] == row["create_date"].strftime("%Y-%m-%dT%H:%M:%SZ")
