"""A day on the floor: many real station processes, faults all day, and the ERP's stock checked
against the truth at the end.

    .venv/bin/python bench/day.py --seed 7 --stations 4 --parcels 60 --outages 1 --crashes 1

Deterministic from ``--seed``: the plan (parcels with the demo's mix of families, lots, serials
and mismatches; orders to pack; who does what at which station) is a pure function of the seed,
the counts and the day. The run:

1. serves a fresh copy of the seeded demo ERP (embedded SQLite; or ``--erp-url`` / ``--postgresql``,
   see ``bench/day_postgres.py``) after writing the day's returns and orders into it, in-process
   through Tryton (sales delivered, returns expected, orders assigned, with the stock they need);
2. reads the ERP's stock per product, lot and location (Tryton's own quantities) before the day;
3. starts ``--stations`` station processes (``bench/day.py station``), each with its own data
   directory, station id and store, replaying its share of the day through ``StationSession`` (the
   replay path the app and ``station replay`` use) and syncing through the real engine and connector
   after every task; every ``--proxy-every``-th station goes through a loopback TCP proxy that drops
   the ERP's answer to some ``apply_batch`` calls (the ERP applied it, the station never hears);
4. injects faults: the ERP stopped and started again ``--outages`` times, a station SIGKILLed while
   it syncs and started again ``--crashes`` times, and ``--duplicates`` parcels received at two
   stations (one must apply, the other must end as a conflict a person sees, or be refused);
5. lets every station drain, then checks: each operation a station holds as done has exactly one
   marker in the ERP, nothing is left pending or failed, every conflict is a planned duplicate with
   its reason kept; and the ERP's quantities per (product, lot, location) equal the stock before the
   day plus what the day physically did (units received into the input zone, then to the location
   of their disposition; packed units to the output zone).

Prints a table; exits 1 on any difference, naming product, lot, location, expected and found and
the operations that touched that product; ``--truth-out`` writes the expected quantities as JSON,
``--json-out`` the figures. Every server and station it started is stopped, also on Ctrl-C/SIGTERM.
Traffic stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import random
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sync.common.pins import hash_pin  # noqa: E402
from sync.erp.address import ErpAddress  # noqa: E402
from sync.erp.tryton import demo as demo_data  # noqa: E402
from sync.erp.tryton.stations import add_station  # noqa: E402

RECEIVER = ("U-RECV-1", "1111")
INSPECTOR = ("U-INSP-1", "2222")
PACKER = ("U-PACK-1", "3333")
SUPERVISOR = ("U-SUPV-1", "444444")
# A person's time for one task (receive a parcel: open it, scan the RMA and each item, confirm;
# inspect a parcel's units: photos, grade, checklist; pack an order): about a minute on a returns
# floor, 60 tasks an hour. The day waits this long between a station's tasks, ×0.5–1.5 at random.
PERSON_PACE = 60.0

KINDS = (  # parcel kind -> weight in the day's mix
    ("plain", 40),
    ("two_lines", 12),
    ("lot", 10),
    ("serial", 10),
    ("wrong_item", 5),
    ("extra", 5),
    ("missing", 5),
    ("wrong_lot", 4),
    ("expired_lot", 4),
    ("wrong_serial", 5),
)
DISPOSITION_CODES = {
    "restock": "STO",
    "refurbish": "REFURB",
    "quarantine": "QUAR",
    "return_to_vendor": "RTV",
    "dispose": "SCRAP",
}
FIRST_NUMBER = 200001  # the day's RMAs are RMA-200001…, clear of the demo's RMA-000101…


# --- the plan -----------------------------------------------------------------------------------
def make_plan(
    *, seed: int, parcels: int, orders: int, stations: int, duplicates: int, refuse_rate: float
) -> dict[str, Any]:
    """The whole day as plain JSON data: the same arguments (and day) give the same plan."""
    rng = random.Random(seed)
    base = demo_data.plan()
    by_family: dict[str, list[demo_data.ProductSpec]] = defaultdict(list)
    for product in base.products:
        by_family[product.family].append(product)
    lots = {p.code: base.lots_of(p.code) for p in by_family["health"]}  # expired, short, long
    kinds = [k for k, _ in KINDS]
    weights = [w for _, w in KINDS]
    day_parcels = []
    for index in range(parcels):
        number = FIRST_NUMBER + index
        kind = rng.choices(kinds, weights)[0]
        lines: list[list[Any]] = []
        box: list[list[Any]] = []
        if kind in ("lot", "wrong_lot", "expired_lot"):
            product = rng.choice(by_family["health"])
            expired, short, long = lots[product.code]
            lines = [[product.code, 1, long.number]]
            inside = {"lot": long, "wrong_lot": short, "expired_lot": expired}[kind]
            box = [[product.code, 1, inside.number]]
        elif kind in ("serial", "wrong_serial"):
            product = rng.choice(by_family["electronics"])
            sold = f"SND{seed % 1000:03d}{index:05d}"
            lines = [[product.code, 1, sold]]
            box = [[product.code, 1, sold if kind == "serial" else f"SNX{seed % 1000:03d}{index:05d}"]]
        else:
            family = rng.choice(("apparel", "footwear", "accessories"))
            first = rng.choice(by_family[family])
            lines = [[first.code, 1, None]]
            if kind in ("two_lines", "missing", "extra"):
                other = rng.choice([p for p in by_family["accessories"] if p.code != first.code])
                if kind != "extra":
                    lines.append([other.code, 1, None])
            box = [list(line) for line in lines]
            if kind == "missing":
                box = box[:1]
            elif kind == "extra":
                taken = {line[0] for line in lines}
                box.append(
                    [rng.choice([p for p in by_family["accessories"] if p.code not in taken]).code, 1, None]
                )
            elif kind == "wrong_item":
                siblings = [p for p in by_family[family] if p.code != first.code]
                box[0] = [rng.choice(siblings).code, 1, None]
        day_parcels.append(
            {
                "rma": f"RMA-{number:06d}",
                "number": f"RET-{number}",
                "order": f"SO-{number}",
                "tracking": "1Z"
                + "".join(rng.choice("0123456789ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(16)),
                "customer": rng.choice(base.customers),
                "reason": "wrong size" if kind == "wrong_item" else rng.choice(demo_data.REASONS),
                "kind": kind,
                "lines": lines,
                "box": box,
                "station": index % stations,
                "inspect": True,
                "duplicate_at": None,
            }
        )
    # Two stations given the same parcel: received at both (first thing), never inspected.
    for parcel in day_parcels[: min(duplicates, len(day_parcels))] if stations > 1 else []:
        parcel["inspect"] = False
        parcel["duplicate_at"] = (parcel["station"] + 1) % stations
    day_orders = []
    for index in range(orders):
        number = FIRST_NUMBER + parcels + index
        family = rng.choice(("apparel", "footwear", "accessories"))
        chosen = rng.sample(by_family[family], k=1 + rng.random().__lt__(0.4))
        day_orders.append(
            {
                "order": f"SO-{number}",
                "shipment": f"OUT-{number}",
                "customer": rng.choice(base.customers),
                "lines": [[p.code, rng.choice((1, 1, 2)), None] for p in chosen],
                "station": index % stations,
            }
        )
    return {
        "seed": seed,
        "today": base.today.isoformat(),
        "stations": stations,
        "refuse_rate": refuse_rate,
        "parcels": day_parcels,
        "orders": day_orders,
    }


def station_tasks(plan: dict[str, Any], index: int) -> list[dict[str, Any]]:
    """What station ``index`` does, in order: its duplicate receipts first (so the two stations race
    for them), then its parcels (receive, then inspect) with its orders to pack in between."""
    tasks: list[dict[str, Any]] = []
    mine = [p for p in plan["parcels"] if p["station"] == index]
    dups = [p for p in plan["parcels"] if p["duplicate_at"] == index]
    for parcel in [p for p in mine if p["duplicate_at"] is not None] + dups:
        tasks.append({"kind": "receive", "rma": parcel["rma"]})
    orders = [o for o in plan["orders"] if o["station"] == index]
    regular = [p for p in mine if p["duplicate_at"] is None]
    every = max(1, len(regular) // max(1, len(orders))) if orders else 0
    for n, parcel in enumerate(regular):
        tasks.append({"kind": "receive", "rma": parcel["rma"]})
        tasks.append({"kind": "inspect", "rma": parcel["rma"]})
        if orders and (n + 1) % every == 0:
            tasks.append({"kind": "pack", "shipment": orders.pop(0)["shipment"]})
    tasks += [{"kind": "pack", "shipment": o["shipment"]} for o in orders]
    return tasks


# --- writing the day into the ERP (in-process Tryton) ----------------------------------------------
def seed_day(database: str, plan: dict[str, Any]) -> None:
    """Write the plan's returns (their sales delivered) and orders (assigned) into ``database``, with
    the stock their sales need. trytond must be configured for it in this process."""
    from decimal import Decimal

    from trytond.pool import Pool
    from trytond.transaction import Transaction, TransactionError

    Pool.start()
    pool = Pool(database)
    pool.init()
    base = demo_data.plan(today=dt.date.fromisoformat(plan["today"]))
    returns = [
        demo_data.ReturnSpec(
            p["rma"], p["tracking"], p["customer"], p["reason"], p["order"], p["number"],
            tuple(demo_data.Line(c, q, lot) for c, q, lot in p["lines"]),
            tuple(demo_data.Line(c, q, lot) for c, q, lot in p["box"]), p["kind"],
        )
        for p in plan["parcels"]
    ]  # fmt: skip
    orders = [
        demo_data.OrderSpec(
            o["order"], o["shipment"], o["customer"], tuple(demo_data.Line(*ln) for ln in o["lines"])
        )
        for o in plan["orders"]
    ]
    day = demo_data.DemoPlan(
        today=base.today, products=base.products, lots=base.lots, customers=base.customers,
        returns=returns, orders=orders, people=base.people,
    )  # fmt: skip
    extras: dict[str, object] = {"_lock_tables": ["stock_move"]}
    with Transaction().start(database, 0) as transaction:
        (company,) = pool.get("company.company").search([], limit=1)
        company_id = company.id
    while True:
        context = {"company": company_id, "_skip_warnings": True}
        with Transaction().start(database, 0, context=context, **extras) as transaction:
            try:
                writer = demo_data._Writer(pool, day, company_id, lambda line: None)
                Location = pool.get("stock.location")
                Product = pool.get("product.product")
                Lot = pool.get("stock.lot")
                Move = pool.get("stock.move")
                Party = pool.get("party.party")
                (writer.warehouse,) = Location.search([("code", "=", "WH")])
                (writer.supplier,) = Location.search([("code", "=", "SUP")])
                (writer.customer_location,) = Location.search([("code", "=", "CUS")])
                writer.products = {p.template.code: p for p in Product.search([])}
                writer.lots = {lot.number: lot for lot in Lot.search([])}
                writer.customers = {p.name: p for p in Party.search([("name", "in", base.customers)])}
                # Stock for every line sold or to pack (serials: a new unit each), before the sales.
                need = [ln for r in returns for ln in r.lines] + [ln for o in orders for ln in o.lines]
                new_lots = [
                    Lot(number=ln.lot, product=writer.products[ln.product])
                    for ln in need
                    if ln.lot and ln.lot not in writer.lots
                ]
                Lot.save(new_lots)
                writer.lots.update({lot.number: lot for lot in new_lots})
                moves = []
                for ln in need:
                    product = writer.products[ln.product]
                    moves.append(
                        Move(
                            product=product,
                            unit=product.default_uom,
                            quantity=ln.quantity,
                            lot=writer.lots[ln.lot] if ln.lot else None,
                            from_location=writer.supplier,
                            to_location=writer.warehouse.storage_location,
                            unit_price=product.cost_price or Decimal(1),
                            currency=writer.currency,
                            company=company_id,
                            effective_date=base.today - dt.timedelta(30),
                        )  # fmt: skip
                    )
                Move.save(moves)
                Move.do(moves)
                if returns:
                    writer.returns()
                if orders:
                    writer.orders()
            except TransactionError as exc:
                transaction.rollback()
                exc.fix(extras)
                continue
            transaction.commit()
            break


# --- the ERP's stock ------------------------------------------------------------------------------
class Erp:
    """Admin access to the ERP for the simulator's own checks (stations use their connector)."""

    def __init__(self, address: ErpAddress) -> None:
        self.address = address
        self._session: str | None = None

    def call(self, method: str, *params: Any) -> Any:
        from sync.erp.tryton.server import login, rpc

        if self._session is None:
            self._session = login(self.address)
        return rpc(self.address, method, *params, session=self._session, timeout=120)

    def read(self, model: str, domain: list, fields: list[str], context: dict | None = None) -> list[dict]:
        return self.call(f"model.{model}.search_read", domain, 0, None, None, fields, context or {})

    def locations(self) -> dict[str, int]:
        """The locations the day moves stock between, by code (the warehouse's zones and states)."""
        (wh,) = self.read(
            "stock.location", [("code", "=", "WH")], ["input_location", "output_location", "storage_location"]
        )
        by_id = {row["id"]: row["code"] for row in self.read("stock.location", [], ["code"])}
        codes = {by_id[wh["input_location"]], by_id[wh["output_location"]], by_id[wh["storage_location"]]}
        codes |= set(DISPOSITION_CODES.values())
        return {code: i for i, code in by_id.items() if code in codes}

    def stock(self) -> dict[tuple[str, str, str], float]:
        """Tryton's own quantities: {(product code, lot or "", location code): quantity} (nonzero)."""
        products = {
            p["id"]: p["code"] for p in self.read("product.product", [], ["code"], {"active_test": False})
        }
        out: dict[tuple[str, str, str], float] = {}
        for code, location in self.locations().items():
            context = {"locations": [location], "with_childs": False}
            totals = {
                row["id"]: row["quantity"] for row in self.read("product.product", [], ["quantity"], context)
            }
            for lot in self.read("stock.lot", [], ["number", "product", "quantity"], context):
                if lot["quantity"]:
                    out[(products[lot["product"]], lot["number"], code)] = lot["quantity"]
                    totals[lot["product"]] -= lot["quantity"]
            for product_id, quantity in totals.items():
                if abs(quantity) > 1e-9:
                    out[(products[product_id], "", code)] = quantity
        return out


