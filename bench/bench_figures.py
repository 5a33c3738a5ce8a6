"""How long the ERP takes to compute the figures over many returned units.

    .venv/bin/python bench/bench_figures.py [--units 100000] [--runs 3] [--postgresql DIR | --sqlite]

Serves the seeded demo ERP on Tryton on PostgreSQL (a private cluster in DIR, kept between runs:
the first run builds the demo database, a few minutes; ``station erp serve --postgresql`` does the
same), or with ``--sqlite`` a copy of the seeded test ERP, adds ``--units`` returned units with
bulk SQL (``COPY`` on PostgreSQL, not through Tryton's ORM: one return, its incoming line and its
inspected, put-away inventory line each, spread over 90 days, every path and reason, some refunded
at initiation), starts the ERP on loopback and times ``returns.station.figures.compute`` over 90
days through JSON-RPC, as a station or ``station report`` asks for it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sync.erp.address import ErpAddress  # noqa: E402
from sync.erp.tryton.server import DATABASE, ErpProcess, database_file, login, rpc  # noqa: E402

REASONS = ["defective", "wrong size", "changed mind", "not as described", "damaged in transit"]
PATH_STATES = ("sellable", "refurbish", "vendor_return", "quarantine", "disposed")
GENERATED = ("station_return",)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    return f"{cpu}, {os.cpu_count()} cpus, Python {platform.python_version()}"


class Base:
    """What the seeding reads from a database: a model return and its line, locations, products."""

    def __init__(self, one, rows) -> None:
        self.ret = one("SELECT * FROM stock_shipment_out_return WHERE number = 'RET-1002'")
        move = one(f"SELECT * FROM stock_move WHERE shipment = 'stock.shipment.out.return,{self.ret['id']}'")
        # The database computes a move's return (station_return) from its shipment: never written.
        self.incoming = {column: value for column, value in move.items() if column not in GENERATED}
        states = dict(
            rows("SELECT inventory_state, id FROM stock_location WHERE inventory_state IS NOT NULL")
        )
        self.targets = [states[s] for s in PATH_STATES]
        self.products = [row[0] for row in rows("SELECT id FROM product_product ORDER BY id")]
        self.next_return = rows("SELECT max(id) FROM stock_shipment_out_return")[0][0] + 1
        self.next_move = rows("SELECT max(id) FROM stock_move")[0][0] + 1


def history(base: Base, units: int, seed_: int = 7) -> Iterator[tuple[dict, dict, dict]]:
    """``units`` returns of one unit each: (return, incoming line, inventory line) rows."""
    rng = random.Random(seed_)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    ret, incoming = base.ret, base.incoming
    for i in range(units):
        rid, in_id, inv_id = base.next_return + i, base.next_move + 2 * i, base.next_move + 2 * i + 1
        issued = now - dt.timedelta(days=rng.uniform(1, 89))
        received = issued + dt.timedelta(hours=rng.uniform(12, 120))
        inspected = received + dt.timedelta(hours=rng.uniform(1, 72))
        put_away = inspected + dt.timedelta(hours=rng.choice([0, 0, 0, rng.uniform(1, 48)]))
        refunded = issued if rng.random() < 0.3 else None
        product = rng.choice(base.products)
        shipment = f"stock.shipment.out.return,{rid}"
        yield (
            ret
            | {
                "id": rid,
                "number": f"RET-B{rid}",
                "reference": f"RMA-B{rid}",
                "state": "done",
                "return_reason": rng.choice(REASONS),
                "rma_issued_at": issued,
                "refund_amount": 20 if refunded else None,
                "refunded_at": refunded,
                "station_received_at": received,
                "station_received_station": f"S{rng.randint(1, 8)}",
            },
            incoming | {"id": in_id, "shipment": shipment, "product": product, "state": "done"},
            incoming
            | {
                "id": inv_id,
                "shipment": shipment,
                "product": product,
                "state": "done",
                "from_location": ret["warehouse_input"],
                "to_location": rng.choice(base.targets),
                "origin": f"stock.move,{in_id}",
                "unit_price": None,
                "station_disposition": "disposed",
                "station_inspected_at": inspected,
                "station_inspected_station": f"S{rng.randint(1, 8)}",
                "station_put_away_at": put_away,
            },
        )


def seed_sqlite(path: Path, units: int) -> float:
    """Add ``units`` returned units to the SQLite database at ``path`` with bulk inserts; seconds."""
    started = time.monotonic()
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row

    def one(sql: str) -> dict:
        return dict(conn.execute(sql).fetchone())

    def rows(sql: str) -> list[tuple]:
        return [tuple(row) for row in conn.execute(sql)]

    returns, moves = [], []
    for ret, incoming, inventory in history(Base(one, rows), units):
        returns.append(ret)
        moves.extend((incoming, inventory))
    for table, table_rows in (("stock_shipment_out_return", returns), ("stock_move", moves)):
        columns = list(table_rows[0])
        conn.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})",
            [tuple(row[c] for c in columns) for row in table_rows],
        )
    conn.commit()
    conn.close()
    return time.monotonic() - started


def seed_postgresql(conn, units: int) -> float:
    """Add ``units`` returned units to a PostgreSQL database with ``COPY``; seconds taken."""
    from psycopg.rows import dict_row

    started = time.monotonic()

    def one(sql: str) -> dict:
        return conn.cursor(row_factory=dict_row).execute(sql).fetchone()

    def rows(sql: str) -> list[tuple]:
        return conn.execute(sql).fetchall()

    rows_ = list(history(Base(one, rows), units))
    with conn.transaction():
        for table, index in (("stock_shipment_out_return", [0]), ("stock_move", [1, 2])):
            columns = list(rows_[0][index[0]])
            with conn.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for triple in rows_:
                    for i in index:
                        copy.write_row([triple[i][c] for c in columns])
            conn.execute(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))")
    # What autovacuum and the checkpointer do after a bulk load, at once: the planner's statistics
    # of the new rows, their visibility (hint bits, visibility map), the pages written. Left to
    # them, they run during the timed calls and their CPU (seconds for 300,000 new rows) would be
    # counted as the calls'.
    conn.execute("VACUUM ANALYZE stock_shipment_out_return, stock_move")
    conn.execute("CHECKPOINT")
    return time.monotonic() - started


def tree_cpu(root: int) -> float:
    """CPU seconds of process ``root`` and its descendants, the reaped ones included (Linux /proc):
    what a call costs whatever the machine's load."""
    parents, times = {}, {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        times[int(entry.name)] = sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
    tree, grew = {root}, True
    while grew:
        found = {pid for pid, parent in parents.items() if parent in tree} - tree
        grew = bool(found)
        tree |= found
    return sum(times.get(pid, 0) for pid in tree) / os.sysconf("SC_CLK_TCK")


def time_figures(address: ErpAddress, runs: int, units: int, cpu: dict[str, int] | None = None) -> None:
    """Time the figures ``runs`` times; with ``cpu`` ({"PostgreSQL": pid, "Tryton": pid}) also the
    CPU each process tree spent on them."""
    session = login(address)
    today = dt.datetime.now(dt.UTC).date()
    window = {"from": (today - dt.timedelta(days=89)).isoformat(), "to": today.isoformat()}
    times, spent = [], []
    cpu = cpu or {}
    for _ in range(runs + 1):  # the first call warms the server's caches
        before = {name: tree_cpu(pid) for name, pid in cpu.items()}
        started = time.monotonic()
        figures = rpc(
            address, "model.returns.station.figures.compute", window, {}, session=session, timeout=600
        )
        times.append(time.monotonic() - started)
        spent.append({name: tree_cpu(pid) - before[name] for name, pid in cpu.items()})
        used = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in spent[-1].items())
        print(f"figures over 90 days: {times[-1]:.2f} s" + (f" (CPU: {used})" if used else ""), flush=True)
    cpu_total = [sum(run.values()) for run in spent[1:]]
    print(
        f"summary: {figures['reasons']['units']:,.0f} units in the window; compute median "
        f"{statistics.median(times[1:]):.2f} s, max {max(times[1:]):.2f} s over {runs} runs "
        f"(first call {times[0]:.2f} s)"
        + (f"; CPU per call median {statistics.median(cpu_total):.2f} s" if cpu else "")
        + f"; load average {os.getloadavg()[0]:.1f}; {machine()}"
    )


