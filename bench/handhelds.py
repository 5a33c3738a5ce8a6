"""Many handhelds on one station server: concurrent browser sessions receiving parcels by wedge scans.

    .venv/bin/python bench/handhelds.py --sessions 10 --parcels 3

Starts one station web server (``app.ui.web.WebServer`` around the app ``station run --web``
serves) in its own process, on a fresh data directory holding the demo's reference data plus
``--sessions x --parcels`` returns of one plain item each. Then ``--sessions`` headless Chromium
pages (Debian's chromium, one browser, one context per page: a handheld each, 360x640) sign in
as receivers (one person each) at the same time and each receives its own parcels: scan the RMA,
scan the item, confirm, as a keyboard-wedge scanner types (characters, then Enter).

Measures scan-to-banner: from the Enter of a scan (or the press of Confirm) to the station's answer
being on that page (the return's customer for the RMA, "All expected items scanned" for the item,
"<RMA> received" for the confirmation), p50/p95 over every scan of every session; and the server
process's CPU (user+system, from /proc) and resident memory: before any page, with every session
open, and after the work, given per session. Counts what a worker would notice: scans whose keys
did not reach a text field (the scan field had lost the focus; nothing here taps it) and pages
that lost their connection to the station and reconnected. Prints a table, ``--json-out`` writes
the figures.
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
PIN = "1111"


def receiver(session: int) -> str:
    """The badge of the person with handheld ``session``: one receiver each, as on a floor (the
    same person on two handhelds would resume one job on both)."""
    return f"U-HAND-{session:02d}"


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
    from sync.common.pins import hash_pin
    from sync.erp.tryton.demo import pin_salt
    from tests.e2e import demo_store

    settings = load_settings(data_dir=Path(args.data_dir), station_id="HANDHELDS", environ={})
    station = open_station(settings, sync=False)
    demo = demo_store.fill(station.store)  # reference data, and the people's PIN verifiers
    ids = {p["code"]: p["id"] for p in demo_store.reference_records(demo)["products"]}
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
    station.store.upsert_reference("returns", extra)
    sessions = len(json.loads(args.parcels_json))
    people = [receiver(s) for s in range(sessions)]
    station.store.upsert_reference(
        "people",
        [
            {"badge": b, "name": f"Receiver {b[-2:]}", "roles": ["receiver"], "active": True}
            | {"write_date": demo_store.STAMP}
            for b in people
        ],
    )
    for badge in people:  # as if each had signed in here while the ERP was reachable
        station.store.save_verifier(badge, hash_pin(PIN, salt=pin_salt(badge)), "2999-01-01T00:00:00Z")
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
# Flutter web types into a hidden <input> that has the DOM focus while a text field is focused.
# A field that took a scan, or had the focus when a button was pressed, is marked stale: the
# station gives a fresh field after each (its new scan field, or the new screen's).
FRESH_FIELD = (
    "() => ['INPUT', 'TEXTAREA'].includes(document.activeElement?.tagName)"
    " && !document.activeElement.value && !document.activeElement.dataset.stale"
)
LANDED = "(code) => document.activeElement?.value === code"
MARK_STALE = "() => { if (document.activeElement?.dataset) document.activeElement.dataset.stale = '1'; }"
CLEAR = "() => { const e = document.activeElement; return e?.tagName === 'INPUT' && !!e.value; }"


class Session:
    def __init__(self, page, index: int, timings: list[tuple[str, float]]) -> None:
        self.page = page
        self.index = index
        self.timings = timings
        self.lost: list[str] = []  # the codes of the scans lost
        self.sockets = 0  # websockets the page opened: more than one is a reconnection
        page.on("websocket", lambda ws: setattr(self, "sockets", self.sockets + 1))

    async def open(self, url: str) -> None:
        await self.page.goto(url)
        await self.page.wait_for_selector("flt-semantics-placeholder", state="attached", timeout=120_000)
        await self.page.evaluate("document.querySelector('flt-semantics-placeholder').click()")
        await self.page.wait_for_selector("flt-semantics", state="attached", timeout=120_000)

    async def see(self, text: str, timeout_ms: int = 60_000) -> None:
        try:
            await self.page.get_by_text(text).first.wait_for(timeout=timeout_ms)
        except Exception:
            raise RuntimeError(
                f"session {self.index}: {text!r} not seen in {timeout_ms} ms ({await self.shot()})"
            ) from None

    async def shot(self) -> Path:
        """A screenshot of the page as it is, for a failure's message."""
        path = Path(tempfile.gettempdir()) / f"handheld-{self.index:02d}-failed.png"
        await self.page.screenshot(path=str(path))
        return path

    async def scan(self, code: str, then_see: str | None = None, kind: str = "") -> None:
        """A wedge scan: the code's keys go to whatever has the focus (nothing taps the field
        first), then Enter. Keys that do not reach a text field are counted as a lost scan, and the
        person scans again once a field is ready (as one does when the screen shows nothing)."""
        await self.page.keyboard.type(code, delay=5)
        try:
            # on a loaded machine Flutter can take the Enter before the characters: wait for them
            await self.page.wait_for_function(LANDED, arg=code, timeout=20_000)
        except Exception:
            self.timings.append(("scan lost", 0.0))
            self.lost.append(code)
            if await self.page.evaluate(CLEAR):  # part of it in a field: the person clears it
                await self.page.keyboard.press("Control+A")
                await self.page.keyboard.press("Backspace")
            await self.page.wait_for_function(FRESH_FIELD, timeout=60_000)
            await self.page.keyboard.type(code, delay=5)
            await self.page.wait_for_function(LANDED, arg=code, timeout=60_000)
        await self.page.evaluate(MARK_STALE)
        started = time.perf_counter()
        await self.page.keyboard.press("Enter")
        if then_see:
            await self.see(then_see)
            self.timings.append((kind, time.perf_counter() - started))

    async def press(self, name: str, then_see: str, kind: str) -> None:
        button = self.page.get_by_role("button", name=name).first
        try:
            await button.wait_for(timeout=60_000)
        except Exception:
            raise RuntimeError(
                f"session {self.index}: no button {name!r} in 60 s ({await self.shot()})"
            ) from None
        await self.page.evaluate(MARK_STALE)
        started = time.perf_counter()
        await button.click()
        await self.see(then_see)
        self.timings.append((kind, time.perf_counter() - started))

    async def receive(self, parcels: list[dict], pause: float) -> None:
        await self.page.get_by_role("textbox", name="Badge").wait_for(timeout=120_000)
        await self.page.wait_for_function(FRESH_FIELD, timeout=60_000)  # the page is drawn
        await self.scan(receiver(self.index))
        await self.page.get_by_role("textbox", name="PIN").wait_for(timeout=60_000)
        await asyncio.sleep(pause)
        await self.scan(PIN, then_see="Hello", kind="sign-in")
        await self.press("Receive", "Scan the parcel", "open receive")
        for parcel in parcels:
            await asyncio.sleep(pause)
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
        scans_lost=sum(1 for kind, _ in timings if kind == "scan lost"),
        scans_lost_codes=[code for s in sessions for code in s.lost],
        pages_reconnected=sum(max(0, s.sockets - 1) for s in sessions),
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
    if not scans:
        return figures  # every session failed before its first timed scan: sessions_failed says why
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