# --- the station process ------------------------------------------------------------------------------
class _TimedConnector:
    """The real connector, timing each apply_batch from the batch sent to its result received
    (time the operations waited in the outbox before it is not counted), and each pull."""

    def __init__(self, inner: Any, sink: list[list[Any]]) -> None:
        self.inner = inner
        self.sink = sink

    def apply_batch(self, ops: list, read_photo: Any) -> list:
        started = time.perf_counter()
        ok = False
        try:
            results = self.inner.apply_batch(ops, read_photo)
            ok = True
            return results
        finally:
            self.sink.append([time.time(), time.perf_counter() - started, len(ops), ok, "apply"])

    def pull(self, cursors: dict[str, str]) -> Any:
        started = time.perf_counter()
        ok = False
        try:
            result = self.inner.pull(cursors)
            ok = True
            return result
        finally:
            self.sink.append([time.time(), time.perf_counter() - started, 0, ok, "pull"])

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def _events(lines: list[dict[str, Any]]) -> list:
    from app.workflows.replay import parse_events

    events, malformed = parse_events(json.dumps(line) for line in lines)
    assert not malformed, malformed
    return events


def _unit_scans(
    spec: demo_data.ProductSpec, lot: str | None, lots: dict[str, demo_data.LotSpec]
) -> list[str]:
    if spec.tracking == "lot":
        expiry = lots[lot].expiration_date if lot in lots else None
        return ["]d201" + spec.barcode.zfill(14) + (f"17{expiry:%y%m%d}" if expiry else "") + "10" + lot]
    if spec.tracking == "serial":
        return [spec.barcode, lot]
    return [spec.barcode]