def run_postgresql(data_dir: Path, units: int, runs: int) -> None:
    from sync.erp.tryton.postgres import PostgresErp

    erp = PostgresErp(data_dir, port=0, workers=1, progress=lambda text: print(text, flush=True))
    try:
        erp.prepare(fresh=True)  # a fresh copy of the demo database: the units below are the only history
        with erp.cluster.connect(DATABASE) as conn:
            took = seed_postgresql(conn, units)
        print(f"seeded {units:,} returned units with COPY on PostgreSQL in {took:.1f} s", flush=True)
        erp.serve()
        assert erp.cluster._process is not None
        cpu = {"PostgreSQL": erp.cluster._process.pid, "Tryton": erp._gunicorns[0].pid}
        time_figures(erp.addresses()[0], runs, units, cpu)
    finally:
        erp.stop()


def run_sqlite(units: int, runs: int) -> None:
    from tests.fixtures.erp import template_database

    with tempfile.TemporaryDirectory(prefix="figures-bench-") as directory:
        data_dir = Path(directory)
        target = database_file(data_dir, DATABASE)
        shutil.copyfile(template_database(), target)
        took = seed_sqlite(target, units)
        print(f"seeded {units:,} returned units with bulk SQL on SQLite in {took:.1f} s", flush=True)
        erp = ErpProcess.start(data_dir, port=0, password="admin", timeout=600)
        try:
            time_figures(erp.address, runs, units)
        finally:
            erp.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=100_000, help="returned units to add (default 100000)")
    parser.add_argument("--runs", type=int, default=3, help="timed calls of the figures (default 3)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--postgresql",
        metavar="DIR",
        type=Path,
        help="the PostgreSQL cluster's directory, kept between runs (default: a new temporary one)",
    )
    where.add_argument("--sqlite", action="store_true", help="the embedded ERP on SQLite instead")
    args = parser.parse_args()
    if args.sqlite:
        run_sqlite(args.units, args.runs)
    elif args.postgresql:
        run_postgresql(args.postgresql, args.units, args.runs)
    else:
        with tempfile.TemporaryDirectory(prefix="figures-bench-pg-") as directory:
            run_postgresql(Path(directory), args.units, args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
