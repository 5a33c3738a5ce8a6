"""Sync benchmark: a whole confirm's latency, drain rate to the embedded Tryton (the demo's mix of
operation types, then many approval requests), initial and empty incremental pull of 10,000 products.

    .venv/bin/python bench/bench_sync.py [--drain 1000 10000] [--products 10000] [--enqueue 2000]

The confirm figure is what a worker waits for after the last scan: the operation, its progress
rows, the audit row and the job's draft in one transaction. The mixed drain replays the example
day of every role (examples/replay: receipts, photos, inspections, approvals asked and decided,
packs) at one station and drains it; drain rates count the operations that finished (done).

It serves a private copy of the seeded demo ERP (the test template) on a free loopback port,
adds the extra products server-side in that bench database, and prints one line per figure plus a
Markdown table for the README. Nothing here is a test: it measures.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_workflows import confirm_times  # noqa: E402
from sync.engine import SyncEngine  # noqa: E402
from sync.erp.tryton.connector import TrytonConnector  # noqa: E402
from sync.erp.tryton.server import DATABASE, ErpProcess, database_file, login, rpc  # noqa: E402
from sync.operations import new_operation  # noqa: E402
from sync.store import Store  # noqa: E402


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, {platform.system()}"


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def bench_fsync(folder: Path, count: int = 300) -> dict[str, float]:
    """The disk's own floor: one 4 KiB write + fsync, as a durable commit needs at least once."""
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / "fsync-probe", os.O_WRONLY | os.O_CREAT)
    times = []
    try:
        for _ in range(count):
            os.write(fd, b"x" * 4096)
            started = time.perf_counter()
            os.fsync(fd)
            times.append((time.perf_counter() - started) * 1000)
    finally:
        os.close(fd)
    return {"p50_ms": statistics.median(times), "p99_ms": percentile(times, 99)}


def bench_enqueue(folder: Path, count: int) -> dict[str, float]:
    """The whole confirm of a receipt (WAL, synchronous=FULL): what the worker waits for."""
    folder.mkdir(parents=True, exist_ok=True)
    times = confirm_times(folder, count)
    return {"p50_ms": statistics.median(times), "p99_ms": percentile(times, 99), "max_ms": max(times)}


def bench_enqueue_alone(folder: Path, count: int) -> dict[str, float]:
    """The old figure: one receive_return-sized enqueue alone (no draft, no progress, no audit)."""
    with Store.open(folder / "station.sqlite") as store:
        payload = {
            "return_id": 12,
            "return_number": "RET-01012",
            "rma": "RMA-000112",
            "lines": [
                {"move_id": 40 + i, "product_id": 7, "expected": 1, "received": 1, "lots": [], "serials": []}
                for i in range(3)
            ],
            "extra": [],
            "missing": [],
            "partial_reason": None,
        }
        times = []
        for _ in range(count):
            op = new_operation("receive_return", payload, station="BENCH", user="U-RECV-1")
            started = time.perf_counter()
            store.enqueue(op)
            times.append((time.perf_counter() - started) * 1000)
    return {"p50_ms": statistics.median(times), "p99_ms": percentile(times, 99), "max_ms": max(times)}


def add_products(address, count: int) -> float:
    """Create ``count`` products (each with an EAN-13) in the bench database; seconds taken."""
    session = login(address)
    uom = rpc(address, "model.product.uom.search", [("symbol", "=", "u")], 0, 1, None, {}, session=session)[0]
    started = time.perf_counter()
    batch = 20  # bigger create calls overflow SQLite's parser in Tryton's validation query
    for start in range(0, count, batch):
        templates = []
        for n in range(start, min(count, start + batch)):
            body = f"20{n:010d}"
            check = (10 - sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body)) % 10) % 10
            templates.append(
                {
                    "name": f"Bench item {n}",
                    "code": f"BENCH-{n:05d}",
                    "type": "goods",
                    "default_uom": uom,
                    "station_tracking": "none",
                    "station_family": "accessories",
                    "products": [
                        (
                            "create",
                            [{"identifiers": [("create", [{"type": "ean", "code": body + str(check)}])]}],
                        )
                    ],
                }
            )
        rpc(address, "model.product.template.create", templates, {}, session=session, timeout=600)
    return time.perf_counter() - started


