"""``station scan``: read codes from photos, a video, a camera or a keyboard-wedge scanner and
print each as one JSON object a line — for a person checking a label or a camera, and for scripts."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from app.cli import CommandError, station_settings


def register(subparsers: argparse._SubParsersAction) -> None:
    scan = subparsers.add_parser(
        "scan",
        help="read barcodes from photos, a video, a camera or a scanner and print each as JSON",
        description="Print one JSON object per code: text, symbology, gtin, lot, expiry, serial, "
        "quantity, position, and the file and frame it came from. Messages go to stderr; the exit "
        "status is 1 when a photo could not be read or shows no code.",
    )
    source = scan.add_mutually_exclusive_group()
    source.add_argument("--camera", type=int, metavar="N", help="read from camera N (0 is the first)")
    source.add_argument(
        "--video", metavar="FILE", help="read every frame of a video file, or a stream URL (rtsp://, http://)"
    )
    source.add_argument(
        "--typed",
        action="store_true",
        help="read lines typed by a keyboard-wedge scanner (or a person) on stdin, e.g. to check "
        "a scanner's AIM prefix and GS setting",
    )
    source.add_argument(
        "--check",
        action="store_true",
        help="scanner check-up: scan the 'Scanner check-up' label (station erp labels) and see what "
        "the scanner sends, key by key, and what to change on it",
    )
    scan.add_argument("images", nargs="*", metavar="IMAGE", help="photos to read (PNG, JPEG, WebP, ...)")
    scan.add_argument(
        "--seconds",
        type=float,
        help="with --camera or a stream: stop after this many seconds (default: Ctrl-C)",
    )
    scan.add_argument(
        "--once", action="store_true", help="with --camera or --video: stop after the first code"
    )
    scan.add_argument(
        "--gs-replacement",
        metavar="TEXT",
        help="with --typed: the printable text your scanner sends for the GS1 separator, e.g. '|'",
    )
    scan.add_argument(
        "--save",
        action="store_true",
        help="with --check: save the GS stand-in the scanner sends as this station's GS replacement",
    )
    scan.add_argument("--data-dir", help="with --check: the station's data (env STATION_DATA_DIR)")
    scan.set_defaults(handler=_scan)


def _emit(record: dict[str, Any]) -> None:
    print(json.dumps(record, ensure_ascii=False), flush=True)


def _scan(args: argparse.Namespace) -> int:
    if args.images and (args.camera is not None or args.video or args.typed or args.check):
        raise CommandError("give photos, or one of --camera / --video / --typed / --check, not both")
    if args.save and not args.check:
        raise CommandError("--save goes with --check")
    if args.check:
        return _check(args)
    if args.typed:
        return _typed(args)
    if args.camera is not None:
        return _camera(args.camera, args)
    if args.video:
        return _camera(args.video, args)
    if not args.images:
        raise CommandError("nothing to read: give photos, or --camera N, --video FILE or --typed")
    return _images(args.images)


def _images(paths: list[str]) -> int:
    import cv2

    from app.scan.decode import decode_frame

    failures = 0
    for name in paths:
        path = Path(name)
        image = cv2.imread(str(path), cv2.IMREAD_COLOR) if path.is_file() else None
        if image is None:
            reason = "no such file" if not path.exists() else "not an image OpenCV can read"
            print(f"station: cannot read {name}: {reason}", file=sys.stderr)
            failures += 1
            continue
        scans = decode_frame(image, source="image")
        if not scans:
            print(f"station: no code found in {name}", file=sys.stderr)
            failures += 1
        for scan in scans:
            _emit({**scan.as_dict(), "file": name})
    return 1 if failures else 0


def _camera(source: int | str, args: argparse.Namespace) -> int:
    from app.scan.camera import Camera, describe

    live = isinstance(source, int) or "://" in str(source)
    if not live and not Path(source).is_file():
        raise CommandError(f"cannot read {source}: no such file")
    if live:
        _probe(source, describe(source))
    _log_to_stderr()
    camera = Camera(source)
    deadline = time.monotonic() + args.seconds if args.seconds else None
    camera.start()
    try:
        while deadline is None or time.monotonic() < deadline:
            timeout = 0.5 if deadline is None else max(0.0, min(0.5, deadline - time.monotonic()))
            item = camera.results(timeout=timeout)
            if item is None:
                if not camera.running:
                    break
                continue
            for scan in item.scans:
                _emit({**scan.as_dict(), "frame": item.frame, "source_name": camera.name})
            if args.once:
                break
    finally:
        camera.stop()
    if camera.status.state == "ended" and "cannot be read" in camera.status.message:
        raise CommandError(camera.status.message)
    return 0


def _probe(source: int | str, name: str) -> None:
    """Fail with one clear line when the camera or stream cannot be opened at all."""
    import cv2

    capture = cv2.VideoCapture(source)
    try:
        if not capture.isOpened():
            hint = "is it connected, and not in use by another program? (ls /dev/video*)"
            if isinstance(source, str):
                hint = "is the address right and the stream running?"
            raise CommandError(f"{name} cannot be opened: {hint}")
    finally:
        capture.release()


def _log_to_stderr() -> None:
    """Camera losses and recoveries are logged by app.scan.camera: show them as station messages."""
    import logging

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("station: %(message)s"))
    logger = logging.getLogger("app.scan")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False


def _typed(args: argparse.Namespace) -> int:
    from app.scan.wedge import parse_typed

    if sys.stdin.isatty():
        print("station: scan a code (or type one and press Enter); Ctrl-D to finish", file=sys.stderr)
    for line in sys.stdin:
        scan = parse_typed(line, gs_replacement=args.gs_replacement, source="wedge")
        if not scan.is_empty:
            _emit(scan.as_dict())
    return 0


def _check(args: argparse.Namespace) -> int:
    """The scanner check-up at a terminal: every key with its exact time, then the findings. Exit 0
    when the scanner is set up right, 1 when something should change."""
    from app.scan.checkup import check_scanner
    from app.ui.saved_settings import load_saved, update_saved

    settings = station_settings(args)
    saved = load_saved(settings.data_dir)
    if sys.stdin.isatty():
        print("station: scan the 'Scanner check-up' label now (waiting 60 s)", file=sys.stderr)
        text, times = _read_keys(sys.stdin.fileno(), first_wait=60.0, quiet=0.8)
    else:  # piped: the text is there, the timing is not
        text, times = sys.stdin.read(), None
    report = check_scanner(
        text, key_times=times, gs_replacement=saved.gs_replacement, station_suffix=saved.scanner_suffix
    )
    if times is not None:
        print(
            "Keys: "
            + " ".join(
                f"{k.char}" + (f"+{k.gap_ms:g}ms" if k.gap_ms is not None else "") for k in report.keys
            )
        )
    for line in report.lines():
        print(line)
    if args.save:
        if report.gs_replacement is None:
            raise CommandError("nothing to save: the check-up saw no GS stand-in")
        update_saved(settings.data_dir, gs_replacement=report.gs_replacement)
        print(f"Saved {report.gs_replacement!r} as this station's GS replacement")
        return 0 if all(f.fine or f.topic == "gs" for f in report.findings) else 1
    return 0 if report.all_fine else 1


def _read_keys(fd: int, *, first_wait: float, quiet: float) -> tuple[str, list[float]]:
    """Read a terminal key by key (no echo, no line editing, CR kept as CR) until ``quiet``
    seconds pass after the last key; each key with its ``time.monotonic()``."""
    import select
    import termios

    old = termios.tcgetattr(fd)
    new = termios.tcgetattr(fd)
    new[0] &= ~(termios.ICRNL | termios.INLCR | termios.IGNCR | termios.IXON)
    new[3] &= ~(termios.ICANON | termios.ECHO | termios.IEXTEN)
    new[6][termios.VMIN], new[6][termios.VTIME] = 1, 0
    chars: list[str] = []
    times: list[float] = []
    try:
        termios.tcsetattr(fd, termios.TCSANOW, new)
        wait = first_wait
        while select.select([fd], [], [], wait)[0]:
            data = os.read(fd, 1024)
            if not data:
                break
            now = time.monotonic()
            for char in data.decode("utf-8", errors="replace"):
                chars.append(char)
                times.append(now)
            wait = quiet
    finally:
        termios.tcsetattr(fd, termios.TCSANOW, old)
    return "".join(chars), times
