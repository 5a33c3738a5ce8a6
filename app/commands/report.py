"""``station report``: the ERP's operational figures for a window, for people, scripts and BI tools."""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import sys
from typing import Any

from app.cli import CommandError, add_station_options, station_settings


def register(subparsers: argparse._SubParsersAction) -> None:
    report = subparsers.add_parser(
        "report",
        help="print the ERP's figures: return reasons, cycle times, put-away target, recovery, "
        "refund exposure, backlog, packing, open alerts",
        description="Ask the ERP for its figures over a window of whole UTC days (default: the last 30 "
        "days up to today) and print them. The definitions are in the README (Figures).",
    )
    report.add_argument("--from", dest="date_from", type=_date, help="first day, YYYY-MM-DD")
    report.add_argument("--to", dest="date_to", type=_date, help="last day, YYYY-MM-DD (default today)")
    report.add_argument("--node", help="one warehouse, by its code (e.g. WH)")
    report.add_argument("--station", dest="only_station", help="one station's work, by its station id")
    report.add_argument("--family", help="one product family (apparel, footwear, accessories, …)")
    form = report.add_mutually_exclusive_group()
    form.add_argument("--json", action="store_true", help="one JSON object, as the ERP computed it")
    form.add_argument("--csv", action="store_true", help="section,key,measure,value rows")
    add_station_options(report)
    report.set_defaults(handler=_report)


def _date(text: str) -> str:
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-03-31") from None


def _report(args: argparse.Namespace) -> int:
    from sync.engine import connector_for
    from sync.erp.protocol import ErpError
    from sync.figures import rows, window

    settings = station_settings(args)
    spec = window(
        None if args.date_from else 30,
        date_from=args.date_from,
        date_to=args.date_to,
        node=args.node,
        station=args.only_station,
        family=args.family,
    )
    connector = connector_for(settings.erp)
    try:
        figures = connector.figures(spec)
    except ErpError as exc:
        raise CommandError(f"the ERP gave no figures: {exc}") from None
    finally:
        connector.close()
    if args.json:
        print(json.dumps(figures, indent=2, sort_keys=True))
    elif args.csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(["section", "key", "measure", "value"])
        writer.writerows((*row[:3], _cell(row[3])) for row in rows(figures))
    else:
        print(_text(figures))
    return 0


def _cell(value: Any) -> Any:
    """Whole numbers without ``.0`` (units, hours), empty for a figure with nothing to count."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def _h(value: float | None) -> str:
    return "–" if value is None else f"{value:g} h"


def _text(f: dict[str, Any]) -> str:
    w = f["window"]
    filters = ", ".join(f"{k} {w[k]}" for k in ("node", "station", "family") if w.get(k))
    lines = [f"Figures {w['from']} to {w['to']} (as of {w['as_of']}){' — ' + filters if filters else ''}"]
    for note in f["notes"]:
        lines.append(f"  note: {note}")
    r = f["reasons"]
    lines.append(f"Returns issued: {r['returns']} ({r['units']:g} units)")
    for row in r["by_reason"]:
        lines.append(f"  {row['key']:<22} {row['units']:>6g}  {_pct(row['share'])}")
    top = [row for row in r["return_rate"] if row["rate"] is not None][:5]
    if top:
        lines.append("Highest return rates (returned / sold):")
        for row in top:
            lines.append(f"  {row['sku']:<22} {row['returned']:g} / {row['sold']:g}  {_pct(row['rate'])}")
    lines.append("Cycle time per stage (median / 90th percentile):")
    for row in f["cycle"]["stages"]:
        name = row["stage"].replace("_", " ")
        lines.append(f"  {name:<24} {_h(row['median_hours'])} / {_h(row['p90_hours'])}  ({row['count']})")
    s = f["sla"]
    lines.append(
        f"Restocked within {s['target_hours']} h of receipt: {_pct(s['share'])} "
        f"({s['within']:g} of {s['restocked']:g} units)"
    )
    rec = f["recovery"]
    lines.append(
        f"Recovery: {rec['value_recovered']:.2f} of {rec['value_returned']:.2f} returned"
        f" = {_pct(rec['rate'])}"
    )
    for row in rec["by_path"]:
        lines.append(
            f"  {row['path']:<18} factor {row['factor']:.2f}  {row['units']:g} units  "
            f"{row['value_recovered']:.2f} of {row['value_returned']:.2f}"
        )
    e = f["exposure"]
    lines.append(
        f"Refunded before receipt: {e['value']:.2f} on {e['returns']} returns"
        + (f", oldest {e['oldest_days']} days" if e["oldest_days"] is not None else "")
    )
    for kind, item in f["backlog"].items():
        if kind == "quarantine_by_sku":
            continue
        ages = "  ".join(f"{k} {v}" for k, v in item["buckets"].items())
        lines.append(f"Backlog {kind.replace('_', ' ')}: {item['count']}  ({ages})")
    p = f["pack"]
    lines.append(
        f"Orders waiting: {p['waiting']['count']} ({p['waiting']['late']} late); packed {p['packed']}, "
        f"short {p['short']} ({_pct(p['short_rate'])})"
    )
    for alert in f["alerts"]:
        lines.append(f"ALERT {alert['number']}: {alert['title']}")
    return "\n".join(lines)
