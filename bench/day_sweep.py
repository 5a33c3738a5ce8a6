"""Scaling figures: the same short day at N = 1, 4, 16, 64 stations, on the embedded SQLite ERP and
on PostgreSQL, one ``bench/day.py`` run each, and one table of what each run measured.

    .venv/bin/python bench/day_sweep.py --erps sqlite postgresql --stations 1 4 16 64 \\
        --postgresql /tmp/day-pg --out sweep.json

Each day has ``--parcels-per-station`` parcels per station (at least ``--min-parcels``), one
outage, no crash, two shared parcels when N > 1, the lossy proxy on every second station, and the
stations at ``--pace`` seconds between tasks. The table: operations applied and per second, apply
p50/p99 (from a batch sent to its result received; the time operations waited in the outbox
before is not in it), pulls, retries, conflicts, drain time after the outage, peak memory per
station, the CPU (in cores) used by the stations, the Tryton servers and PostgreSQL, the ERP's
CPU per applied operation (what the machine's load does not change), and the load average. A day
that finds a difference fails the sweep (exit 1). Runs are heavy: keep them short, on a shared
machine run the 64-station ones once.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DAY = ROOT / "bench" / "day.py"
COLUMNS = (
    ("erp", "ERP"),
    ("stations", "stations"),
    ("applied", "ops applied"),
    ("ops_per_second", "ops/s"),
    ("apply_p50_ms", "apply p50 ms"),
    ("apply_p99_ms", "apply p99 ms"),
    ("settled_after_s", "settled after s"),
    ("apply_p50_ms_settled", "settled: apply p50 ms"),
    ("apply_p99_ms_settled", "settled: apply p99 ms"),
    ("pulls", "pulls"),
    ("retries", "retries"),
    ("conflicts_reported", "conflicts"),
    ("drain_after_last_outage_s", "drain after outage s"),
    ("peak_rss_mb_per_station", "peak RSS/station MB"),
    ("cpu", "CPU cores: stations / Tryton / PostgreSQL"),
    ("erp_cpu_ms_per_op", "ERP CPU ms/op"),
    ("load", "load avg start→end"),
    ("differences", "differences"),
)


def run_day(erp: str, stations: int, args: argparse.Namespace, work: Path) -> dict:
    parcels = max(args.min_parcels, stations * args.parcels_per_station)
    out = work / f"{erp}-{stations}.json"
    command = [
        sys.executable, str(DAY), "--seed", str(args.seed + stations), "--stations", str(stations),
        "--parcels", str(parcels), "--orders", str(max(1, parcels // 5)), "--outages", "1",
        "--crashes", "0", "--duplicates", "2" if stations > 1 else "0", "--pace", str(args.pace),
        "--ramp", str(args.ramp), "--pull-every", str(args.pull_every),
        "--data-dir", str(work / f"{erp}-{stations}"), "--json-out", str(out), "--quiet",
        "--timeout", str(args.timeout),
    ]  # fmt: skip
    if erp == "postgresql":
        command += ["--postgresql", args.postgresql, "--servers", "1", "--workers", str(args.workers)]
    started = time.monotonic()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if not out.exists():
        raise SystemExit(
            f"{erp} x {stations}: the day gave no figures:\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
        )
    figures = json.loads(out.read_text())
    cpu = figures.get("cpu_cores_used", {})
    erp_seconds = (cpu.get("erp", 0.0) + cpu.get("postgresql", 0.0)) * figures["day_seconds"]
    figures.update(
        erp=erp,
        exit=done.returncode,
        wall_s=round(time.monotonic() - started, 1),
        cpu=" / ".join(f"{cpu.get(k, 0.0):.2f}" for k in ("stations", "erp", "postgresql")),
        erp_cpu_ms_per_op=round(erp_seconds * 1000 / figures["applied"]) if figures["applied"] else None,
        load="→".join(str(x) for x in figures.get("load_average_1min_start_end", [])),
    )
    return figures


def table(rows: list[dict]) -> str:
    lines = ["| " + " | ".join(title for _, title in COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for row in rows:
        lines.append("| " + " | ".join(str(row.get(key, "")) for key, _ in COLUMNS) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--erps", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"]
    )
    parser.add_argument("--stations", nargs="+", type=int, default=[1, 4, 16, 64])
    parser.add_argument("--parcels-per-station", type=int, default=2)
    parser.add_argument("--min-parcels", type=int, default=4)
    parser.add_argument(
        "--pace",
        type=float,
        default=60.0,
        help="seconds between a station's tasks (bench/day.py's person's pace)",
    )
    parser.add_argument("--ramp", type=float, default=0.5)
    parser.add_argument("--pull-every", type=float, default=30.0)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers of the PostgreSQL ERP")
    parser.add_argument("--postgresql", default=str(Path.home() / ".cache/returns-station/postgresql"))
    parser.add_argument("--seed", type=int, default=100)
    parser.add_argument("--timeout", type=float, default=2400.0)
    parser.add_argument("--work", default=None, help="where the days keep their files (default: a temp dir)")
    parser.add_argument("--out", help="write every day's figures as JSON here")
    args = parser.parse_args(argv)
    work = Path(args.work or f"/tmp/day-sweep-{os.getpid()}")
    work.mkdir(parents=True, exist_ok=True)
    rows = []
    failed = False
    for erp in args.erps:
        for stations in args.stations:
            print(f"sweep: {erp} x {stations} stations ...", flush=True)
            figures = run_day(erp, stations, args, work)
            rows.append(figures)
            failed |= figures["exit"] != 0 or figures["differences"] != 0 or figures["problems"] != 0
            print(table([figures]).splitlines()[-1], flush=True)
            if args.out:
                Path(args.out).write_text(json.dumps(rows, indent=1))
    print()
    print(table(rows))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
