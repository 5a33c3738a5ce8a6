"""Online requests through the sync engine (SyncEngine.request), against the real Tryton server:
an answer, the ERP's refusal in its words, or "offline" the station can handle."""

import dataclasses
import socket
from datetime import UTC, datetime

import pytest

from sync.engine import SyncEngine
from sync.erp.address import ErpAddress
from sync.erp.protocol import Offline, Refused
from sync.erp.tryton.connector import TrytonConnector

CLOCK = "returns.station.clock.now"
FIRST = 60.0  # seconds: a database's first call loads Tryton's pool for it, slow on a busy machine


def engine_for(store, address):
    return SyncEngine(store, lambda: TrytonConnector(address, timeout=5), station="S1")


def erp_time(answer) -> datetime:
    assert isinstance(answer, str), answer
    return datetime.fromisoformat(answer.replace("Z", "+00:00"))


@pytest.mark.erp
def test_a_request_gets_the_erps_answer(store, erp):
    engine = engine_for(store, erp.address)
    try:
        answer = engine.request(CLOCK, timeout=FIRST)
    finally:
        engine.stop()
    assert abs((erp_time(answer) - datetime.now(UTC)).total_seconds()) < 60


@pytest.mark.erp
def test_a_request_is_answered_while_a_push_holds_the_erp(store, erp):
    engine = engine_for(store, erp.address)
    try:
        engine.request(CLOCK, timeout=FIRST)
        with engine._run_lock:  # what a long push holds
            answer = engine.request(CLOCK, timeout=10)
    finally:
        engine.stop()
    assert not isinstance(answer, Offline | Refused)


@pytest.mark.erp
def test_a_method_the_module_does_not_offer_is_refused_in_the_erps_words(store, erp):
    engine = engine_for(store, erp.address)
    try:
        answer = engine.request("returns.station.clock.set_time", "2000-01-01", timeout=FIRST)
    finally:
        engine.stop()
    assert isinstance(answer, Refused) and "returns.station.clock.set_time" in answer.reason


@pytest.mark.erp
def test_a_request_with_the_erp_stopped_is_offline_and_answers_again_once_it_is_back(store, erp_private):
    engine = engine_for(store, erp_private.address)
    try:
        erp_time(engine.request(CLOCK, timeout=FIRST))  # logged in
        erp_private.stop()
        answer = engine.request(CLOCK, timeout=3)
        assert isinstance(answer, Offline) and not answer.auth_failed
        assert "cannot reach the ERP" in answer.reason and str(erp_private.address.port) in answer.reason
        assert erp_private.address.password not in answer.reason
        erp_private.start()
        erp_time(engine.request(CLOCK, timeout=FIRST))
    finally:
        engine.stop()


@pytest.mark.erp
def test_a_refused_login_is_offline_and_says_so(store, erp):
    wrong = dataclasses.replace(erp.address, password="not-the-password")
    engine = engine_for(store, wrong)
    try:
        answer = engine.request(CLOCK, timeout=FIRST)
    finally:
        engine.stop()
    assert isinstance(answer, Offline) and answer.auth_failed
    assert "not-the-password" not in answer.reason


def test_only_the_station_modules_methods_can_be_requested(store):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    engine = engine_for(store, ErpAddress(host="127.0.0.1", port=port, database="returns"))
    for method in ("res.user.write", "model.res.user.read", "common.db.drop", "returns.station.clock"):
        with pytest.raises(ValueError, match="not a station-facing ERP method"):
            engine.request(method)
