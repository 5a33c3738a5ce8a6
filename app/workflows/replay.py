"""Replay: drive a station headlessly from a file of events, one JSON object a line, in the words
of what a person does at the station (``station replay FILE.jsonl``).

The whole file is read and checked first: a malformed line is reported with its number and nothing
runs, so a half-valid file never leaves half a day of work queued. Then each event goes through the
same :class:`StationSession` the screens use. An event may carry ``"expect": "<refusal code>"``
when the file means to show a refusal (the run still succeeds when exactly that refusal happens).

Vocabulary (one key per line, plus an optional ``expect``)::

    {"signin": {"badge": "U-RECV-1", "pin": "1111"}}
    {"task": "receive"}                       receive | inspect | pack | supervise
    {"scan": "RMA-000123"}                    the text exactly as a scanner types it
    {"confirm": {}}                           {"reason": "..."} for a partial receipt or a short pack
    {"photo": "photos/front.jpg"}             a path relative to the replay file
    {"grade": "B"}
    {"check": {"powers_on": true}}
    {"override": "quarantine"}                choose a disposition over the rules' (a supervisor approves)
    {"approve": {"request": "RMA-000116", "note": "..."}}   request: id, oldest, newest, or RMA/order
    {"refuse": {"request": "oldest", "note": "..."}}
    {"undo": {}}   {"cancel": {}}   {"signout": {}}
    {"search": "alma.jansen@example.com"}     an unannounced parcel: find its sale (order, email, name,
                                              or a serial sold)
    {"sale": "SO-1003"}                       open the unannounced return against a sale the search found
    {"blind": {}}                             no sale (or offline): receive the items blind, to quarantine
    {"close_tote": {}}                        Inspect, sorting into totes: the next tote scanned is closed
                                              (a tote's label is a scan: {"scan": "TOTE-REFURB-0001"})

Blank lines and lines starting with ``#`` are skipped.
"""

from __future__ import annotations

import json
import mimetypes
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.workflows.results import Outcome, Refusal
from app.workflows.station import StationSession

EVENT_KINDS = (
    "signin", "signout", "task", "scan", "confirm", "photo", "grade", "check", "override", "approve",
    "refuse", "undo", "cancel", "search", "sale", "blind", "close_tote",
)  # fmt: skip


@dataclass(frozen=True)
class Event:
    line: int
    kind: str
    value: Any
    expect: str | None = None
    raw: str = ""


@dataclass(frozen=True)
class Malformed:
    line: int
    reason: str


@dataclass(frozen=True)
class EventResult:
    event: Event
    outcome: Outcome

    @property
    def refused(self) -> bool:
        return isinstance(self.outcome, Refusal)

    @property
    def as_expected(self) -> bool:
        """True when the event went the way the file said: accepted, or refused with ``expect``."""
        if self.event.expect is None:
            return not self.refused
        return self.refused and self.outcome.code == self.event.expect  # type: ignore[union-attr]


@dataclass
class ReplayReport:
    results: list[EventResult] = field(default_factory=list)
    malformed: list[Malformed] = field(default_factory=list)

    @property
    def operations(self) -> list[tuple[int, Any]]:
        """(line, Operation) for every operation queued, in order."""
        return [(r.event.line, op) for r in self.results for op in getattr(r.outcome, "operations", ())]

    @property
    def unexpected(self) -> list[EventResult]:
        """Events that did not go as the file said (a refusal it did not expect, or vice versa)."""
        return [r for r in self.results if not r.as_expected]

    @property
    def ok(self) -> bool:
        return not self.malformed and not self.unexpected

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "events": len(self.results),
            "malformed": [{"line": m.line, "reason": m.reason} for m in self.malformed],
            "operations": [
                {"line": line, "id": op.id, "type": op.type, "user": op.user, "station": op.station,
                 "depends_on": list(op.depends_on), "payload": op.payload}
                for line, op in self.operations
            ],
            "refusals": [
                {"line": r.event.line, "event": r.event.raw, "code": r.outcome.code,
                 "message": r.outcome.message, "expected": r.as_expected}
                for r in self.results if r.refused
            ],
            "unexpected": [
                {"line": r.event.line, "event": r.event.raw, "ok": r.outcome.ok, "message": r.outcome.message,
                 "expected_refusal": r.event.expect}
                for r in self.unexpected
            ],
        }  # fmt: skip


