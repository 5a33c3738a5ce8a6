"""The example replay files of each role, end to end against the real ERP: ``station replay``
queues, ``station sync --once`` delivers, and the ERP's own records show the work (return received,
inspection recorded with its disposition's location, order packed, approval decided)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.cli import main

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "replay"
RETURN = "stock.shipment.out.return"


@pytest.fixture
def station(erp, tmp_path, monkeypatch):
    monkeypatch.setenv("STATION_ERP_URL", erp.station_address("replay-e2e").url())  # its own ERP user
    monkeypatch.setenv("STATION_DATA_DIR", str(tmp_path / "station"))
    monkeypatch.setenv("STATION_ID", "replay-e2e")
    return tmp_path / "station"


def replay(role: str, capsys) -> dict:
    code = main(["replay", str(EXAMPLES / f"{role}.jsonl"), "--json"])
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert code == 0, (report["unexpected"], report["malformed"], captured.err)
    return report


def sync(capsys, *, allow: tuple[str, ...] = ()) -> list[tuple[str, str, str]]:
    """``station sync --once``; every operation must reach the ERP, except those of a type in
    ``allow`` whose failure the caller checks itself (returned as (type, state, error))."""
    code = main(["sync", "--once"])
    captured = capsys.readouterr()
    assert code == 0, captured.out + captured.err
    assert main(["queue", "--json"]) == 0
    queue = json.loads(capsys.readouterr().out)
    stuck = [
        (op["type"], op["state"], op["error"] or "")
        for op in queue["operations"]
        if op["state"] in ("failed", "conflict")
    ]
    assert [s for s in stuck if s[0] not in allow] == []
    return stuck


def returns_by_rma(erp, *rmas: str) -> dict[str, dict]:
    rows = erp.call(
        f"model.{RETURN}.search_read",
        [("reference", "in", list(rmas))],
        0,
        None,
        None,
        ["reference", "state", "incoming_moves", "inventory_moves"],
        {},
    )
    return {row["reference"]: row for row in rows}


def location_codes(erp) -> dict[int, str]:
    rows = erp.call("model.stock.location.search_read", [], 0, None, None, ["code"], {})
    return {row["id"]: row["code"] for row in rows}


@pytest.mark.erp
@pytest.mark.slow
def test_each_roles_example_replays_end_to_end_against_the_erp(erp, station, capsys):
    # Receiver: four parcels received, one short, two with items nobody expected.
    report = replay("receiver", capsys)
    assert [op["type"] for op in report["operations"]] == ["receive_return"] * 4
    sync(capsys)
    received = returns_by_rma(erp, "RMA-000101", "RMA-000107", "RMA-000110", "RMA-000116")
    assert {rma: row["state"] for rma, row in received.items()} == dict.fromkeys(received, "received")
    assert len(received) == 4
    assert len(received["RMA-000107"]["incoming_moves"]) == 2  # the belt came back as an extra move

    # Inspector: two units restocked, one held for a supervisor.
    report = replay("inspector", capsys)
    assert [op["type"] for op in report["operations"] if op["type"] != "upload_photo"] == [
        "inspect_item",
        "inspect_item",
        "inspect_item",
        "request_approval",
    ]
    sync(capsys)
    codes = location_codes(erp)
    for rma, expected in (
        ("RMA-000101", {("passed", "restock")}),
        ("RMA-000116", {("pending", "quarantine")}),
    ):
        row = returns_by_rma(erp, rma)[rma]
        inspections = erp.call(
            "model.quality.inspection.search_read",
            [("origin", "=", f"{RETURN},{row['id']}")],
            0,
            None,
            None,
            ["state", "station_disposition", "station_rule"],
            {},
        )
        assert {(i["state"], i["station_disposition"]) for i in inspections} == expected
    moves = erp.call(
        "model.stock.move.search_read",
        [("id", "in", returns_by_rma(erp, "RMA-000101")["RMA-000101"]["inventory_moves"])],
        0,
        None,
        None,
        ["to_location"],
        {},
    )
    assert {codes[m["to_location"]] for m in moves} == {"STO"}  # restock: the storage zone
    photos = erp.call("model.ir.attachment.search_count", [("resource", "like", "quality.inspection,%")], {})
    assert photos >= 6

    # Packer: one order packed whole, one short (waiting for its approval).
    report = replay("packer", capsys)
    assert [op["type"] for op in report["operations"]] == ["confirm_pack", "request_approval", "confirm_pack"]
    pack_failures = sync(capsys, allow=("confirm_pack",))
    shipments = erp.call(
        "model.stock.shipment.out.search_read",
        [("number", "in", ["OUT-1103", "OUT-1106"])],
        0,
        None,
        None,
        ["number", "state"],
        {},
    )
    states = {s["number"]: s["state"] for s in shipments}
    assert states["OUT-1103"] == "packed"

    # Supervisor: both requests approved; the held e-reader goes to quarantine, the short pack through.
    report = replay("supervisor", capsys)
    assert [op["type"] for op in report["operations"]] == ["decide_approval", "decide_approval"]
    pack_failures = sync(capsys, allow=("confirm_pack",))
    approvals = erp.call(
        "model.returns.station.approval.search_read", [], 0, None, None, ["state", "decided_by", "kind"], {}
    )
    assert sorted((a["kind"], a["state"]) for a in approvals) == [
        ("disposition", "approved"),
        ("short_pack", "approved"),
    ]
    assert {a["decided_by"] for a in approvals} == {"U-SUPV-1"}
    row = returns_by_rma(erp, "RMA-000116")["RMA-000116"]
    inspections = erp.call(
        "model.quality.inspection.search_read",
        [("origin", "=", f"{RETURN},{row['id']}")],
        0,
        None,
        None,
        ["state"],
        {},
    )
    assert [i["state"] for i in inspections] == ["passed"]

    # Last, the short pack: delivered once approved.
    assert pack_failures == []
    shipments = erp.call(
        "model.stock.shipment.out.search_read", [("number", "=", "OUT-1106")], 0, None, None, ["state"], {}
    )
    assert shipments[0]["state"] == "packed"


@pytest.mark.erp
@pytest.mark.slow
def test_a_supervisor_at_another_station_decides_a_request_pulled_from_the_erp(
    erp, station, tmp_path, monkeypatch, capsys
):
    replay("receiver", capsys)
    replay("inspector", capsys)
    sync(capsys)
    monkeypatch.setenv(
        "STATION_DATA_DIR", str(tmp_path / "office")
    )  # a second station, empty: it pulls first
    monkeypatch.setenv("STATION_ID", "office-1")
    monkeypatch.setenv("STATION_ERP_URL", erp.station_address("office-1").url())  # its own ERP user
    events = tmp_path / "decide.jsonl"
    events.write_text(
        '{"signin": {"badge": "U-SUPV-1", "pin": "444444"}}\n'
        '{"task": "supervise"}\n'
        '{"refuse": {"request": "RMA-000116", "note": "serial does not match: no refund, hold it"}}\n'
    )
    assert main(["replay", str(events), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    (decision,) = report["operations"]
    assert decision["type"] == "decide_approval" and decision["depends_on"] == []
    sync(capsys)
    (approval,) = erp.call(
        "model.returns.station.approval.search_read", [], 0, None, None, ["state", "decided_by", "note"], {}
    )
    assert (approval["state"], approval["decided_by"]) == ("refused", "U-SUPV-1")
    row = returns_by_rma(erp, "RMA-000116")["RMA-000116"]
    inspections = erp.call(
        "model.quality.inspection.search_read",
        [("origin", "=", f"{RETURN},{row['id']}")],
        0,
        None,
        None,
        ["state"],
        {},
    )
    assert [i["state"] for i in inspections] == ["failed"]


@pytest.mark.erp
@pytest.mark.slow
def test_an_expired_lot_read_from_gs1_is_never_restocked_in_the_erp(erp, station, tmp_path, capsys):
    demo_return = next(r for r in erp.demo.returns if r.rma == "RMA-000113")  # the box holds another lot
    (unit,) = demo_return.box
    lot = next(spec for spec in erp.demo.lots_of(unit.product) if spec.number == unit.lot)
    assert lot.expiration_date < erp.demo.today  # the demo's wrong lot is the expired one
    gs1 = (
        "]d201"
        + erp.demo.product(unit.product).barcode.zfill(14)
        + "17"
        + lot.expiration_date.strftime("%y%m%d")
        + "10"
        + lot.number
    )
    (tmp_path / "jar.jpg").write_bytes((EXAMPLES / "photos" / "wallet.jpg").read_bytes())
    events = tmp_path / "expired.jsonl"
    events.write_text(
        "\n".join(
            json.dumps(event)
            for event in [
                {"signin": {"badge": "U-RECV-1", "pin": "1111"}},
                {"task": "receive"},
                {"scan": "RMA-000113"},
                {"scan": gs1},
                {"confirm": {"reason": "another lot than the one sold"}},
                {"signout": {}},
                {"signin": {"badge": "U-INSP-1", "pin": "2222"}},
                {"task": "inspect"},
                {"scan": "RMA-000113"},
                {"scan": gs1},
                {"override": "restock", "expect": "never_restock"},
                {"photo": "jar.jpg"},
                {"grade": "A"},
                {"check": {"seal_intact": True}},
                {"confirm": {}},
            ]
        )
        + "\n"
    )
    assert main(["replay", str(events), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    inspection = next(op for op in report["operations"] if op["type"] == "inspect_item")["payload"]
    assert (inspection["disposition"], inspection["rule_id"], inspection["lot"]) == (
        "dispose",
        "health-expired",
        lot.number,
    )
    assert inspection["checklist"]["lot_matches"] is False and inspection["checklist"]["days_to_expiry"] < 0
    sync(capsys)
    row = returns_by_rma(erp, "RMA-000113")["RMA-000113"]
    (recorded,) = erp.call(
        "model.quality.inspection.search_read",
        [("origin", "=", f"{RETURN},{row['id']}")],
        0,
        None,
        None,
        ["state", "station_disposition", "station_rule"],
        {},
    )
    assert (recorded["state"], recorded["station_disposition"], recorded["station_rule"]) == (
        "pending",
        "dispose",
        "health-expired",
    )  # a write-off waits for a supervisor
    (approval,) = erp.call(
        "model.returns.station.approval.search_read", [], 0, None, None, ["kind", "state"], {}
    )
    assert (approval["kind"], approval["state"]) == ("write_off", "pending")
