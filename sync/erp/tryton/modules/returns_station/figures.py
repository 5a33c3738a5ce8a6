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
import operator
import statistics
from collections import defaultdict
from decimal import Decimal
from functools import reduce

from sql import Cast, Literal, Null, Table
from sql.aggregate import Count, Min, Sum
from sql.conditionals import Case, Coalesce, Greatest
from sql.functions import Floor, Function
from sql.operators import Concat, Exists
from trytond import backend
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


# --- where the figures read: one SQL aggregate per figure ------------------------------------------
#
# Each figure is one or two grouped queries over the returns and their moves, so the answer's cost
# is the database's (a few hash joins) and not one Python step per returned unit. The percentiles
# are PostgreSQL's ordered-set aggregates there; SQLite has none, so on SQLite the stage times come
# back sorted in one query and Python takes the ranks (the same definitions either way). Returns and
# their moves join on the move's integer ``station_return`` (figures_data), not on its ``shipment``
# reference text.

MOVE_REF = "stock.move,"


class DatePart(Function):
    """PostgreSQL's DATE_PART(field, source): a float."""

    __slots__ = ()
    _function = "DATE_PART"


class StationSeconds(Function):
    """Seconds from the second timestamp to the first; SQLite only (see :func:`_seconds_between`)."""

    __slots__ = ()
    _function = "STATION_SECONDS"


def _seconds_between(later, earlier) -> float | None:
    """SQLite's STATION_SECONDS: exact, as Python subtracts the two datetimes."""
    a, b = _datetime(later), _datetime(earlier)
    if a is None or b is None:
        return None
    return (a - b).total_seconds()


def _sqlite() -> bool:
    return backend.name == "sqlite"


def seconds(later, earlier):
    """SQL for ``later - earlier`` in seconds (a float)."""
    if _sqlite():
        return StationSeconds(later, earlier)
    # DATE_PART answers a float; EXTRACT a NUMERIC (PostgreSQL 14+), several times slower to compute
    # and then to cast, for ~400,000 stage times a call.
    return DatePart(Literal("epoch"), later - earlier)


def _all(conditions):
    return reduce(operator.and_, conditions) if conditions else Literal(True)


def _number(value) -> float:
    return float(value) if value is not None else 0.0


def _decimal(value) -> Decimal:
    """A Decimal from what SQL answered: Decimal, a number, or (SQLite, where Tryton keeps a Numeric
    as its text in a BLOB and an expression has no declared type to convert it) bytes."""
    if value is None:
        return Decimal(0)
    if isinstance(value, bytes):
        return Decimal(value.decode())
    return value if isinstance(value, Decimal) else Decimal(str(value))


class Scope:
    """The tables the figures read and the filters of one window: a warehouse, a station, a family."""

    def __init__(self, pool, node_id: int | None, station: str | None, family: str | None) -> None:
        self.r = pool.get("stock.shipment.out.return").__table__()
        self.m = pool.get("stock.move").__table__()
        self.source = pool.get("stock.move").__table__()
        self.p = pool.get("product.product").__table__()
        self.t = pool.get("product.template").__table__()
        self.loc = pool.get("stock.location").__table__()
        self.wh = pool.get("stock.location").__table__()
        self.sale = pool.get("sale.sale").__table__()
        self.node_id, self.station, self.family = node_id, station, family
        self.issued = Coalesce(self.r.rma_issued_at, self.r.create_date)

    def lines(self, kind: str, *, location: bool = False, warehouse: bool = False, products: bool = False):
        """Returns joined with their ``incoming`` lines (what the customer sends back) or their
        ``inventory`` lines (from the input zone to where inspection sent each unit); with their
        products when asked or when the window is one family's."""
        r, m, p, t = self.r, self.m, self.p, self.t
        condition = m.station_return == r.id
        if kind == "inventory":
            condition &= m.from_location == r.warehouse_input
        else:
            condition &= (r.warehouse_input == Null) | (m.from_location != r.warehouse_input)
        query = r.join(m, condition=condition)
        if products or self.family:
            query = query.join(p, condition=m.product == p.id).join(t, condition=p.template == t.id)
        if location:
            query = query.join(self.loc, "LEFT", condition=m.to_location == self.loc.id)
        if warehouse:
            query = query.join(self.wh, "LEFT", condition=r.warehouse == self.wh.id)
        return query

    def filters(self, station_column, *, product: bool = True) -> list:
        """The window's node, station and (for lines) family filters."""
        conditions = []
        if self.node_id is not None:
            conditions.append(self.r.warehouse == self.node_id)
        if self.station:
            conditions.append(station_column == self.station)
        if product and self.family:
            conditions.append(self.t.station_family == self.family)
        return conditions

    def has_incoming(self, *, live: bool = False):
        """The return has an incoming line (of the window's family; not cancelled when ``live``):
        a correlated EXISTS."""
        r, m, p, t = self.r, pool_table(self.m), pool_table(self.p), pool_table(self.t)
        condition = (m.station_return == r.id) & (
            (r.warehouse_input == Null) | (m.from_location != r.warehouse_input)
        )
        if live:
            condition &= m.state != "cancelled"
        query = m
        if self.family:
            query = m.join(p, condition=m.product == p.id).join(t, condition=p.template == t.id)
            condition &= t.station_family == self.family
        return Exists(query.select(Literal(1), where=condition))