def parse_events(lines: Iterable[str]) -> tuple[list[Event], list[Malformed]]:
    """Read every line; return the events and, separately, each malformed line with its reason."""
    events: list[Event] = []
    malformed: list[Malformed] = []
    for number, text in enumerate(lines, start=1):
        stripped = text.strip()
        if not stripped or stripped.startswith("#"):
            continue
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError as exc:
            malformed.append(Malformed(number, f"not JSON: {exc.msg} at column {exc.colno}"))
            continue
        if not isinstance(data, dict):
            malformed.append(
                Malformed(number, 'each line must be one JSON object, e.g. {"scan": "RMA-000123"}')
            )
            continue
        expect = data.pop("expect", None)
        if expect is not None and not isinstance(expect, str):
            malformed.append(Malformed(number, 'expect must be a refusal code, e.g. "wrong_item"'))
            continue
        keys = [k for k in data if k in EVENT_KINDS]
        unknown = [k for k in data if k not in EVENT_KINDS]
        if unknown:
            malformed.append(
                Malformed(number, f"unknown event {unknown[0]!r}; events are {', '.join(EVENT_KINDS)}")
            )
            continue
        if len(keys) != 1:
            malformed.append(
                Malformed(number, f"one event per line (found {', '.join(keys) if keys else 'none'})")
            )
            continue
        kind = keys[0]
        problem = _shape_problem(kind, data[kind])
        if problem:
            malformed.append(Malformed(number, f"{kind}: {problem}"))
            continue
        raw = stripped
        if kind == "signin":  # a PIN is a secret: never echo it in a report
            raw = json.dumps({"signin": {**data[kind], "pin": "***"}})
        events.append(Event(number, kind, data[kind], expect, raw))
    return events, malformed


def _shape_problem(kind: str, value: Any) -> str | None:
    if kind == "signin":
        if (
            not isinstance(value, dict)
            or not isinstance(value.get("badge"), str)
            or not isinstance(value.get("pin"), str)
        ):
            return 'needs {"badge": "...", "pin": "..."} (both as text)'
    elif kind in ("task", "scan", "grade", "override", "search", "sale"):
        if not isinstance(value, str):
            return "needs text"
    elif kind == "photo":
        if not (isinstance(value, str) or (isinstance(value, dict) and isinstance(value.get("path"), str))):
            return 'needs a file path, or {"path": "...", "mime": "image/jpeg"}'
    elif kind == "check":
        if not isinstance(value, dict) or not value:
            return 'needs checklist answers, e.g. {"powers_on": true}'
    elif kind == "confirm":
        if not isinstance(value, dict) or not isinstance(value.get("reason", ""), str | None):
            return 'needs {} or {"reason": "..."}'
    elif kind in ("approve", "refuse"):
        if not isinstance(value, dict) or not all(
            isinstance(value.get(k, ""), str) for k in ("request", "note")
        ):
            return 'needs {"request": "id, oldest, newest, or an RMA/order number", "note": "..."}'
    elif not isinstance(value, dict):
        return "needs {}"
    return None


def run_events(
    session: StationSession,
    events: Iterable[Event],
    *,
    base_dir: Path,
    on_result: Callable[[EventResult], None] | None = None,
) -> ReplayReport:
    """Play ``events`` through ``session``; photo paths are relative to ``base_dir``."""
    report = ReplayReport()
    for event in events:
        outcome = _play(session, event, base_dir)
        result = EventResult(event, outcome)
        report.results.append(result)
        if on_result is not None:
            on_result(result)
    return report


def replay_file(
    session: StationSession, path: Path, on_result: Callable[[EventResult], None] | None = None
) -> ReplayReport:
    """Check the whole file, then (only when every line is well formed) play it."""
    events, malformed = parse_events(path.read_text(encoding="utf-8").splitlines())
    if malformed:
        return ReplayReport(malformed=malformed)
    return run_events(session, events, base_dir=path.parent, on_result=on_result)


def _play(session: StationSession, event: Event, base_dir: Path) -> Outcome:
    value = event.value
    match event.kind:
        case "signin":
            return session.sign_in(value["badge"], value["pin"])
        case "signout":
            return session.sign_out()
        case "task":
            return session.start(value)
        case "scan":
            return session.scan(value)
        case "confirm":
            return session.confirm(value.get("reason"))
        case "grade":
            return session.grade(value)
        case "check":
            return session.check(value)
        case "override":
            return session.choose_disposition(value)
        case "approve" | "refuse":
            return session.decide_approval(value.get("request") or "oldest", event.kind, value.get("note"))
        case "undo":
            return session.undo()
        case "cancel":
            return session.cancel()
        case "search":
            return session.search_sales(value)
        case "sale":
            return session.choose_sale(value)
        case "blind":
            return session.receive_blind()
        case "close_tote":
            return session.close_tote()
        case "photo":
            spec = value if isinstance(value, dict) else {"path": value}
            path = (base_dir / spec["path"]).resolve()
            mime = spec.get("mime") or mimetypes.guess_type(path.name)[0] or "image/jpeg"
            try:
                data = path.read_bytes()
            except OSError as exc:
                return Refusal("photo_unreadable", f"cannot read the photo {spec['path']}: {exc.strerror}")
            return session.photo(data, mime=mime)
    raise AssertionError(f"unhandled event {event.kind}")  # parse_events admits only EVENT_KINDS
