"""Pick lists carry the customer's order reference (WEB-…) as well as the sale and shipment
numbers: after a pull from the real ERP, each of the three opens the same order to pack."""

from __future__ import annotations

import pytest

from app.workflows.results import Accepted
from app.workflows.station import StationSession

pytestmark = pytest.mark.erp


def test_the_customers_order_reference_opens_the_order_to_pack(seeded_store, erp):
    (row,) = erp.call(
        "model.stock.shipment.out.search_read", [("number", "=", "OUT-1106")], 0, None, None, ["id"], {}
    )
    pulled = seeded_store.shipment(row["id"])
    assert (pulled["number"], pulled["order"], pulled["reference"]) == ("OUT-1106", "SO-1106", "WEB-1106")
    for code in ("OUT-1106", "SO-1106", "WEB-1106", "web-1106"):
        assert seeded_store.find_shipment(code)["id"] == row["id"]

    session = StationSession(seeded_store, "pack-1")
    assert isinstance(session.sign_in("U-PACK-1", "3333"), Accepted)
    session.start("pack")
    opened = session.scan("WEB-1106")
    assert isinstance(opened, Accepted), opened
    assert session.view().subject == "OUT-1106", (session.view().subject, opened.message)
