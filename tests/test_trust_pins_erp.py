"""Attacks on people's PINs, against the real Tryton server: what a stolen station reveals, guessing
across stations, short supervisor PINs, and a station user reaching for hashes.

Stations here log in as station users (``station erp add-station``) and sign people in through the
sync engine's request port, as a running station does; "offline" is an engine whose ERP address
answers nothing.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from app.workflows.station import StationSession
from sync.common.pins import verify_pin
from sync.engine import SyncEngine
from sync.erp.address import ErpAddress
from sync.erp.protocol import Refused
from sync.erp.tryton.connector import TrytonConnector
from sync.erp.tryton.people import People, PeopleError
from sync.erp.tryton.server import ErpSetupError, login, rpc
from sync.erp.tryton.stations import add_station
from sync.store import Store
from tests.sync_ops import erp_read

pytestmark = pytest.mark.erp


def code(outcome: Any) -> str:
    return getattr(outcome, "code", "accepted")


class Desk:
    """One station: its own store (pulled from the ERP), engine and session."""

    def __init__(self, path: Path, address: ErpAddress, name: str, clock: Any = None) -> None:
        self.store = Store.open(path)
        self.address = address
        self.engine = SyncEngine(self.store, lambda: TrytonConnector(self.address, timeout=30), station=name)
        self.engine.sync_once(push=False)
        kwargs = {"clock": clock} if clock else {}
        self.session = StationSession(self.store, name, requester=self.engine.request, **kwargs)
        self.path = path

    def go_offline(self) -> None:
        with socket.socket() as free:  # a port nobody listens on
            free.bind(("127.0.0.1", 0))
            port = free.getsockname()[1]
        self.address = ErpAddress(host="127.0.0.1", port=port, database="nowhere", user="x", password="y")
        self.engine = SyncEngine(self.store, lambda: TrytonConnector(self.address, timeout=2), station="off")
        self.session.requester = self.engine.request

    def close(self) -> None:
        self.store.close()


@pytest.fixture
def desks(erp, tmp_path) -> Iterator[Any]:
    opened: list[Desk] = []

    def open_desk(name: str = "dock-1", address: ErpAddress | None = None, clock: Any = None) -> Desk:
        desk = Desk(tmp_path / name / "station.sqlite", address or erp.address, name, clock)
        opened.append(desk)
        return desk

    yield open_desk
    for desk in opened:
        desk.close()


def test_the_pull_carries_no_pin_hash_and_a_station_keeps_only_verifiers_of_who_signed_in_there(erp, desks):
    desk = desks()
    people = desk.store.people()
    assert {p["badge"] for p in people} >= {"U-RECV-1", "U-SUPV-1", "U-INSP-1"}
    assert all("pin_hash" not in p for p in people)
    assert b"scrypt$" not in desk.path.read_bytes()

    assert desk.session.sign_in("U-RECV-1", "1111").ok
    held = desk.store.verifier("U-RECV-1")
    assert held is not None and verify_pin("1111", held["verifier"])
    (stored,) = erp_read(erp, "returns.station.person", [("badge", "=", "U-RECV-1")], ["pin_hash"])
    assert held["verifier"] != stored["pin_hash"]  # its own salt: the ERP's hash never leaves it
    for badge in ("U-SUPV-1", "U-INSP-1", "U-PACK-1", "U-LEAD-1"):
        assert desk.store.verifier(badge) is None


def test_a_first_sign_in_offline_is_refused_in_plain_words_and_a_verifier_signs_in_offline(desks):
    desk = desks()
    assert desk.session.sign_in("U-INSP-1", "2222").ok  # online: the ERP checks and hands a verifier
    desk.session.sign_out()
    desk.go_offline()
    first = desk.session.sign_in("U-RECV-1", "1111")
    assert code(first) == "sign_in_needs_erp"
    assert "first sign-in here" in first.message and "needs the ERP" in first.message
    assert code(desk.session.sign_in("U-INSP-1", "2229")) == "sign_in_refused"
    assert desk.session.sign_in("U-INSP-1", "2222").ok


def test_a_verifier_expires_after_14_days(desks):
    now = [datetime.now(UTC)]
    desk = desks(clock=lambda: now[0])
    assert desk.session.sign_in("U-PACK-1", "3333").ok
    expires = datetime.strptime(desk.store.verifier("U-PACK-1")["expires_at"], "%Y-%m-%dT%H:%M:%SZ")
    assert (
        timedelta(days=13, hours=23) < expires.replace(tzinfo=UTC) - now[0] <= timedelta(days=14, minutes=5)
    )
    desk.session.sign_out()
    desk.go_offline()
    now[0] += timedelta(days=13)
    assert desk.session.sign_in("U-PACK-1", "3333").ok
    desk.session.sign_out()
    now[0] += timedelta(days=2)
    assert code(desk.session.sign_in("U-PACK-1", "3333")) == "sign_in_needs_erp"


def test_guessing_at_one_station_then_another_does_not_reset_the_lock_and_an_unlock_clears_both(erp, desks):
    other = add_station(erp.admin, "dock-b")
    a, b = desks("dock-a"), desks("dock-b", address=other)
    for _ in range(3):
        assert code(a.session.sign_in("U-RECV-1", "0000")) == "sign_in_refused"
    for _ in range(2):
        assert code(b.session.sign_in("U-RECV-1", "0000")) == "sign_in_refused"
    assert code(b.session.sign_in("U-RECV-1", "1111")) == "locked_out"  # 5 wrong, counted in the ERP
    assert code(a.session.sign_in("U-RECV-1", "1111")) == "locked_out"  # though A saw only 3
    tries = erp_read(erp, "returns.station.pin_try", [("badge", "=", "U-RECV-1")], ["station", "outcome"])
    assert {t["station"] for t in tries if t["outcome"] == "sign-in refused"} == {erp.address.user, "dock-b"}

    assert a.session.sign_in("U-SUPV-1", "444444").ok
    assert a.session.unlock("U-RECV-1").ok
    (unlock,) = erp_read(erp, "returns.station.pin_try", [("outcome", "=", "unlocked")], ["badge", "by"])
    assert (unlock["badge"], unlock["by"]) == ("U-RECV-1", "U-SUPV-1")
    assert b.session.sign_in("U-RECV-1", "1111").ok
    assert a.session.sign_in("U-SUPV-1", "444444").ok
    for _ in range(5):  # locked by B's own count too, this time
        assert code(b.session.sign_in("U-RECV-1", "0000")) == "sign_in_refused"
    assert code(b.session.sign_in("U-RECV-1", "1111")) == "locked_out"
    assert a.session.unlock("U-RECV-1").ok  # at A: B, online, follows the ERP
    assert b.session.sign_in("U-RECV-1", "1111").ok
    assert a.session.sign_in("U-RECV-1", "1111").ok


def test_a_supervisor_pin_of_four_digits_is_refused(erp):
    people = People(erp.admin)
    with pytest.raises(PeopleError, match="a supervisor's PIN needs at least 6 digits"):
        people.set_pin("U-SUPV-1", "4321")
    with pytest.raises(PeopleError, match="at least 6 digits"):
        people.enroll("U-SUPV-9", "Nia Boss", ["supervisor"], "1234")
    # The ERP refuses it itself, whoever writes it (not only the CLI).
    (supervisor,) = erp.call(
        "model.returns.station.person.search", [("badge", "=", "U-SUPV-1")], 0, 1, None, {}
    )
    with pytest.raises(ErpSetupError, match="at least 6 digits"):
        erp.call("model.returns.station.person.write", [supervisor], {"pin": "4321"}, {})
    (receiver,) = erp.call(
        "model.returns.station.person.search", [("badge", "=", "U-RECV-1")], 0, 1, None, {}
    )
    with pytest.raises(ErpSetupError, match="becomes a supervisor: give them a new PIN"):
        erp.call("model.returns.station.person.write", [receiver], {"roles": ["receiver", "supervisor"]}, {})
    assert not erp_read(erp, "returns.station.person", [("badge", "=", "U-SUPV-9")], ["id"])


def test_a_new_pin_set_in_the_erp_ends_the_old_verifier_at_the_station(erp, desks):
    desk = desks()
    assert desk.session.sign_in("U-LEAD-1", "5555").ok
    desk.session.sign_out()
    People(erp.admin).set_pin("U-LEAD-1", "8642")
    desk.engine.sync_once(push=False)  # the pull brings the new pin_version
    desk.go_offline()
    assert code(desk.session.sign_in("U-LEAD-1", "5555")) == "sign_in_needs_erp"


def test_a_station_user_cannot_read_hashes_set_pins_or_read_sign_in_tries(erp, desks):
    desk = desks()
    answer = desk.engine.request("returns.station.signin.check", "U-RECV-1", "1111")
    assert answer["status"] == "ok" and "pin_hash" not in answer and "pin_hash" not in answer["person"]
    session = login(erp.address)

    def refused(method: str, *params: Any) -> str:
        with pytest.raises(ErpSetupError) as info:
            rpc(erp.address, method, *params, session=session)
        return str(info.value)

    assert "not allowed" in refused(
        "model.returns.station.person.search_read", [], 0, None, None, ["badge", "pin_hash"], {}
    )
    (receiver,) = erp.call(
        "model.returns.station.person.search", [("badge", "=", "U-RECV-1")], 0, 1, None, {}
    )
    assert "not allowed" in refused("model.returns.station.person.write", [receiver], {"pin": "123456"}, {})
    assert "not allowed" in refused("model.returns.station.person.new_pin", [receiver], {})
    assert "not allowed" in refused(
        "model.returns.station.pin_try.search_read", [], 0, None, None, ["badge"], {}
    )
    # The unlock names a supervisor the ERP knows: a station cannot unlock in a receiver's name.
    unlock = desk.engine.request("returns.station.signin.unlock", "U-RECV-1", "U-RECV-1")
    assert isinstance(unlock, Refused) and "may not unlock badges" in unlock.reason


def test_a_returns_supervisor_manages_people_without_seeing_a_hash(erp):
    (group,) = erp.call("model.res.group.search", [("name", "=", "Returns Supervisor")], 0, 1, None, {})
    erp.call(
        "model.res.user.create",
        [
            {
                "login": "lead",
                "name": "Shift Lead",
                "password": "Lead-Pa55word-1",
                "groups": [("add", [group])],
            }
        ],
        {},
    )
    lead = ErpAddress(
        host=erp.admin.host,
        port=erp.admin.port,
        database=erp.admin.database,
        user="lead",
        password="Lead-Pa55word-1",
    )
    people = People(lead)
    people.enroll("U-RECV-7", "Ada Lovel", ["receiver"], "7531")
    pin = people.generate_pin("U-RECV-7")
    assert pin.isdigit() and len(pin) >= 4
    people.deactivate("U-RECV-7")
    (row,) = [p for p in people.everyone() if p.badge == "U-RECV-7"]
    assert (row.active, row.has_pin, row.roles) == (False, True, ("receiver",))
    with pytest.raises(PeopleError, match="not allowed|access"):
        people._call("search_read", [], 0, None, None, ["pin_hash"], {})
    (stored,) = erp.call(
        "model.returns.station.person.search_read",
        [("badge", "=", "U-RECV-7")],
        0,
        None,
        None,
        ["pin_hash"],
        {"active_test": False},
    )
    assert verify_pin(pin, stored["pin_hash"]) and not verify_pin("7531", stored["pin_hash"])
