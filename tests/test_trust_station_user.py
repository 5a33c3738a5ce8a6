"""Attacks by whoever holds a station: its ERP user may apply station operations and pull, nothing else.

Every test logs in to the real Tryton server as the station user the ``erp`` fixture gives stations
(``station erp add-station``: the group "Returns Station" only), tries one thing, and checks what
the ERP answered and what it holds afterwards (read as admin).
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import typing

import pytest

from sync.erp.protocol import ErpAuthFailed
from sync.erp.tryton.connector import TrytonConnector
from sync.erp.tryton.server import STATION, ErpSetupError, login, rpc
from sync.erp.tryton.stations import add_station
from sync.operations import new_operation
from tests.fixtures.erp import ROOT
from tests.sync_ops import erp_read, inspect, markers, pack_all, receive_all, request_disposition_approval

pytestmark = pytest.mark.erp


class AsStation:
    """JSON-RPC calls as the station user, returning the ERP's error text instead of raising."""

    def __init__(self, erp: typing.Any) -> None:
        self.address = erp.address
        self.session = login(self.address)

    def call(self, method: str, *params: typing.Any) -> typing.Any:
        return rpc(self.address, method, *params, session=self.session)

    def refused(self, method: str, *params: typing.Any) -> str:
        with pytest.raises(ErpSetupError) as info:
            self.call(method, *params)
        return str(info.value)


def admin_id(erp: typing.Any, model: str, domain: list[typing.Any]) -> int:
    (found,) = erp.call(f"model.{model}.search", domain, 0, 1, None, {"active_test": False})
    return found


def test_a_station_user_belongs_to_the_station_group_only(erp):
    user = erp.address.user
    assert user != "admin"
    (row,) = erp_read(erp, "res.user", [("login", "=", user)], ["groups", "administrator"])
    groups = erp_read(erp, "res.group", [("id", "in", row["groups"])], ["name"])
    assert [g["name"] for g in groups] == ["Returns Station"]
    assert not row["administrator"]


def test_a_station_user_applies_every_operation_type(seeded_store, connector, erp):
    assert connector.address.user == erp.address.user != "admin"
    ret = seeded_store.find_return("RMA-000105")  # serial-numbered electronics
    digest = seeded_store.add_photo(b"\xff\xd8 station user photo")
    item = inspect(ret, ret["lines"][0], disposition="restock", approval_required=True, photos=[digest])
    request = request_disposition_approval(
        ret, item, "req-station-user", summary="restock a returned device", evidence=[digest]
    )
    decide = new_operation(
        "decide_approval",
        {"request_id": "req-station-user", "decision": "approve", "note": None},
        station="S1",
        user="U-SUPV-1",
    )
    upload = new_operation(
        "upload_photo",
        {"sha256": digest, "mime": "image/jpeg", "return_id": ret["id"]},
        station="S1",
        user="U-INSP-1",
    )
    pack = pack_all(
        next(s for s in seeded_store.shipments("assigned") if not any(li["lot"] for li in s["lines"]))
    )
    ops = [receive_all(ret), upload, item, request, decide, pack]
    results = connector.apply_batch(ops, seeded_store.photo_bytes)
    assert [type(r).__name__ for r in results] == ["ApplyResult"] * len(ops), results
    assert not any(r.already for r in results)
    assert {m["type"] for m in markers(erp)} == {op.type for op in ops}
    (inspection,) = erp_read(erp, "quality.inspection", [("station_operation", "=", item.id)], ["state"])
    assert inspection["state"] == "passed"
    assert connector.pull({}).records["people"], "a station user pulls the people it signs in"


def test_a_station_user_cannot_read_other_users_or_groups(erp):
    station = AsStation(erp)
    admin = admin_id(erp, "res.user", [("login", "=", "admin")])
    assert "not allowed to read" in station.refused("model.res.user.read", [admin], ["login"], {})
    seen = station.call("model.res.user.search_read", [], 0, None, None, ["login"], {})
    assert [u["login"] for u in seen] == [erp.address.user]
    groups = station.call("model.res.group.search_read", [], 0, None, None, ["name"], {})
    assert [g["name"] for g in groups] == ["Returns Station"]


def test_a_station_user_cannot_make_itself_an_administrator_or_create_users(erp):
    station = AsStation(erp)
    own = admin_id(erp, "res.user", [("login", "=", erp.address.user)])
    supervisors = admin_id(erp, "res.group", [("name", "=", "Returns Supervisor")])
    assert "not allowed" in station.refused(
        "model.res.user.write", [own], {"administrator": True, "groups": [("add", [supervisors])]}, {}
    )
    assert "not allowed" in station.refused(
        "model.res.user.create", [{"login": "intruder", "name": "Intruder", "password": "Intruder-Pa55"}], {}
    )
    (row,) = erp_read(erp, "res.user", [("id", "=", own)], ["administrator", "groups"])
    assert not row["administrator"] and supervisors not in row["groups"]
    assert not erp_read(erp, "res.user", [("login", "=", "intruder")], ["id"])


def test_a_station_user_cannot_read_pin_hashes_or_enrol_a_person(erp):
    station = AsStation(erp)
    assert "not allowed" in station.refused(
        "model.returns.station.person.search_read", [], 0, None, None, ["badge", "pin_hash"], {}
    )
    assert "not allowed" in station.refused(
        "model.returns.station.person.create",
        [{"badge": "U-EVIL-1", "name": "Evil", "roles": ["supervisor"], "pin_hash": "scrypt$x"}],
        {},
    )
    supervisor = admin_id(erp, "returns.station.person", [("badge", "=", "U-SUPV-1")])
    assert "not allowed" in station.refused(
        "model.returns.station.person.write", [supervisor], {"pin_hash": "scrypt$known"}, {}
    )
    assert not erp_read(erp, "returns.station.person", [("badge", "=", "U-EVIL-1")], ["id"])