def _task_events(task: dict[str, Any], plan: dict[str, Any], work: Path, rng: random.Random) -> list[dict]:
    base = demo_data.plan(today=dt.date.fromisoformat(plan["today"]))
    products = {p.code: p for p in base.products}
    lots = {lot.number: lot for lot in base.lots}
    if task["kind"] == "pack":
        order = next(o for o in plan["orders"] if o["shipment"] == task["shipment"])
        scans = [{"scan": products[c].barcode} for c, q, _ in order["lines"] for _ in range(q)]
        return [
            {"signin": dict(zip(("badge", "pin"), PACKER, strict=True))}, {"task": "pack"},
            {"scan": order["shipment"]}, *scans, {"confirm": {}}, {"signout": {}},
        ]  # fmt: skip
    parcel = next(p for p in plan["parcels"] if p["rma"] == task["rma"])
    if task["kind"] == "receive":
        scans = [
            {"scan": s}
            for c, q, lot in parcel["box"]
            for _ in range(q)
            for s in _unit_scans(products[c], lot, lots)
        ]
        reason = (
            {"kind": parcel["kind"]}
            if parcel["kind"] not in ("plain", "two_lines", "lot", "serial")
            else None
        )
        confirm = {"reason": f"box differs from the return ({parcel['kind']})"} if reason else {}
        return [
            {"signin": dict(zip(("badge", "pin"), RECEIVER, strict=True))}, {"task": "receive"},
            {"scan": parcel["rma"]}, *scans, {"confirm": confirm}, {"signout": {}},
        ]  # fmt: skip
    from sync.common.families import family

    events: list[dict] = [
        {"signin": dict(zip(("badge", "pin"), INSPECTOR, strict=True))},
        {"task": "inspect"},
        {"scan": parcel["rma"]},
    ]
    for n, (code, quantity, lot) in enumerate(parcel["box"]):
        spec = products[code]
        fam = family(spec.family)
        for _ in range(quantity):
            events += [{"scan": s} for s in _unit_scans(spec, lot, lots)]
            for k in range(fam.photos_required):
                photo = work / "photos" / f"{parcel['rma']}-{n}-{k}.jpg"
                photo.parent.mkdir(parents=True, exist_ok=True)
                # A tiny JPEG-framed file, unique per unit and shot (content-addressed by the store).
                photo.write_bytes(b"\xff\xd8\xff\xe0" + f"{parcel['rma']} {n} {k}".encode() + b"\xff\xd9")
                events.append({"photo": {"path": str(photo), "mime": "image/jpeg"}})
            events.append({"grade": rng.choice("AAABBC")})
            answers: dict[str, Any] = {}
            for item in fam.checklist:
                if item.derived:
                    continue
                if item.kind == "choice":
                    answers[item.name] = rng.choice(item.choices[:2])
                elif item.kind == "yes_no":
                    answers[item.name] = item.good if rng.random() < 0.85 else not item.good
            events.append({"check": answers})
            events.append({"confirm": {}})
    events.append({"signout": {}})
    return events


