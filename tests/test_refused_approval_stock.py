"""A supervisor's refusal decides where the held unit goes: it ends in quarantine, the return
closes, and the unit is not left in the input zone (against the real embedded ERP)."""

import pytest

from sync.operations import new_operation
from tests.sync_ops import erp_read, inspect, receive_all, request_disposition_approval

pytestmark = pytest.mark.erp


def _held_and_requested(seeded_store, connector, ret, request_id):
    item = inspect(ret, ret["lines"][0], disposition="restock", approval_required=True)
    held = connector.apply(item, seeded_store.photo_bytes)
    request = request_disposition_approval(ret, item, request_id)
    connector.apply(request, seeded_store.photo_bytes)
    return held


def test_a_refused_unit_ends_in_quarantine_and_its_return_closes(seeded_store, connector, erp):
    spec = next(r for r in erp.demo.returns if r.rma == "RMA-000105")  # one serial-numbered phone
    ret = seeded_store.find_return(spec.rma)
    assert sum(line["quantity"] for line in ret["lines"]) == 1
    connector.apply(receive_all(ret), seeded_store.photo_bytes)
    held = _held_and_requested(seeded_store, connector, ret, "req-refused-stock")
    refuse = new_operation(
        "decide_approval",
        {"request_id": "req-refused-stock", "decision": "refuse", "note": "scratched screen"},
        station="S1",  # the station whose ERP user the test logs in as
        user="U-SUPV-1",
    )
    result = connector.apply(refuse, seeded_store.photo_bytes)
    assert result.erp_refs["return_state"] == "done"
    quarantine = next(loc["id"] for loc in seeded_store.locations() if loc["state"] == "quarantine")
    (move,) = erp_read(erp, "stock.move", [("id", "=", held.erp_refs["move_id"])], ["to_location", "state"])
    assert (move["to_location"], move["state"]) == (quarantine, "done")
    (ret_row,) = erp_read(erp, "stock.shipment.out.return", [("id", "=", ret["id"])], ["state"])
    assert ret_row["state"] == "done"
    # The inspection stays failed (the refusal is on record), its alert settled by the decision.
    (inspection,) = erp_read(
        erp, "quality.inspection", [("id", "=", held.erp_refs["inspection_id"])], ["state", "alerts"]
    )
    assert inspection["state"] == "failed"
    (alert,) = erp_read(erp, "quality.alert", [("id", "in", inspection["alerts"])], ["state", "description"])
    assert alert["state"] == "resolved" and "U-SUPV-1" in alert["description"]
    assert "scratched screen" in alert["description"]