def bench_mixed_drain(work: Path, address) -> dict[str, object]:
    """Replay every role's example day at one station, then drain it with one ``sync_once``."""
    from app.workflows.replay import replay_file
    from app.workflows.station import StationSession

    examples = ROOT / "examples" / "replay"
    with Store.open(work / "mixed" / "station.sqlite") as store:
        puller = TrytonConnector(address, timeout=600)
        result = puller.pull({})
        puller.close()
        store.apply_pull(result.records, result.cursors)
        from sync.engine import SyncEngine

        # People sign in as at a station: the ERP checks each PIN (the pull carries no PIN hash).
        checker = SyncEngine(store, lambda: TrytonConnector(address, timeout=600), station="BENCH")
        session = StationSession(store, "BENCH", requester=checker.request)
        for role in ("receiver", "inspector", "packer", "supervisor"):
            replay_file(session, examples / f"{role}.jsonl")
        queued = store.queue_counts()["pending"]
        kinds: dict[str, int] = {}
        for row in store.operations():
            kinds[row["type"]] = kinds.get(row["type"], 0) + 1
        engine = SyncEngine(store, lambda: TrytonConnector(address, timeout=600), station="BENCH")
        started = time.perf_counter()
        engine.sync_once(pull=False)
        seconds = time.perf_counter() - started
        counts = store.queue_counts()
        done_kinds: dict[str, int] = {}
        for row in store.operations("done"):
            done_kinds[row["type"]] = done_kinds.get(row["type"], 0) + 1
        engine.stop()
    return {
        "ops": queued,
        "kinds": kinds,
        "done_kinds": done_kinds,
        "seconds": seconds,
        "done": counts["done"],
        "ops_per_s": counts["done"] / seconds,
        "failed": counts["failed"] + counts["conflict"],
        "pending": counts["pending"],
    }


def bench_drain(work: Path, address, count: int) -> dict[str, float]:
    """Queue ``count`` operations, then time one ``sync_once`` push delivering all of them."""
    with Store.open(work / f"drain-{count}" / "station.sqlite") as store:
        for i in range(count):
            request = str(uuid.uuid4())
            store.enqueue(
                new_operation(
                    "request_approval",
                    {
                        "request_id": request,
                        "kind": "write_off",
                        "subject_op": None,
                        "return_id": None,
                        "shipment_id": None,
                        "product_id": None,
                        "reason": f"bench {i}",
                        "summary": "bench",
                        "value": 1.0,
                        "rule_id": "bench",
                        "evidence": [],
                    },
                    station="BENCH",
                    user="U-INSP-1",
                )
            )
        engine = SyncEngine(
            store, lambda: TrytonConnector(address, timeout=600), station="BENCH", batch_size=200
        )
        started = time.perf_counter()
        report = engine.sync_once(pull=False)
        seconds = time.perf_counter() - started
        counts = store.queue_counts()
        engine.stop()
    return {
        "ops": count,
        "seconds": seconds,
        "ops_per_s": counts["done"] / seconds,  # what finished, not what was sent
        "done": counts["done"],
        "failed": counts["failed"] + counts["conflict"],
        "pending": counts["pending"],
        "errors": len(report.errors),
    }


def bench_pull(work: Path, address) -> dict[str, float]:
    with Store.open(work / "pull" / "station.sqlite") as store:
        connector = TrytonConnector(address, timeout=600)
        started = time.perf_counter()
        result = connector.pull({})
        fetched = time.perf_counter() - started
        store.apply_pull(result.records, result.cursors)
        initial = time.perf_counter() - started
        products = len(result.records["products"])
        time.sleep(6)  # past the server's cursor margin
        started = time.perf_counter()
        settle = connector.pull(store.cursors())  # re-sends what changed within the margin
        store.apply_pull(settle.records, settle.cursors)
        first_incremental = time.perf_counter() - started
        started = time.perf_counter()
        again = connector.pull(store.cursors())  # nothing changed since
        store.apply_pull(again.records, again.cursors)
        incremental = time.perf_counter() - started
        connector.close()
    return {
        "products": products,
        "initial_s": initial,
        "initial_fetch_s": fetched,
        "incremental_s": incremental,
        "first_incremental_s": first_incremental,
        "first_incremental_records": sum(len(v) for v in settle.records.values()),
        "incremental_records": sum(len(v) for v in again.records.values()),
    }


