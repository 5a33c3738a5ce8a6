"""Ninety days of past activity for the demo, so the figures have something worth looking at.

Everything follows from the demo's seed and the moment it is written: :func:`plan` is a pure function
(no Tryton) that tests can read; :func:`add` writes that plan into a seeded demo database in-process,
once (``station erp init --history``, ``station demo``). The demo's own draft returns and orders to
pack stay as they are: the history adds records beside them.

With the default seed, about 1,000 sales over 90 days (web shop, marketplace, store) and about 250
returns of them through every stage, on two warehouses (``WH`` and a second node ``WH2``), each with
its RMA issue, receipt, inspection (grade, disposition) and put-away times stamped as a station's
clock would have them:
- about a third refunded when the RMA was issued (some of those not received yet: exposure),
  others refunded at inspection;
- some late (a parcel a fortnight on its way, an inspection days after receipt: put-away past the
  48 h target), some stuck (received days ago, never inspected), some in transit;
- :data:`SPIKE_SKU`, whose returns jump in the last two weeks ("defective"), so its return rate
  passes the alert threshold.

The records are made through Tryton's ORM (sales, returns, their moves, the second warehouse) and
then moved to their past states and times with SQL, as the operations would have left them: a done
move stays done, so Tryton would not let its dates be written back in time otherwise.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from sync.erp.tryton.demo import REASONS, SEED, DemoPlan

DAYS = 90
SPIKE_SKU = "FTW-RUN-41"
SPIKE_DAYS = 14
ALERT_MIN_UNITS = 10
RETURN_SHARE = 0.25  # of the units sold, outside the spike
PREFIX = "H"  # history records: SO-H00001, RET-H0001, RMA-H0001
CHANNELS = (("web", 60), ("marketplace", 30), ("store", 10))
# Disposition -> (inventory state of the location it sends a unit to, weight, grades).
DISPOSITIONS = {
    "restock": ("sellable", 55, "AB"),
    "refurbish": ("refurbish", 15, "C"),
    "vendor_return": ("vendor_return", 10, "CD"),
    "quarantine": ("quarantine", 10, "D"),
    "dispose": ("disposed", 10, "D"),
}
RECEIVERS = {"WH": ("S-RECV-1", "S-RECV-2"), "WH2": ("S-WH2-1",)}
INSPECTORS = {"WH": ("S-INSP-1", "S-INSP-2"), "WH2": ("S-WH2-1",)}


@dataclass(frozen=True)
class PastSale:
    number: str
    customer: str
    channel: str
    warehouse: str
    sold_at: dt.datetime
    product: str
    quantity: int


@dataclass(frozen=True)
class PastReturn:
    number: str
    rma: str
    sale: str
    warehouse: str
    product: str
    quantity: int
    reason: str
    issued_at: dt.datetime
    refund: Decimal | None = None
    refunded_at: dt.datetime | None = None
    received_at: dt.datetime | None = None
    received_by: str | None = None
    inspected_at: dt.datetime | None = None
    inspected_by: str | None = None
    disposition: str | None = None
    grade: str | None = None
    put_away_at: dt.datetime | None = None

    @property
    def state(self) -> str:
        """The return's state in the ERP: draft (in transit), received, or done (all put away)."""
        if self.put_away_at is not None:
            return "done"
        return "received" if self.received_at is not None else "draft"


@dataclass
class History:
    now: dt.datetime
    prices: dict[str, Decimal] = field(default_factory=dict)
    sales: list[PastSale] = field(default_factory=list)
    returns: list[PastReturn] = field(default_factory=list)


def _pick(rng: random.Random, weighted) -> str:  # type: ignore[no-untyped-def]
    keys = [key for key, *_ in weighted]
    weights = [w for _, w, *_ in weighted]
    return rng.choices(keys, weights)[0]


