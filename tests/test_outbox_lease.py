"""One sender per station: the outbox's send lease, its heartbeat and the takeover after 30 s of
silence; a late answer to a sender that lost its lease is dropped instead of breaking the state
table; and a `next_attempt_at` left in the future by a clock jump."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sync import outbox
from sync.engine import SyncEngine
from sync.operations import new_operation
from sync.outbox import LEASE_STALE_S
from sync.store import Store

ROOT = Path(__file__).resolve().parents[1]


def op():
    return new_operation("upload_photo", {"sha256": "c" * 64}, station="S1", user="U-1")


def iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def plant_holder(store: Store, holder: str, *, pid: int, age_s: float) -> None:
    """A lease row as another process would have left it (its heartbeat ``age_s`` ago)."""
    beat = iso(datetime.now(UTC) - timedelta(seconds=age_s))
    with store.atomic():
        store._write(
            "lease",
            "INSERT OR REPLACE INTO outbox_lease (name, holder, host, pid, acquired_at, heartbeat_at, beats)"
            " VALUES ('send', ?, ?, ?, ?, ?, 3)",
            (holder, socket.gethostname(), pid, beat, beat),
        )


class Unreachable:
    def apply_batch(self, ops, read_photo):
        raise AssertionError("a waiting engine must not send")

    def pull(self, cursors):
        from sync.erp.protocol import ErpUnavailable

        raise ErpUnavailable("offline in this test")

    def close(self):
        pass


def test_a_second_engine_waits_for_a_live_holder_and_names_it(store):
    operation = op()
    store.enqueue(operation)
    outbox.claim(store, owner="app")  # the app's engine has it in flight
    plant_holder(store, "app", pid=os.getpid(), age_s=1)
    report = SyncEngine(store, Unreachable, station="S1").sync_once()
    assert report.lease_holder is not None and str(os.getpid()) in report.lease_holder
    assert store.operation(operation.id)["state"] == "sending"  # its in-flight row is not touched
    assert store.outbox.lease_holder().holder == "app"


def test_takeover_only_after_the_heartbeat_stopped_for_30_s(store):
    operation = op()
    store.enqueue(operation)
    store.outbox.claim(owner="app")
    plant_holder(store, "app", pid=os.getpid(), age_s=LEASE_STALE_S - 5)
    assert store.outbox.acquire("sync", station="S1") is not None  # still beating: wait
    assert store.operation(operation.id)["state"] == "sending"
    plant_holder(store, "app", pid=os.getpid(), age_s=LEASE_STALE_S + 1)
    assert store.outbox.acquire("sync", station="S1") is None  # silent for 30 s: taken over
    assert store.operation(operation.id)["state"] == "pending"  # its rows reclaimed, audited
    assert store.audit_log(op_id=operation.id)[0]["what"] == "recovered after an interrupted send"
    assert store.outbox.lease_holder().holder == "sync"


def test_a_late_answer_to_a_sender_that_lost_its_lease_is_dropped_not_illegal(store):
    operation = op()
    store.enqueue(operation)
    store.outbox.claim(owner="app")
    plant_holder(store, "app", pid=os.getpid(), age_s=LEASE_STALE_S + 1)
    assert store.outbox.acquire("sync", station="S1") is None
    store.outbox.claim(owner="sync")
    assert store.outbox.ack(operation.id, owner="app") is False  # the old holder's answer arrives
    assert store.operation(operation.id)["state"] == "sending"
    assert store.outbox.ack(operation.id, owner="sync") is True
    assert store.operation(operation.id)["state"] == "done"


def test_the_holder_beats_and_a_dead_holders_lease_is_taken_at_once(store):
    assert store.outbox.acquire("app", station="S1") is None
    before = store.outbox.lease_holder().beats
    assert store.outbox.heartbeat("app") and store.outbox.lease_holder().beats == before + 1
    assert store.outbox.heartbeat("other") is False
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    plant_holder(store, "gone", pid=int(child.stdout), age_s=1)  # a process that no longer exists
    assert store.outbox.acquire("sync", station="S1") is None


def test_station_sync_once_beside_a_running_sender_names_it_and_exits_1(tmp_path):
    data = tmp_path / "station"
    with Store.open(data / "station.sqlite") as store:
        store.enqueue(op())
        plant_holder(store, "app", pid=os.getpid(), age_s=1)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "STATION_DATA_DIR": str(data),
        "STATION_ERP_URL": f"http://station:pw@127.0.0.1:{port}/returns",
        "STATION_ID": "S1",
    }
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "sync", "--once"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 1
    assert f"another process sends this station's outbox: process {os.getpid()}" in result.stderr
    with Store.open(data / "station.sqlite") as store:
        assert store.queue_counts()["pending"] == 1 and store.queue_counts()["sending"] == 0


def test_a_next_attempt_pushed_past_the_backoff_cap_by_a_clock_jump_is_due_now(store):
    operation = op()
    store.enqueue(operation)
    store.outbox.claim()
    far = iso(datetime.now(UTC) + timedelta(days=2))  # written before the clock was set back
    store.set_operation_state(operation.id, "pending", next_attempt_at=far)
    assert [o.id for o in store.outbox.claim()] == [operation.id]


def test_a_backoff_within_the_cap_still_waits(store):
    operation = op()
    store.enqueue(operation)
    store.outbox.claim()
    outbox.requeue(store, operation.id, "ERP unreachable", delay=120)
    assert store.outbox.claim() == []


def test_no_view_reaches_the_outbox_behind_the_sessions_back():
    """The Supervise screen's retry / edit / cancel go through StationSession: no file under app/ui
    imports sync.outbox or sync.store, or writes the outbox through a store."""
    import re

    writes = re.compile(r"\bstore\.(outbox|enqueue|set_operation_state|operations)\b|\boutbox\.\w+\(")
    offenders = []
    for path in (ROOT / "app" / "ui").rglob("*.py"):
        text = path.read_text()
        if re.search(r"^\s*(from|import) sync\.(outbox|store)\b", text, re.M) or writes.search(text):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