def enqueue_only(count: int) -> int:
    """The enqueue figures alone, with the machine's load beside them (they swing with it)."""
    work = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    try:
        load = os.getloadavg()[0]
        fsync = bench_fsync(work / "fsync")
        enqueue = bench_enqueue(work / "enqueue", count)
        alone = bench_enqueue_alone(work / "alone", count)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"load average {load:.1f}; disk fsync: p50 {fsync['p50_ms']:.2f} ms, p99 {fsync['p99_ms']:.2f} ms")
    print(f"whole confirm x{count}: p50 {enqueue['p50_ms']:.2f} ms, p99 {enqueue['p99_ms']:.2f} ms")
    print(f"enqueue alone x{count}: p50 {alone['p50_ms']:.2f} ms, p99 {alone['p99_ms']:.2f} ms")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drain", type=int, nargs="+", default=[1000, 10000], help="queue sizes to drain")
    parser.add_argument(
        "--products", type=int, default=10000, help="extra products to create in the bench ERP"
    )
    parser.add_argument(
        "--enqueue", type=int, default=2000, help="operations to enqueue for the latency figure"
    )
    parser.add_argument(
        "--enqueue-only", action="store_true", help="only the fsync and durable enqueue figures (no ERP)"
    )
    args = parser.parse_args()
    if args.enqueue_only:
        return enqueue_only(args.enqueue)

    from tests.fixtures.erp import template_database

    work = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    erp_dir = work / "erp"
    erp_dir.mkdir()
    shutil.copyfile(template_database(), database_file(erp_dir, DATABASE))
    process = ErpProcess.start(erp_dir, port=0, password="admin", timeout=300)
    results: dict[str, object] = {"machine": machine()}
    try:
        admin = process.address  # set-up only (products); the station syncs as a station user
        address = process.station_address("bench-station", station="BENCH")
        results["fsync"] = fsync = bench_fsync(work / "fsync")
        print(f"disk fsync: p50 {fsync['p50_ms']:.2f} ms, p99 {fsync['p99_ms']:.2f} ms", flush=True)
        results["enqueue"] = enqueue = bench_enqueue(work / "enqueue", args.enqueue)
        shm = Path("/dev/shm")
        if shm.is_dir():
            memory = Path(tempfile.mkdtemp(prefix="bench-sync-", dir=shm))
            try:
                results["enqueue_tmpfs"] = bench_enqueue(memory, args.enqueue)
            finally:
                shutil.rmtree(memory, ignore_errors=True)
            tmpfs = results["enqueue_tmpfs"]
            print(
                f"enqueue on tmpfs (software only): p50 {tmpfs['p50_ms']:.2f} ms,"
                f" p99 {tmpfs['p99_ms']:.2f} ms"
            )
        print(
            f"whole confirm x{args.enqueue}: p50 {enqueue['p50_ms']:.2f} ms, p99 {enqueue['p99_ms']:.2f} ms",
            flush=True,
        )
        results["mixed"] = mixed = bench_mixed_drain(work, address)
        print(
            f"mixed drain: {mixed['ops']} ops {mixed['kinds']} in {mixed['seconds']:.1f} s, "
            f"{mixed['ops_per_s']:.0f} done/s, done {mixed['done']} {mixed['done_kinds']}, "
            f"failed {mixed['failed']}, pending {mixed['pending']}",
            flush=True,
        )
        # The pull first: the drains leave thousands of pending approvals that every pull would carry.
        created = add_products(admin, args.products)
        print(f"created {args.products} products server-side in {created:.0f} s", flush=True)
        results["pull"] = pull = bench_pull(work, address)
        print(
            f"initial pull: {pull['products']} products in {pull['initial_s']:.2f} s "
            f"(fetch {pull['initial_fetch_s']:.2f} s); "
            f"first incremental pull {pull['first_incremental_s'] * 1000:.0f} ms "
            f"({pull['first_incremental_records']} records changed within the margin), "
            f"empty incremental pull {pull['incremental_s'] * 1000:.0f} ms "
            f"({pull['incremental_records']} records)",
            flush=True,
        )
        for count in args.drain:
            drain = bench_drain(work, address, count)
            results[f"drain_{count}"] = drain
            print(
                f"drain {count}: {drain['seconds']:.1f} s, {drain['ops_per_s']:.0f} ops/s, "
                f"done {drain['done']}, "
                f"failed {drain['failed']}, pending {drain['pending']}",
                flush=True,
            )
    finally:
        process.stop()
        shutil.rmtree(work, ignore_errors=True)
    print()
    print(f"Machine: {results['machine']}")
    print()
    print("| figure | result | goal |")
    print("|---|---|---|")
    print(
        f"| whole confirm (ops + progress + audit + draft), p50 / p99 | {enqueue['p50_ms']:.2f} ms / "
        f"{enqueue['p99_ms']:.2f} ms | p99 < 5 ms |"
    )
    print(
        f"| mixed drain (the example day of every role: {mixed['ops']} ops) | {mixed['seconds']:.1f} s, "
        f"{mixed['ops_per_s']:.0f} done/s, {mixed['done']} done, {mixed['failed']} failed | all done |"
    )
    print(
        f"| disk fsync alone (the floor of a durable commit), p50 / p99 | {fsync['p50_ms']:.2f} ms / "
        f"{fsync['p99_ms']:.2f} ms | — |"
    )
    if "enqueue_tmpfs" in results:
        tmpfs = results["enqueue_tmpfs"]
        print(
            f"| enqueue on tmpfs (software cost, no disk), p50 / p99 | {tmpfs['p50_ms']:.2f} ms / "
            f"{tmpfs['p99_ms']:.2f} ms | — |"
        )
    for count in args.drain:
        d = results[f"drain_{count}"]
        print(
            f"| drain {count:,} queued request_approval | {d['seconds']:.1f} s, {d['ops_per_s']:.0f} done/s, "
            f"{d['done']:,} done, {d['failed']} failed | no errors; per op no slower than 1,000 |"
        )
    print(f"| initial pull, {pull['products']:,} products | {pull['initial_s']:.2f} s | — |")
    print(
        f"| first incremental pull (re-sends the {pull['first_incremental_records']} records changed in the"
        f" 5 s cursor margin) | {pull['first_incremental_s'] * 1000:.0f} ms | — |"
    )
    print(f"| incremental pull, nothing changed | {pull['incremental_s'] * 1000:.0f} ms | < 1 s |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
