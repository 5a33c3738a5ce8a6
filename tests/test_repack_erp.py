"""A short pack refused by a supervisor at another station, then packed again in full: the whole
round trip through ``station replay`` and ``station sync --once`` against the real ERP."""

from __future__ import annotations

import json

import pytest

from app.cli import main
from tests.test_replay_erp import sync

pytestmark = [pytest.mark.erp, pytest.mark.slow]

BEANIE, BELT = "5906791000227", "5906486000198"  # SO-1106: two beanies and a belt


def at_station(monkeypatch, tmp_path, erp, name: str) -> None:
    monkeypatch.setenv("STATION_ERP_URL", erp.station_address(name).url())  # its own ERP user
    monkeypatch.setenv("STATION_DATA_DIR", str(tmp_path / name))
    monkeypatch.setenv("STATION_ID", name)


def replay(tmp_path, capsys, name: str, events: list[dict]) -> dict:
    path = tmp_path / f"{name}.jsonl"
    path.write_text("".join(json.dumps(event) + "\n" for event in events))
    code = main(["replay", str(path), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0, report
    return report


def shipment(erp, number: str) -> dict:
    (row,) = erp.call(
        "model.stock.shipment.out.search_read",
        [("number", "=", number)],
        0,
        None,
        None,
        ["state", "outgoing_moves"],
        {},
    )
    return row


def shipped(erp, row: dict) -> dict[int, float]:
    moves = erp.call(
        "model.stock.move.search_read",
        [("id", "in", row["outgoing_moves"]), ("state", "!=", "cancelled")],
        0,
        None,
        None,
        ["product", "quantity"],
        {},
    )
    out: dict[int, float] = {}
    for move in moves:
        out[move["product"]] = out.get(move["product"], 0) + move["quantity"]
    return out


def test_a_refused_short_pack_is_packed_again_in_full_and_reaches_the_erp_once(
    erp, tmp_path, monkeypatch, capsys
):
    packer = [{"signin": {"badge": "U-PACK-1", "pin": "3333"}}, {"task": "pack"}, {"scan": "SO-1106"}]
    at_station(monkeypatch, tmp_path, erp, "pack-1")
    short = replay(
        tmp_path,
        capsys,
        "short",
        [
            *packer,
            {"scan": BEANIE},
            {"scan": BEANIE},
            {"confirm": {"reason": "last belt in the bin is damaged"}},
            {"signout": {}},
        ],
    )
    assert sorted(op["type"] for op in short["operations"]) == ["confirm_pack", "request_approval"]
    sync(capsys)
    assert shipment(erp, "OUT-1106")["state"] == "assigned"  # held for the supervisor

    at_station(monkeypatch, tmp_path, erp, "office-1")  # another station: it pulls the request first
    replay(
        tmp_path,
        capsys,
        "refuse",
        [
            {"signin": {"badge": "U-SUPV-1", "pin": "444444"}},
            {"task": "supervise"},
            {"refuse": {"request": "SO-1106", "note": "a good belt is on shelf B3: ship it whole"}},
        ],
    )
    sync(capsys)
    assert shipment(erp, "OUT-1106")["state"] == "assigned"

    at_station(monkeypatch, tmp_path, erp, "pack-1")
    sync(capsys)  # the refusal comes back with the pull
    again = replay(
        tmp_path,
        capsys,
        "again",
        [
            *packer,
            {"scan": BEANIE},
            {"scan": BEANIE},
            {"scan": BELT},
            {"confirm": {}},
            {"signout": {}},
        ],
    )
    assert [op["type"] for op in again["operations"]] == ["confirm_pack"]
    sync(capsys)
    sync(capsys)  # sent again: nothing changes

    row = shipment(erp, "OUT-1106")
    assert row["state"] == "packed"
    assert sorted(shipped(erp, row).values()) == [1.0, 2.0]  # the belt and both beanies
    (approval,) = erp.call(
        "model.returns.station.approval.search_read", [], 0, None, None, ["state", "note"], {}
    )
    assert approval == {**approval, "state": "refused", "note": "a good belt is on shelf B3: ship it whole"}
    packages = erp.call(
        "model.stock.package.search_read",
        [("shipment", "=", f"stock.shipment.out,{row['id']}")],
        0,
        None,
        None,
        ["id"],
        {},
    )
    assert len(packages) == 1