def pool_table(table: Table) -> Table:
    """Another alias of ``table`` (a subquery that reads the same table again)."""
    return Table(table._name)


def aged_columns(column, as_of: dt.datetime, weight=None) -> list:
    """SQL aggregates for :func:`aged_row`: count, the four age buckets and the oldest ``column``."""
    weight = weight if weight is not None else Literal(1)
    limits = [as_of - dt.timedelta(days=d) for d in (1, 3, 7)]
    return [
        Sum(weight),
        Sum(Case((column > limits[0], weight), else_=Literal(0))),
        Sum(Case(((column <= limits[0]) & (column > limits[1]), weight), else_=Literal(0))),
        Sum(Case(((column <= limits[1]) & (column > limits[2]), weight), else_=Literal(0))),
        Sum(Case((column <= limits[2], weight), else_=Literal(0))),
        Min(column),
    ]


def aged_row(values, as_of: dt.datetime) -> dict:
    """:func:`aged` from the aggregates of :func:`aged_columns`."""
    count, *buckets, oldest = values
    oldest = _datetime(oldest)
    return {
        "count": int(count or 0),
        "buckets": {key: int(n or 0) for key, n in zip(BUCKETS, buckets, strict=True)},
        "oldest_days": round((as_of - oldest).total_seconds() / 86400, 2) if oldest is not None else None,
    }


def _add_aged(total: dict, part: dict) -> dict:
    oldest = [d for d in (total["oldest_days"], part["oldest_days"]) if d is not None]
    return {
        "count": total["count"] + part["count"],
        "buckets": {key: total["buckets"][key] + part["buckets"][key] for key in BUCKETS},
        "oldest_days": max(oldest) if oldest else None,
    }


