"""How long the ERP takes to compute the figures over many returned units.

    .venv/bin/python bench/bench_figures.py [--units 100000] [--runs 3]

Copies the seeded test ERP database (SQLite), adds ``--units`` returned units with bulk SQL (one
return, its incoming line and its inspected, put-away inventory line each, spread over 90 days,
every path and reason), starts the ERP on loopback and times ``returns.station.figures.compute``
over 90 days through JSON-RPC, as a station or ``station report`` asks for it.
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
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sync.erp.tryton.server import DATABASE, ErpProcess, database_file, login, rpc  # noqa: E402

REASONS = ["defective", "wrong size", "changed mind", "not as described", "damaged in transit"]


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    return f"{cpu}, {os.cpu_count()} cpus, Python {platform.python_version()}"


def _one(conn: sqlite3.Connection, sql: str, *args) -> dict:
    conn.row_factory = sqlite3.Row
    row = conn.execute(sql, args).fetchone()
    return dict(row)


def seed(path: Path, units: int, seed_: int = 7) -> float:
    """Add ``units`` returned units to the database at ``path`` with bulk inserts; seconds taken."""
    started = time.monotonic()
    rng = random.Random(seed_)
    conn = sqlite3.connect(path)
    ret = _one(conn, "SELECT * FROM stock_shipment_out_return WHERE number = 'RET-1002'")
    incoming = _one(
        conn, "SELECT * FROM stock_move WHERE shipment = ?", f"stock.shipment.out.return,{ret['id']}"
    )
    locations = {
        row[0]: row[1]
        for row in conn.execute(
            "SELECT inventory_state, id FROM stock_location WHERE inventory_state IS NOT NULL"
        )
    }
    targets = [locations[s] for s in ("sellable", "refurbish", "vendor_return", "quarantine", "disposed")]
    products = [row[0] for row in conn.execute("SELECT id FROM product_product")]
    next_return = conn.execute("SELECT max(id) FROM stock_shipment_out_return").fetchone()[0] + 1
    next_move = conn.execute("SELECT max(id) FROM stock_move").fetchone()[0] + 1
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    returns, moves = [], []
    for i in range(units):
        rid, in_id, inv_id = next_return + i, next_move + 2 * i, next_move + 2 * i + 1
        issued = now - dt.timedelta(days=rng.uniform(1, 89))
        received = issued + dt.timedelta(hours=rng.uniform(12, 120))
        inspected = received + dt.timedelta(hours=rng.uniform(1, 72))
        put_away = inspected + dt.timedelta(hours=rng.choice([0, 0, 0, rng.uniform(1, 48)]))
        refunded = issued if rng.random() < 0.3 else None
        returns.append(
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
            }
        )
        product = rng.choice(products)
        shipment = f"stock.shipment.out.return,{rid}"
        moves.append(incoming | {"id": in_id, "shipment": shipment, "product": product, "state": "done"})
        moves.append(
            incoming
            | {
                "id": inv_id,
                "shipment": shipment,
                "product": product,
                "state": "done",
                "from_location": ret["warehouse_input"],
                "to_location": rng.choice(targets),
                "origin": f"stock.move,{in_id}",
                "unit_price": None,
                "station_disposition": "disposed",
                "station_inspected_at": inspected,
                "station_inspected_station": f"S{rng.randint(1, 8)}",
                "station_put_away_at": put_away,
            }
        )
    for table, rows in (("stock_shipment_out_return", returns), ("stock_move", moves)):
        columns = list(rows[0])
        conn.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})",
            [tuple(row[c] for c in columns) for row in rows],
        )
    conn.commit()
    conn.close()
    return time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=100_000, help="returned units to add (default 100000)")
    parser.add_argument("--runs", type=int, default=3, help="timed calls of the figures (default 3)")
    args = parser.parse_args()
    from tests.fixtures.erp import template_database

    with tempfile.TemporaryDirectory(prefix="figures-bench-") as directory:
        data_dir = Path(directory)
        target = database_file(data_dir, DATABASE)
        shutil.copyfile(template_database(), target)
        took = seed(target, args.units)
        print(f"seeded {args.units:,} returned units with bulk SQL in {took:.1f} s", flush=True)
        erp = ErpProcess.start(data_dir, port=0, password="admin", timeout=600)
        try:
            session = login(erp.address)
            today = dt.datetime.now(dt.UTC).date()
            window = {"from": (today - dt.timedelta(days=89)).isoformat(), "to": today.isoformat()}
            times = []
            for _ in range(args.runs + 1):  # the first call warms the server's caches
                started = time.monotonic()
                figures = rpc(
                    erp.address,
                    "model.returns.station.figures.compute",
                    window,
                    {},
                    session=session,
                    timeout=300,
                )
                times.append(time.monotonic() - started)
                print(f"figures over 90 days: {times[-1]:.2f} s", flush=True)
            print(
                f"summary: {figures['reasons']['units']:,.0f} units in the window; compute median "
                f"{statistics.median(times[1:]):.2f} s, max {max(times[1:]):.2f} s over {args.runs} runs "
                f"(first call {times[0]:.2f} s); load average {os.getloadavg()[0]:.1f}; {machine()}"
            )
        finally:
            erp.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
