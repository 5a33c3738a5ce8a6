"""The figures move by exactly what the example replay files did: the four roles' files of
``examples/replay`` replayed and synced against the real ERP, the figures read before and after,
and each difference worked out below from the files and the demo plan (not from the figures).

What the files do (see their comments): the receiver receives RMA-000101 whole, RMA-000107 with an
accessory nobody returned, RMA-000110 short its second line and RMA-000116 with another serial; the
inspector restocks both units of RMA-000101 and holds the e-reader of RMA-000116 in quarantine for a
supervisor; the packer packs OUT-1103 whole and OUT-1106 short (asking a supervisor); the supervisor
approves both requests.
"""

from __future__ import annotations

import datetime as dt

import pytest

from tests.test_replay_erp import replay, sync
from tests.test_replay_erp import station as station  # noqa: F401 - the fixture, shared

pytestmark = [pytest.mark.erp, pytest.mark.slow]


def figures(erp) -> dict:
    today = dt.datetime.now(dt.UTC).date()
    window = {"from": (today - dt.timedelta(days=89)).isoformat(), "to": today.isoformat()}
    return erp.call("model.returns.station.figures.compute", window, {})


def keyed(rows: list[dict], key: str = "key", value: str = "units") -> dict:
    return {row[key]: row[value] for row in rows}


def moved(before: dict, after: dict) -> dict:
    """after - before per key, the keys that moved only."""
    keys = set(before) | set(after)
    return {k: after.get(k, 0) - before.get(k, 0) for k in keys if after.get(k, 0) != before.get(k, 0)}


def waiting_shipments(erp) -> dict[int, str]:
    """Orders waiting to be packed: id -> the sales they ship."""
    rows = erp.call(
        "model.stock.shipment.out.search_read",
        [("state", "in", ["waiting", "assigned", "picked"])],
        0,
        None,
        None,
        ["origins"],
        {},
    )
    return {row["id"]: row["origins"] or "" for row in rows}


def stages(result: dict) -> dict[str, int]:
    return {row["stage"]: row["count"] for row in result["cycle"]["stages"]}


def test_the_figures_move_by_exactly_what_the_example_files_did(erp, station, capsys):  # noqa: F811
    demo = erp.demo
    spec = {r.rma: r for r in demo.returns}
    price = {p.code: p.list_price for p in demo.products}
    family = {p.code: p.family for p in demo.products}
    whole, extra, short, serial = (spec[r] for r in ("RMA-000101", "RMA-000107", "RMA-000110", "RMA-000116"))
    (belt,) = {line.product for line in extra.box} - {line.product for line in extra.lines}
    (left_out,) = {line.product for line in short.lines} - {line.product for line in short.box}
    (ereader,) = [line.product for line in serial.lines]
    restocked = [line.product for line in whole.lines]
    assert len(restocked) == 2  # the tee and the wallet

    before = figures(erp)
    waiting_before = waiting_shipments(erp)
    for role in ("receiver", "inspector", "packer"):
        replay(role, capsys)
        sync(capsys, allow=("confirm_pack",))  # the short pack waits for its approval
    replay("supervisor", capsys)
    sync(capsys)
    sync(capsys)  # the short pack, once approved
    after = figures(erp)

    # Return reasons: by the return's RMA issue, so receiving moves only what the boxes changed: the
    # accessory nobody returned is a line more (RMA-000107's reason), the missing one a line less.
    reasons = before["reasons"], after["reasons"]
    assert after["reasons"]["returns"] == before["reasons"]["returns"]
    expected_reasons: dict[str, int] = {}
    for reason, units in ((extra.reason, 1), (short.reason, -1)):
        expected_reasons[reason] = expected_reasons.get(reason, 0) + units
    assert moved(*(keyed(r["by_reason"]) for r in reasons)) == {
        k: v for k, v in expected_reasons.items() if v
    }
    assert moved(*(keyed(r["by_sku"]) for r in reasons)) == {belt: 1, left_out: -1}
    expected_families = {family[belt]: 1}
    expected_families[family[left_out]] = expected_families.get(family[left_out], 0) - 1
    assert moved(*(keyed(r["by_family"]) for r in reasons)) == {
        k: v for k, v in expected_families.items() if v
    }

    # Cycle times: four receipts; three units inspected; three put away (RMA-000101's two once both
    # were restocked, the e-reader once its quarantine was approved), all at the replaying station.
    assert moved(stages(before), stages(after)) == {
        "issued_to_received": 4,
        "received_to_inspected": 3,
        "inspected_to_put_away": 3,
        "end_to_end": 3,
    }
    replaying = {
        row["stage"]: row["count"] for row in after["cycle"]["by_station"] if row["station"] == "replay-e2e"
    }
    assert replaying == moved(stages(before), stages(after))

    # Put away within the target: the two restocked units, minutes after their receipt.
    assert after["sla"]["restocked"] - before["sla"]["restocked"] == 2
    assert after["sla"]["within"] - before["sla"]["within"] == 2

    # Recovery: the two restocked units at their full price, the e-reader in quarantine at its factor.
    factors = after["config"]["factors"]
    value = {"restock": sum(price[code] for code in restocked), "quarantine": price[ereader]}
    paths_before = {row["path"]: row for row in before["recovery"]["by_path"]}
    for row in after["recovery"]["by_path"]:
        was = paths_before[row["path"]]
        units = {"restock": 2, "quarantine": 1}.get(row["path"], 0)
        returned = float(value.get(row["path"], 0))
        assert row["units"] - was["units"] == units, row["path"]
        assert round(row["value_returned"] - was["value_returned"], 2) == returned, row["path"]
        assert round(row["value_recovered"] - was["value_recovered"], 2) == round(
            returned * factors[row["path"]], 2
        ), row["path"]

    # Backlog: the e-reader is a unit in quarantine; no request is left pending; RMA-000107 and
    # RMA-000110 stay received with a box that did not match (nobody inspected them).
    backlog = before["backlog"], after["backlog"]
    assert backlog[1]["quarantine"]["count"] - backlog[0]["quarantine"]["count"] == 1
    assert moved(*(keyed(b["quarantine_by_sku"], "sku") for b in backlog)) == {ereader: 1}
    assert backlog[1]["approvals"]["count"] == backlog[0]["approvals"]["count"] == 0
    assert backlog[1]["mismatched_receipts"]["count"] - backlog[0]["mismatched_receipts"]["count"] == 2

    # Packing: two orders packed (and so no longer waiting), one of them short; what it left behind
    # (the damaged belt, "in a second parcel") waits as a new shipment of the same sale.
    pack = before["pack"], after["pack"]
    assert (pack[1]["packed"] - pack[0]["packed"], pack[1]["short"] - pack[0]["short"]) == (2, 1)
    waiting_after = waiting_shipments(erp)
    left = set(waiting_before) - set(waiting_after)
    assert len(left) == 2
    remainders = [origins for sid, origins in waiting_after.items() if sid not in waiting_before]
    assert all("SO-1106" in origins for origins in remainders)
    assert pack[1]["waiting"]["count"] - pack[0]["waiting"]["count"] == len(remainders) - 2

    # Nothing was refunded in the demo before receipt: the exposure does not move.
    assert after["exposure"]["value"] == before["exposure"]["value"]
