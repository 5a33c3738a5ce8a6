"""How long the embedded ERP takes to start: the first start (create, activate, seed) and restarts
on the existing database, each until its JSON-RPC answers a login.

    .venv/bin/python bench/erp_start.py [--restarts 5]

Uses a temporary data directory on loopback; prints one line per measurement and a summary.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sync.erp.tryton.server import ErpProcess, login  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--restarts", type=int, default=5, help="how many restarts to time")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="erp-bench-") as directory:
        data_dir = Path(directory)
        started = time.monotonic()
        erp = ErpProcess.start(data_dir, timeout=900)
        login(erp.address)
        first = time.monotonic() - started
        print(f"first start (create + seed) to first login: {first:.1f} s", flush=True)
        erp.stop()
        restarts = []
        for _ in range(args.restarts):
            started = time.monotonic()
            erp = ErpProcess.start(data_dir, port=erp.port)
            login(erp.address)
            restarts.append(time.monotonic() - started)
            print(f"restart to first login: {restarts[-1]:.2f} s", flush=True)
            erp.stop()
    print(
        f"summary: first start {first:.0f} s; restart median {statistics.median(restarts):.2f} s, "
        f"max {max(restarts):.2f} s over {len(restarts)} (cpus: {os.cpu_count()})"
    )


if __name__ == "__main__":
    main()
