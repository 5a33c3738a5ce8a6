"""Guessing PINs at a station: the lock is counted by time, tries made while locked never lift it,
each wrong PIN after it doubles the wait, and only a supervisor lifts it early (audited)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

import sync.store
from app.workflows.results import Accepted, Refusal
from app.workflows.station import StationSession
from tests.workflows_world import seed_world

TODAY = datetime(2026, 11, 25).date()


@pytest.fixture
def session(store) -> StationSession:
    seed_world(store, TODAY)
    return StationSession(store, "dock-1")


def code(outcome) -> str:
    return outcome.code if isinstance(outcome, Refusal) else "accepted"


def test_tries_made_while_locked_never_unlock_the_badge(session):
    for _ in range(5):
        assert code(session.sign_in("U-RECV-1", "0000")) == "sign_in_refused"
    for _ in range(250):  # more than any window of recent audit rows
        assert code(session.sign_in("U-RECV-1", "0000")) == "locked_out"
    assert code(session.sign_in("U-RECV-1", "1111")) == "locked_out"


def test_each_wrong_pin_after_a_lock_doubles_the_wait(session, monkeypatch):
    earlier = datetime.now(UTC) - timedelta(minutes=6)  # the first lock (5 minutes) is over
    monkeypatch.setattr(sync.store, "utc_now", lambda: earlier.strftime("%Y-%m-%dT%H:%M:%S.000Z"))
    for _ in range(5):
        session.sign_in("U-RECV-1", "0000")
    monkeypatch.undo()
    assert code(session.sign_in("U-RECV-1", "0000")) == "sign_in_refused"  # tried again after the wait
    outcome = session.sign_in("U-RECV-1", "1111")
    assert code(outcome) == "locked_out"
    assert "wait 10 minutes" in outcome.message


def test_only_a_supervisor_unlocks_a_badge_and_the_unlock_is_audited(session, store):
    for _ in range(5):
        session.sign_in("U-RECV-1", "0000")
    assert isinstance(session.sign_in("U-PACK-1", "3333"), Accepted)
    assert code(session.unlock("U-RECV-1")) == "not_allowed"
    assert isinstance(session.sign_in("U-SUPV-1", "444444"), Accepted)
    assert isinstance(session.unlock("U-RECV-1"), Accepted)
    (entry,) = store.audit_log(10, who="U-RECV-1", what=("unlocked",))
    assert entry["detail"] == {"by": "U-SUPV-1"}
    assert isinstance(session.sign_in("U-RECV-1", "1111"), Accepted)
