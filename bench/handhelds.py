"""Many handhelds on one station server: concurrent browser sessions receiving parcels by wedge scans.

    .venv/bin/python bench/handhelds.py --sessions 10 --parcels 3

Starts one station web server (``app.ui.web.WebServer`` around the app ``station run --web``
serves) in its own process, on a fresh data directory holding the demo's reference data plus
``--sessions x --parcels`` returns of one plain item each. Then ``--sessions`` headless Chromium
pages (Debian's chromium, one browser, one context per page: a handheld each, 360x640) sign in
as the receiver at the same time and each receives its own parcels: scan the RMA, scan the item,
confirm, as a keyboard-wedge scanner types (characters, then Enter).

Measures scan-to-banner: from the Enter of a scan (or the press of Confirm) to the station's answer
being on that page (the return's customer for the RMA, "All expected items scanned" for the item,
"<RMA> received" for the confirmation), p50/p95 over every scan of every session; and the server
process's CPU (user+system, from /proc) and resident memory: before any page, with every session
open, and after the work, given per session. Prints a table, ``--json-out`` writes the figures.
Everything is on 127.0.0.1; the server and the browser are stopped at the end, also on Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CHROMIUM = os.environ.get("STATION_CHROMIUM", "/usr/bin/chromium")
HANDHELD = {"width": 360, "height": 640}
RECEIVER = ("U-RECV-1", "1111")


def parcels_for(sessions: int, parcels: int) -> list[list[dict]]:
    """Each session's parcels: an RMA, a customer named after it, one plain item of the demo."""
    from sync.erp.tryton.demo import plan

    demo = plan()
    plain = [p for p in demo.products if p.tracking not in ("lot", "serial")]
    out = []
    for s in range(sessions):
        mine = []
        for k in range(parcels):
            product = plain[(s * parcels + k) % len(plain)]
            number = 900000 + s * 100 + k
            mine.append(
                {
                    "rma": f"RMA-{number}",
                    "customer": f"Handheld {s:02d} parcel {k:02d}",
                    "product": product.code,
                    "barcode": product.barcode,
                }
            )
        out.append(mine)
    return out


# --- the server process -------------------------------------------------------------------------------
def serve(args: argparse.Namespace) -> int:
    from app.config import load_settings
    from app.runtime import open_station
    from app.ui.app import station_main
    from app.ui.web import WebServer, web_app
    from tests.e2e import demo_store

    settings = load_settings(data_dir=Path(args.data_dir), station_id="HANDHELDS", environ={})
    station = open_station(settings, sync=False)
    records = demo_store.reference_records(demo_store.plan())
    ids = {p["code"]: p["id"] for p in records["products"]}
    extra = []
    for n, parcel in enumerate(p for mine in json.loads(args.parcels_json) for p in mine):
        extra.append(
            {
                "id": 50000 + n,
                "number": parcel["rma"].replace("RMA", "RET"),
                "rma": parcel["rma"],
                "tracking": f"1ZHANDHELD{n:08d}",
                "order": f"SO-H{n}",
                "customer": parcel["customer"],
                "reason": "changed mind",
                "state": "draft",
                "lines": [
                    {"move_id": 90000 + n, "product_id": ids[parcel["product"]], "quantity": 1.0, "lot": None}
                ],
                "write_date": demo_store.STAMP,
            }
        )
    records["returns"] += extra
    for kind, rows in records.items():
        station.store.upsert_reference(kind, rows)
    server = WebServer(web_app(station_main(station))).start()
    print(f"URL {server.url}", flush=True)

    def stop(signum: int, frame: object) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    try:
        while sys.stdin.readline():  # until the benchmark closes our stdin (or stops us)
            pass
    finally:
        server.stop()
        station.close()
    return 0


