"""Camera sessions on one station server: how many handhelds can scan by camera at once.

    .venv/bin/python bench/bench_camera.py [--sessions 1,2,4,6,8] [--fps 8] [--seconds 20]

Each simulated handheld sends 1280x720 JPEG frames (the demo's own labels, as the browser's
``take_picture()`` gives them) at ``--fps`` into the server's camera path: the same
``FramePipeline`` and ``FrameReader`` the camera widget uses, decoding in a thread pool as large as
the machine's cores, on one asyncio loop (as Flet runs a station's sessions), and each code read
goes to its own signed-in ``StationSession.scan`` (a receiver receiving a return, then every item
held up to the camera: good reads and extras). A label is held in view for one second, then the
bench is empty for 1.25 s (the reader forgets a code after one second out of view).

Measured per number of sessions: from the arrival of the first frame holding a code to the
session's answer (what the banner shows), p50 and p95; frames decoded per second per session
(the rest were skipped because the decoder was busy: the newest frame wins); codes held up but
never read; CPU per session (process CPU time / wall time / sessions, in % of one core). Frames
are injected in the server process, so the figures are the server's: the browser, the network and
Flet's websocket (a few ms per message on a LAN) come on top.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import cv2  # noqa: E402

from app.scan.camera import FramePipeline, FrameReader  # noqa: E402
from app.workflows.station import StationSession  # noqa: E402
from sync.store import Store  # noqa: E402
from tests.e2e import demo_store  # noqa: E402
from tests.e2e.fake_camera import demo_label, scene  # noqa: E402

HOLD_S, GAP_S = 1.0, 1.25


def jpeg(picture) -> bytes:
    return cv2.imencode(".jpg", picture, [cv2.IMWRITE_JPEG_QUALITY, 85])[1].tobytes()


class Handheld:
    """One camera session: its frames, its reader and pipeline, its station session."""

    def __init__(self, index: int, store: Store, executor, demo, frames: dict[str, bytes], blank: bytes):
        self.session = StationSession(store, f"bench-{index}")
        assert self.session.sign_in("U-RECV-1", "1111").ok
        assert self.session.start("receive").ok
        ret = demo.returns[index % len(demo.returns)]
        products = [p.barcode for p in demo.products[:12]]
        self.codes = [ret.rma] + [products[(index + k) % len(products)] for k in range(200)]
        self.frames, self.blank = frames, blank
        self.shown: dict[str, float] = {}  # code -> arrival of the first frame holding it
        self.latencies: list[float] = []
        self.held = 0
        self.read: set[int] = set()
        self.current = -1
        self.pipeline = FramePipeline(FrameReader(), self.answer, executor)

    def answer(self, scan, arrived: float) -> None:
        outcome = self.session.scan(scan.text)
        assert outcome is not None
        if self.current >= 0 and scan.text == self.codes[self.current] and self.current not in self.read:
            self.read.add(self.current)
            self.latencies.append(time.monotonic() - self.shown[scan.text])

    async def inject(self, fps: float, seconds: float) -> None:
        interval = 1.0 / fps
        start = time.monotonic()
        period = HOLD_S + GAP_S
        next_at = start
        while (now := time.monotonic()) - start < seconds:
            t = now - start
            k, into = divmod(t, period)
            k = int(k)
            if into < HOLD_S:
                code = self.codes[k % len(self.codes)]
                if k != self.current:
                    self.current = k
                    self.held += 1
                    self.shown[code] = now
                self.pipeline.put(self.frames[code])
            else:
                self.pipeline.put(self.blank)
            next_at += interval
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        self.pipeline.stop()


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def run_sessions(count: int, fps: float, seconds: float, frames, blank, demo) -> dict[str, float]:
    with (
        tempfile.TemporaryDirectory() as folder,
        ThreadPoolExecutor(
            max_workers=max(2, os.cpu_count() or 2), thread_name_prefix="camera-decode"
        ) as executor,
    ):
        store = Store.open(Path(folder) / "station.sqlite", photos_dir=Path(folder) / "photos")
        demo_store.fill(store, demo)
        handhelds = [Handheld(i, store, executor, demo, frames, blank) for i in range(count)]
        cpu0 = resource.getrusage(resource.RUSAGE_SELF)
        wall0 = time.monotonic()
        runners = [asyncio.create_task(h.pipeline.run()) for h in handhelds]
        await asyncio.gather(*(h.inject(fps, seconds) for h in handhelds))
        await asyncio.sleep(0.5)
        for runner in runners:
            runner.cancel()
        wall = time.monotonic() - wall0
        cpu1 = resource.getrusage(resource.RUSAGE_SELF)
        store.close()
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    latencies = [x for h in handhelds for x in h.latencies]
    held = sum(h.held for h in handhelds)
    return {
        "p50_ms": 1000 * percentile(latencies, 0.5),
        "p95_ms": 1000 * percentile(latencies, 0.95),
        "decoded_fps": statistics.mean(h.pipeline.frames_decoded / wall for h in handhelds),
        "missed": held - len(latencies),
        "held": held,
        "cpu_pct": 100 * cpu / wall / count,
    }


def machine() -> str:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{model or platform.processor()}, {os.cpu_count()} cores, load {load:.1f}, "
        f"Python {platform.python_version()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", default="1,2,4,6,8")
    parser.add_argument("--fps", type=float, default=8.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    demo = demo_store.plan()
    codes = {r.rma for r in demo.returns} | {p.barcode for p in demo.products}
    frames = {code: jpeg(scene(demo_label(code))) for code in codes}
    blank = jpeg(scene(None))
    print(f"Machine: {machine()}; {args.fps:g} frames/s per session, {args.seconds:g} s per row")
    print()
    print(
        "| sessions | banner p50 | banner p95 | frames decoded/s per session | codes missed "
        "| CPU per session |"
    )
    print("|---|---|---|---|---|---|")
    for count in (int(n) for n in args.sessions.split(",")):
        r = asyncio.run(run_sessions(count, args.fps, args.seconds, frames, blank, demo))
        print(
            f"| {count} | {r['p50_ms']:.0f} ms | {r['p95_ms']:.0f} ms | {r['decoded_fps']:.1f} | "
            f"{r['missed']} of {r['held']} | {r['cpu_pct']:.0f} % |",
            flush=True,
        )


if __name__ == "__main__":
    main()