def _fetch(query) -> list[tuple]:
    cursor = Transaction().connection.cursor()
    cursor.execute(*query)
    return list(cursor)


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

    if _sqlite():
        Transaction().connection.create_function("station_seconds", 2, _seconds_between, deterministic=True)
    else:
        # For this transaction only (it reads and ends): the percentiles sort every stage time of
        # the window in memory, not in temporary files (PostgreSQL's default is 4 MB per sort); and
        # whole-window joins hash both sides: the planner cannot estimate a range on an expression
        # like the RMA's issue time (COALESCE), guesses a few hundred rows and would otherwise probe
        # the moves' index once per return; no JIT compilation: at 100,000 units the cycle's query
        # passes its cost threshold and compiling it (~0.1 s of CPU) costs more than it saves; and
        # no parallel workers: they answer sooner only while a second core is free and cost ~10 %
        # more CPU in all (starting them, passing rows back), which a busy ERP host pays.
        cursor = Transaction().connection.cursor()
        cursor.execute("SET LOCAL work_mem = '64MB'")
        cursor.execute("SET LOCAL enable_nestloop = off")
        cursor.execute("SET LOCAL jit = off")
        cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
    node_id = None
    if node_code:
        loc = pool.get("stock.location").__table__()
        found = _fetch(loc.select(loc.id, where=(loc.code == node_code) & (loc.type == "warehouse")))
        if not found:
            notes.append(f"no warehouse has the code {node_code!r}: nothing to count")
            node_id = -1
        else:
            node_id = found[0][0]
    scope = Scope(pool, node_id, station, family)
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
    figures["reasons"] = _reasons(scope, start, end, notes)
    figures["cycle"] = _cycle(scope, start, end, notes)
    figures["sla"] = _sla(scope, start, end, sla, notes)
    figures["recovery"] = _recovery(scope, start, end, factors, notes)
    figures["exposure"] = _exposure(scope, as_of)
    figures["backlog"] = _backlog(pool, scope, as_of)
    figures["pack"] = _pack(pool, start, end, as_of, station, node_id)
    refused = refusals_by_station(pool, start, end)
    figures["pack"]["wrong_items_stopped"] = sum(
        codes.get("wrong_item", 0) for name, codes in refused.items() if not station or name == station
    )
    figures["stations"] = _stations(pool, now, refused)
    figures["alerts"] = pool.get("quality.alert").station_open_alerts()
    figures["notes"] = notes
    return figures


def _reasons(scope: Scope, start, end, notes) -> dict:
    r, m, sale = scope.r, scope.m, scope.sale
    where = _all(
        [
            scope.issued >= start,
            scope.issued < end,
            r.state != "cancelled",
            m.state != "cancelled",
            *scope.filters(r.station_received_station),
        ]
    )
    # The returns counted: those with a line counted above (one query without the lines' join).
    returned = [
        scope.issued >= start,
        scope.issued < end,
        r.state != "cancelled",
        scope.has_incoming(live=True),
        *scope.filters(r.station_received_station, product=False),
    ]
    query = scope.lines("incoming").join(sale, "LEFT", condition=r.returned_sale == sale.id)
    # Grouped by the product's id, not its code and family: hashing integers, not sorting text; the
    # few products found are named after.
    columns = [r.return_reason, m.product, sale.station_channel]
    by = {key: defaultdict(float) for key in ("reason", "sku", "family", "channel")}
    sku_reason: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    groups = _fetch(query.select(*columns, Sum(m.quantity), where=where, group_by=columns))
    named = _products({product for _, product, _, _ in groups})
    for reason, product, channel, units in groups:
        sku, family = named[product]
        units = units or 0.0
        reason, family, channel = reason or "unknown", family or "unknown", channel or "unknown"
        by["reason"][reason] += units
        by["sku"][sku] += units
        by["family"][family] += units
        by["channel"][channel] += units
        sku_reason[sku][reason] += units
    ((rmas,),) = _fetch(r.select(Count(Literal(1)), where=_all(returned)))
    units = sum(by["reason"].values())
    if not units:
        notes.append("no return was issued in this window (for these filters)")

    def table(counts):
        return [
            {"key": key, "units": count, "share": share(count, units)}
            for key, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        ]

    sold = _sold(scope, start, end)
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
        "returns": int(rmas or 0),
        "units": units,
        "by_reason": table(by["reason"]),
        "by_sku": table(by["sku"]),
        "by_family": table(by["family"]),
        "by_channel": table(by["channel"]),
        "return_rate": rates,
        "by_sku_reason": {sku: dict(sorted(r.items())) for sku, r in sorted(sku_reason.items())},
    }


def _products(ids: set[int]) -> dict[int, tuple[str, str | None]]:
    """Each product's SKU and family."""
    pool = Pool()
    p, t = pool.get("product.product").__table__(), pool.get("product.template").__table__()
    found: dict[int, tuple[str, str | None]] = {}
    ordered = sorted(ids)
    for chunk in range(0, len(ordered), 1000):
        for product, code, family in _fetch(
            p.join(t, condition=p.template == t.id).select(
                p.id, p.code, t.station_family, where=p.id.in_(ordered[chunk : chunk + 1000])
            )
        ):
            found[product] = (code, family)
    return found


