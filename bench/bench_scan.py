"""Scanning benchmark: zxing-cpp alone, pyzbar alone and ``decode_frame``, side by side, on the
real sample photos and on generated 1280x720 warehouse frames.

    .venv/bin/python bench/bench_scan.py [--samples DIR] [--frames 120] [--seed 1] [--by-folder]

Sample photos: ``../shared/samples/barcodes`` beside the repository (or ``--samples``). An image
passes when the text in the ``.txt`` beside it is among the decoded texts; an image in a
``falsepositives-*`` folder passes when nothing is decoded. Frames: ``app.scan.synth`` draws
labels under perspective, blur, glare, low light and noise from a fixed seed; a code counts when
its exact text is read, a wrong read is a text that is not on the frame.

Times are per image, median: wall clock, and CPU time of the decoding thread (on a machine other
people are using, wall time swings with their load; CPU time is the decoder's own cost). Nothing
here is a test: it measures, and prints a Markdown table for the README.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from app.scan import decode  # noqa: E402
from app.scan.synth import CONDITIONS, warehouse_frames  # noqa: E402

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")


def machine() -> str:
    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return f"{os.cpu_count()} cores ({cpu}), load average {load}"


def versions() -> str:
    from importlib.metadata import version

    return f"zxing-cpp {version('zxing-cpp')}, pyzbar {version('pyzbar')}, OpenCV {cv2.__version__}"


# --- the three contestants ----------------------------------------------------------------------


def zxing_alone(grey: np.ndarray) -> list[str]:
    import zxingcpp

    return [b.text for b in zxingcpp.read_barcodes(grey, text_mode=zxingcpp.TextMode.Plain)]


def pyzbar_alone(grey: np.ndarray) -> list[str]:
    from pyzbar import pyzbar

    out = []
    for symbol in pyzbar.decode(grey):
        try:
            out.append(symbol.data.decode("utf-8"))
        except UnicodeDecodeError:
            out.append(symbol.data.decode("latin-1"))
    return out


def decode_frame_photo(grey: np.ndarray) -> list[str]:
    return [s.text for s in decode.decode_frame(grey, source="image")]


def decode_frame_camera(grey: np.ndarray) -> list[str]:
    return [s.text for s in decode.decode_frame(grey, source="camera")]


def timed(fn: Callable[[np.ndarray], list[str]], image: np.ndarray) -> tuple[list[str], float, float]:
    wall, cpu = time.perf_counter(), time.thread_time()
    texts = fn(image)
    return texts, (time.perf_counter() - wall) * 1000, (time.thread_time() - cpu) * 1000


# --- sample photos --------------------------------------------------------------------------------


def load_samples(folder: Path) -> list[tuple[str, str, np.ndarray, str | None]]:
    """(folder name, file name, grey image, expected text or None for a false-positive photo)."""
    items = []
    for sub in sorted(p for p in folder.iterdir() if p.is_dir()):
        negative = sub.name.startswith("falsepositives")
        for path in sorted(sub.iterdir()):
            if path.suffix.lower() not in IMAGE_SUFFIXES:
                continue
            txt = path.with_suffix(".txt")
            if not negative and not txt.exists():
                continue  # an image without its expected text cannot be scored
            image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
            if image is None:  # OpenCV's WebP reader refuses 1-pixel-wide images; Pillow does not
                image = _read_with_pillow(path)
            if image is None:
                print(f"skipped {path}: OpenCV cannot read it", file=sys.stderr)
                continue
            expected = None if negative else txt.read_text(encoding="utf-8", errors="surrogateescape")
            items.append((sub.name, path.name, image, expected))
    return items


def _read_with_pillow(path: Path) -> np.ndarray | None:
    try:
        from PIL import Image

        with Image.open(path) as img:
            return np.array(img.convert("L"))
    except Exception:
        return None


def _lf(text: str) -> str:
    return text.replace("\r\n", "\n")


def bench_samples(items: list, contestants: dict[str, Callable], by_folder: bool) -> dict[str, dict]:
    """Each contestant on every photo. A QR's CR LF line breaks count as LF for every contestant
    alike (the .txt files were written with LF)."""
    results = {}
    for name, fn in contestants.items():
        passed, false_pos, walls, cpus, others = 0, 0, [], [], 0
        folders: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for folder, _, image, expected in items:
            texts, wall, cpu = timed(fn, image)
            walls.append(wall)
            cpus.append(cpu)
            texts = [_lf(t) for t in texts]
            ok = (not texts) if expected is None else (_lf(expected) in texts)
            false_pos += expected is None and bool(texts)
            others += expected is not None and any(t != _lf(expected) for t in texts)
            passed += ok
            folders[folder][0] += ok
            folders[folder][1] += 1
        results[name] = {
            "passed": passed, "total": len(items), "false_positives": false_pos, "others": others,
            "wall": statistics.median(walls), "cpu": statistics.median(cpus),
            "p95_cpu": float(np.percentile(cpus, 95)), "folders": dict(folders),
        }  # fmt: skip
        r = results[name]
        print(
            f"photos  {name:16s} {r['passed']}/{r['total']} = {100 * r['passed'] / r['total']:.1f}%  "
            f"false positives {false_pos}  CPU ms median {r['cpu']:.1f}, 95th percentile {r['p95_cpu']:.1f} "
            f"(wall median {r['wall']:.1f})  photos with another text beside the expected one: {others}",
            flush=True,
        )
    if by_folder:
        names = list(contestants)
        print("folder".ljust(18) + "".join(n[:20].rjust(22) for n in names))
        for folder in sorted(results[names[0]]["folders"]):
            cells = [results[n]["folders"][folder] for n in names]
            print(folder.ljust(18) + "".join(f"{a}/{b}".rjust(22) for a, b in cells))
    return results


# --- warehouse frames ----------------------------------------------------------------------------


def _bucket(value: float, edges: tuple[float, ...], unit: str) -> str:
    for lo, hi in zip(edges, edges[1:], strict=False):
        if lo <= value < hi:
            return f"{lo:g}-{hi:g}{unit}"
    return f">={edges[-1]:g}{unit}"


def miss_keys(frame, code) -> list[tuple[str, str]]:
    """The rows of the miss table a code falls in."""
    return [
        ("symbology", code.format),
        ("condition", frame.condition),
        ("blur", "none" if not frame.blur_px else _bucket(frame.blur_px, (0, 4, 7, 10), " px")),
        ("tilt", _bucket(code.tilt, (0, 15, 30, 40), " deg")),
        ("module", _bucket(code.module_px, (0, 1.5, 2, 2.5, 3), " px")),
        ("contrast", _bucket(code.contrast, (0, 60, 100, 160), "")),
    ]


def bench_frames(frames: list, contestants: dict[str, Callable]) -> dict[str, dict]:
    results = {}
    for name, fn in contestants.items():
        read = wrong = complete = 0
        walls, cpus = [], []
        table: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
        wrong_texts = []
        for frame, grey in frames:
            texts, wall, cpu = timed(fn, grey)
            walls.append(wall)
            cpus.append(cpu)
            hits = 0
            for code in frame.codes:
                hit = code.text in texts
                hits += hit
                for key in miss_keys(frame, code):
                    table[key][0] += hit
                    table[key][1] += 1
            read += hits
            complete += hits == len(frame.texts)
            extra = set(texts) - set(frame.texts)
            wrong += len(extra)
            wrong_texts += [(frame.seed, t) for t in extra]
        total = sum(len(f.texts) for f, _ in frames)
        results[name] = {
            "read": read, "total": total, "complete": complete, "frames": len(frames), "wrong": wrong,
            "wall": statistics.median(walls), "cpu": statistics.median(cpus),
            "p95_cpu": float(np.percentile(cpus, 95)), "max_cpu": max(cpus), "table": dict(table),
        }  # fmt: skip
        r = results[name]
        print(
            f"frames  {name:16s} codes {read}/{total} = {100 * read / total:.1f}%  frames complete "
            f"{complete}/{len(frames)}  wrong reads {wrong}  CPU ms median {r['cpu']:.1f}, 95th percentile "
            f"{r['p95_cpu']:.1f}, max {r['max_cpu']:.0f} (wall median {r['wall']:.1f})",
            flush=True,
        )
        for seed, text in wrong_texts[:10]:
            print(f"        wrong read on frame seed {seed}: {text!r}")
    return results


def miss_table(frames: dict) -> str:
    """Codes read of codes shown, per group, for each contestant: where the misses are."""
    names = list(frames)
    keys = sorted({k for r in frames.values() for k in r["table"]})
    lines = ["| group | codes | " + " | ".join(names) + " |", "|---|---|" + "---|" * len(names)]
    for group, value in keys:
        total = frames[names[0]]["table"][(group, value)][1]
        cells = [f"{frames[n]['table'][(group, value)][0]}" for n in names]
        lines.append(f"| {group}: {value} | {total} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def markdown(photos: dict | None, frames: dict | None) -> str:
    lines = ["| decoder | sample photos passed | false positives | CPU ms per photo (median / p95) | "
             "720p frames: codes read | wrong reads | CPU ms per frame (median / p95) |",
             "|---|---|---|---|---|---|---|"]  # fmt: skip
    names = list((photos or frames or {}).keys())
    for name in names:
        p = photos.get(name) if photos else None
        f = frames.get(name) if frames else None
        p_cells = (
            [f"{p['passed']}/{p['total']} ({100 * p['passed'] / p['total']:.1f}%)", str(p["false_positives"]),
             f"{p['cpu']:.1f} / {p['p95_cpu']:.1f}"] if p else ["–", "–", "–"]
        )  # fmt: skip
        f_cells = (
            [f"{f['read']}/{f['total']} ({100 * f['read'] / f['total']:.1f}%)", str(f["wrong"]),
             f"{f['cpu']:.1f} / {f['p95_cpu']:.1f}"] if f else ["–", "–", "–"]
        )  # fmt: skip
        lines.append(f"| {name} | " + " | ".join(p_cells + f_cells) + " |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=Path, default=ROOT.parent / "shared" / "samples" / "barcodes",
                        help="the sample photo folder (default ../shared/samples/barcodes)")  # fmt: skip
    parser.add_argument("--frames", type=int, default=120, help="generated 720p frames (default 120)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the generated frames (default 1)")
    parser.add_argument("--by-folder", action="store_true", help="also print pass counts per sample folder")
    parser.add_argument("--photos", action=argparse.BooleanOptionalAction, default=True,
                        help="run the sample photos (default yes; --no-photos skips them)")  # fmt: skip
    parser.add_argument("--only", choices=("zxing-cpp", "pyzbar", "decode_frame"), action="append",
                        help="run only this contestant (repeatable; default all three)")  # fmt: skip
    args = parser.parse_args()
    wanted = set(args.only or ("zxing-cpp", "pyzbar", "decode_frame"))

    def pick(contestants: dict[str, Callable]) -> dict[str, Callable]:
        return {k: v for k, v in contestants.items() if k.split()[0] in wanted}

    print(f"machine: {machine()}; {versions()}")
    print(f"decoders available to decode_frame: {decode.available_decoders()}")
    photos = frames = None
    if not args.photos:
        pass
    elif args.samples.is_dir():
        items = load_samples(args.samples)
        print(f"{len(items)} sample photos from {args.samples}")
        photos = bench_samples(
            items,
            pick(
                {
                    "zxing-cpp alone": zxing_alone,
                    "pyzbar alone": pyzbar_alone,
                    "decode_frame": decode_frame_photo,
                }
            ),
            args.by_folder,
        )
    else:
        print(f"no sample photos at {args.samples}: give --samples DIR", file=sys.stderr)
    if args.frames:
        generated = [
            (f, cv2.cvtColor(f.image, cv2.COLOR_BGR2GRAY)) for f in warehouse_frames(args.frames, args.seed)
        ]
        codes = sum(len(f.texts) for f, _ in generated)
        print(
            f"{len(generated)} generated 1280x720 frames, {codes} codes, conditions: {', '.join(CONDITIONS)}"
        )
        frames = bench_frames(
            generated,
            pick(
                {
                    "zxing-cpp alone": zxing_alone,
                    "pyzbar alone": pyzbar_alone,
                    "decode_frame": decode_frame_camera,
                }
            ),
        )
    print(f"\nmachine at the end: {machine()}\n")
    print(markdown(photos, frames))
    if frames:
        print("\nWhere the codes are missed (codes read of codes shown):\n")
        print(miss_table(frames))
    return 0


if __name__ == "__main__":
    sys.exit(main())
