"""``station replay FILE.jsonl``: drive the station's workflows headlessly from a file of events;
``station rules check FILE``: validate a disposition rules file."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from app.cli import CommandError, add_station_options, station_settings
from app.config import Settings
from app.datadir import prepare

EXIT_REFUSED = 1
EXIT_MALFORMED = 2


def register(subparsers: argparse._SubParsersAction) -> None:
    replay = subparsers.add_parser(
        "replay",
        help="play a file of station events (sign in, scan, grade, confirm, approve …), one JSON object "
        "a line, through the station's workflows; queues operations without waiting for the ERP",
    )
    replay.add_argument("file", help="the events file (JSON Lines); photo paths in it are relative to it")
    replay.add_argument(
        "--json",
        action="store_true",
        help="print the result as one JSON document: operations queued, refusals, malformed lines",
    )
    replay.add_argument(
        "--pull",
        action="store_true",
        help="pull reference data from the ERP first even when the station already has some",
    )
    replay.add_argument(
        "--verbose",
        "-v",
        action="store_true",
        help="print what the station answered to every event, not only refusals",
    )
    add_station_options(replay)
    replay.set_defaults(handler=_replay)

    rules = subparsers.add_parser("rules", help="the disposition rules (TOML) a station decides with")
    sub = rules.add_subparsers(dest="rules_command", metavar="RULES_COMMAND", required=True)
    check = sub.add_parser(
        "check", help="check a rules file: prints its version and rules, or the line and reason it is refused"
    )
    check.add_argument("file", help="the rules file (TOML)")
    check.set_defaults(handler=_rules_check)


def _pull(store: Any, settings: Settings) -> str | None:
    """Pull reference data through the sync engine; the error in an admin's words, or None."""
    from sync.engine import SyncEngine, connector_for

    engine = SyncEngine(store, lambda: connector_for(settings.erp), station=settings.station_id)
    report = engine.sync_once(push=False)
    if report.errors:
        return "; ".join(report.errors)
    return None


def _engine(store: Any, settings: Settings) -> Any:
    """A sync engine for online requests (a sale search), or None with no ERP configured."""
    from sync.engine import SyncEngine, connector_for

    if settings.erp is None:
        return None
    return SyncEngine(store, lambda: connector_for(settings.erp), station=settings.station_id)


def _replay(args: argparse.Namespace) -> int:
    from app.ui.saved_settings import sorts_to_totes
    from app.workflows.replay import EventResult, parse_events, run_events
    from app.workflows.station import StationSession, rules_for
    from sync.store import Store, StoreError

    path = Path(args.file)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"cannot read {path}: {exc}") from None
    events, malformed = parse_events(text.splitlines())
    if malformed:
        if args.json:
            print(
                json.dumps(
                    {
                        "ok": False,
                        "events": 0,
                        "operations": [],
                        "refusals": [],
                        "unexpected": [],
                        "malformed": [{"line": m.line, "reason": m.reason} for m in malformed],
                    },
                    indent=2,
                )
            )
        else:
            for m in malformed:
                print(f"{path}:{m.line}: {m.reason}", file=sys.stderr)
            print(
                f"station: {path} has {len(malformed)} malformed line(s); nothing was played", file=sys.stderr
            )
        return EXIT_MALFORMED

    settings = station_settings(args)
    prepare(settings.data_dir, settings.store_path)
    try:
        store = Store.open(settings.store_path, photos_dir=settings.photos_dir)
        prepare(settings.data_dir, settings.store_path)
    except StoreError as exc:
        raise CommandError(str(exc)) from None
    try:
        if args.pull or store.is_empty():
            error = _pull(store, settings)
            if error and store.is_empty():
                raise CommandError(
                    f"the station has no reference data and the ERP at {settings.erp.redacted()} "
                    f"did not give it: {error}"
                )
            if error:
                print(f"station: pull failed, replaying on the cached data: {error}", file=sys.stderr)
        rules = rules_for(store)  # the version pulled from the ERP (no local rules file)
        in_force = rules.current
        if rules.last_error is not None:
            print(
                f"station: {rules.last_error}; using the rules version {in_force.version}",
                file=sys.stderr,
            )
        engine = _engine(store, settings)
        session = StationSession(
            store,
            settings.station_id,
            rules=rules,
            requester=engine.request if engine else None,
            sort_to_totes=sorts_to_totes(settings.data_dir),
        )

        def show(result: EventResult) -> None:
            if args.json:
                return
            outcome = result.outcome
            where = f"line {result.event.line}"
            if not result.as_expected:
                if result.refused:
                    print(f"{where}: REFUSED ({outcome.code}): {outcome.message}")
                else:
                    print(f"{where}: expected refusal {result.event.expect}, but: {outcome.message}")
            elif result.refused:
                print(f"{where}: refused as expected ({outcome.code}): {outcome.message}")
            elif args.verbose:
                print(f"{where}: {outcome.message}")
            for op in getattr(outcome, "operations", ()):
                print(f"{where}: queued {op.type} {op.id}")

        try:
            report = run_events(session, events, base_dir=path.parent, on_result=show)
            session.sign_out()
        finally:
            if engine is not None:
                engine.stop()
    finally:
        store.close()
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, default=str))
    else:
        unexpected = len(report.unexpected)
        print(
            f"{len(report.results)} event(s), {len(report.operations)} operation(s) queued, "
            f"{unexpected} unexpected refusal(s)"
            + ("" if unexpected else "; run `station sync --once` to deliver")
        )
    return 0 if report.ok else EXIT_REFUSED


def _rules_check(args: argparse.Namespace) -> int:
    from sync.common.rules import RulesError, load_rules

    try:
        rules = load_rules(args.file)
    except RulesError as exc:
        print(f"station: refused: {exc}", file=sys.stderr)
        return EXIT_MALFORMED
    print(f"{args.file}: valid, version {rules.version}, {len(rules.rules)} rules")
    for rule in rules.rules:
        fee = f" ({rule.restocking_fee_pct}% fee)" if rule.restocking_fee_pct else ""
        gate = ", supervisor" if rule.approval else ""
        print(f"  {rule.id}: {rule.disposition}, refund {rule.refund}{fee}{gate}")
    return 0
