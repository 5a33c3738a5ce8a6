"""The ERP's operational figures at a station: ask for them, keep the last answer for offline use.

The figures are computed in the ERP (the module's figures.py; one read-only RPC); a station asks
through its connector (:func:`request_figures`) and keeps each answer per window in a small JSON
file beside its store, so the Figures screen offline shows the last figures with their as-of time.
``station report`` prints the same figures (:func:`rows` flattens them for CSV).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sync.erp.protocol import ErpError

WINDOWS = {"today": 1, "7 days": 7, "30 days": 30, "90 days": 90}


def window(
    days: int | None = None,
    *,
    date_from: str | None = None,
    date_to: str | None = None,
    node: str | None = None,
    station: str | None = None,
    family: str | None = None,
    today: dt.date | None = None,
) -> dict[str, Any]:
    """The window the ERP's figures RPC takes: the last ``days`` days up to today (UTC), or the
    given dates; filters left out when empty."""
    today = today or dt.datetime.now(dt.UTC).date()
    if days is not None and not date_from:
        date_to = date_to or today.isoformat()
        date_from = (dt.date.fromisoformat(date_to) - dt.timedelta(days=days - 1)).isoformat()
    spec: dict[str, Any] = {
        "from": date_from,
        "to": date_to,
        "node": node,
        "station": station,
        "family": family,
    }
    return {key: value for key, value in spec.items() if value}


@dataclass(frozen=True)
class FiguresAnswer:
    """What a station shows: the figures, when the ERP computed them, and whether they are live."""

    figures: dict[str, Any] | None
    as_of: str | None  # the ERP's "as of" time (UTC ISO) of these figures
    live: bool  # False: the last cached figures (or none), because the ERP did not answer
    problem: str | None = None  # why they are not live, in the reader's words


class FiguresCache:
    """The last figures per window, in one JSON file (written atomically)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _read(self) -> dict[str, Any]:
        try:
            return json.loads(self.path.read_text())
        except (FileNotFoundError, ValueError):
            return {}

    def all(self) -> list[dict[str, Any]]:
        return list(self._read().values())

    def get(self, spec: dict[str, Any]) -> dict[str, Any] | None:
        return self._read().get(_key(spec))

    def put(self, spec: dict[str, Any], figures: dict[str, Any]) -> None:
        data = self._read()
        data[_key(spec)] = figures
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, sort_keys=True))
        os.replace(tmp, self.path)


def _key(spec: dict[str, Any]) -> str:
    # The window's length and filters, not its dates: "the last 7 days" offline is yesterday's answer.
    days = None
    if spec.get("from") and spec.get("to"):
        days = (dt.date.fromisoformat(spec["to"]) - dt.date.fromisoformat(spec["from"])).days + 1
    return json.dumps(
        {**{k: v for k, v in spec.items() if k not in ("from", "to", "as_of")}, "days": days}, sort_keys=True
    )


METHOD = "returns.station.figures.compute"  # the module's read-only RPC (through the engine's port)


def request_figures(
    ask: Callable[[dict[str, Any]], Any], spec: dict[str, Any], cache: FiguresCache | None = None
) -> FiguresAnswer:
    """The ERP's figures for ``spec`` through ``ask``: the engine's request port
    (``lambda spec: engine.request(METHOD, spec)``, answering Offline / Refused instead of raising)
    or a connector's ``figures`` (raising ErpError). When the ERP does not answer: the cached
    figures of the same window, ``live=False``, and the reason."""
    try:
        figures = ask(spec)
    except ErpError as exc:
        figures = _NoAnswer(str(exc))
    if not isinstance(figures, dict):
        cached = cache.get(spec) if cache else None
        as_of = cached["window"]["as_of"] if cached else None
        return FiguresAnswer(cached, as_of, live=False, problem=getattr(figures, "reason", str(figures)))
    if cache is not None:
        cache.put(spec, figures)
    return FiguresAnswer(figures, figures["window"]["as_of"], live=True)


@dataclass(frozen=True)
class _NoAnswer:
    reason: str


def ask_through(engine: Any | None) -> Callable[[dict[str, Any]], Any]:
    """How a station asks for figures: its sync engine's request port (the UI never holds a
    connector); without an engine, or an engine without the port, an answer saying why."""
    if engine is None:
        return lambda spec: _NoAnswer("this station has no ERP configured")
    request = getattr(engine, "request", None)
    if request is None:
        return lambda spec: _NoAnswer("this station's sync engine cannot ask the ERP for figures")
    return lambda spec: request(METHOD, spec)


