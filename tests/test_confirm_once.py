"""Nothing confirmed is lost or done twice, against the real Tryton server: a confirm killed
between any two of its writes, two tabs confirming the same unit, `station sync` beside the app
during a drain, and one poison operation among 200."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

from app.workflows.station import StationSession
from sync.engine import SyncEngine
from sync.erp.tryton.connector import TrytonConnector
from sync.operations import new_operation
from sync.store import Store
from tests.fixtures.store import seed_demo_verifiers
from tests.sync_ops import markers

ROOT = Path(__file__).resolve().parents[1]
# One accessory unit per return (one photo, two questions): one return per kill point.
UNITS = [
    ("RMA-000106", "ACC-BEANIE-RED"),
    ("RMA-000109", "ACC-SCARF-GRY"),
    ("RMA-000112", "ACC-BELT-BRN"),
    ("RMA-000115", "ACC-WALLET-BLK"),
    ("RMA-000118", "ACC-WALLET-BLK"),
    ("RMA-000101", "ACC-WALLET-BLK"),
    ("RMA-000104", "ACC-WALLET-BLK"),
]
ANSWERS = {"packaging_intact": True, "damaged": False}


def seeded(path: Path, address) -> Store:
    store = Store.open(path)
    puller = TrytonConnector(address)
    try:
        result = puller.pull({})
    finally:
        puller.close()
    store.apply_pull(result.records, result.cursors)
    seed_demo_verifiers(store)
    return store


def product_id(store: Store, code: str) -> int:
    return next(p["id"] for p in store.products() if p["code"] == code)


def child(path: Path, rma: str, pid: int, kill_at: int) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tests.crash_confirm", str(path), rma, str(pid), str(kill_at)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def engine(store: Store, address, **kw) -> SyncEngine:
    return SyncEngine(store, lambda: TrytonConnector(address, timeout=60), station="S1", **kw)


def inspections_by_return(store: Store) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for row in store.operations():
        if row["type"] == "inspect_item":
            out.setdefault(row["operation"]["payload"]["return_id"], []).append(row["state"])
    return out


@pytest.mark.erp
@pytest.mark.slow
def test_a_confirm_killed_between_any_two_writes_leaves_all_or_nothing_and_the_erp_holds_each_unit_once(
    erp, tmp_path
):
    path = tmp_path / "station" / "station.sqlite"
    with seeded(path, erp.address) as store:
        units = [(rma, product_id(store, code)) for rma, code in UNITS]
    counted = child(path, *units[0], 0)  # a confirm that runs to the end: count its writes
    assert counted.returncode == 0, counted.stderr
    writes, accepted, points = counted.stdout.split(" ", 2)
    assert accepted == "True" and int(writes) >= 5, counted.stdout  # ops, progress, audit, draft, commit
    assert int(writes) < len(units), f"add units: the confirm has {writes} writes ({points.strip()})"
    for kill_at in range(1, int(writes) + 1):
        rma, pid = units[kill_at]
        killed = child(path, rma, pid, kill_at)
        assert killed.returncode == -9, (kill_at, killed.stdout, killed.stderr)
        with Store.open(path) as store:  # restart: the same person signs in again
            queued = [r for r in store.operations() if r["operation"]["payload"].get("return_id") == rma]
            session = StationSession(store, "S1")
            assert session.sign_in("U-LEAD-1", "5555").ok
            view = session.view()
            inspected = inspections_by_return(store).get(store.find_return(rma)["id"], [])
            if view is not None and view.unit is not None:  # not saved: the unit is still open
                assert inspected == [], (kill_at, "the draft came back beside a queued inspection")
                assert session.confirm().ok, session.last
            else:  # saved whole: the unit is done and cannot be confirmed again
                assert inspected == ["pending"], kill_at
                session.start("inspect")
                refusal = session.scan(rma)
                assert not refusal.ok and refusal.code == "nothing_to_inspect", refusal
            assert queued is not None
            session.sign_out()
    with Store.open(path) as store:
        report = engine(store, erp.address).sync_once(pull=False)
        assert report.ok and report.failed == 0 and report.conflicts == 0, report
        by_return = inspections_by_return(store)
        assert sorted(len(states) for states in by_return.values()) == [1] * (int(writes) + 1)
        assert all(states == ["done"] for states in by_return.values())
        ids = {r["id"] for r in store.operations() if r["type"] == "inspect_item"}
    applied = [m["operation_id"] for m in markers(erp) if m["type"] == "inspect_item"]
    assert sorted(applied) == sorted(ids)  # the ERP holds each unit once


@pytest.mark.erp
def test_two_tabs_confirming_the_same_unit_one_wins_and_the_other_is_told(erp, seeded_store):
    store = seeded_store
    first, second = StationSession(store, "S1"), StationSession(store, "S1")
    for tab in (first, second):
        assert tab.sign_in("U-LEAD-1", "5555").ok
    rma, code = UNITS[1]
    barcode = store.product(product_id(store, code))["barcodes"][0]
    assert first.start("receive").ok and first.scan(rma).ok and first.scan(barcode).ok
    assert first.confirm().ok
    for n, tab in enumerate((first, second)):
        assert tab.start("inspect").ok, tab.last
        assert tab.scan(rma).ok and tab.scan(barcode).ok
        assert tab.photo(b"\xff\xd8\xff\xe0 tab %d" % n).ok
        assert tab.grade("A").ok and tab.check(ANSWERS).ok
    assert first.confirm().ok
    told = second.confirm()
    assert not told.ok and told.code == "already_inspected"
    assert "already confirmed at this station (in another tab" in told.message
    assert second.view().unit is None
    report = engine(store, erp.address).sync_once(pull=False)
    assert report.ok and report.failed == 0
    assert len([m for m in markers(erp) if m["type"] == "inspect_item"]) == 1


def approval_request(i: int, **payload) -> object:
    body = {
        "request_id": str(uuid.uuid4()),
        "kind": "write_off",
        "subject_op": None,
        "return_id": None,
        "shipment_id": None,
        "product_id": None,
        "reason": f"drain {i}",
        "summary": "drain",
        "value": 1.0,
        "rule_id": "drain",
        "evidence": [],
        **payload,
    }
    return new_operation("request_approval", body, station="S1", user="U-INSP-1")


def station(args: list[str], data_dir: Path, url: str) -> subprocess.Popen:
    env = {**os.environ, "STATION_DATA_DIR": str(data_dir), "STATION_ERP_URL": url, "STATION_ID": "S1"}
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.erp
@pytest.mark.parametrize(
    "count", [pytest.param(60, id="60"), pytest.param(500, id="500", marks=pytest.mark.slow)]
)
def test_station_sync_beside_the_running_app_sends_every_operation_once(erp, tmp_path, caplog, count):
    data = tmp_path / "station"
    store = Store.open(data / "station.sqlite")
    ops = [approval_request(i) for i in range(count)]
    for op in ops:
        store.enqueue(op)
    app = engine(store, erp.address, batch_size=20, debounce=0.0, pull_interval=3600)
    beside = station(["sync", "--pull-interval", "3600"], data, erp.url)  # runs until stopped
    once = None
    try:
        with caplog.at_level(logging.INFO, logger="sync"):
            app.start()
            app.request_sync()
            deadline = time.monotonic() + 60 + count
            while store.queue_counts()["done"] < count:
                # as soon as one of the two holds the send lease: the one beside may take it first
                # and send all of them in one batch, so "some done" can come too late to see
                if once is None and store.outbox.lease_holder() is not None:
                    once = station(["sync", "--once"], data, erp.url)
                    once_out, once_err = once.communicate(timeout=120)
                assert time.monotonic() < deadline, store.queue_counts()
                assert beside.poll() is None
                time.sleep(0.05)
    finally:
        app.stop()
        beside.terminate()
        out, err = beside.communicate(timeout=30)
        store.close()
    assert once is not None and once.returncode == 1
    assert "another process sends this station's outbox" in once_err
    logs = caplog.text + err + out + once_err
    assert "IllegalTransition" not in logs and "unexpected error" not in logs
    applied = [m["operation_id"] for m in markers(erp)]
    assert sorted(applied) == sorted(op.id for op in ops)  # every one applied, each once


@pytest.mark.erp
def test_a_poison_operation_among_200_fails_with_the_erps_words_and_the_others_are_applied(
    erp, tmp_path, monkeypatch
):
    monkeypatch.setattr("sync.outbox.backoff_delay", lambda *a, **kw: 0.0)  # retry the poison at once
    store = Store.open(tmp_path / "station.sqlite")
    ops = [approval_request(i) for i in range(200)]
    poison = approval_request(100, request_id={"not": "an id"})  # the ERP cannot bind it
    ops[100] = poison
    for op in ops:
        store.enqueue(op)
    # The poison is the 101st of a batch of 150: the ERP fails on the batch after applying 100.
    sync = engine(store, erp.address, batch_size=150)
    reports = [sync.sync_once(pull=False) for _ in range(4)]
    counts = store.queue_counts()
    row = store.operation(poison.id)
    store.close()
    assert counts["done"] == 199 and counts["failed"] == 1 and counts["pending"] == 0, counts
    assert row["state"] == "failed" and row["error"], row
    assert "the ERP" in row["error"]
    assert sum(r.applied for r in reports) == 199
    applied = {m["operation_id"] for m in markers(erp)}
    assert applied == {op.id for op in ops} - {poison.id}


class RefusingWhole(httpx.BaseTransport):
    """The real transport to the real ERP, except that a request carrying ``poison`` is refused
    whole with HTTP 413 (as a proxy or the ERP refuses a request too large): a fault that cannot
    be caused on demand otherwise."""

    def __init__(self, poison: str) -> None:
        self.inner = httpx.HTTPTransport()
        self.poison = poison.encode()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.poison in request.content:
            return httpx.Response(413, text="Request Entity Too Large")
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


@pytest.mark.erp
def test_a_batch_refused_whole_is_split_until_the_operation_at_fault_is_alone(erp, tmp_path, monkeypatch):
    monkeypatch.setattr("sync.outbox.backoff_delay", lambda *a, **kw: 0.0)  # retry the poison at once
    store = Store.open(tmp_path / "station.sqlite")
    ops = [approval_request(i) for i in range(50)]
    poison = ops[23]
    for op in ops:
        store.enqueue(op)
    client = httpx.Client(transport=RefusingWhole(poison.id), timeout=60)
    sync = SyncEngine(store, lambda: TrytonConnector(erp.address, client=client), station="S1", batch_size=50)
    reports = [sync.sync_once(pull=False) for _ in range(2)]
    counts = store.queue_counts()
    row = store.operation(poison.id)
    store.close()
    assert counts["done"] == 49 and counts["failed"] == 1, counts
    assert row["faults"] == 3 and "refused the request (HTTP 413)" in row["error"]
    assert sum(r.applied for r in reports) == 49 and sum(r.faults for r in reports) == 3
    assert {m["operation_id"] for m in markers(erp)} == {op.id for op in ops} - {poison.id}