def plan(demo: DemoPlan, now: dt.datetime, seed: int = SEED) -> History:
    """The history up to ``now`` (naive UTC) for ``demo``: the same arguments give the same history."""
    rng = random.Random(seed + DAYS)
    # Untracked products only: a past unit needs no lot or serial number.
    products = [p for p in demo.products if p.tracking == "none"]
    price = {p.code: p.list_price for p in products}
    history = History(now=now, prices=price)
    start = now - dt.timedelta(days=DAYS)
    for day in range(DAYS):
        for _ in range(rng.randint(9, 14)):
            code = SPIKE_SKU if rng.random() < 0.1 else rng.choice(products).code
            sold = start + dt.timedelta(days=day, hours=rng.uniform(7, 22))
            history.sales.append(
                PastSale(
                    number=f"SO-{PREFIX}{len(history.sales) + 1:05d}",
                    customer=rng.choice(demo.customers),
                    channel=_pick(rng, CHANNELS),
                    warehouse="WH2" if rng.random() < 0.25 else "WH",
                    sold_at=sold,
                    product=code,
                    quantity=1 if rng.random() < 0.85 else 2,
                )
            )
    spike_from = now - dt.timedelta(days=SPIKE_DAYS)
    for sale in history.sales:
        issued = sale.sold_at + dt.timedelta(days=rng.uniform(2, 12))
        spiking = sale.product == SPIKE_SKU and issued >= spike_from
        if rng.random() >= (0.9 if spiking else RETURN_SHARE) or issued >= now - dt.timedelta(hours=2):
            continue
        number = f"{PREFIX}{len(history.returns) + 1:04d}"
        values: dict = {
            "number": f"RET-{number}",
            "rma": f"RMA-{number}",
            "sale": sale.number,
            "warehouse": sale.warehouse,
            "product": sale.product,
            "quantity": sale.quantity,
            "reason": "defective" if spiking and rng.random() < 0.8 else rng.choice(REASONS),
            "issued_at": issued,
        }
        amount = price[sale.product] * sale.quantity
        refund_now = rng.random() < 0.35
        if refund_now:  # refunded at initiation, as many shops do for good customers
            values |= {"refund": amount, "refunded_at": issued}
        received = issued + dt.timedelta(hours=rng.uniform(24, 144))
        if rng.random() < 0.08:  # a parcel a fortnight on its way
            received += dt.timedelta(days=rng.uniform(8, 16))
        if received < now:
            values |= {"received_at": received, "received_by": rng.choice(RECEIVERS[sale.warehouse])}
            inspected = received + dt.timedelta(hours=rng.uniform(2, 40))
            if rng.random() < 0.1:  # inspected days late: put away past the target
                inspected += dt.timedelta(hours=rng.uniform(48, 150))
            stuck = rng.random() < 0.05
            if inspected < now and not stuck:
                disposition = _pick(rng, [(k, w) for k, (_, w, _) in DISPOSITIONS.items()])
                values |= {
                    "inspected_at": inspected,
                    "inspected_by": rng.choice(INSPECTORS[sale.warehouse]),
                    "disposition": disposition,
                    "grade": rng.choice(DISPOSITIONS[disposition][2]),
                }
                if not refund_now and rng.random() < 0.6:
                    values |= {"refund": amount, "refunded_at": inspected}
                # A refurbishment waits for its bench; every other path is final at inspection.
                hours = rng.uniform(4, 30) if disposition == "refurbish" else 0
                put_away = inspected + dt.timedelta(hours=hours)
                if put_away < now:
                    values["put_away_at"] = put_away
        history.returns.append(PastReturn(**values))
    return history


# --- writing the plan into Tryton ---------------------------------------------------------------


def add(database: str, *, progress: Callable[[str], None] = print, now: dt.datetime | None = None) -> bool:
    """Write the history into the seeded demo ``database`` unless it holds it already; whether it
    wrote. trytond must be configured for that database in this process."""
    from trytond.pool import Pool
    from trytond.transaction import Transaction, TransactionError

    from sync.erp.tryton import demo

    Pool.start()
    loaded = database in Pool.database_list()
    pool = Pool(database)
    if not loaded:  # loaded by the build or the module update: the server serves that pool as it is
        pool.init()
    with Transaction().start(database, 0):
        if pool.get("stock.shipment.out.return").search([("reference", "=", f"RMA-{PREFIX}0001")]):
            return False
        (company,) = pool.get("company.company").search([], limit=1)
        company_id = company.id
    now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None, minute=0, second=0, microsecond=0)
    past = plan(demo.plan(), now)
    progress(f"Adding 90 days of history: {len(past.sales)} sales, {len(past.returns)} returns")
    extras: dict[str, object] = {}
    while True:  # trytond asks to restart a transaction that needs a table lock (a singleton's)
        context = {"company": company_id, "_skip_warnings": True}
        with Transaction().start(database, 0, context=context, **extras) as transaction:
            try:
                _HistoryWriter(pool, past, pool.get("company.company")(company_id)).write()
            except TransactionError as exc:
                transaction.rollback()
                exc.fix(extras)
                continue
            transaction.commit()
            return True