def run_station(args: argparse.Namespace) -> int:
    """One station process: play its tasks through StationSession, sync after each, then drain."""
    from app.workflows.replay import run_events
    from app.workflows.station import StationSession
    from sync.engine import SyncEngine
    from sync.erp.address import ErpAddress
    from sync.erp.tryton.connector import TrytonConnector
    from sync.store import Store

    plan = json.loads(Path(args.plan).read_text())
    work = Path(args.data_dir)
    work.mkdir(parents=True, exist_ok=True)
    station_id = f"day-{args.index:02d}"
    address = ErpAddress.parse(os.environ["DAY_ERP_URL"])
    latencies: list[list[float]] = []
    logins_file = work / "logins.json"  # a station started again after a crash counts on
    logins = [json.loads(logins_file.read_text()) if logins_file.exists() else 0]

    def connector() -> _TimedConnector:
        inner = TrytonConnector(address, timeout=args.timeout)
        login = inner.rpc.login

        def counted(*a: Any, **k: Any) -> None:
            logins[0] += 1
            login(*a, **k)

        inner.rpc.login = counted  # type: ignore[method-assign]
        return _TimedConnector(inner, latencies)

    store = Store.open(work / "station.sqlite", photos_dir=work / "photos-store")
    engine = SyncEngine(
        store,
        connector,
        station=station_id,
        batch_size=args.batch,
    )
    progress_file = work / "progress.json"
    progress = (
        json.loads(progress_file.read_text()) if progress_file.exists() else {"done": 0, "unexpected": []}
    )
    lat_file = work / "latencies.json"
    if lat_file.exists():
        latencies.extend(json.loads(lat_file.read_text()))
    for draft in store.drafts():  # a task cut by a crash is played again from its start
        store.clear_draft(draft["key"])

    def say(line: str) -> None:
        print(line, flush=True)

    next_pull = [0.0]

    def sync(*, pull: bool | None = None) -> Any:
        # Push after every task; pull as the app's engine does, every --pull-every seconds
        # (0: after every push too), since the reference data rarely changes under a station.
        say("SYNC")
        if pull is None:
            pull = time.monotonic() >= next_pull[0]
        report = engine.sync_once(pull=pull)
        if pull and report.pulled:
            next_pull[0] = time.monotonic() + args.pull_every
        lat_file.write_text(json.dumps(latencies))
        logins_file.write_text(json.dumps(logins[0]))
        return report

    deadline = time.monotonic() + args.pull_timeout
    while store.is_empty():
        report = engine.sync_once(push=False)
        if not store.is_empty():
            break
        if time.monotonic() > deadline:
            say(f"FATAL no reference data: {report.errors}")
            return 2
        time.sleep(0.5)
    tasks = station_tasks(plan, args.index)
    # The pull carries no PIN hash: each person is taken to have signed in here online before
    # (the verifier the ERP would have given), so faults never block a sign-in.
    for person in demo_data.PEOPLE:
        store.save_verifier(person.badge, hash_pin(person.pin), "2999-01-01T00:00:00Z")
    session = StationSession(store, station_id)
    rng = random.Random(f"{plan['seed']}:{args.index}")
    for number, task in enumerate(tasks):
        task_rng = random.Random(f"{plan['seed']}:{args.index}:{number}")
        if number < progress["done"]:
            continue
        events = _events(_task_events(task, plan, work, task_rng))
        report = run_events(session, events, base_dir=work)
        requests = [op for _, op in report.operations if op.type == "request_approval"]
        if requests:
            decisions: list[dict] = [
                {"signin": dict(zip(("badge", "pin"), SUPERVISOR, strict=True))},
                {"task": "supervise"},
            ]
            for op in requests:
                refuse = task_rng.random() < plan["refuse_rate"]
                verb = "refuse" if refuse else "approve"
                decisions.append(
                    {verb: {"request": op.payload["request_id"], "note": f"day: {verb}d at {station_id}"}}
                )
            decisions.append({"signout": {}})
            decided = run_events(session, _events(decisions), base_dir=work)
            report.results.extend(decided.results)
        unexpected = [
            {
                "task": task,
                "event": r.event.raw,
                "code": getattr(r.outcome, "code", None),
                "message": r.outcome.message,
            }
            for r in report.unexpected
        ]
        if (
            unexpected
            and task["kind"] == "receive"
            and any(u["code"] == "already_received" for u in unexpected)
        ):
            # the other station's receipt of a shared parcel reached this one first: refused, as it should
            unexpected = [dict(u, refused_duplicate=True) for u in unexpected]
        progress["done"] = number + 1
        progress["unexpected"] += unexpected
        progress_file.write_text(json.dumps(progress))
        say(f"TASK {number + 1}/{len(tasks)}")
        sync()
        if args.pace:
            time.sleep(args.pace * rng.uniform(0.5, 1.5))
    # Drain: until nothing deliverable is left (the ERP may be down for a while).
    drain_deadline = time.monotonic() + args.drain_timeout
    while True:
        report = sync()
        counts = store.queue_counts()
        if report.ok and counts["pending"] + counts["sending"] == 0:
            break
        if time.monotonic() > drain_deadline:
            say(f"DRAIN-TIMEOUT {counts}")
            break
        time.sleep(0.3)
    (work / "result.json").write_text(
        json.dumps(
            {
                "station": station_id,
                "tasks": len(tasks),
                "drained_at": time.time(),
                "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                "logins": logins[0],
                "counts": store.queue_counts(),
            }
        )
    )
    store.close()
    say("DONE")
    return 0


# --- a proxy that loses answers ------------------------------------------------------------------------
class DroppingProxy:
    """Loopback TCP proxy to the ERP: forwards everything, except that every ``every``-th
    ``apply_batch`` request has its answer dropped and its connection closed (the ERP applied it)."""

    def __init__(self, upstream: tuple[str, int], every: int) -> None:
        self.upstream = upstream
        self.every = every
        self.seen = 0
        self.dropped = 0
        self.server = socket.socket()
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(256)
        self.port = self.server.getsockname()[1]
        self._lock = threading.Lock()
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.upstream, timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()  # the ERP is down: the station sees a refused/closed connection
                continue
            state = {"drop": False}
            threading.Thread(target=self._pipe, args=(client, upstream, state, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, state, False), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, state: dict, outbound: bool) -> None:
        try:
            while data := src.recv(65536):
                if outbound and b"apply_batch" in data:
                    with self._lock:
                        self.seen += 1
                        state["drop"] = self.seen % self.every == 0
                if not outbound and state["drop"]:
                    with self._lock:
                        self.dropped += 1
                    break  # the answer is lost: close both sides
                dst.sendall(data)
        except OSError:
            pass
        for sock in (src, dst):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()

    def close(self) -> None:
        self._closed = True
        with contextlib.suppress(OSError):
            self.server.close()


