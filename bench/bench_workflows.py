"""How long a worker waits for the station's answer to a scan, with an empty and a well-used outbox.

    .venv/bin/python bench/bench_workflows.py [--ops 5000] [--scans 200]

Runs the real StationSession on a real store (a temporary directory) with the workflow tests'
fixed world; prints the median and 95th percentile per action in milliseconds.
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
    for row in store.operations()[: count // 2]:
        store.set_operation_state(row["id"], "sending")
        store.set_operation_state(row["id"], "done")


def timed(action) -> float:
    start = time.perf_counter()
    action()
    return (time.perf_counter() - start) * 1000


def run(ops: int, scans: int) -> dict[str, tuple[float, float]]:
    with tempfile.TemporaryDirectory() as folder:
        store = Store.open(Path(folder) / "station.sqlite")
        world = seed_world(store, dt.date.today())
        fill_outbox(store, ops)
        session = StationSession(store, "bench")
        session.sign_in("U-PACK-1", "3333")
        session.start("pack")
        session.scan("WEB-6010")
        tee = world.barcode("APP-TEE-M-BLK")
        scan_ms, view_ms = [], []
        for _ in range(scans):
            scan_ms.append(timed(lambda: session.scan(tee)))
            view_ms.append(timed(session.view))
            session.undo()
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

    def summary(values: list[float]) -> tuple[float, float]:
        return statistics.median(values), statistics.quantiles(values, n=20)[18]

    return {
        "pack scan": summary(scan_ms),
        "pack view": summary(view_ms),
        "inspect scan + view": summary(inspect_ms),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ops", type=int, default=5000, help="operations already in the outbox")
    parser.add_argument("--scans", type=int, default=200, help="scans to time")
    args = parser.parse_args()
    for ops in (0, args.ops):
        result = run(ops, args.scans)
        line = ", ".join(f"{name} median {m:.1f} ms p95 {p:.1f} ms" for name, (m, p) in result.items())
        print(f"outbox {ops:>6} operations: {line}")


if __name__ == "__main__":
    main()