def test_a_station_user_cannot_read_or_delete_exactly_once_markers(seeded_store, connector, erp):
    connector.apply(receive_all(seeded_store.find_return("RMA-000101")), seeded_store.photo_bytes)
    (marker,) = markers(erp)
    station = AsStation(erp)
    assert "not allowed" in station.refused(
        "model.returns.station.operation.search_read", [], 0, None, None, ["operation_id"], {}
    )
    marker_id = admin_id(erp, "returns.station.operation", [("operation_id", "=", marker["operation_id"])])
    assert "not allowed" in station.refused("model.returns.station.operation.delete", [marker_id], {})
    assert "not allowed" in station.refused(
        "model.returns.station.approval.create",
        [{"request_id": "forged", "kind": "short_pack", "state": "approved", "requested_by": "U-PACK-1"}],
        {},
    )
    assert markers(erp) == [marker]


def test_a_station_user_cannot_write_stock_or_quality_directly(erp):
    station = AsStation(erp)
    (ret,) = erp_read(
        erp,
        "stock.shipment.out.return",
        [("reference", "=", "RMA-000101")],
        ["id", "state", "incoming_moves"],
    )
    (move,) = erp_read(erp, "stock.move", [("id", "=", ret["incoming_moves"][0])], ["id", "quantity"])
    assert "not allowed" in station.refused("model.stock.move.write", [move["id"]], {"quantity": 99}, {})
    assert "not allowed" in station.refused("model.stock.shipment.out.return.receive", [ret["id"]], {})
    assert "not allowed" in station.refused("model.quality.inspection.create", [{}], {})
    (after,) = erp_read(erp, "stock.move", [("id", "=", move["id"])], ["quantity"])
    assert after["quantity"] == move["quantity"]
    (ret_after,) = erp_read(erp, "stock.shipment.out.return", [("id", "=", ret["id"])], ["state"])
    assert ret_after["state"] == ret["state"] == "draft"


def test_a_user_outside_the_station_group_can_neither_apply_nor_pull(seeded_store, erp):
    erp.call("model.res.user.create", [{"login": "clerk", "name": "Clerk", "password": "Clerk-Pa55word"}], {})
    clerk = TrytonConnector(dataclasses.replace(erp.address, user="clerk", password="Clerk-Pa55word"))
    with pytest.raises(ErpAuthFailed, match="not allowed to call apply_batch"):
        clerk.apply(receive_all(seeded_store.find_return("RMA-000101")), seeded_store.photo_bytes)
    with pytest.raises(ErpAuthFailed, match="not allowed to call pull"):
        clerk.pull({})
    assert markers(erp) == []
    as_clerk = dataclasses.replace(erp.address, user="clerk", password="Clerk-Pa55word")
    session = login(as_clerk)
    for method in ("compute", "evaluate_alerts"):  # the floor's figures are not for every ERP login
        with pytest.raises(ErpSetupError, match=f"not allowed to call returns.station.figures.{method}"):
            rpc(as_clerk, f"model.returns.station.figures.{method}", {}, {}, session=session)
    with pytest.raises(ErpSetupError, match="not allowed to call returns.station.clock.now"):
        rpc(as_clerk, "model.returns.station.clock.now", {}, session=session)


def test_add_station_prints_the_url_once_and_a_second_add_is_refused(erp):
    env = {**os.environ, "STATION_ERP_ADMIN_URL": erp.admin.url()}
    first = subprocess.run(
        [*STATION, "erp", "add-station", "dock-7"], env=env, capture_output=True, text=True, cwd=ROOT
    )
    assert first.returncode == 0, first.stderr
    (url_line,) = [line for line in first.stdout.splitlines() if line.startswith("STATION_ERP_URL=")]
    assert url_line.startswith("STATION_ERP_URL=http://dock-7:")
    assert erp.admin.password not in first.stdout
    from sync.erp.address import ErpAddress

    station = ErpAddress.parse(url_line.removeprefix("STATION_ERP_URL="))
    assert TrytonConnector(station).pull({}).records["returns"]
    again = subprocess.run(
        [*STATION, "erp", "add-station", "dock-7"], env=env, capture_output=True, text=True, cwd=ROOT
    )
    assert again.returncode == 2 and "already has a user 'dock-7'" in again.stderr
    assert "STATION_ERP_URL" not in again.stdout


def test_add_station_will_not_take_over_a_user_with_other_rights(erp):
    with pytest.raises(ErpSetupError, match="not a station user"):
        add_station(erp.admin, "admin", reset=True)
    assert login(erp.admin).startswith("Session ")  # the admin's password is unchanged


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10", "erp.example.com"])
def test_serving_beyond_this_machine_with_the_demo_admin_password_is_refused(tmp_path, host):
    env = {k: v for k, v in os.environ.items() if k != "STATION_ERP_PASSWORD"}
    result = subprocess.run(
        [*STATION, "erp", "serve", "--host", host, "--port", "0", "--data-dir", str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 2
    assert f"refusing to serve on {host} with the demo admin password" in result.stderr
    assert "STATION_ERP_PASSWORD" in result.stderr
    assert not list(tmp_path.iterdir())  # refused before creating anything