class _HistoryWriter:
    def __init__(self, pool, history: History, company) -> None:  # type: ignore[no-untyped-def]
        self.pool = pool
        self.history = history
        self.company = company
        Location = pool.get("stock.location")
        self.warehouses = {"WH": Location.search([("code", "=", "WH")])[0]}
        self.customer_location = Location.search([("code", "=", "CUS")])[0]
        self.targets = {
            loc.inventory_state: loc
            for loc in Location.search([("inventory_state", "in", ["refurbish", "vendor_return", "quarantine",
                                                                   "disposed"])])
        }  # fmt: skip
        Product = pool.get("product.product")
        self.products = {p.code: p for p in Product.search([])}
        self.parties = {p.name: p for p in pool.get("party.party").search([])}

    def write(self) -> None:
        # At this volume a SKU with 3 units returned in a fortnight is noise: the return-rate alert
        # wants 10 (the spike has about twice that).
        Config = self.pool.get("returns.station.figures.configuration")
        config = Config(1)
        config.alert_min_units = ALERT_MIN_UNITS
        config.save()
        self.second_warehouse()
        sales = self.sales()
        self.returns(sales)

    def second_warehouse(self) -> None:
        """``WH2``: a second node with its own input and storage zones (its returns' other paths go to
        the first warehouse's quarantine, refurbishment, vendor and scrap locations)."""
        Location = self.pool.get("stock.location")
        found = Location.search([("code", "=", "WH2")])
        if found:
            self.warehouses["WH2"] = found[0]
            return
        zones = Location.create(
            [
                {"name": "WH2 Input", "code": "IN2", "type": "storage"},
                {"name": "WH2 Output", "code": "OUT2", "type": "storage"},
                {"name": "WH2 Storage", "code": "STO2", "type": "storage"},
            ]
        )
        (warehouse,) = Location.create(
            [
                {
                    "name": "Second Warehouse",
                    "code": "WH2",
                    "type": "warehouse",
                    "input_location": zones[0].id,
                    "output_location": zones[1].id,
                    "storage_location": zones[2].id,
                    "address": None,
                }
            ]
        )
        Location.write(list(zones), {"parent": warehouse.id})
        waste = self.warehouses["WH"].waste_locations
        if waste:
            Location.write([warehouse], {"waste_locations": [("add", [w.id for w in waste])]})
        self.warehouses["WH2"] = warehouse

    def sales(self) -> dict[str, object]:
        Sale = self.pool.get("sale.sale")
        currency = self.company.currency
        created = Sale.create(
            [
                {
                    "company": self.company.id,
                    "party": self.parties[s.customer].id,
                    "invoice_address": self.parties[s.customer].addresses[0].id,
                    "shipment_address": self.parties[s.customer].addresses[0].id,
                    "number": s.number,
                    "reference": f"{s.channel.upper()}-{s.number.removeprefix('SO-')}",
                    "warehouse": self.warehouses[s.warehouse].id,
                    "invoice_method": "manual",
                    "shipment_method": "manual",
                    "currency": currency.id,
                    "sale_date": s.sold_at.date(),
                    "station_channel": s.channel,
                    "lines": [
                        (
                            "create",
                            [
                                {
                                    "type": "line",
                                    "product": self.products[s.product].id,
                                    "quantity": s.quantity,
                                    "unit": self.products[s.product].default_uom.id,
                                    "unit_price": self.history.prices[s.product],
                                }
                            ],
                        )
                    ],
                }
                for s in self.history.sales
            ]
        )
        # Delivered long ago: the figures read the sale's state and date (and its channel) only.
        from trytond.transaction import Transaction

        table = Sale.__table__()
        cursor = Transaction().connection.cursor()
        ids = [s.id for s in created]
        for chunk in range(0, len(ids), 500):
            cursor.execute(
                *table.update([table.state], ["done"], where=table.id.in_(ids[chunk : chunk + 500]))
            )
        return {s.number: s for s in created}

    def returns(self, sales: dict[str, object]) -> None:
        from trytond.transaction import Transaction

        Return = self.pool.get("stock.shipment.out.return")
        Move = self.pool.get("stock.move")
        past = self.history.returns
        currency = self.company.currency
        created = Return.create(
            [
                {
                    "company": self.company.id,
                    "customer": sales[r.sale].party.id,
                    "contact_address": sales[r.sale].party.addresses[0].id,
                    "warehouse": self.warehouses[r.warehouse].id,
                    "warehouse_input": self.warehouses[r.warehouse].input_location.id,
                    "warehouse_storage": self.warehouses[r.warehouse].storage_location.id,
                    "reference": r.rma,
                    "return_reason": r.reason,
                    "returned_sale": sales[r.sale].id,
                    "planned_date": r.issued_at.date() + dt.timedelta(days=3),
                    "moves": [
                        (
                            "create",
                            [
                                {
                                    "product": self.products[r.product].id,
                                    "quantity": r.quantity,
                                    "unit": self.products[r.product].default_uom.id,
                                    "from_location": self.customer_location.id,
                                    "to_location": self.warehouses[r.warehouse].input_location.id,
                                    "unit_price": self.history.prices[r.product],
                                    "currency": currency.id,
                                    "company": self.company.id,
                                    "origin": str(sales[r.sale].lines[0]),
                                }
                            ],
                        )
                    ],
                }
                for r in past
            ]
        )
        for spec, shipment in zip(past, created, strict=True):
            shipment.number = spec.number
        Return.save(created)
        incoming = {shipment.id: shipment.incoming_moves[0] for shipment in created}
        inspected = [
            (spec, shipment) for spec, shipment in zip(past, created, strict=True) if spec.inspected_at
        ]
        inventory = Move.create(
            [
                {
                    "shipment": str(shipment),
                    "product": self.products[spec.product].id,
                    "quantity": spec.quantity,
                    "unit": self.products[spec.product].default_uom.id,
                    "from_location": self.warehouses[spec.warehouse].input_location.id,
                    "to_location": self._target(spec).id,
                    "origin": str(incoming[shipment.id]),
                    "company": self.company.id,
                }
                for spec, shipment in inspected
            ]
        )
        cursor = Transaction().connection.cursor()
        r, m = Return.__table__(), Move.__table__()
        for spec, shipment in zip(past, created, strict=True):
            cursor.execute(
                *r.update(
                    [r.state, r.rma_issued_at, r.refund_amount, r.refunded_at, r.station_received_at,
                     r.station_received_station, r.create_date],
                    [spec.state, spec.issued_at, spec.refund, spec.refunded_at, spec.received_at,
                     spec.received_by, spec.issued_at],
                    where=r.id == shipment.id,
                )
            )  # fmt: skip
            if spec.received_at:
                cursor.execute(
                    *m.update(
                        [m.state, m.effective_date],
                        ["done", spec.received_at.date()],
                        where=m.id == incoming[shipment.id].id,
                    )
                )
        for (spec, _), move in zip(inspected, inventory, strict=True):
            final = spec.put_away_at is not None
            cursor.execute(
                *m.update(
                    [m.state, m.effective_date, m.station_disposition, m.station_inspected_at,
                     m.station_inspected_station, m.station_put_away_at],
                    ["done" if final else "draft", (spec.put_away_at or spec.inspected_at).date(),
                     "disposed" if final else "held", spec.inspected_at, spec.inspected_by, spec.put_away_at],
                    where=m.id == move.id,
                )
            )  # fmt: skip

    def _target(self, spec: PastReturn):  # type: ignore[no-untyped-def]
        state = DISPOSITIONS[spec.disposition][0]
        if state == "sellable":
            return self.warehouses[spec.warehouse].storage_location
        return self.targets[state]