def cache_for(data_dir: Path) -> FiguresCache:
    """The station's figures cache, beside its store."""
    return FiguresCache(Path(data_dir) / "figures-cache.json")


def last_alerts(cache: FiguresCache) -> tuple[list[dict[str, Any]], str | None]:
    """The open alerts of the most recent cached figures (any window) and their as-of time."""
    latest = max(cache.all(), key=lambda f: f["window"]["as_of"], default=None)
    if latest is None:
        return [], None
    return list(latest.get("alerts") or []), latest["window"]["as_of"]


def last_stations(cache: FiguresCache) -> tuple[list[dict[str, Any]], str | None]:
    """Every station's health (the figures' ``stations``) from the most recent cached figures, and
    their as-of time: what a supervisor sees offline."""
    latest = max(cache.all(), key=lambda f: f["window"]["as_of"], default=None)
    if latest is None:
        return [], None
    return list(latest.get("stations") or []), latest["window"]["as_of"]


def rows(figures: dict[str, Any]) -> Iterator[tuple[str, str, str, Any]]:
    """Every number as ``(section, key, measure, value)``: the CSV of ``station report``."""
    reasons = figures["reasons"]
    yield ("reasons", "all", "returns", reasons["returns"])
    yield ("reasons", "all", "units", reasons["units"])
    for part in ("by_reason", "by_sku", "by_family", "by_channel"):
        for row in reasons[part]:
            yield (f"reasons.{part}", row["key"], "units", row["units"])
            yield (f"reasons.{part}", row["key"], "share", row["share"])
    for row in reasons["return_rate"]:
        for measure in ("returned", "sold", "rate"):
            yield ("return_rate", row["sku"], measure, row[measure])
    for row in figures["cycle"]["stages"]:
        for measure in ("count", "median_hours", "p90_hours"):
            yield ("cycle", row["stage"], measure, row[measure])
    for part, label in (("by_node", "node"), ("by_station", "station")):
        for row in figures["cycle"][part]:
            for measure in ("count", "median_hours", "p90_hours"):
                yield (f"cycle.{part}", f"{row[label]}/{row['stage']}", measure, row[measure])
    for measure in ("target_hours", "restocked", "within", "share"):
        yield ("sla", "restock", measure, figures["sla"][measure])
    recovery = figures["recovery"]
    for measure in ("value_returned", "value_recovered", "rate"):
        yield ("recovery", "all", measure, recovery[measure])
    for row in recovery["by_path"]:
        for measure in ("factor", "units", "value_returned", "value_recovered", "rate"):
            yield ("recovery.by_path", row["path"], measure, row[measure])
    for row in recovery["by_family"]:
        for measure in ("units", "value_returned", "value_recovered", "rate"):
            yield ("recovery.by_family", row["family"], measure, row[measure])
    exposure = figures["exposure"]
    for measure in ("value", "returns", "oldest_days"):
        yield ("exposure", "all", measure, exposure[measure])
    for name, count in exposure["buckets"].items():
        yield ("exposure.age", name, "returns", count)
    for kind in ("quarantine", "approvals", "mismatched_receipts"):
        item = figures["backlog"][kind]
        yield ("backlog", kind, "count", item["count"])
        yield ("backlog", kind, "oldest_days", item["oldest_days"])
        for name, count in item["buckets"].items():
            yield (f"backlog.{kind}", name, "count", count)
    pack = figures["pack"]
    for measure in ("packed", "short", "short_rate", "wrong_items_stopped"):
        yield ("pack", "all", measure, pack.get(measure))
    yield ("pack.waiting", "all", "orders", pack["waiting"]["count"])
    yield ("pack.waiting", "all", "late", pack["waiting"]["late"])
    for row in pack["waiting"]["by_class"]:
        yield ("pack.waiting", row["service_class"], "orders", row["count"])
        yield ("pack.waiting", row["service_class"], "late", row["late"])
    for row in figures.get("stations", []):
        for measure in ("last_seen", "outbox_waiting", "outbox_failed", "clock_offset_s", "app_version"):
            yield ("stations", row["station"], measure, row[measure])
        stopped = (row.get("refusals") or {}).get("wrong_item", 0)
        yield ("stations", row["station"], "wrong_items_stopped", stopped)
    for alert in figures["alerts"]:
        yield ("alerts", alert["key"], "title", alert["title"])