# --- the day ----------------------------------------------------------------------------------------------
@dataclass
class Station:
    index: int
    data_dir: Path
    url: str
    process: subprocess.Popen | None = None
    finished: bool = False
    kill_on_sync: bool = False
    crashes: int = 0
    tasks_done: int = 0
    tasks: int = 0
    lines: list[str] = field(default_factory=list)


class CpuSampler:
    """CPU used by what the day started, by part (stations, the Tryton servers, PostgreSQL), read
    from /proc every second over this process's descendants: where the day saturates."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self._last: dict[int, tuple[str, float]] = {}
        self._stop = threading.Event()
        self._tick = os.sysconf("SC_CLK_TCK")
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.started = time.monotonic()
        self.ended: float | None = None

    def start(self) -> CpuSampler:
        self._thread.start()
        return self

    def stop(self) -> dict[str, float]:
        self._stop.set()
        self._thread.join(5)
        self.ended = time.monotonic()
        wall = max(1e-9, self.ended - self.started)
        return {part: round(used / wall, 2) for part, used in sorted(self.seconds.items())}

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            with contextlib.suppress(Exception):
                self._sample()

    def _sample(self) -> None:
        parents: dict[int, int] = {}
        stats: dict[int, tuple[str, float]] = {}
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                raw = Path(f"/proc/{entry.name}/stat").read_text()
                cmdline = Path(f"/proc/{entry.name}/cmdline").read_bytes()
            except OSError:
                continue
            comm = raw[raw.index("(") + 1 : raw.rindex(")")]
            fields = raw[raw.rindex(")") + 2 :].split()
            pid = int(entry.name)
            parents[pid] = int(fields[1])
            if b"\x00station\x00--plan\x00" in cmdline:
                part = "stations"
            elif comm.startswith("postgres"):
                part = "postgresql"
            else:
                part = "erp"
            stats[pid] = (part, (int(fields[11]) + int(fields[12])) / self._tick)
        for pid in descendants(parents, os.getpid()):
            part, used = stats[pid]
            before = self._last.get(pid, (part, 0.0))[1]
            self.seconds[part] += max(0.0, used - before)
            self._last[pid] = (part, used)


class Day:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.children: list[Any] = []  # servers and processes to stop, whatever happens
        self.log = print if not args.quiet else (lambda *a, **k: None)
        self.events: list[tuple[float, str]] = []
        self.lock = threading.Lock()

    def note(self, what: str) -> None:
        self.events.append((time.time(), what))
        self.log(f"[day +{time.monotonic() - self.t0:6.1f}s] {what}", flush=True)

    # -- the ERP
    def start_erp(self, work: Path, plan: dict[str, Any]) -> tuple[Any, list[ErpAddress]]:
        """Write the day into a fresh ERP database and serve it; (the ERP, one address per server)."""
        from sync.erp.tryton.server import DATABASE, ErpProcess, database_file

        seed = [sys.executable, __file__, "seed", "--plan", str(work / "plan.json")]
        what = f"writing the day into the ERP: {len(plan['parcels'])} returns, {len(plan['orders'])} orders"
        if self.args.postgresql:
            from sync.erp.tryton.postgres import PostgresErp

            erp = PostgresErp(
                Path(self.args.postgresql), port=0, workers=self.args.workers, servers=self.args.servers,
                progress=lambda line: self.note(line),
            )  # fmt: skip
            self.children.append(erp)
            erp.prepare(fresh=True)
            self.note(what)
            subprocess.run([*seed, "--trytond-config", str(erp.config)], check=True, cwd=ROOT)
            erp.serve()
            return erp, erp.addresses()
        erp_dir = work / "erp"
        erp_dir.mkdir(parents=True, exist_ok=True)
        template = Path(self.args.erp_template) if self.args.erp_template else _template()
        shutil.copyfile(template, database_file(erp_dir, DATABASE))
        self.note(what)
        subprocess.run([*seed, "--sqlite-dir", str(erp_dir)], check=True, cwd=ROOT)
        process = ErpProcess.start(erp_dir, port=0, password="admin", timeout=300)
        self.children.append(process)
        return process, [process.address]

    # -- stations
    def launch(self, station: Station) -> None:
        env = {**os.environ, "DAY_ERP_URL": station.url, "PYTHONUNBUFFERED": "1"}
        station.process = subprocess.Popen(
            [
                sys.executable, __file__, "station", "--plan", str(self.work / "plan.json"), "--index",
                str(station.index), "--data-dir", str(station.data_dir), "--pace", str(self.args.pace),
                "--drain-timeout", str(self.args.drain_timeout), "--batch", str(self.args.batch),
                "--pull-every", str(self.args.pull_every),
            ],
            env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1,
            start_new_session=True,
        )  # fmt: skip
        threading.Thread(target=self._read, args=(station, station.process), daemon=True).start()

    def _read(self, station: Station, process: subprocess.Popen) -> None:
        assert process.stdout is not None
        for raw in process.stdout:
            line = raw.rstrip("\n")
            station.lines.append(line)
            if line == "SYNC" and station.kill_on_sync:
                station.kill_on_sync = False
                process.kill()
                station.crashes += 1
                self.note(f"station {station.index} SIGKILLed while syncing")
            elif line.startswith("TASK "):
                done, total = line.split()[1].split("/")
                station.tasks_done, station.tasks = int(done), int(total)
            elif not line.startswith(("SYNC", "DONE")):
                self.log(f"  station {station.index}: {line}", flush=True)

    def progress(self) -> float:
        if not hasattr(self, "_total"):
            self._total = sum(len(station_tasks(self.plan, s.index)) for s in self.stations)
        total = self._total
        return sum(s.tasks_done for s in self.stations) / max(1, total)

    def stop_all(self) -> None:
        for station in getattr(self, "stations", []):
            if station.process and station.process.poll() is None:
                station.process.kill()
        for child in reversed(self.children):
            with contextlib.suppress(Exception):
                child.stop() if hasattr(child, "stop") else child.close()

    def run(self) -> int:
        args = self.args
        self.t0 = time.monotonic()
        self.work = Path(args.data_dir) if args.data_dir else Path(tempfile.mkdtemp(prefix="day-"))
        self.work.mkdir(parents=True, exist_ok=True)
        self.plan = plan = make_plan(
            seed=args.seed, parcels=args.parcels, orders=args.orders, stations=args.stations,
            duplicates=args.duplicates, refuse_rate=args.refuse_rate,
        )  # fmt: skip
        (self.work / "plan.json").write_text(json.dumps(plan, indent=1))
        erp_process, addresses = self.start_erp(self.work, plan)
        address = addresses[0]
        admin = Erp(address)
        self.note("reading the ERP's stock before the day")
        before = admin.stock()
        proxy = (
            DroppingProxy((address.host, address.port), every=args.drop_every) if args.proxy_every else None
        )
        if proxy:
            self.children.append(proxy)
        self.stations = []
        for index in range(args.stations):
            # Each station logs in as its own least-privilege ERP user, as on a real floor; the
            # administrator only plans the day and checks it.
            own = add_station(address, f"day-{index:02d}", reset=True)
            server = addresses[index % len(addresses)]
            target = replace(own, host=server.host, port=server.port)
            if proxy is not None and index % args.proxy_every == args.proxy_every - 1:
                target = replace(own, host=address.host, port=proxy.port)
            self.stations.append(Station(index, self.work / f"station-{index:02d}", target.url()))
        lossy = sum(1 for s in self.stations if proxy and f":{proxy.port}/" in s.url)
        self.note(f"starting {args.stations} stations ({lossy} through the lossy proxy)")
        day_started = time.time()
        self.load_before = os.getloadavg()[0]
        sampler = CpuSampler().start()
        for station in self.stations:
            self.launch(station)
            time.sleep(args.ramp)  # a floor's stations do not all start in the same second
        rng = random.Random(args.seed)
        outages = [(k + 1) / (args.outages + 1) for k in range(args.outages)]
        crashes = [(k + 0.5) / (args.crashes + 0.5) * 0.9 for k in range(args.crashes)]
        last_restart = None
        deadline = time.monotonic() + args.timeout
        while True:
            for station in self.stations:
                if station.finished or station.process is None:
                    continue
                code = station.process.poll()
                if code is None:
                    continue
                if code == 0:
                    station.finished = True
                elif code == -signal.SIGKILL and station.crashes:
                    self.note(f"station {station.index} starts again")
                    self.launch(station)
                else:
                    raise SystemExit(
                        f"station {station.index} exited with {code}:\n" + "\n".join(station.lines[-20:])
                    )
            if all(s.finished for s in self.stations):
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"the day did not end within {args.timeout} s")
            done = self.progress()
            if outages and done >= outages[0]:
                outages.pop(0)
                self.note("ERP stopped (outage)")
                getattr(erp_process, "stop_servers", erp_process.stop)()  # PostgreSQL stays up
                time.sleep(args.outage_seconds)
                erp_process.restart()
                last_restart = time.time()
                self.note("ERP back")
            if crashes and done >= crashes[0]:
                crashes.pop(0)
                busy = [s for s in self.stations if not s.finished and s.tasks_done < s.tasks]
                if busy:
                    rng.choice(busy).kill_on_sync = True
            time.sleep(0.1)
        day_ended = time.time()
        self.cpu = sampler.stop()
        self.load_after = os.getloadavg()[0]
        self.note("every station drained; checking the ERP")
        return self.check(admin, before, day_started, day_ended, last_restart, proxy)

    # -- the check
    def check(
        self, admin: Erp, before: dict, started: float, ended: float, last_restart: float | None, proxy: Any
    ) -> int:
        from sync.store import Store

        plan = self.plan
        products = {
            p["id"]: p["code"] for p in admin.read("product.product", [], ["code"], {"active_test": False})
        }
        ops: list[dict[str, Any]] = []
        results = []
        latencies: list[float] = []
        pulls: list[float] = []
        unexpected = []
        timed: list[list[list[Any]]] = []  # each station's timed calls, for the settled figures
        for station in self.stations:
            with Store.open(station.data_dir / "station.sqlite") as store:
                for row in store._rows("SELECT id, type, state, error, attempts, operation FROM outbox"):
                    op = json.loads(row["operation"])
                    ops.append(
                        {**op, "state": row["state"], "error": row["error"], "attempts": row["attempts"]}
                    )
            results.append(json.loads((station.data_dir / "result.json").read_text()))
            timed.append(json.loads((station.data_dir / "latencies.json").read_text()))
            for entry in timed[-1]:
                if entry[3]:
                    (pulls if entry[4:] == ["pull"] else latencies).append(entry[1])
            unexpected += json.loads((station.data_dir / "progress.json").read_text())["unexpected"]
        markers = defaultdict(int)
        for row in admin.read("returns.station.operation", [], ["operation_id"]):
            markers[row["operation_id"]] += 1
        problems: list[str] = []
        dup_rmas = {p["rma"] for p in plan["parcels"] if p["duplicate_at"] is not None}
        by_state = defaultdict(int)
        for op in ops:
            by_state[op["state"]] += 1
            count = markers.get(op["id"], 0)
            if op["state"] == "done" and count != 1:
                problems.append(
                    f"{op['type']} {op['id']} ({op['station']}) is done at the station "
                    f"but has {count} markers in the ERP"
                )
            if op["state"] in ("conflict", "failed") and count:
                problems.append(
                    f"{op['type']} {op['id']} ({op['station']}) is {op['state']} but the ERP applied it"
                )
            if op["state"] in ("pending", "sending"):
                problems.append(
                    f"{op['type']} {op['id']} ({op['station']}) never reached the ERP "
                    f"({op['state']}: {op['error']})"
                )
            if op["state"] == "failed":
                problems.append(
                    f"{op['type']} {op['id']} ({op['station']}) was refused by the ERP: {op['error']}"
                )
            if op["state"] == "conflict":
                if op["type"] != "receive_return" or op["payload"].get("rma") not in dup_rmas:
                    problems.append(
                        f"unplanned conflict: {op['type']} {op['id']} ({op['station']}): {op['error']}"
                    )
                elif not op["error"]:
                    problems.append(f"conflict without a reason for the person: {op['id']}")
        station_ops = {op["id"] for op in ops}
        for op_id in markers:
            if op_id not in station_ops:
                problems.append(f"the ERP holds a marker {op_id} no station queued")
        # Duplicated parcels: exactly one receipt applied; the other one a conflict or refused locally.
        for rma in sorted(dup_rmas):
            receipts = [
                op for op in ops if op["type"] == "receive_return" and op["payload"].get("rma") == rma
            ]
            applied = [op for op in receipts if op["state"] == "done"]
            if len(applied) != 1:
                problems.append(f"shared parcel {rma}: {len(applied)} receipts applied (want 1)")
        for u in unexpected:
            if not u.get("refused_duplicate"):
                problems.append(
                    f"unexpected at the station: {u['task']} {u['event']} -> {u['code']}: {u['message']}"
                )
        refused_here = {u["task"].get("rma") for u in unexpected if u.get("refused_duplicate")}
        conflicts_reported = by_state["conflict"] + len(refused_here)  # each shared parcel once
        truth, touched = self.truth(before, ops, products)
        after = admin.stock()
        differences = []
        for key in sorted(set(truth) | set(after)):
            want, got = truth.get(key, 0.0), after.get(key, 0.0)
            if abs(want - got) > 1e-9:
                differences.append((key, want, got))
        if self.args.truth_out:
            Path(self.args.truth_out).write_text(
                json.dumps(
                    [
                        {"product": p, "lot": lot or None, "location": loc, "quantity": q}
                        for (p, lot, loc), q in sorted(truth.items())
                    ],
                    indent=1,
                )
            )
        # The table.
        applied_ops = sum(1 for op in ops if op["state"] == "done")
        elapsed = ended - started
        lat = sorted(latencies)
        figures = {
            "stations": self.args.stations,
            "parcels": len(plan["parcels"]),
            "orders": len(plan["orders"]),
            "operations": len(ops),
            "applied": applied_ops,
            "by_state": dict(by_state),
            "day_seconds": round(elapsed, 1),
            "ops_per_second": round(applied_ops / elapsed, 1) if elapsed else None,
            "apply_batches": len(lat),
            "apply_p50_ms": round(statistics.median(lat) * 1000, 1) if lat else None,
            "apply_p99_ms": _percentile_ms(lat, 0.99),
            "apply_max_ms": _percentile_ms(lat, 1.0),
            **settled_figures(timed, started),
            "pulls": len(pulls),
            "pull_p50_ms": _percentile_ms(sorted(pulls), 0.5),
            "pull_p99_ms": _percentile_ms(sorted(pulls), 0.99),
            "retries": sum(op_attempts for op_attempts in self._attempts(ops)),
            "conflicts_reported": conflicts_reported,
            "lost_responses": proxy.dropped if proxy else 0,
            "crashes": sum(s.crashes for s in self.stations),
            "outages": self.args.outages,
            "drain_after_last_outage_s": round(max(r["drained_at"] for r in results) - last_restart, 1)
            if last_restart
            else None,
            "logins": sum(r.get("logins", 0) for r in results),
            "cpu_cores_used": self.cpu,
            "load_average_1min_start_end": [round(self.load_before, 1), round(self.load_after, 1)],
            "peak_rss_mb_per_station": round(max(r["maxrss_kb"] for r in results) / 1024, 1),
            "stock_keys_checked": len(set(truth) | set(after)),
            "differences": len(differences),
            "problems": len(problems),
        }
        print()
        print(f"{'figure':34} value")
        for key, value in figures.items():
            print(f"{key:34} {value}")
        if differences:
            print()
            print(
                f"{'product':18} {'lot':14} {'location':9} {'expected':>8} {'found':>8}  "
                "operations that touched it"
            )
            for (product, lot, location), want, got in differences:
                names = ", ".join(sorted(touched.get(product, set())))[:400]
                print(f"{product:18} {lot or '-':14} {location:9} {want:8g} {got:8g}  {names}")
        for problem in problems:
            print(f"PROBLEM: {problem}")
        if self.args.json_out:
            listed = [
                {"product": k[0], "lot": k[1] or None, "location": k[2], "expected": w, "found": g}
                for k, w, g in differences
            ]
            document = {**figures, "problems_list": problems, "differences_list": listed}
            Path(self.args.json_out).write_text(json.dumps(document, indent=1))
        ok = not differences and not problems
        print(
            "\nRESULT:",
            "stock equal to the truth, every operation applied once" if ok else "DIFFERENCES FOUND",
        )
        return 0 if ok else 1

    @staticmethod
    def _attempts(ops: list[dict[str, Any]]) -> list[int]:
        return [max(0, int(op.get("attempts") or 0)) for op in ops]

    def truth(self, before: dict, ops: list[dict[str, Any]], products: dict[int, str]) -> tuple[dict, dict]:
        """The stock the day implies: before + every parcel's units received into the input zone,
        moved to their disposition once every unit of the return is decided; packed units to output."""
        truth: dict[tuple[str, str, str], float] = defaultdict(float, before)
        touched: dict[str, set[str]] = defaultdict(set)
        inspections = defaultdict(list)  # return_id -> inspect ops (live)
        decisions = {}
        requests = {}
        receipts = {}
        for op in ops:
            if op["state"] == "cancelled":
                continue
            payload = op["payload"]
            label = f"{op['type']}@{op['station']}:{op['id'][:8]}({op['state']})"
            if op["type"] == "inspect_item":
                inspections[payload["return_id"]].append(op)
                touched[products[payload["product_id"]]].add(label)
            elif op["type"] == "decide_approval":
                decisions[payload["request_id"]] = payload["decision"]
            elif op["type"] == "request_approval":
                requests[payload["subject_op"]] = payload["request_id"]
            elif op["type"] == "receive_return":
                receipts.setdefault(payload["rma"], payload["return_id"])
                for line in payload.get("lines", []) + payload.get("extra", []):
                    if line.get("product_id"):
                        touched[products[line["product_id"]]].add(label)
            elif op["type"] == "confirm_pack":
                for line in payload.get("lines", []):
                    touched[products[line["product_id"]]].add(label)
        for parcel in self.plan["parcels"]:
            units = [(code, lot or "") for code, q, lot in parcel["box"] for _ in range(q)]
            return_id = receipts.get(parcel["rma"])
            final: list[tuple[str, str, str]] = []
            if parcel["inspect"] and return_id is not None:
                for op in inspections[return_id]:
                    p = op["payload"]
                    disposition = p["disposition"]
                    if p.get("approval_required"):
                        decision = decisions.get(requests.get(op["id"]))
                        if decision is None:
                            final = []
                            break
                        if decision == "refuse":
                            disposition = "quarantine"
                    final.append(
                        (products[p["product_id"]], p.get("lot") or "", DISPOSITION_CODES[disposition])
                    )
                if len(final) != len(units):
                    final = []
            if final:
                for code, lot, location in final:
                    truth[(code, lot, location)] += 1
            else:
                for code, lot in units:
                    truth[(code, lot, "IN")] += 1
        for order in self.plan["orders"]:
            for code, quantity, _ in order["lines"]:
                truth[(code, "", "STO")] -= quantity
                truth[(code, "", "OUT")] += quantity
        return {k: v for k, v in truth.items() if abs(v) > 1e-9}, touched


def descendants(parents: dict[int, int], root: int) -> set[int]:
    """The processes under ``root`` (children, theirs, …; not ``root``), from a pid → parent map."""
    found = {root}
    grew = True
    while grew:
        grew = False
        for pid, parent in parents.items():
            if parent in found and pid not in found:
                found.add(pid)
                grew = True
    found.discard(root)
    return found


def settled_figures(timed: list[list[list[Any]]], started: float) -> dict[str, Any]:
    """Apply latency once the floor has settled: over the batches sent after every station's first
    pull came back (each station's ``latencies.json`` entries: [ended at, seconds, ops, ok, kind]).
    Before that, N stations starting together each log in and pull everything once, and their
    first batches wait behind those pulls; the day's p50/p99 include that start, these do not."""
    firsts = [min((e[0] for e in entries if e[3] and e[4] == "pull"), default=None) for entries in timed]
    if not firsts or None in firsts:
        return {"settled_after_s": None, "apply_p50_ms_settled": None, "apply_p99_ms_settled": None}
    settled = max(firsts)  # type: ignore[type-var]
    lat = sorted(
        e[1] for entries in timed for e in entries if e[3] and e[4] == "apply" and e[0] - e[1] >= settled
    )
    return {
        "settled_after_s": round(settled - started, 1),
        "apply_batches_settled": len(lat),
        "apply_p50_ms_settled": _percentile_ms(lat, 0.5),
        "apply_p99_ms_settled": _percentile_ms(lat, 0.99),
    }


def _percentile_ms(ordered: list[float], share: float) -> float | None:
    if not ordered:
        return None
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * share))] * 1000, 1)


