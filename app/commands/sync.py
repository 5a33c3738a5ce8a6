"""``station sync [--once]`` and ``station queue [--json]``: the sync engine without the app."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from typing import Any

from app.cli import CommandError, add_station_options, station_settings
from app.config import Settings


def register(subparsers: argparse._SubParsersAction) -> None:
    sync = subparsers.add_parser(
        "sync",
        help="deliver this station's queued operations to the ERP and pull its reference data "
        "(runs until Ctrl-C; --once: one pass)",
    )
    sync.add_argument(
        "--once",
        action="store_true",
        help="one push of everything deliverable and one pull, then exit: status 0 when nothing is left "
        "waiting for the ERP, 1 when some operations still wait (ERP unreachable, or another process "
        "such as the running app sends this station's outbox: it is named), 3 when the ERP "
        "refused the station's login",
    )
    sync.add_argument(
        "--pull-interval",
        type=float,
        default=30.0,
        help="seconds between pulls of reference data when running continuously (default 30)",
    )
    add_station_options(sync)
    sync.set_defaults(handler=_sync)

    queue = subparsers.add_parser(
        "queue", help="show this station's outbox: operations by state, and those that need a person"
    )
    queue.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object: counts by state (pending, sending, done, failed, conflict, cancelled) "
        "and every operation with its id, type, state and error",
    )
    queue.add_argument(
        "--all",
        action="store_true",
        help="list done and cancelled operations too (without --json; --json always lists all)",
    )
    add_station_options(queue)
    queue.set_defaults(handler=_queue)


def _open_store(settings: Settings):
    from app.datadir import prepare
    from sync.store import Store, StoreError

    try:
        prepare(settings.data_dir, settings.store_path)
        store = Store.open(settings.store_path, photos_dir=settings.photos_dir)
        prepare(settings.data_dir, settings.store_path)
        return store
    except StoreError as exc:
        raise CommandError(str(exc)) from None
    except OSError as exc:
        detail = exc.strerror or exc
        raise CommandError(f"cannot use the data directory {settings.data_dir}: {detail}") from None


def _sync(args: argparse.Namespace) -> int:
    from sync.engine import SyncEngine, connector_for
    from sync.station_status import interval_from

    settings = station_settings(args)
    store = _open_store(settings)
    engine = SyncEngine(
        store,
        lambda: connector_for(settings.erp),
        pull_interval=args.pull_interval,
        station=settings.station_id,
        status_interval=interval_from(os.environ),
    )
    print(f"station {settings.station_id}: syncing with {settings.erp.redacted()}", file=sys.stderr)
    try:
        if args.once:
            report = engine.sync_once()
            status = engine.status()
            if report.lease_holder:
                print(
                    f"station: another process sends this station's outbox: {report.lease_holder}. "
                    "Nothing was sent; it delivers the operations (stop it to sync from here)",
                    file=sys.stderr,
                )
                return 1
            pulled = sum(report.pulled.values())
            print(
                f"sent {report.applied} (already in the ERP: {report.already}), failed {report.failed}, "
                f"conflicts {report.conflicts}, pulled {pulled} record(s); "
                f"waiting {report.transient_left}, need a person {status.needs_attention}"
            )
            for error in dict.fromkeys(report.errors):
                print(f"station: {error}", file=sys.stderr)
            if status.auth_failed:
                return 3
            return 0 if report.transient_left == 0 else 1
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        engine.add_listener(_printer())
        engine.start()
        try:
            while not stop.wait(1.0):
                pass
        except KeyboardInterrupt:
            pass
        return 0
    finally:
        engine.stop()
        store.close()


def _printer():
    last: list[Any] = [None]

    def show(status) -> None:
        line = (
            f"{'online' if status.online else 'offline' if status.online is False else 'not tried'}: "
            f"waiting {status.unsynced}, need a person {status.needs_attention}"
            + (f" ({status.last_error})" if status.last_error else "")
            + (f"; another process sends this outbox: {status.lease_holder}" if status.lease_holder else "")
        )
        if line != last[0]:
            last[0] = line
            print(line, flush=True)

    return show


def queue_summary(store) -> dict[str, Any]:
    """The ``station queue --json`` object: counts by state and every operation."""
    summary: dict[str, Any] = dict(store.queue_counts())
    summary["oldest_pending_created_at"] = store.oldest_pending_created_at()
    summary["operations"] = [
        {
            "id": row["id"],
            "type": row["type"],
            "state": row["state"],
            "error": row["error"],
            "attempts": row["attempts"],
            "created_at": row["created_at"],
            "user": row["user"],
            "depends_on": row["depends_on"],
            "next_attempt_at": row["next_attempt_at"],
        }
        for row in store.operations()
    ]
    return summary


def _queue(args: argparse.Namespace) -> int:
    settings = station_settings(args)
    store = _open_store(settings)
    try:
        summary = queue_summary(store)
    finally:
        store.close()
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    counts = "  ".join(
        f"{state} {summary[state]}"
        for state in ("pending", "sending", "done", "failed", "conflict", "cancelled")
    )
    print(f"station {settings.station_id} outbox: {counts}")
    shown = [op for op in summary["operations"] if args.all or op["state"] not in ("done", "cancelled")]
    for op in shown:
        error = f"  {op['error']}" if op["error"] else ""
        print(f"{op['created_at']}  {op['state']:<9} {op['type']:<16} {op['id']}  by {op['user']}{error}")
    if not shown:
        print("nothing waiting" if not args.all else "the outbox is empty")
    return 0