STAGE_WORDS = {
    "issued_to_received": "RMA issued to received",
    "received_to_inspected": "received to inspected",
    "inspected_to_put_away": "inspected to put away",
    "end_to_end": "end to end",
}
BUCKET_WORDS = {"<1d": "under 1 day", "1-3d": "1 to 3 days", "3-7d": "3 to 7 days", ">7d": "over 7 days"}


def _pct(value: float | None) -> str:
    return "none" if value is None else f"{value:.1%}"


def _hours(value: float | None) -> str:
    return "none" if value is None else f"{value:g} h"


def in_words(figures: dict[str, Any]) -> dict[str, str]:
    """Each figure as one sentence (the Figures screen's accessible names), keyed by a stable id."""
    words: dict[str, str] = {}
    r = figures["reasons"]
    parts = "; ".join(f"{row['key']} {row['units']:g} ({_pct(row['share'])})" for row in r["by_reason"])
    words["reasons"] = f"Return reasons: {r['returns']} returns, {r['units']:g} units" + (
        f"; {parts}" if parts else ""
    )
    for row in figures["cycle"]["stages"]:
        words[f"cycle.{row['stage']}"] = (
            f"Cycle time {STAGE_WORDS.get(row['stage'], row['stage'])}: median {_hours(row['median_hours'])},"
            f" 90th percentile {_hours(row['p90_hours'])}, {row['count']} counted"
        )
    s = figures["sla"]
    words["sla"] = (
        f"Restocked within {s['target_hours']} h of receipt: {_pct(s['share'])},"
        f" {s['within']:g} of {s['restocked']:g} units"
    )
    rec = figures["recovery"]
    words["recovery"] = (
        f"Recovery rate: {_pct(rec['rate'])}, {rec['value_recovered']:.2f} recovered of"
        f" {rec['value_returned']:.2f} returned"
    )
    for row in rec["by_path"]:
        words[f"recovery.path.{row['path']}"] = (
            f"{row['path'].replace('_', ' ').capitalize()} (factor {row['factor']:.2f}):"
            f" {row['value_recovered']:.2f} of {row['value_returned']:.2f}, {row['units']:g} units"
        )
    for row in rec["by_family"]:
        words[f"recovery.family.{row['family']}"] = (
            f"{row['family'].capitalize()}: recovery {_pct(row['rate'])}, {row['value_recovered']:.2f} of"
            f" {row['value_returned']:.2f}"
        )
    e = figures["exposure"]
    oldest = f", oldest {e['oldest_days']:g} days" if e["oldest_days"] is not None else ""
    words["exposure"] = f"Refunded before receipt: {e['value']:.2f} on {e['returns']} returns{oldest}"
    for kind in ("quarantine", "approvals", "mismatched_receipts"):
        item = figures["backlog"][kind]
        ages = ", ".join(f"{words_} {item['buckets'].get(k, 0)}" for k, words_ in BUCKET_WORDS.items())
        words[f"backlog.{kind}"] = f"Backlog {kind.replace('_', ' ')}: {item['count']}; {ages}"
    p = figures["pack"]
    classes = "; ".join(
        f"{row['service_class']} {row['count']} ({row['late']} late)" for row in p["waiting"]["by_class"]
    )
    words["pack"] = (
        f"Orders waiting: {p['waiting']['count']}, {p['waiting']['late']} late"
        + (f"; {classes}" if classes else "")
        + f"; packed {p['packed']}, short {p['short']} ({_pct(p['short_rate'])})"
        + f"; wrong items stopped by scan {p.get('wrong_items_stopped', 0)}"
    )
    for row in figures.get("stations", []):
        words[f"station.{row['station']}"] = station_words(row)
    for alert in figures["alerts"]:
        words[f"alert.{alert['key']}"] = f"Alert {alert['number']}: {alert['title']}"
    return words


def station_words(row: dict[str, Any]) -> str:
    """One station's health (a row of the figures' ``stations``) as a sentence."""
    offset = f"{row['clock_offset_s']:+g} s" if row["clock_offset_s"] is not None else "unknown"
    return (
        f"Station {row['station']}: last seen {row['minutes_since_seen']:g} min ago,"
        f" {row['outbox_waiting']} waiting, {row['outbox_failed']} failed, clock {offset},"
        f" version {row['app_version'] or 'unknown'},"
        f" wrong items stopped {(row.get('refusals') or {}).get('wrong_item', 0)}"
    )