def _sold(scope: Scope, start, end) -> dict[str, float]:
    """Units sold per SKU: lines of confirmed (or later) sales whose sale date is in the window."""
    pool = Pool()
    s, line = pool.get("sale.sale").__table__(), pool.get("sale.line").__table__()
    p, t = pool_table(scope.p), pool_table(scope.t)
    where = [
        s.state.in_(["confirmed", "processing", "done"]),
        line.type == "line",
        s.sale_date >= start.date(),
        s.sale_date < end.date(),
    ]
    if scope.family:
        where.append(t.station_family == scope.family)
    query = (
        line.join(s, condition=line.sale == s.id)
        .join(p, condition=line.product == p.id)
        .join(t, condition=p.template == t.id)
    )
    sold: dict[str, float] = defaultdict(float)
    for sku, quantity in _fetch(
        query.select(p.code, Sum(line.quantity), where=_all(where), group_by=[p.code])
    ):
        sold[sku] += quantity or 0
    return sold


def _stage_queries(scope: Scope, start, end):
    """Two queries of the stage times in the window: per return ``(node, station, hours)`` of RMA
    issued -> received; per inventory line ``(node, station, received -> inspected, inspected -> put
    away, issued -> put away)``, each NULL when that stage did not end in the window."""
    r, m = scope.r, scope.m
    node = scope.wh.code
    received, inspected, put_away = r.station_received_at, m.station_inspected_at, m.station_put_away_at

    def hours_(later, earlier):
        return seconds(later, earlier) / Literal(3600.0)

    returns = r.join(scope.wh, "LEFT", condition=r.warehouse == scope.wh.id)
    receipts = returns.select(
        node.as_("node"),
        r.station_received_station.as_("station"),
        hours_(received, scope.issued).as_("hours"),
        where=_all(
            [
                received >= start,
                received < end,
                scope.has_incoming(),
                *scope.filters(r.station_received_station, product=False),
            ]
        ),
    )
    was_inspected = (received != Null) & (inspected >= start) & (inspected < end)
    was_put_away = (inspected != Null) & (put_away >= start) & (put_away < end)
    lines = scope.lines("inventory", warehouse=True).select(
        node.as_("node"),
        m.station_inspected_station.as_("station"),
        Case((was_inspected, hours_(inspected, received))).as_("inspected"),
        Case((was_put_away, hours_(put_away, inspected))).as_("put_away"),
        Case((was_put_away, hours_(put_away, scope.issued))).as_("end_to_end"),
        where=_all([was_inspected | was_put_away, *scope.filters(m.station_inspected_station)]),
    )
    return receipts, lines


