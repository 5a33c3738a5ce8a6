"""What one applied operation costs the ERP, by operation type: a small, repeatable measurement.

    .venv/bin/python bench/bench_apply.py [--parcels 12] [--runs 1] [--postgresql DIR]

Serves a fresh copy of the seeded demo ERP (the tests' cached template, embedded SQLite; or
``--postgresql DIR`` as ``bench/day.py`` does), writes a day's returns and orders into it with the
day simulator's own plan and seeding (``bench/day.py``), and plays one station's share of that day
in this process through ``StationSession`` and the replay path, as a least-privilege station user
(``day-00``): receive each parcel, inspect each unit (photos, grade, checklist; the rules decide), a
supervisor decides each approval asked, pack the orders. The real engine and connector send each
operation in its own ``apply_batch`` (batch size 1), so each is timed alone: wall milliseconds from
sent to answered, and the CPU milliseconds the ERP spent on it (user + system of every process this
bench started: the Tryton server and, with ``--postgresql``, PostgreSQL; read from ``/proc``, so the
load of other processes on the machine does not change it, apart from the 10 ms clock tick).

It then measures, the same way: a login; a pull of everything (a station's first), the pull after
it (what changed since the first) and an empty incremental pull; an online request
(``returns.station.clock.now``: the cost of a call itself); and the same operations sent again
(the exactly-once path: each answered "already applied").

Prints one table per run and, with ``--runs`` > 1, the median of each figure over the runs;
``--json-out`` writes every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for path in (str(ROOT), str(HERE)):
    if path not in sys.path:
        sys.path.insert(0, path)

import day  # noqa: E402  (bench/day.py: the plan, the seeding, the station's tasks)

TICK = os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds() -> float:
    """CPU seconds (user + system, with reaped children's) of every process this one started."""
    parents: dict[int, int] = {}
    used: dict[int, float] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            raw = Path(f"/proc/{entry.name}/stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2 :].split()
        pid = int(entry.name)
        parents[pid] = int(fields[1])
        used[pid] = sum(int(f) for f in fields[11:15]) / TICK
    return sum(used[pid] for pid in day.descendants(parents, os.getpid()))


class Meter:
    """Wall and ERP CPU of each timed call, by what it was."""

    def __init__(self) -> None:
        self.samples: dict[str, list[tuple[float, float]]] = defaultdict(list)

    def time(self, what: str, call: Any, *args: Any, **kw: Any) -> Any:
        cpu = tree_cpu_seconds()
        started = time.perf_counter()
        try:
            return call(*args, **kw)
        finally:
            wall = time.perf_counter() - started
            self.samples[what].append((wall * 1000, (tree_cpu_seconds() - cpu) * 1000))

    def table(self) -> dict[str, dict[str, float]]:
        out = {}
        for what, rows in self.samples.items():
            walls = sorted(w for w, _ in rows)
            cpus = [c for _, c in rows]
            out[what] = {
                "n": len(rows),
                "wall_ms_median": round(statistics.median(walls), 1),
                "wall_ms_mean": round(statistics.fmean(walls), 1),
                "erp_cpu_ms_mean": round(statistics.fmean(cpus), 1),
                "erp_cpu_ms_total": round(sum(cpus), 1),
            }
        return out


class MeteredConnector:
    """The real connector; each apply_batch timed under the type of its (single) operation."""

    def __init__(self, inner: Any, meter: Meter, label: list[str]) -> None:
        self.inner = inner
        self.meter = meter
        self.label = label  # "" for a first send, "already " when sending again

    def apply_batch(self, ops: list, read_photo: Any) -> list:
        what = self.label[0] + (ops[0].type if len(ops) == 1 else f"batch of {len(ops)}")
        return self.meter.time(what, self.inner.apply_batch, ops, read_photo)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def start_erp(work: Path, plan: dict[str, Any], args: argparse.Namespace) -> tuple[Any, Any]:
    """A fresh ERP with the plan written into it, served; (the server, its admin address)."""
    from sync.erp.tryton.server import DATABASE, ErpProcess, database_file

    (work / "plan.json").write_text(json.dumps(plan))
    seed = [sys.executable, str(HERE / "day.py"), "seed", "--plan", str(work / "plan.json")]
    if args.postgresql:
        from sync.erp.tryton.postgres import PostgresErp

        erp = PostgresErp(Path(args.postgresql), port=0, workers=args.workers, servers=1, progress=print)
        erp.prepare(fresh=True)
        subprocess.run([*seed, "--trytond-config", str(erp.config)], check=True, cwd=ROOT)
        erp.serve()
        return erp, erp.addresses()[0]
    erp_dir = work / "erp"
    erp_dir.mkdir(parents=True)
    shutil.copyfile(day._template(), database_file(erp_dir, DATABASE))
    subprocess.run([*seed, "--sqlite-dir", str(erp_dir)], check=True, cwd=ROOT)
    erp = ErpProcess.start(erp_dir, port=0, password="admin", timeout=300)
    return erp, erp.address


def play(address: Any, plan: dict[str, Any], work: Path, meter: Meter) -> list[Any]:
    """One station's share of the day, each operation applied alone; the operations sent."""
    from app.workflows.replay import run_events
    from app.workflows.station import StationSession
    from sync.common.pins import hash_pin
    from sync.engine import SyncEngine
    from sync.erp.tryton.connector import TrytonConnector
    from sync.store import Store

    label = [""]
    store = Store.open(work / "station.sqlite", photos_dir=work / "photos-store")
    engine = SyncEngine(
        store,
        lambda: MeteredConnector(TrytonConnector(address, timeout=120), meter, label),
        station="day-00",
        batch_size=1,
    )
    report = engine.sync_once(push=False)
    assert not store.is_empty(), report.errors
    for person in day.demo_data.PEOPLE:
        store.save_verifier(person.badge, hash_pin(person.pin), "2999-01-01T00:00:00Z")
    session = StationSession(store, "day-00")
    sent: list[Any] = []
    for number, task in enumerate(day.station_tasks(plan, 0)):
        rng = random.Random(f"{plan['seed']}:0:{number}")
        report = run_events(session, day._events(day._task_events(task, plan, work, rng)), base_dir=work)
        requests = [op for _, op in report.operations if op.type == "request_approval"]
        ops = [op for _, op in report.operations]
        if requests:
            decisions: list[dict] = [
                {"signin": dict(zip(("badge", "pin"), day.SUPERVISOR, strict=True))},
                {"task": "supervise"},
            ]
            decisions += [
                {"approve": {"request": op.payload["request_id"], "note": "bench: approved"}}
                for op in requests
            ]
            decisions.append({"signout": {}})
            decided = run_events(session, day._events(decisions), base_dir=work)
            ops += [op for _, op in decided.operations]
        sent += ops
        report = engine.sync_once(pull=False)
        counts = store.queue_counts()
        if counts["pending"] + counts["sending"] + counts.get("failed", 0):
            raise SystemExit(f"task {task} left {counts}: {report.errors}")
    # The exactly-once path: the same operations again, one by one; each must be "already applied".
    label[0] = "already "
    connector = engine._connector_()
    for op in sent[: min(len(sent), 20)]:
        (result,) = connector.apply_batch([op], store.photo_bytes)
        assert getattr(result, "already", False), (op.type, result)
    engine.stop()
    store.close()
    return sent


def measure_calls(address: Any, meter: Meter, repeat: int) -> None:
    """A login, full and empty incremental pulls, and an online request, each ``repeat`` times."""
    from sync.erp.tryton.connector import TrytonConnector

    connector = TrytonConnector(address, timeout=120)
    for _ in range(repeat):
        meter.time("login", connector.rpc.login)
    for _ in range(repeat):
        full = meter.time("pull, everything", connector.pull, {})
    for _ in range(repeat):  # a station's second pull: what changed since its first
        settled = meter.time("pull after a first pull", connector.pull, full.cursors)
    for _ in range(repeat):
        empty = meter.time("pull, nothing changed", connector.pull, settled.cursors)
    changed = {kind: len(rows) for kind, rows in empty.records.items() if rows}
    if changed:
        print(f"  (the incremental pull was not empty: {changed})")
    for _ in range(repeat):
        meter.time("request clock.now", connector.request, "returns.station.clock.now")
    connector.close()


def profile(erp: Any, out: str) -> subprocess.Popen:
    """py-spy (a dev tool: ``pip install py-spy``) sampling the embedded ERP's server into ``out``
    (raw collapsed stacks, one line per stack: grep them by handler, sort by count)."""
    pid = erp._process.pid
    return subprocess.Popen(
        [str(Path(sys.executable).with_name("py-spy")), "record", "--pid", str(pid), "--rate", "250",
         "--format", "raw", "--output", out, "--nonblocking"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def one_run(args: argparse.Namespace, run: int) -> dict[str, dict[str, float]]:
    from sync.erp.tryton.stations import add_station

    plan = day.make_plan(
        seed=args.seed + run, parcels=args.parcels, orders=max(1, args.parcels // 4), stations=1,
        duplicates=0, refuse_rate=0.0,
    )  # fmt: skip
    work = Path(tempfile.mkdtemp(prefix="bench-apply-"))
    erp = None
    try:
        erp, admin = start_erp(work, plan, args)
        station = add_station(admin, "day-00", reset=True)
        spy = profile(erp, args.py_spy) if args.py_spy else None
        meter = Meter()
        idle = tree_cpu_seconds()
        time.sleep(1.0)
        idle = tree_cpu_seconds() - idle
        play(station, plan, work, meter)
        time.sleep(6)  # past the pull's cursor margin: "nothing changed" is then empty
        measure_calls(station, meter, args.repeat)
        if spy is not None:
            spy.send_signal(signal.SIGINT)
            spy.wait(60)
        table = meter.table()
        table["(idle ERP, 1 s)"] = {"n": 1, "erp_cpu_ms_mean": round(idle * 1000, 1)}
        return table
    finally:
        if erp is not None:
            erp.stop()
        shutil.rmtree(work, ignore_errors=True)


def show(title: str, table: dict[str, dict[str, float]]) -> None:
    print(f"\n{title}")
    print(f"{'what':32} {'n':>4} {'wall ms (median)':>17} {'ERP CPU ms (mean)':>18}")
    for what, row in table.items():
        wall = row.get("wall_ms_median")
        print(f"{what:32} {row['n']:>4} {wall if wall is not None else '':>17} {row['erp_cpu_ms_mean']:>18}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parcels", type=int, default=12, help="returns the station receives and inspects")
    parser.add_argument("--seed", type=int, default=16, help="the day's seed (run k uses seed + k)")
    parser.add_argument("--runs", type=int, default=1, help="fresh ERPs measured one after the other")
    parser.add_argument("--repeat", type=int, default=5, help="logins, pulls and requests per run")
    parser.add_argument("--postgresql", metavar="DIR", help="Tryton on a private PostgreSQL cluster in DIR")
    parser.add_argument("--workers", type=int, default=2, help="with --postgresql: gunicorn workers")
    parser.add_argument(
        "--py-spy", metavar="FILE", help="sample the embedded ERP with py-spy into FILE (raw stacks)"
    )
    parser.add_argument("--json-out", help="write every run's figures as JSON to this file")
    args = parser.parse_args(argv)
    load = os.getloadavg()
    print(f"bench_apply: {os.cpu_count()} cpus, load average {load[0]:.1f} at the start")
    runs = []
    for run in range(args.runs):
        table = one_run(args, run)
        runs.append(table)
        show(f"run {run + 1} ({'PostgreSQL' if args.postgresql else 'SQLite'})", table)
    if len(runs) > 1:
        keys = [k for k in runs[0] if all(k in r for r in runs)]
        median = {
            k: {
                "n": runs[0][k]["n"],
                "wall_ms_median": statistics.median(r[k].get("wall_ms_median") or 0 for r in runs),
                "erp_cpu_ms_mean": statistics.median(r[k]["erp_cpu_ms_mean"] for r in runs),
            }
            for k in keys
        }
        show(f"median of {len(runs)} runs", median)
    print(f"\nload average {os.getloadavg()[0]:.1f} at the end")
    if args.json_out:
        figures = {"load": [load[0], os.getloadavg()[0]], "runs": runs}
        Path(args.json_out).write_text(json.dumps(figures, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
