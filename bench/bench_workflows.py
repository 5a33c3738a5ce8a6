"""How long a worker waits for the station's answer, with an empty and a well-used outbox.

    .venv/bin/python bench/bench_workflows.py [--ops 10000] [--scans 200] [--confirms 200]

Runs the real StationSession on a real store (a temporary directory) with the workflow tests'
fixed world; prints the median and 95th percentile per action in milliseconds:
- a scan and the view after it, warm (the same session) and cold (the store opened afresh and a
  new session before each timed scan: SQLite's page cache is empty; the OS's file cache is not);
- a whole confirm, as the worker waits for it: the operation, its progress rows, the audit row
  and the job's draft, committed in one transaction (one fsync) on the disk of the temp folder.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.workflows.station import StationSession  # noqa: E402
from sync.operations import new_operation  # noqa: E402
from sync.store import Store  # noqa: E402
from tests.workflows_world import seed_world  # noqa: E402


def fill_outbox(store: Store, count: int) -> None:
    """``count`` inspections queued (with their progress rows), half of them delivered."""
    with store.atomic():
        for i in range(count):
            op = new_operation(
                "inspect_item",
                {
                    "return_id": 10_000 + i,
                    "product_id": 1,
                    "quantity": 1,
                    "checklist": {"tags_attached": True},
                    "photos": ["ab" * 32] * 2,
                },
                station="bench",
                user="U-INSP-1",
            )
            store.enqueue(op)
            store.record_progress(op)
    with store.atomic():
        for row in store.operations()[: count // 2]:
            store.set_operation_state(row["id"], "sending")
            store.set_operation_state(row["id"], "done")


def timed(action) -> float:
    start = time.perf_counter()
    action()
    return (time.perf_counter() - start) * 1000


def confirm_times(folder: Path, count: int, *, ops: int = 0) -> list[float]:
    """Milliseconds of ``count`` whole receipt confirms (what the worker waits for after the
    last scan), on a store in ``folder`` holding ``ops`` operations already."""
    store = Store.open(folder / "station.sqlite")
    world = seed_world(store, dt.date.today())
    fill_outbox(store, ops)
    session = StationSession(store, "bench")
    session.sign_in("U-LEAD-1", "5555")
    session.start("receive")
    items = [world.barcode("APP-TEE-M-WHT"), world.barcode("ACC-BEANIE-RED")]
    times = []
    for _ in range(count):
        session.scan("RMA-000101")
        for code in items:
            session.scan(code)
        start = time.perf_counter()
        outcome = session.confirm()
        times.append((time.perf_counter() - start) * 1000)
        assert outcome.ok, outcome
        # Forget the receipt (not timed) so the same return can be received again.
        store.forget_progress(outcome.operations[0].id)
    store.close()
    return times


def cold_scan_times(folder: Path, scans: int) -> list[float]:
    """A pack scan and its view, each with the store opened afresh and a new session."""
    path = folder / "station.sqlite"
    times = []
    for _ in range(scans):
        store = Store.open(path)
        session = StationSession(store, "bench")
        session.sign_in("U-PACK-1", "3333")  # resumes the pack of WEB-6010 from its draft
        start = time.perf_counter()
        session.scan(_TEE[0])
        session.view()
        times.append((time.perf_counter() - start) * 1000)
        session.undo()
        session.sign_out()
        store.close()
    return times


_TEE: list[str] = []


def run(ops: int, scans: int, confirms: int) -> dict[str, tuple[float, float]]:
    with tempfile.TemporaryDirectory() as folder:
        store = Store.open(Path(folder) / "station.sqlite")
        world = seed_world(store, dt.date.today())
        fill_outbox(store, ops)
        session = StationSession(store, "bench")
        session.sign_in("U-PACK-1", "3333")
        session.start("pack")
        session.scan("WEB-6010")
        tee = world.barcode("APP-TEE-M-BLK")
        _TEE[:] = [tee]
        scan_ms, view_ms = [], []
        for _ in range(scans):
            scan_ms.append(timed(lambda: session.scan(tee)))
            view_ms.append(timed(session.view))
            session.undo()
        session.sign_out()
        store.close()
        cold_ms = cold_scan_times(Path(folder), max(20, scans // 5))
        store = Store.open(Path(folder) / "station.sqlite")
        session = StationSession(store, "bench")
        session.sign_in("U-PACK-1", "3333")
        session.cancel()
        session.sign_in("U-LEAD-1", "5555")  # receive a return, then time the inspector's scans
        session.start("receive")
        for text in ("RMA-000101", world.barcode("APP-TEE-M-WHT"), world.barcode("ACC-BEANIE-RED")):
            session.scan(text)
        session.confirm()
        session.start("inspect")
        session.scan("RMA-000101")
        inspect_ms = []
        for _ in range(scans):
            inspect_ms.append(timed(lambda: (session.scan(world.barcode("ACC-BEANIE-RED")), session.view())))
            session.cancel()
        store.close()
    with tempfile.TemporaryDirectory() as folder:
        confirm_ms = confirm_times(Path(folder), confirms, ops=ops)

    def summary(values: list[float]) -> tuple[float, float]:
        return statistics.median(values), statistics.quantiles(values, n=20)[18]

    return {
        "pack scan": summary(scan_ms),
        "pack view": summary(view_ms),
        "pack scan + view, cold": summary(cold_ms),
        "inspect scan + view": summary(inspect_ms),
        "receipt confirm (ops + progress + audit + draft)": summary(confirm_ms),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ops", type=int, default=10000, help="operations already in the outbox")
    parser.add_argument("--scans", type=int, default=200, help="scans to time")
    parser.add_argument("--confirms", type=int, default=200, help="whole confirms to time")
    args = parser.parse_args()
    for ops in (0, args.ops):
        result = run(ops, args.scans, args.confirms)
        print(f"outbox {ops:>6} operations:")
        for name, (m, p) in result.items():
            print(f"  {name}: median {m:.1f} ms, p95 {p:.1f} ms")


if __name__ == "__main__":
    main()
