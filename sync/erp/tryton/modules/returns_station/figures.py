"""Operational figures of the returns floor, computed in the ERP from the records the operations left.

One read-only RPC, ``model.returns.station.figures.compute(window, context)``, where ``window`` is
``{"from": "YYYY-MM-DD", "to": "YYYY-MM-DD", "node": warehouse code, "station": id, "family": key,
"as_of": ISO datetime}`` (every key optional: the last 30 days up to today, every node, station and
family, now). ``from`` and ``to`` are whole UTC days, both included. The answer is plain JSON (see
:func:`compute`); a figure with nothing to count is zero (or ``None`` for a median or a rate) with a
sentence in ``notes`` saying why, never an error.

Counting: every figure reads ERP records (returns, their moves, inspections, approvals, shipments,
operation markers), each once; an operation the outbox re-sent has one marker and one effect, so it
counts once. Stage times are the station clock of the operation that did the stage (figures_data).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import statistics
from collections import defaultdict
from decimal import Decimal

from trytond.model import Model
from trytond.pool import Pool
from trytond.rpc import RPC
from trytond.transaction import Transaction

from .access import check_station_caller
from .figures_data import PATHS, parse_station_time
from .station_status import refusals_by_station

DAY = dt.timedelta(days=1)
BUCKETS = ("<1d", "1-3d", "3-7d", ">7d")
STAGES = ("issued_to_received", "received_to_inspected", "inspected_to_put_away", "end_to_end")
OPEN_SHIPMENT_STATES = ("waiting", "assigned", "picked")


class Figures(Model):
    "Returns Station Figures"

    __name__ = "returns.station.figures"

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__rpc__.update({"compute": RPC(readonly=True), "evaluate_alerts": RPC(readonly=False)})

    @classmethod
    def compute(cls, window=None):
        """The figures for ``window`` (see the module docstring); for stations and administrators."""
        check_station_caller("returns.station.figures.compute")
        with Transaction().set_context(_check_access=False, active_test=False):
            return compute(window or {})

    @classmethod
    def evaluate_alerts(cls, options=None):
        """Open the alerts whose condition holds and has none open (alerts.py); the keys opened."""
        check_station_caller("returns.station.figures.evaluate_alerts")
        return Pool().get("quality.alert").station_evaluate(options or {})


# --- small pure helpers ----------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile: the smallest value with at least ``q`` of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[rank - 1]


def hours(delta: dt.timedelta) -> float:
    return delta.total_seconds() / 3600


def bucket(age: dt.timedelta) -> str:
    days = age.total_seconds() / 86400
    if days < 1:
        return "<1d"
    if days < 3:
        return "1-3d"
    if days < 7:
        return "3-7d"
    return ">7d"


def aged(ages: list[dt.timedelta]) -> dict:
    """Count, age buckets and the oldest age in days of ``ages``."""
    counts = dict.fromkeys(BUCKETS, 0)
    for age in ages:
        counts[bucket(age)] += 1
    oldest = max(ages) if ages else None
    return {
        "count": len(ages),
        "buckets": counts,
        "oldest_days": round(oldest.total_seconds() / 86400, 2) if oldest is not None else None,
    }


def share(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


def stage_summary(values: list[float]) -> dict:
    median = statistics.median(values) if values else None
    p90 = percentile(values, 0.9)
    return {
        "count": len(values),
        "median_hours": round(median, 2) if median is not None else None,
        "p90_hours": round(p90, 2) if p90 is not None else None,
    }


def money(value) -> float:
    return float(Decimal(value or 0).quantize(Decimal("0.01")))


def _day(text: str | None, default: dt.date) -> dt.date:
    if not text:
        return default
    return dt.date.fromisoformat(str(text)[:10])


def _rows(query) -> list[dict]:
    cursor = Transaction().connection.cursor()
    cursor.execute(*query)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor]


def _datetime(value):
    if value is None or isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time())
    return parse_station_time(str(value).replace(" ", "T"))


# --- the figures ------------------------------------------------------------------------------------


def compute(window: dict) -> dict:
    """Every figure for ``window``; plain JSON (floats, strings, lists, dicts)."""
    pool = Pool()
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    notes: list[str] = []
    to_day = _day(window.get("to"), now.date())
    from_day = _day(window.get("from"), to_day - dt.timedelta(days=29))
    start = dt.datetime.combine(from_day, dt.time())
    end = dt.datetime.combine(to_day, dt.time()) + DAY
    as_of = _datetime(window.get("as_of")) or min(now, end)
    if from_day > to_day:
        notes.append(f"the window ends ({to_day}) before it starts ({from_day}): nothing to count")
        end = start
    elif start > now:
        notes.append("the window is in the future: nothing has happened in it yet")
    node_code = window.get("node") or None
    station = window.get("station") or None
    family = window.get("family") or None

    Config = pool.get("returns.station.figures.configuration")
    config = Config(1)
    factors = config.factors()
    sla = int(config.sla_hours if config.sla_hours is not None else 48)

    data = _load(pool)
    node_id = None
    if node_code:
        node_id = data["warehouses"].get(node_code)
        if node_id is None:
            notes.append(f"no warehouse has the code {node_code!r}: nothing to count")
            node_id = -1

    def keep_return(ret) -> bool:
        return node_id is None or ret["warehouse"] == node_id

    def keep_product(product_id) -> bool:
        return family is None or data["products"][product_id]["family"] == family

    returns = {rid: r for rid, r in data["returns"].items() if keep_return(r)}
    figures = {
        "window": {
            "from": from_day.isoformat(),
            "to": to_day.isoformat(),
            "node": node_code,
            "station": station,
            "family": family,
            "as_of": as_of.strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
        "config": {
            "sla_hours": sla,
            "factors": {path: float(f) for path, f in factors.items()},
        },
    }
    figures["reasons"] = _reasons(data, returns, start, end, station, keep_product, notes)
    figures["cycle"] = _cycle(data, returns, start, end, station, keep_product, notes)
    figures["sla"] = _sla(data, returns, start, end, station, keep_product, sla, notes)
    figures["recovery"] = _recovery(data, returns, start, end, station, keep_product, factors, notes)
    figures["exposure"] = _exposure(returns, as_of, station, notes)
    figures["backlog"] = _backlog(pool, data, returns, as_of, station, keep_product, node_id)
    figures["pack"] = _pack(pool, start, end, as_of, station, node_id)
    refused = refusals_by_station(pool, start, end)
    figures["pack"]["wrong_items_stopped"] = sum(
        codes.get("wrong_item", 0) for name, codes in refused.items() if not station or name == station
    )
    figures["stations"] = _stations(pool, now, refused)
    figures["alerts"] = pool.get("quality.alert").station_open_alerts()
    figures["notes"] = notes
    return figures


def _load(pool) -> dict:
    """Returns, their moves, products and locations in a few bulk queries (no per-record reads)."""
    Return = pool.get("stock.shipment.out.return")
    Move = pool.get("stock.move")
    Product = pool.get("product.product")
    Template = pool.get("product.template")
    Location = pool.get("stock.location")
    Sale = pool.get("sale.sale")
    r, m, p, t, loc, s = (
        Return.__table__(),
        Move.__table__(),
        Product.__table__(),
        Template.__table__(),
        Location.__table__(),
        Sale.__table__(),
    )
    locations = {
        row["id"]: row
        for row in _rows(
            loc.select(
                loc.id.as_("id"),
                loc.code.as_("code"),
                loc.type.as_("type"),
                loc.inventory_state.as_("state"),
            )
        )
    }
    warehouses = {row["code"]: row["id"] for row in locations.values() if row["type"] == "warehouse"}
    products = {
        row["id"]: row
        for row in _rows(
            p.join(t, condition=p.template == t.id).select(
                p.id.as_("id"), p.code.as_("code"), t.station_family.as_("family")
            )
        )
    }
    channels = {
        row["id"]: row["channel"] for row in _rows(s.select(s.id.as_("id"), s.station_channel.as_("channel")))
    }
    returns = {}
    for row in _rows(
        r.select(
            r.id.as_("id"),
            r.number.as_("number"),
            r.state.as_("state"),
            r.warehouse.as_("warehouse"),
            r.warehouse_input.as_("input"),
            r.return_reason.as_("reason"),
            r.returned_sale.as_("sale"),
            r.create_date.as_("created"),
            r.rma_issued_at.as_("issued"),
            r.refund_amount.as_("refund"),
            r.refunded_at.as_("refunded_at"),
            r.station_received_at.as_("received_at"),
            r.station_received_station.as_("received_station"),
        )
    ):
        row["issued"] = _datetime(row["issued"]) or _datetime(row["created"])
        row["received_at"] = _datetime(row["received_at"])
        row["refunded_at"] = _datetime(row["refunded_at"])
        row["channel"] = channels.get(row["sale"]) or "unknown"
        row["incoming"], row["inventory"] = [], []
        returns[row["id"]] = row
    moves = {}
    for row in _rows(
        m.select(
            m.id.as_("id"),
            m.shipment.as_("shipment"),
            m.product.as_("product"),
            m.quantity.as_("quantity"),
            m.unit_price.as_("unit_price"),
            m.from_location.as_("from_location"),
            m.to_location.as_("to_location"),
            m.state.as_("state"),
            m.origin.as_("origin"),
            m.station_disposition.as_("disposition"),
            m.station_inspected_at.as_("inspected_at"),
            m.station_inspected_station.as_("inspected_station"),
            m.station_put_away_at.as_("put_away_at"),
            where=m.shipment.like("stock.shipment.out.return,%"),
        )
    ):
        ret = returns.get(int(row["shipment"].split(",")[1]))
        if ret is None:
            continue
        row["inspected_at"] = _datetime(row["inspected_at"])
        row["put_away_at"] = _datetime(row["put_away_at"])
        moves[row["id"]] = row
        if row["from_location"] == ret["input"]:
            ret["inventory"].append(row)
        else:
            ret["incoming"].append(row)
    for ret in returns.values():
        for move in ret["inventory"]:
            origin = move["origin"] or ""
            source = moves.get(int(origin.split(",")[1])) if origin.startswith("stock.move,") else None
            price = move["unit_price"] if move["unit_price"] is not None else (source or {}).get("unit_price")
            move["unit_value"] = Decimal(price or 0)
            move["path"] = PATHS.get(locations.get(move["to_location"], {}).get("state"))
    return {"returns": returns, "products": products, "locations": locations, "warehouses": warehouses}


def _reasons(data, returns, start, end, station, keep_product, notes) -> dict:
    by = {key: defaultdict(float) for key in ("reason", "sku", "family", "channel")}
    sku_reason: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    rmas = set()
    for ret in returns.values():
        if not (start <= ret["issued"] < end) or ret["state"] == "cancelled":
            continue
        if station and ret["received_station"] != station:
            continue
        for move in ret["incoming"]:
            if move["state"] == "cancelled" or not keep_product(move["product"]):
                continue
            product = data["products"][move["product"]]
            rmas.add(ret["id"])
            by["reason"][ret["reason"] or "unknown"] += move["quantity"]
            by["sku"][product["code"]] += move["quantity"]
            by["family"][product["family"] or "unknown"] += move["quantity"]
            by["channel"][ret["channel"]] += move["quantity"]
            sku_reason[product["code"]][ret["reason"] or "unknown"] += move["quantity"]
    units = sum(by["reason"].values())
    if not units:
        notes.append("no return was issued in this window (for these filters)")

    def table(counts):
        return [
            {"key": key, "units": count, "share": share(count, units)}
            for key, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        ]

    sold = _sold(start, end, keep_product)
    rates = [
        {
            "sku": sku,
            "returned": by["sku"].get(sku, 0.0),
            "sold": sold.get(sku, 0.0),
            "rate": share(by["sku"].get(sku, 0.0), sold.get(sku, 0.0)),
        }
        for sku in sorted(set(by["sku"]) | set(sold))
    ]
    rates.sort(key=lambda row: (-(row["rate"] or 0), -row["returned"], row["sku"]))
    return {
        "returns": len(rmas),
        "units": units,
        "by_reason": table(by["reason"]),
        "by_sku": table(by["sku"]),
        "by_family": table(by["family"]),
        "by_channel": table(by["channel"]),
        "return_rate": rates,
        "by_sku_reason": {sku: dict(sorted(r.items())) for sku, r in sorted(sku_reason.items())},
    }


def _sold(start, end, keep_product) -> dict[str, float]:
    """Units sold per SKU: lines of confirmed (or later) sales whose sale date is in the window."""
    pool = Pool()
    Sale = pool.get("sale.sale")
    Line = pool.get("sale.line")
    Product = pool.get("product.product")
    s, line, p = Sale.__table__(), Line.__table__(), Product.__table__()
    rows = _rows(
        line.join(s, condition=line.sale == s.id)
        .join(p, condition=line.product == p.id)
        .select(
            p.id.as_("product"),
            p.code.as_("sku"),
            line.quantity.as_("quantity"),
            s.sale_date.as_("day"),
            where=s.state.in_(["confirmed", "processing", "done"]) & (line.type == "line"),
        )
    )
    sold: dict[str, float] = defaultdict(float)
    for row in rows:
        day = row["day"]
        if isinstance(day, str):
            day = dt.date.fromisoformat(day[:10])
        if day is None or not (start.date() <= day < end.date()) or not keep_product(row["product"]):
            continue
        sold[row["sku"]] += row["quantity"] or 0
    return sold


def _cycle(data, returns, start, end, station, keep_product, notes) -> dict:
    stages: dict[str, list[float]] = {stage: [] for stage in STAGES}
    by_node: dict[tuple, list[float]] = defaultdict(list)
    by_station: dict[tuple, list[float]] = defaultdict(list)
    codes = {loc_id: code for code, loc_id in data["warehouses"].items()}

    def add(stage, value, ret, where):
        stages[stage].append(value)
        by_node[(codes.get(ret["warehouse"], "?"), stage)].append(value)
        by_station[(where or "?", stage)].append(value)

    for ret in returns.values():
        received = ret["received_at"]
        if received and start <= received < end and (not station or ret["received_station"] == station):
            if any(keep_product(m["product"]) for m in ret["incoming"]):
                add("issued_to_received", hours(received - ret["issued"]), ret, ret["received_station"])
        for move in ret["inventory"]:
            if not keep_product(move["product"]) or (station and move["inspected_station"] != station):
                continue
            inspected, put_away = move["inspected_at"], move["put_away_at"]
            if inspected and received and start <= inspected < end:
                add("received_to_inspected", hours(inspected - received), ret, move["inspected_station"])
            if put_away and inspected and start <= put_away < end:
                add("inspected_to_put_away", hours(put_away - inspected), ret, move["inspected_station"])
                add("end_to_end", hours(put_away - ret["issued"]), ret, move["inspected_station"])
    if not stages["issued_to_received"] and not stages["received_to_inspected"]:
        notes.append("no return was received or inspected in this window: no cycle times")

    def split(groups, label):
        return [
            {label: key, "stage": stage, **stage_summary(values)}
            for (key, stage), values in sorted(groups.items())
        ]

    return {
        "stages": [{"stage": stage, **stage_summary(stages[stage])} for stage in STAGES],
        "by_node": split(by_node, "node"),
        "by_station": split(by_station, "station"),
    }


def _sla(data, returns, start, end, station, keep_product, sla, notes) -> dict:
    target = dt.timedelta(hours=sla)
    restocked = within = 0.0
    for ret in returns.values():
        for move in ret["inventory"]:
            put_away = move["put_away_at"]
            if move["path"] != "restock" or not put_away or not (start <= put_away < end):
                continue
            if not keep_product(move["product"]) or (station and move["inspected_station"] != station):
                continue
            restocked += move["quantity"]
            if ret["received_at"] and put_away - ret["received_at"] <= target:
                within += move["quantity"]
    if not restocked:
        notes.append("no unit was restocked in this window: no put-away share")
    return {"target_hours": sla, "restocked": restocked, "within": within, "share": share(within, restocked)}


def _recovery(data, returns, start, end, station, keep_product, factors, notes) -> dict:
    by_path = {path: [0.0, Decimal(0), Decimal(0)] for path in factors}
    by_family: dict[str, list] = defaultdict(lambda: [0.0, Decimal(0), Decimal(0)])
    for ret in returns.values():
        for move in ret["inventory"]:
            inspected = move["inspected_at"]
            if move["disposition"] != "disposed" or not inspected or not (start <= inspected < end):
                continue
            if not keep_product(move["product"]) or (station and move["inspected_station"] != station):
                continue
            path = move["path"] or "restock"
            value = move["unit_value"] * Decimal(str(move["quantity"]))
            recovered = value * factors.get(path, Decimal(0))
            family = data["products"][move["product"]]["family"] or "unknown"
            for bucket_ in (by_path.setdefault(path, [0.0, Decimal(0), Decimal(0)]), by_family[family]):
                bucket_[0] += move["quantity"]
                bucket_[1] += value
                bucket_[2] += recovered
    returned = sum(v[1] for v in by_path.values())
    recovered = sum(v[2] for v in by_path.values())
    if not returned:
        notes.append("no unit got its final disposition in this window: no recovery rate")

    def row(key, label, values):
        return {
            label: key,
            "units": values[0],
            "value_returned": money(values[1]),
            "value_recovered": money(values[2]),
            "rate": share(float(values[2]), float(values[1])),
        }

    return {
        "value_returned": money(returned),
        "value_recovered": money(recovered),
        "rate": share(float(recovered), float(returned)),
        "by_path": [
            {**row(path, "path", by_path[path]), "factor": float(factors.get(path, 0))} for path in by_path
        ],
        "by_family": [row(key, "family", values) for key, values in sorted(by_family.items())],
    }


def _exposure(returns, as_of, station, notes) -> dict:
    ages, value = [], Decimal(0)
    for ret in returns.values():
        refunded = ret["refunded_at"]
        if ret["state"] == "cancelled" or not ret["refund"] or not refunded or refunded > as_of:
            continue
        if ret["received_at"] and ret["received_at"] <= as_of:
            continue
        if station and ret["received_station"] not in (None, station):
            continue
        ages.append(as_of - refunded)
        value += Decimal(ret["refund"])
    return {"value": money(value), "returns": len(ages), **aged(ages)}


def _backlog(pool, data, returns, as_of, station, keep_product, node_id) -> dict:
    quarantine = []
    quarantine_sku: dict[str, list] = defaultdict(list)
    mismatched = []
    for ret in returns.values():
        for move in ret["inventory"]:
            inspected = move["inspected_at"]
            if move["path"] != "quarantine" or not inspected or inspected > as_of:
                continue
            if move["disposition"] != "disposed" or not keep_product(move["product"]):
                continue
            if station and move["inspected_station"] != station:
                continue
            units = [as_of - inspected] * max(1, int(move["quantity"]))
            quarantine.extend(units)
            quarantine_sku[data["products"][move["product"]]["code"]].extend(units)
        received = ret["received_at"]
        if ret["state"] == "received" and received and received <= as_of:
            if station and ret["received_station"] != station:
                continue
            missing = any(mv["state"] == "cancelled" for mv in ret["incoming"])
            extra = any(not mv["origin"] for mv in ret["incoming"] if mv["state"] != "cancelled")
            if missing or extra:
                mismatched.append(as_of - received)
    Approval = pool.get("returns.station.approval")
    a = Approval.__table__()
    approvals = []
    for row in _rows(
        a.select(
            a.requested_at.as_("requested_at"),
            a.station.as_("station"),
            a.return_shipment.as_("return_id"),
            where=a.state == "pending",
        )
    ):
        requested = parse_station_time(row["requested_at"])
        if requested is None or requested > as_of or (station and row["station"] != station):
            continue
        if node_id is not None and row["return_id"] and row["return_id"] not in returns:
            continue
        approvals.append(as_of - requested)
    return {
        "quarantine": aged(quarantine),
        "approvals": aged(approvals),
        "mismatched_receipts": aged(mismatched),
        "quarantine_by_sku": [
            {"sku": sku, "units": len(ages), "oldest_days": aged(ages)["oldest_days"]}
            for sku, ages in sorted(quarantine_sku.items())
        ],
    }


def _pack(pool, start, end, as_of, station, node_id) -> dict:
    Shipment = pool.get("stock.shipment.out")
    Operation = pool.get("returns.station.operation")
    Approval = pool.get("returns.station.approval")
    sh, op, a = Shipment.__table__(), Operation.__table__(), Approval.__table__()
    by_class: dict[str, list] = defaultdict(list)
    late = defaultdict(int)
    ages = []
    where = sh.state.in_(list(OPEN_SHIPMENT_STATES))
    if node_id is not None:
        where &= sh.warehouse == node_id
    for row in _rows(
        sh.select(
            sh.create_date.as_("created"),
            sh.service_class.as_("service_class"),
            sh.due_at.as_("due_at"),
            where=where,
        )
    ):
        created = _datetime(row["created"])
        if created is None or created > as_of:
            continue
        age = as_of - created
        key = row["service_class"] or "standard"
        by_class[key].append(age)
        ages.append(age)
        due = _datetime(row["due_at"])
        if due is not None and due < as_of:
            late[key] += 1
    packs = [
        row
        for row in _rows(
            op.select(
                op.created_at.as_("created_at"), op.station.as_("station"), where=op.type == "confirm_pack"
            )
        )
        if _in(row["created_at"], start, end) and (not station or row["station"] == station)
    ]
    shorts = [
        row
        for row in _rows(
            a.select(
                a.requested_at.as_("created_at"),
                a.station.as_("station"),
                where=a.kind == "short_pack",
            )
        )
        if _in(row["created_at"], start, end) and (not station or row["station"] == station)
    ]
    return {
        "waiting": {
            **aged(ages),
            "late": sum(late.values()),
            "by_class": [
                {"service_class": key, "late": late.get(key, 0), **aged(values)}
                for key, values in sorted(by_class.items())
            ],
        },
        "packed": len(packs),
        "short": len(shorts),
        "short_rate": share(len(shorts), len(packs)),
    }


def _in(text, start, end) -> bool:
    when = parse_station_time(text)
    return when is not None and start <= when < end


def _stations(pool, now, refused) -> list[dict]:
    """Each station's last status: when the ERP last heard from it, its outbox, clock offset, version;
    with the refusals it reported in the window (``refused``: refusals_by_station)."""
    rows = []
    for status in pool.get("returns.station.status").search([], order=[("station", "ASC")]):
        outbox = json.loads(status.outbox or "{}")
        rows.append(
            {
                "station": status.station,
                "last_seen": status.last_seen.strftime("%Y-%m-%dT%H:%M:%SZ") if status.last_seen else None,
                "minutes_since_seen": round((now - status.last_seen).total_seconds() / 60, 1)
                if status.last_seen
                else None,
                "outbox_waiting": outbox.get("pending", 0) + outbox.get("sending", 0),
                "outbox_failed": outbox.get("failed", 0) + outbox.get("conflict", 0),
                "clock_offset_s": status.clock_offset,
                "app_version": status.app_version or "",
                "refusals": refused.get(status.station, {}),
            }
        )
    return rows