def _cycle(scope: Scope, start, end, notes) -> dict:
    """Median and 90th percentile per stage, per (node, stage) and per (station, stage)."""
    receipts, lines = _stage_queries(scope, start, end)
    overall: dict[str, dict] = {}
    by_node: dict[tuple, dict] = {}
    by_station: dict[tuple, dict] = {}
    if _sqlite():
        groups: dict[tuple, list[float]] = defaultdict(list)

        def add(stage, node, station, value):
            groups[("", stage)].append(value)
            groups[("node", node or "?", stage)].append(value)
            groups[("station", station or "?", stage)].append(value)

        for node, station, value in _fetch(receipts):
            add(STAGES[0], node, station, value)
        for node, station, *values in _fetch(lines):
            for stage, value in zip(STAGES[1:], values, strict=True):
                if value is not None:
                    add(stage, node, station, value)
        for key, values in groups.items():
            summary = stage_summary(values)
            if key[0] == "":
                overall[key[1]] = summary
            else:
                (by_node if key[0] == "node" else by_station)[key[1:]] = summary
    else:
        # One scan of the lines (a materialised CTE), one sort per grouping set.
        lines_sql, lines_params = tuple(lines)
        receipts_sql, receipts_params = tuple(receipts)
        unpivot = " UNION ALL ".join(
            f"SELECT {index}, node, station, {column} FROM stage_lines WHERE {column} IS NOT NULL"
            for index, column in ((1, "inspected"), (2, "put_away"), (3, "end_to_end"))
        )
        cursor = Transaction().connection.cursor()
        cursor.execute(
            f"WITH stage_lines AS MATERIALIZED ({lines_sql})"
            " SELECT stage, node, station, GROUPING(node), GROUPING(station), COUNT(*),"
            " PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY hours),"
            " PERCENTILE_DISC(0.9) WITHIN GROUP (ORDER BY hours)"
            # Byte order for the group keys: sorting by the locale's collation costs more than the rest.
            " FROM (SELECT stage, COALESCE(node, '?') COLLATE \"C\" AS node,"
            " COALESCE(station, '?') COLLATE \"C\" AS station, hours"
            f" FROM (SELECT 0 AS stage, node, station, hours FROM ({receipts_sql}) AS receipts"
            f" UNION ALL {unpivot}) AS stage_rows) AS stage_times"
            " GROUP BY GROUPING SETS ((stage), (stage, node), (stage, station))",
            [*lines_params, *receipts_params],
        )
        for index, node, station, no_node, no_station, count, median, p90 in cursor:
            stage = STAGES[index]
            summary = {
                "count": int(count),
                "median_hours": round(float(median), 2) if median is not None else None,
                "p90_hours": round(float(p90), 2) if p90 is not None else None,
            }
            if no_node and no_station:
                overall[stage] = summary
            elif not no_node:
                by_node[(node, stage)] = summary
            else:
                by_station[(station, stage)] = summary
    if not overall.get("issued_to_received") and not overall.get("received_to_inspected"):
        notes.append("no return was received or inspected in this window: no cycle times")

    def split(groups, label):
        return [{label: key, "stage": stage, **summary} for (key, stage), summary in sorted(groups.items())]

    return {
        "stages": [{"stage": stage, **overall.get(stage, stage_summary([]))} for stage in STAGES],
        "by_node": split(by_node, "node"),
        "by_station": split(by_station, "station"),
    }


def _sla(scope: Scope, start, end, sla, notes) -> dict:
    r, m = scope.r, scope.m
    put_away, received = m.station_put_away_at, r.station_received_at
    within = (received != Null) & (seconds(put_away, received) <= sla * 3600)
    ((restocked, inside),) = _fetch(
        scope.lines("inventory", location=True).select(
            Sum(m.quantity),
            Sum(Case((within, m.quantity), else_=Literal(0.0))),
            where=_all(
                [
                    scope.loc.inventory_state == "sellable",
                    put_away >= start,
                    put_away < end,
                    *scope.filters(m.station_inspected_station),
                ]
            ),
        )
    )
    restocked, inside = _number(restocked), _number(inside)
    if not restocked:
        notes.append("no unit was restocked in this window: no put-away share")
    return {"target_hours": sla, "restocked": restocked, "within": inside, "share": share(inside, restocked)}


def _recovery(scope: Scope, start, end, factors, notes) -> dict:
    m, t, loc, source = scope.m, scope.t, scope.loc, scope.source
    inspected = m.station_inspected_at
    query = scope.lines("inventory", location=True, products=True).join(
        source,
        "LEFT",
        condition=(source.station_return == m.station_return)
        & (m.origin == Concat(MOVE_REF, Cast(source.id, "VARCHAR"))),
    )
    price = Coalesce(m.unit_price, source.unit_price)
    columns = [loc.inventory_state, t.station_family, price]
    by_path = {path: [0.0, Decimal(0), Decimal(0)] for path in factors}
    by_family: dict[str, list] = defaultdict(lambda: [0.0, Decimal(0), Decimal(0)])
    for state, family, unit_price, units in _fetch(
        query.select(
            *columns,
            Sum(m.quantity),
            where=_all(
                [
                    m.station_disposition == "disposed",
                    inspected >= start,
                    inspected < end,
                    *scope.filters(m.station_inspected_station),
                ]
            ),
            group_by=columns,
        )
    ):
        units = units or 0.0
        path = PATHS.get(state) or "restock"
        value = _decimal(unit_price) * Decimal(str(units))
        recovered = value * factors.get(path, Decimal(0))
        for bucket_ in (
            by_path.setdefault(path, [0.0, Decimal(0), Decimal(0)]),
            by_family[family or "unknown"],
        ):
            bucket_[0] += units
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