def _template() -> Path:
    """The seeded demo ERP database (built once, cached: the tests' template)."""
    from tests.fixtures.erp import template_database

    return template_database()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command")
    station = sub.add_parser("station", help="(internal) one station process of the day")
    station.add_argument("--plan", required=True)
    station.add_argument("--index", type=int, required=True)
    station.add_argument("--data-dir", required=True)
    station.add_argument("--pace", type=float, default=0.0)
    station.add_argument("--timeout", type=float, default=120.0)
    station.add_argument("--batch", type=int, default=100)
    station.add_argument("--pull-every", type=float, default=30.0)
    station.add_argument("--pull-timeout", type=float, default=300.0)
    station.add_argument("--drain-timeout", type=float, default=300.0)
    seed = sub.add_parser("seed", help="(internal) write the plan's returns and orders into the ERP")
    seed.add_argument("--plan", required=True)
    seed.add_argument("--sqlite-dir")
    seed.add_argument("--trytond-config")
    seed.add_argument("--database", default="returns")
    parser.add_argument("--seed", type=int, default=1, help="the day's seed: the same seed, the same day")
    parser.add_argument("--stations", type=int, default=4, help="station processes (default 4)")
    parser.add_argument("--parcels", type=int, default=60, help="customer returns to receive and inspect")
    parser.add_argument("--orders", type=int, default=None, help="orders to pack (default parcels / 5)")
    parser.add_argument("--outages", type=int, default=1, help="times the ERP is stopped and started")
    parser.add_argument("--outage-seconds", type=float, default=3.0, help="how long each outage lasts")
    parser.add_argument(
        "--crashes", type=int, default=1, help="stations SIGKILLed while syncing, then started again"
    )
    parser.add_argument("--duplicates", type=int, default=2, help="parcels received at two stations")
    parser.add_argument("--refuse-rate", type=float, default=0.0, help="share of approval requests refused")
    parser.add_argument(
        "--proxy-every", type=int, default=2, help="every Nth station syncs through the lossy proxy (0: none)"
    )
    parser.add_argument(
        "--drop-every", type=int, default=4, help="the proxy drops the answer of every Nth apply_batch"
    )
    parser.add_argument(
        "--pace",
        type=float,
        default=PERSON_PACE,
        help=f"seconds between a station's tasks, ×0.5–1.5 at random (default {PERSON_PACE:.0f}: "
        "a person's pace; 0: as fast as the machine goes)",
    )
    parser.add_argument("--ramp", type=float, default=0.5, help="seconds between two stations' starts")
    parser.add_argument("--batch", type=int, default=100, help="operations per apply_batch")
    parser.add_argument(
        "--pull-every",
        type=float,
        default=30.0,
        help="seconds between a station's pulls (the engine's pull interval; 0: after every push)",
    )
    parser.add_argument(
        "--drain-timeout", type=float, default=300.0, help="how long a station keeps draining"
    )
    parser.add_argument(
        "--timeout", type=float, default=1800.0, help="the whole day stops after this many seconds"
    )
    parser.add_argument(
        "--erp-template", help="a seeded demo ERP database file to copy (default: the tests' cached template)"
    )
    parser.add_argument(
        "--postgresql",
        metavar="DIR",
        help="run the ERP on a private PostgreSQL cluster in DIR (kept: its demo template is built once) "
        "served by gunicorn, instead of the embedded SQLite ERP",
    )
    parser.add_argument("--workers", type=int, default=4, help="with --postgresql: workers per Tryton server")
    parser.add_argument(
        "--servers",
        type=int,
        default=1,
        help="with --postgresql: Tryton servers, each serving its share of stations",
    )
    parser.add_argument(
        "--data-dir", help="where the ERP and stations keep their files (default: a temporary directory)"
    )
    parser.add_argument("--truth-out", help="write the expected stock as JSON to this file")
    parser.add_argument("--json-out", help="write the figures as JSON to this file")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    if args.command == "station":
        return run_station(args)
    if args.command == "seed":
        plan = json.loads(Path(args.plan).read_text())
        if args.sqlite_dir:
            from sync.erp.tryton.server import configure_trytond

            configure_trytond(Path(args.sqlite_dir))
        elif args.trytond_config:
            from trytond import config as trytond_config

            trytond_config.update_etc(args.trytond_config)
        seed_day(args.database, plan)
        return 0
    if args.orders is None:
        args.orders = max(1, args.parcels // 5)
    day = Day(args)

    def interrupted(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    try:
        return day.run()
    except KeyboardInterrupt:
        print("day: interrupted; stopping every server and station it started", file=sys.stderr)
        return 130
    finally:
        day.stop_all()


if __name__ == "__main__":
    sys.exit(main())