def proc_usage(pid: int) -> tuple[float, float]:
    """(CPU seconds used so far, resident MB) of ``pid``, from /proc."""
    raw = Path(f"/proc/{pid}/stat").read_text()
    fields = raw[raw.rindex(")") + 2 :].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    rss = int(fields[21]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    return cpu, rss


# --- the sessions ------------------------------------------------------------------------------------
FOCUSED_FIELD = (
    "() => ['INPUT', 'TEXTAREA'].includes(document.activeElement?.tagName)"
    " && !document.activeElement.value && !document.activeElement.dataset.stale"
)
MARK_STALE = "() => { if (document.activeElement?.dataset) document.activeElement.dataset.stale = '1'; }"


class Session:
    def __init__(self, page, index: int, timings: list[tuple[str, float]]) -> None:
        self.page = page
        self.index = index
        self.timings = timings

    async def open(self, url: str) -> None:
        await self.page.goto(url)
        await self.page.wait_for_selector("flt-semantics-placeholder", state="attached", timeout=120_000)
        await self.page.evaluate("document.querySelector('flt-semantics-placeholder').click()")
        await self.page.wait_for_selector("flt-semantics", state="attached", timeout=120_000)

    async def see(self, text: str, timeout_ms: int = 60_000) -> None:
        try:
            await self.page.get_by_text(text).first.wait_for(timeout=timeout_ms)
        except Exception:
            shot = Path(tempfile.gettempdir()) / f"handheld-{self.index:02d}-failed.png"
            await self.page.screenshot(path=str(shot))
            raise RuntimeError(
                f"session {self.index}: {text!r} not seen in {timeout_ms} ms ({shot})"
            ) from None

    async def scan(self, code: str, then_see: str | None = None, kind: str = "") -> None:
        await self.page.wait_for_function(FOCUSED_FIELD, timeout=60_000)
        await self.page.keyboard.type(code, delay=5)
        # On a loaded machine Flutter can take the Enter before the characters: wait for them.
        await self.page.wait_for_function(
            "(code) => document.activeElement?.value === code", arg=code, timeout=60_000
        )
        await self.page.evaluate(MARK_STALE)
        started = time.perf_counter()
        await self.page.keyboard.press("Enter")
        if then_see:
            await self.see(then_see)
            self.timings.append((kind, time.perf_counter() - started))

    async def press(self, name: str, then_see: str, kind: str) -> None:
        button = self.page.get_by_role("button", name=name).first
        await button.wait_for(timeout=60_000)
        await self.page.evaluate(MARK_STALE)
        started = time.perf_counter()
        await button.click()
        await self.see(then_see)
        self.timings.append((kind, time.perf_counter() - started))

    async def refocus(self) -> None:
        """After a confirmation the scan field may not hold the focus (a wedge scan would be lost):
        the person taps it. Counted, as the screen should not need it."""
        try:
            await self.page.wait_for_function(FOCUSED_FIELD, timeout=3_000)
        except Exception:
            self.timings.append(("tap scan field", 0.0))
            await self.page.get_by_role("textbox", name="Scan").first.click()
            await self.page.evaluate("() => { delete document.activeElement?.dataset?.stale; }")

    async def receive(self, parcels: list[dict], pause: float) -> None:
        await self.page.get_by_role("textbox", name="Badge").wait_for(timeout=120_000)
        await self.scan(RECEIVER[0])
        await self.page.get_by_role("textbox", name="PIN").wait_for(timeout=60_000)
        await self.scan(RECEIVER[1], then_see="Hello", kind="sign-in")
        await self.press("Receive", "Scan the parcel", "open receive")
        for number, parcel in enumerate(parcels):
            await asyncio.sleep(pause)
            if number:
                await self.refocus()
            await self.scan(parcel["rma"], then_see=parcel["customer"], kind="scan parcel")
            await asyncio.sleep(pause)
            await self.scan(parcel["barcode"], then_see="All expected items scanned", kind="scan item")
            await asyncio.sleep(pause)
            await self.press("Confirm receipt", f"{parcel['rma']} received", "confirm")


async def drive(url: str, pid: int, plan: list[list[dict]], pause: float) -> dict:
    from playwright.async_api import async_playwright

    timings: list[tuple[str, float]] = []
    figures: dict = {}
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--use-angle=swiftshader", "--enable-unsafe-swiftshader"],
        )
        try:
            cpu0, rss0 = proc_usage(pid)
            sessions = []
            for index in range(len(plan)):
                context = await browser.new_context(viewport=HANDHELD)
                sessions.append(Session(await context.new_page(), index, timings))
            opened = time.perf_counter()
            await asyncio.gather(*(s.open(url) for s in sessions))
            await asyncio.sleep(2)
            cpu1, rss1 = proc_usage(pid)
            figures["open_all_s"] = round(time.perf_counter() - opened, 1)
            started = time.perf_counter()
            outcomes = await asyncio.gather(
                *(s.receive(mine, pause) for s, mine in zip(sessions, plan, strict=True)),
                return_exceptions=True,
            )
            failures = [str(o) for o in outcomes if isinstance(o, BaseException)]
            work_s = time.perf_counter() - started
            cpu2, rss2 = proc_usage(pid)
        finally:
            await browser.close()
    n = len(plan)
    scans = sorted(t for kind, t in timings if kind in ("scan parcel", "scan item"))
    figures.update(
        sessions=n,
        sessions_failed=failures,
        parcels_received=sum(1 for kind, _ in timings if kind == "confirm"),
        scan_field_tapped_after_confirm=sum(1 for kind, _ in timings if kind == "tap scan field"),
        work_s=round(work_s, 1),
        server_rss_mb_idle=round(rss0, 1),
        server_rss_mb_sessions_open=round(rss1, 1),
        server_rss_mb_after=round(rss2, 1),
        server_rss_mb_per_session=round((max(rss1, rss2) - rss0) / n, 1),
        server_cpu_s_opening=round(cpu1 - cpu0, 1),
        server_cpu_cores_while_working=round((cpu2 - cpu1) / work_s, 2),
        server_cpu_cores_per_session=round((cpu2 - cpu1) / work_s / n, 3),
        server_cpu_ms_per_scan=round((cpu2 - cpu1) * 1000 / max(1, len(timings)), 1),
        load_average_1min=round(os.getloadavg()[0], 1),
    )
    for kind in ("scan parcel", "scan item", "confirm", "sign-in"):
        values = sorted(t for k, t in timings if k == kind)
        if values:
            figures[f"{kind.replace(' ', '_')}_p50_ms"] = round(statistics.median(values) * 1000)
            figures[f"{kind.replace(' ', '_')}_p95_ms"] = round(values[int(len(values) * 0.95)] * 1000)
    figures["scan_to_banner_p50_ms"] = round(statistics.median(scans) * 1000)
    figures["scan_to_banner_p95_ms"] = round(scans[min(len(scans) - 1, int(len(scans) * 0.95))] * 1000)
    figures["scans_timed"] = len(scans)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command")
    inner = sub.add_parser("serve", help="(internal) the station server process")
    inner.add_argument("--data-dir", required=True)
    inner.add_argument("--parcels-json", required=True)
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--parcels", type=int, default=3, help="parcels each session receives")
    parser.add_argument("--pause", type=float, default=0.5, help="seconds a person takes between scans")
    parser.add_argument("--json-out")
    args = parser.parse_args(argv)
    if args.command == "serve":
        return serve(args)
    if not Path(CHROMIUM).exists():
        print(f"no Chromium at {CHROMIUM} (install Debian's chromium package)", file=sys.stderr)
        return 2
    plan = parcels_for(args.sessions, args.parcels)
    work = Path(tempfile.mkdtemp(prefix="handhelds-"))
    server = subprocess.Popen(
        [sys.executable, __file__, "serve", "--data-dir", str(work), "--parcels-json", json.dumps(plan)],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        if not line.startswith("URL "):
            raise SystemExit(f"the station server did not start: {line}")
        url = line.split()[1]
        figures = asyncio.run(drive(url, server.pid, plan, args.pause))
    finally:
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
    width = max(len(k) for k in figures)
    for key, value in figures.items():
        print(f"{key:{width}} {value}")
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(figures, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