def _exposure(scope: Scope, as_of) -> dict:
    r = scope.r
    refunded, received = r.refunded_at, r.station_received_at
    conditions = [
        r.state != "cancelled",
        r.refund_amount != Null,
        Cast(r.refund_amount, "NUMERIC") != 0,  # SQLite: a BLOB is never 0
        refunded != Null,
        refunded <= as_of,
        (received == Null) | (received > as_of),
    ]
    if scope.node_id is not None:
        conditions.append(r.warehouse == scope.node_id)
    if scope.station:
        conditions.append(
            (r.station_received_station == Null) | (r.station_received_station == scope.station)
        )
    ((value, *ages),) = _fetch(
        r.select(Sum(r.refund_amount), *aged_columns(refunded, as_of), where=_all(conditions))
    )
    aged_ = aged_row(ages, as_of)
    return {"value": money(_decimal(value)), "returns": aged_["count"], **aged_}


def _backlog(pool, scope: Scope, as_of) -> dict:
    r, m, p, loc = scope.r, scope.m, scope.p, scope.loc
    inspected = m.station_inspected_at
    weight = Greatest(Literal(1), Floor(m.quantity))
    quarantine = aged([])
    quarantine_sku = []
    for sku, *values in _fetch(
        scope.lines("inventory", location=True, products=True).select(
            p.code,
            *aged_columns(inspected, as_of, weight),
            where=_all(
                [
                    loc.inventory_state == "quarantine",
                    inspected != Null,
                    inspected <= as_of,
                    m.station_disposition == "disposed",
                    *scope.filters(m.station_inspected_station),
                ]
            ),
            group_by=[p.code],
        )
    ):
        part = aged_row(values, as_of)
        quarantine = _add_aged(quarantine, part)
        quarantine_sku.append({"sku": sku, "units": part["count"], "oldest_days": part["oldest_days"]})

    # Received returns still open whose box did not match: a line missing (cancelled) or an item
    # nobody expected (a line with no origin).
    incoming = pool_table(m)
    unmatched = Exists(
        incoming.select(
            Literal(1),
            where=(incoming.station_return == r.id)
            & ((r.warehouse_input == Null) | (incoming.from_location != r.warehouse_input))
            & (
                (incoming.state == "cancelled")
                | ((incoming.state != "cancelled") & ((incoming.origin == Null) | (incoming.origin == "")))
            ),
        )
    )
    received = r.station_received_at
    (mismatched,) = _fetch(
        r.select(
            *aged_columns(received, as_of),
            where=_all(
                [
                    r.state == "received",
                    received != Null,
                    received <= as_of,
                    unmatched,
                    *scope.filters(r.station_received_station, product=False),
                ]
            ),
        )
    )

    a = pool.get("returns.station.approval").__table__()
    ret = pool_table(r)
    approvals = []
    for requested_at, station_, return_id, warehouse in _fetch(
        a.join(ret, "LEFT", condition=a.return_shipment == ret.id).select(
            a.requested_at, a.station, a.return_shipment, ret.warehouse, where=a.state == "pending"
        )
    ):
        requested = parse_station_time(requested_at)
        if requested is None or requested > as_of or (scope.station and station_ != scope.station):
            continue
        if scope.node_id is not None and return_id and warehouse != scope.node_id:
            continue
        approvals.append(as_of - requested)
    return {
        "quarantine": quarantine,
        "approvals": aged(approvals),
        "mismatched_receipts": aged_row(mismatched, as_of),
        "quarantine_by_sku": sorted(quarantine_sku, key=lambda row: row["sku"]),
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
    # Station clocks are ISO text: the SQL keeps the window's days (and one either side, for a clock
    # written with an offset), Python the exact instants.
    first, last = (start - DAY).date().isoformat(), (end + DAY).date().isoformat()
    packs = [
        row
        for row in _rows(
            op.select(
                op.created_at.as_("created_at"),
                op.station.as_("station"),
                where=(op.type == "confirm_pack") & (op.created_at >= first) & (op.created_at < last),
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
                where=(a.kind == "short_pack") & (a.requested_at >= first) & (a.requested_at < last),
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
