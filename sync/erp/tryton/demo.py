"""The demo dataset: a small ecommerce business with returns to receive and orders to pack.

Everything follows from :data:`SEED` and the build day: :func:`plan` is a pure function (no
Tryton) that tests, labels and replays can read; :func:`seed` writes that plan into a Tryton
database in-process. Dates are relative to the build day so that "expired" and "short-dated" stay
true (the test template is rebuilt each day).

Notable records (with the default seed):
- 42 products: 10 apparel, 8 footwear, 8 accessories, 8 electronics (serial-numbered, UPC-A
  barcodes), 8 health & wellness (lot-tracked with expiry; GTIN-13 like the others).
- Each health product has three lots in stock: one expired, one short-dated (expires within 30
  days) and one long-dated. Each electronics product has serial numbers in stock, one unit each.
- 18 customer returns ``RMA-000101`` … ``RMA-000118``, all ``draft``, each against a delivered
  sale. Their parcels (:attr:`ReturnSpec.box`, what is really in the box) match the expected lines
  except for these (see :data:`MISMATCHES`):
    RMA-000104 wrong item   — an apparel item in another size instead of the one expected
    RMA-000107 extra item   — the expected item plus an accessory nobody asked to return
    RMA-000110 missing item — two lines expected, only the first is in the box
    RMA-000113 wrong lot    — a health item from another lot of the same product
    RMA-000116 wrong serial — an electronics item with another serial number of the same product
  Returns with lot-tracked lines: RMA-000103, -000108, -000113; with serials: -000105, -000111, -000116.
- 18 delivered sales SO-1001 … SO-1018 (shipments OUT-1001 …, done), returned by RET-1001 … RET-1018.
- 10 outgoing shipments OUT-1101 … OUT-1110 (orders SO-1101 … SO-1110), ``assigned`` and ready to
  pack; OUT-1101 holds a lot-tracked item with its lot set on the move (a long-dated lot), OUT-1104
  and OUT-1108 an electronics item (any serial in stock will do). Each has a service class and a
  due time (``ORDER_SERVICE``): OUT-1101, -1103 and -1108 are late (due before today).
- Under the storage zone: Quarantine, Refurbishment, Return to Vendor, and the Sort Table (SORT,
  inventory state "sorting") where a station that sorts puts inspected units into totes.
- Quality controls on the return's ``do`` for "Consumer Electronics" and "Health & Wellness".
- People (badge / PIN / roles): U-RECV-1 / 1111 receiver, U-INSP-1 / 2222 inspector,
  U-PACK-1 / 3333 packer, U-SUPV-1 / 444444 supervisor, U-LEAD-1 / 5555 receiver + inspector,
  and U-GONE-1 / 9999, a packer who left (inactive).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from biip.checksums import gs1_standard_check_digit

from sync.common.pins import hash_pin

SEED = 20260101
Tracking = Literal["none", "lot", "serial"]
FAMILY_CATEGORY = {
    "apparel": "Apparel",
    "footwear": "Footwear",
    "accessories": "Accessories",
    "electronics": "Consumer Electronics",
    "health": "Health & Wellness",
}
INSPECTED_FAMILIES = {
    "electronics": ["Powers on", "Screen and casing undamaged", "Accessories complete"],
    "health": ["Seal intact", "Lot readable", "Not expired"],
}
MISMATCHES = {
    "RMA-000104": "wrong item",
    "RMA-000107": "extra item",
    "RMA-000110": "missing item",
    "RMA-000113": "wrong lot",
    "RMA-000116": "wrong serial",
}
LOT_RETURNS = ("RMA-000103", "RMA-000108", "RMA-000113")
SERIAL_RETURNS = ("RMA-000105", "RMA-000111", "RMA-000116")
REASONS = (
    "defective",
    "wrong size",
    "changed mind",
    "not as described",
    "damaged in transit",
    "arrived too late",
)


@dataclass(frozen=True)
class ProductSpec:
    code: str
    name: str
    family: str
    category: str
    barcode: str  # GTIN-13, or UPC-A (12 digits)
    list_price: Decimal
    cost_price: Decimal
    tracking: Tracking


@dataclass(frozen=True)
class LotSpec:
    number: str
    product: str  # product code
    expiration_date: dt.date | None
    quantity: int  # in stock in the storage zone


@dataclass(frozen=True)
class Line:
    product: str  # product code
    quantity: int
    lot: str | None = None


@dataclass(frozen=True)
class ReturnSpec:
    rma: str
    tracking: str
    customer: str
    reason: str
    order: str  # the sale's number, e.g. "SO-1001"
    number: str  # the return shipment's number, e.g. "RET-1001"
    lines: tuple[Line, ...]  # expected
    box: tuple[Line, ...]  # really in the parcel
    mismatch: str | None


@dataclass(frozen=True)
class OrderSpec:
    order: str  # the sale's number, e.g. "SO-1101"
    shipment: str  # the outgoing shipment's number, e.g. "OUT-1101": what the pick list's barcode holds
    customer: str
    lines: tuple[Line, ...]
    service_class: str = "standard"  # premium | marketplace | wholesale | standard
    due_at: dt.datetime | None = None  # UTC, naive: when it must leave the warehouse


# The outgoing orders' service levels, by index: (class, due in hours from today's midnight UTC).
# Three are late whenever the demo is used (due before today); the rest are due a day or more ahead.
ORDER_SERVICE = (
    ("premium", -6),
    ("standard", 72),
    ("marketplace", -30),
    ("wholesale", 120),
    ("premium", 48),
    ("standard", 96),
    ("marketplace", 48),
    ("standard", -2),
    ("wholesale", 96),
    ("standard", 48),
)


@dataclass(frozen=True)
class PersonSpec:
    badge: str
    name: str
    roles: tuple[str, ...]
    pin: str  # only for the labels sheet and tests; the ERP keeps pin_hash
    active: bool = True


@dataclass
class DemoPlan:
    today: dt.date
    products: list[ProductSpec] = field(default_factory=list)
    lots: list[LotSpec] = field(default_factory=list)
    customers: list[str] = field(default_factory=list)
    returns: list[ReturnSpec] = field(default_factory=list)
    orders: list[OrderSpec] = field(default_factory=list)
    people: list[PersonSpec] = field(default_factory=list)

    def product(self, code: str) -> ProductSpec:
        return next(p for p in self.products if p.code == code)

    def lots_of(self, code: str) -> list[LotSpec]:
        return [lot for lot in self.lots if lot.product == code]


def pin_salt(badge: str, seed: int = SEED) -> bytes:
    """The deterministic salt of a demo person's PIN hash, so the dataset is reproducible."""
    return hashlib.sha256(f"returns-station-demo:{seed}:{badge}".encode()).digest()[:16]


_APPAREL = [
    ("APP-TEE-{s}-BLK", "Organic Cotton Tee, Black, {s}", "T-shirts", 19),
    ("APP-TEE-{s}-WHT", "Organic Cotton Tee, White, {s}", "T-shirts", 19),
    ("APP-HOOD-{s}-GRY", "Fleece Hoodie, Grey, {s}", "Hoodies", 49),
    ("APP-JEAN-{s}-IND", "Slim Jeans, Indigo, {s}", "Jeans", 59),
    ("APP-JKT-{s}-OLV", "Rain Jacket, Olive, {s}", "Jackets", 89),
]
_FOOTWEAR = [
    ("FTW-RUN-{s}", "Trail Runner, EU {s}", "Running shoes", 99),
    ("FTW-SNK-{s}", "Canvas Sneaker, EU {s}", "Sneakers", 55),
    ("FTW-BOOT-{s}", "Leather Chelsea Boot, EU {s}", "Boots", 139),
    ("FTW-SLD-{s}", "Cork Sandal, EU {s}", "Sandals", 45),
]
_ACCESSORIES = [
    ("ACC-BELT-BRN", "Leather Belt, Brown", "Belts", 35),
    ("ACC-BELT-BLK", "Leather Belt, Black", "Belts", 35),
    ("ACC-CAP-NVY", "Baseball Cap, Navy", "Hats", 22),
    ("ACC-BEANIE-RED", "Wool Beanie, Red", "Hats", 25),
    ("ACC-WALLET-BLK", "Bifold Wallet, Black", "Wallets", 45),
    ("ACC-BAG-TOTE", "Canvas Tote Bag", "Bags", 29),
    ("ACC-SUNG-TORT", "Sunglasses, Tortoise", "Eyewear", 79),
    ("ACC-SCARF-GRY", "Merino Scarf, Grey", "Scarves", 39),
]
_ELECTRONICS = [
    ("ELE-EARBUDS-W", "Wireless Earbuds", "Audio", 129),
    ("ELE-HEADPH-NC", "Noise-Cancelling Headphones", "Audio", 249),
    ("ELE-SPK-MINI", "Portable Speaker Mini", "Audio", 69),
    ("ELE-WATCH-S2", "Fitness Watch S2", "Wearables", 199),
    ("ELE-CHRG-65W", "65 W USB-C Charger", "Chargers", 39),
    ("ELE-PWRBANK-20", "Power Bank 20000 mAh", "Chargers", 49),
    ("ELE-CAM-ACT4", "Action Camera 4K", "Cameras", 299),
    ("ELE-EREADER-6", "E-Reader 6 inch", "Readers", 119),
]
_HEALTH = [
    ("HLT-VITD-60", "Vitamin D3 Capsules, 60", "Supplements", 12),
    ("HLT-OMEGA-90", "Omega-3 Softgels, 90", "Supplements", 24),
    ("HLT-PROT-1KG", "Whey Protein, Vanilla, 1 kg", "Sports nutrition", 39),
    ("HLT-SUNSCR-50", "Sunscreen SPF 50, 100 ml", "Skin care", 16),
    ("HLT-HANDCR-75", "Hand Cream, 75 ml", "Skin care", 9),
    ("HLT-PROBIO-30", "Probiotic Capsules, 30", "Supplements", 27),
    ("HLT-ELEC-TABS", "Electrolyte Tablets, 20", "Sports nutrition", 8),
    ("HLT-MASK-SHEET", "Hydrating Sheet Masks, 5", "Skin care", 14),
]


def customer_email(name: str) -> str:
    """The demo customer's email: ``"Alma Jansen"`` -> ``"alma.jansen@example.com"``."""
    return (
        ".".join("".join(ch for ch in part.lower() if ch.isalnum()) for part in name.split()) + "@example.com"
    )


_CUSTOMERS = [
    "Alma Jansen",
    "Bruno Costa",
    "Chiara Russo",
    "Dev Patel",
    "Elif Yilmaz",
    "Finn O'Brien",
    "Grace Mensah",
    "Hiro Tanaka",
    "Ines Moreau",
    "Jonas Berg",
    "Kemi Adeyemi",
    "Lucia Fernandez",
]
PEOPLE = [  # the demo's people and their PINs (the labels sheet and tests; the ERP keeps hashes)
    PersonSpec("U-RECV-1", "Rosa Diaz", ("receiver",), "1111"),
    PersonSpec("U-INSP-1", "Ivan Petrov", ("inspector",), "2222"),
    PersonSpec("U-PACK-1", "Priya Nair", ("packer",), "3333"),
    PersonSpec("U-SUPV-1", "Sam Okafor", ("supervisor",), "444444"),
    PersonSpec("U-LEAD-1", "Lee Chen", ("receiver", "inspector"), "5555"),
    PersonSpec("U-GONE-1", "Gus Walker", ("packer",), "9999", active=False),
]


def plan(seed: int = SEED, today: dt.date | None = None) -> DemoPlan:
    """The whole demo dataset as plain data: the same ``seed`` and ``today`` give the same plan."""
    rng = random.Random(seed)
    today = today or dt.date.today()
    demo = DemoPlan(today=today, customers=list(_CUSTOMERS), people=list(PEOPLE))
    serial = 0

    def add(code: str, name: str, family: str, category: str, price: int, tracking: Tracking) -> None:
        nonlocal serial
        serial += 1
        if family == "electronics":
            body = f"0{rng.randint(10000, 99999)}{serial:05d}"  # UPC-A: 11 digits + check
        else:
            body = f"590{rng.randint(1000, 9999)}{serial:05d}"  # GTIN-13: 12 digits + check
        cost = (Decimal(price) * Decimal("0.45")).quantize(Decimal("0.01"))
        demo.products.append(
            ProductSpec(
                code,
                name,
                family,
                category,
                body + str(gs1_standard_check_digit(body)),
                Decimal(price),
                cost,
                tracking,
            )
        )

    for code, name, category, price in _APPAREL:
        for size in ("M", "L"):
            add(code.format(s=size), name.format(s=size), "apparel", category, price, "none")
    for code, name, category, price in _FOOTWEAR:
        for size in (41, 43):
            add(code.format(s=size), name.format(s=size), "footwear", category, price, "none")
    for code, name, category, price in _ACCESSORIES:
        add(code, name, "accessories", category, price, "none")
    for code, name, category, price in _ELECTRONICS:
        add(code, name, "electronics", category, price, "serial")
    for code, name, category, price in _HEALTH:
        add(code, name, "health", category, price, "lot")

    letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
    for product in demo.products:
        if product.tracking == "lot":
            for kind in ("expired", "short", "long"):
                days = {
                    "expired": -rng.randint(15, 120),
                    "short": rng.randint(7, 28),
                    "long": rng.randint(300, 700),
                }
                number = f"L{today.year % 100:02d}{rng.randint(100, 999)}{rng.choice(letters)}"
                demo.lots.append(LotSpec(number, product.code, today + dt.timedelta(days=days[kind]), 12))
        elif product.tracking == "serial":
            for _ in range(6):
                number = "SN" + "".join(rng.choice("0123456789" + letters) for _ in range(10))
                demo.lots.append(LotSpec(number, product.code, None, 1))

    by_family = {f: [p for p in demo.products if p.family == f] for f in FAMILY_CATEGORY}
    good_lots = {p.code: demo.lots_of(p.code)[2].number for p in by_family["health"]}
    serials_free = {p.code: [lot.number for lot in demo.lots_of(p.code)] for p in by_family["electronics"]}

    for index in range(18):
        rma = f"RMA-{101 + index:06d}"
        customer = demo.customers[index % len(demo.customers)]
        if rma in LOT_RETURNS:
            product = by_family["health"][index % len(by_family["health"])]
            lines = [Line(product.code, 1, good_lots[product.code])]
        elif rma in SERIAL_RETURNS:
            product = by_family["electronics"][index % len(by_family["electronics"])]
            lines = [Line(product.code, 1, serials_free[product.code].pop(0))]
        else:
            family = ("apparel", "footwear", "accessories")[index % 3]
            first = rng.choice(by_family[family])
            lines = [Line(first.code, 1)]
            if rma == "RMA-000110" or rng.random() < 0.25:
                other = rng.choice([p for p in by_family["accessories"] if p.code != first.code])
                lines.append(Line(other.code, 1))
        box = list(lines)
        mismatch = MISMATCHES.get(rma)
        if mismatch == "wrong item":
            expected = lines[0].product
            sibling = expected[:-5] + ("L" if expected.split("-")[-2] == "M" else "M") + expected[-4:]
            if not any(p.code == sibling for p in demo.products):
                sibling = next(p.code for p in by_family["apparel"] if p.code != expected)
            box[0] = Line(sibling, 1)
        elif mismatch == "extra item":
            extra = next(p for p in by_family["accessories"] if p.code not in {ln.product for ln in lines})
            box.append(Line(extra.code, 1))
        elif mismatch == "missing item":
            box = box[:1]
        elif mismatch == "wrong lot":
            other = next(lot for lot in demo.lots_of(lines[0].product) if lot.number != lines[0].lot)
            box[0] = Line(lines[0].product, 1, other.number)
        elif mismatch == "wrong serial":
            box[0] = Line(lines[0].product, 1, serials_free[lines[0].product][-1])
        tracking = "1Z" + "".join(rng.choice("0123456789ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(16))
        reason = "wrong size" if mismatch == "wrong item" else rng.choice(REASONS)
        demo.returns.append(
            ReturnSpec(
                rma,
                tracking,
                customer,
                reason,
                f"SO-{1001 + index}",
                f"RET-{1001 + index}",
                tuple(lines),
                tuple(box),
                mismatch,
            )
        )

    for index in range(10):
        customer = demo.customers[(index * 5 + 3) % len(demo.customers)]
        lines: list[Line] = []
        if index == 0:
            product = by_family["health"][1]
            lines.append(Line(product.code, 2, good_lots[product.code]))
        family = ("apparel", "footwear", "accessories")[index % 3]
        for product in rng.sample(by_family[family], k=1 + index % 2):
            lines.append(Line(product.code, 1 + (index + len(lines)) % 2))
        if index in (3, 7):
            lines.append(Line(rng.choice(by_family["electronics"]).code, 1))
        service, due_in = ORDER_SERVICE[index]
        due = dt.datetime.combine(today, dt.time()) + dt.timedelta(hours=due_in)
        demo.orders.append(
            OrderSpec(f"SO-{1101 + index}", f"OUT-{1101 + index}", customer, tuple(lines), service, due)
        )
    return demo


# --- writing the plan into Tryton ---------------------------------------------------------------


def seed(
    database: str,
    *,
    admin_login: str = "admin",
    demo: DemoPlan | None = None,
    progress: Callable[[str], None] = print,
) -> None:
    """Write ``demo`` (default: :func:`plan`) into the Tryton ``database`` in-process.

    trytond must be configured and the modules activated; runs in one transaction.
    """
    from trytond.pool import Pool
    from trytond.transaction import Transaction, TransactionError

    demo = demo or plan()
    pool = Pool(database)
    with Transaction().start(database, 0, context={"_skip_warnings": True}) as transaction:
        company = _company(pool, admin_login)
        transaction.commit()
    extras: dict[str, object] = {"_lock_tables": ["stock_move"]}  # stock assignment locks it
    while True:  # trytond asks to restart a transaction that needs table locks (stock assignment)
        context = {"company": company, "_skip_warnings": True}
        with Transaction().start(database, 0, context=context, **extras) as transaction:
            try:
                _Writer(pool, demo, company, progress).write()
            except TransactionError as exc:
                transaction.rollback()
                exc.fix(extras)
                continue
            transaction.commit()
            break


def _company(pool, admin_login: str) -> int:  # type: ignore[no-untyped-def]
    Party = pool.get("party.party")
    Currency = pool.get("currency.currency")
    Company = pool.get("company.company")
    User = pool.get("res.user")
    (currency,) = Currency.create(
        [{"name": "Euro", "symbol": "€", "code": "EUR", "rounding": Decimal("0.01"), "digits": 2}]
    )
    (party,) = Party.create([{"name": "Northwind Outfitters"}])
    (company,) = Company.create(
        [{"party": party.id, "currency": currency.id, "timezone": "Europe/Amsterdam"}]
    )
    (admin,) = User.search([("login", "=", admin_login)])
    User.write([admin], {"companies": [("add", [company.id])], "company": company.id})
    return company.id


class _Writer:
    def __init__(self, pool, demo: DemoPlan, company: int, progress: Callable[[str], None]) -> None:  # type: ignore[no-untyped-def]
        self.pool = pool
        self.demo = demo
        self.company = company
        self.progress = progress
        self.products: dict[str, object] = {}
        self.lots: dict[str, object] = {}
        self.customers: dict[str, object] = {}

    def get(self, name: str):  # type: ignore[no-untyped-def]
        return self.pool.get(name)

    def write(self) -> None:
        self.sequences()
        self.locations()
        self.progress(f"Seeding {len(self.demo.products)} products, lots and stock")
        self.catalogue()
        self.stock()
        self.quality()
        self.people()
        self.progress(f"Seeding {len(self.demo.returns)} delivered sales and their returns")
        self.customers_()
        self.returns()
        self.progress(f"Seeding {len(self.demo.orders)} orders to pack")
        self.orders()

    def sequences(self) -> None:
        ModelData = self.get("ir.model.data")
        Sequence = self.get("ir.sequence")
        for module, xml_id, prefix in (
            ("sale", "sequence_sale", "SO-"),
            ("stock", "sequence_shipment_out", "OUT-"),
            ("stock", "sequence_shipment_out_return", "RET-"),
        ):
            sequence = Sequence(ModelData.get_id(module, xml_id))
            Sequence.write([sequence], {"prefix": prefix, "padding": 5, "number_next": 1001})

    def locations(self) -> None:
        Location = self.get("stock.location")
        (warehouse,) = Location.search([("code", "=", "WH")])
        self.warehouse = warehouse
        Location.write([warehouse.input_location], {"inventory_state": "received"})
        Location.write([warehouse.storage_location], {"inventory_state": "sellable"})
        # Under the storage zone: a return's inventory moves may only go there (or to a waste location).
        Location.create(
            [
                {
                    "name": name,
                    "code": code,
                    "type": "storage",
                    "parent": warehouse.storage_location.id,
                    "inventory_state": state,
                }
                for name, code, state in (
                    ("Quarantine", "QUAR", "quarantine"),
                    ("Refurbishment", "REFURB", "refurbish"),
                    ("Return to Vendor", "RTV", "vendor_return"),
                    # the sort table: inspected units wait there in totes (sort to tote, tote.py)
                    ("Sort Table", "SORT", "sorting"),
                )
            ]
        )
        (scrap,) = Location.create(
            [{"name": "Scrap", "code": "SCRAP", "type": "lost_found", "inventory_state": "disposed"}]
        )
        Location.write([warehouse], {"waste_locations": [("add", [scrap.id])]})
        (self.supplier,) = Location.search([("code", "=", "SUP")])
        (self.customer_location,) = Location.search([("code", "=", "CUS")])

    def catalogue(self) -> None:
        Category = self.get("product.category")
        Template = self.get("product.template")
        Product = self.get("product.product")
        Uom = self.get("product.uom")
        (unit,) = Uom.search([("name", "=", "Unit")])
        parents = {family: Category(name=name) for family, name in FAMILY_CATEGORY.items()}
        Category.save(list(parents.values()))
        self.family_categories = parents
        children: dict[tuple[str, str], object] = {}
        for spec in self.demo.products:
            key = (spec.family, spec.category)
            if key not in children:
                children[key] = Category(name=spec.category, parent=parents[spec.family])
        Category.save(list(children.values()))
        templates = []
        for spec in self.demo.products:
            template = Template(
                name=spec.name,
                code=spec.code,
                type="goods",
                default_uom=unit,
                sale_uom=unit,
                salable=True,
                list_price=spec.list_price,
                categories=[children[(spec.family, spec.category)]],
                station_family=spec.family,
                station_tracking=spec.tracking,
                expiration_state="required" if spec.tracking == "lot" else "none",
                expiration_time=730 if spec.tracking == "lot" else None,
            )
            template.products = [
                Product(
                    identifiers=[{"type": "ean", "code": spec.barcode}],
                    cost_price=spec.cost_price,
                )
            ]
            templates.append(template)
        Template.save(templates)
        for spec, template in zip(self.demo.products, templates, strict=True):
            self.products[spec.code] = template.products[0]

    def stock(self) -> None:
        Lot = self.get("stock.lot")
        Move = self.get("stock.move")
        lots = [
            Lot(number=s.number, product=self.products[s.product], expiration_date=s.expiration_date)
            for s in self.demo.lots
        ]
        Lot.save(lots)
        self.lots = {lot.number: lot for lot in lots}
        moves = []
        storage = self.warehouse.storage_location
        for spec in self.demo.products:
            product = self.products[spec.code]
            if spec.tracking == "none":
                stocked = [(None, 30)]
            else:
                stocked = [(self.lots[s.number], s.quantity) for s in self.demo.lots_of(spec.code)]
            for lot, quantity in stocked:
                moves.append(
                    Move(
                        product=product,
                        unit=product.default_uom,
                        quantity=quantity,
                        lot=lot,
                        from_location=self.supplier,
                        to_location=storage,
                        unit_price=spec.cost_price,
                        currency=self.currency,
                        company=self.company,
                        effective_date=self.demo.today - dt.timedelta(60),
                    )
                )
        Move.save(moves)
        Move.do(moves)

    @property
    def currency(self):  # type: ignore[no-untyped-def]
        return self.get("company.company")(self.company).currency

    def quality(self) -> None:
        Control = self.get("quality.control")
        Control.create(
            [
                {
                    "name": f"{FAMILY_CATEGORY[family]} return inspection",
                    "operations": ["stock.shipment.out.return:do"],
                    "product_category": self.family_categories[family].id,
                    "company": self.company,
                    "points": [
                        (
                            "create",
                            [
                                {"name": f"point_{i}", "string": text, "type_": "boolean"}
                                for i, text in enumerate(points)
                            ],
                        )
                    ],
                }
                for family, points in INSPECTED_FAMILIES.items()
            ]
        )

    def people(self) -> None:
        Person = self.get("returns.station.person")
        Person.create(
            [
                {
                    "badge": p.badge,
                    "name": p.name,
                    "roles": list(p.roles),
                    "active": p.active,
                    "pin_hash": hash_pin(p.pin, salt=pin_salt(p.badge)),
                }
                for p in self.demo.people
            ]
        )

    def customers_(self) -> None:
        Party = self.get("party.party")
        parties = Party.create(
            [
                {
                    "name": name,
                    # an email the receiver can search an unannounced return by (shown masked)
                    "contact_mechanisms": [("create", [{"type": "email", "value": customer_email(name)}])],
                    "addresses": [
                        (
                            "create",
                            [
                                {
                                    "street": f"{10 + i} Harbour Street",
                                    "city": "Rotterdam",
                                    "postal_code": f"30{11 + i} AB",
                                }
                            ],
                        )
                    ],
                }
                for i, name in enumerate(self.demo.customers)
            ]
        )
        self.customers = {p.name: p for p in parties}

    def _sale(self, customer: str, number: str, lines: tuple[Line, ...]):  # type: ignore[no-untyped-def]
        Sale = self.get("sale.sale")
        party = self.customers[customer]
        sale = Sale(
            company=self.company,
            party=party,
            invoice_address=party.addresses[0],
            shipment_address=party.addresses[0],
            number=number,
            reference=f"WEB-{number.removeprefix('SO-')}",
            warehouse=self.warehouse,
            invoice_method="manual",
            shipment_method="order",
            currency=self.currency,
            sale_date=self.demo.today - dt.timedelta(days=14),
            lines=[
                {
                    "type": "line",
                    "product": self.products[ln.product],
                    "quantity": ln.quantity,
                    "unit": self.products[ln.product].default_uom,
                    "unit_price": self.demo.product(ln.product).list_price,
                }
                for ln in lines
            ],
        )
        sale.save()
        return sale

    def _process(self, sales: list, lines: list[tuple[Line, ...]]) -> list:  # type: ignore[type-arg]
        """Confirm and process ``sales``; put each line's lot on its inventory move; return shipments."""
        Sale = self.get("sale.sale")
        Move = self.get("stock.move")
        Shipment = self.get("stock.shipment.out")
        Sale.quote(sales)
        Sale.confirm(sales)
        Sale.process(sales)
        shipments = []
        for sale, sale_lines in zip(sales, lines, strict=True):
            sale = Sale(sale.id)
            (shipment,) = sale.shipments
            shipments.append(shipment)
            for move in shipment.inventory_moves:
                wanted = next(ln for ln in sale_lines if self.products[ln.product].id == move.product.id)
                if wanted.lot:
                    Move.write([move], {"lot": self.lots[wanted.lot].id})
        Shipment.assign_try(shipments)
        not_assigned = [s.number for s in Shipment.browse([s.id for s in shipments]) if s.state != "assigned"]
        if not_assigned:
            raise RuntimeError(f"demo shipments could not be assigned: {not_assigned}")
        return shipments

    def returns(self) -> None:
        Shipment = self.get("stock.shipment.out")
        Return = self.get("stock.shipment.out.return")
        sold = []
        for spec in self.demo.returns:
            sale_lines = spec.lines
            sold.append((spec, self._sale(spec.customer, spec.order, sale_lines)))
        shipments = self._process([s for _, s in sold], [spec.lines for spec, _ in sold])
        for spec, shipment in zip(self.demo.returns, shipments, strict=True):
            shipment.number = "OUT-" + spec.order.removeprefix("SO-")
        Shipment.save(shipments)
        Shipment.pick(shipments)
        Shipment.pack(shipments)
        Shipment.ship(shipments)
        Shipment.do(shipments)
        # Each returned line comes from the move that delivered it: its origin (Tryton warns
        # when a move from a customer has none).
        delivered = {
            (spec.rma, move.product.id): move
            for spec, shipment in zip(self.demo.returns, shipments, strict=True)
            for move in Shipment(shipment.id).outgoing_moves
        }
        created = Return.create(
            [
                {
                    "company": self.company,
                    "customer": self.customers[spec.customer].id,
                    "contact_address": self.customers[spec.customer].addresses[0].id,
                    "warehouse": self.warehouse.id,
                    "warehouse_input": self.warehouse.input_location.id,
                    "warehouse_storage": self.warehouse.storage_location.id,
                    "reference": spec.rma,
                    "tracking_number": spec.tracking,
                    "return_reason": spec.reason,
                    "returned_sale": sale.id,
                    "planned_date": self.demo.today + dt.timedelta(days=2),
                    "moves": [
                        (
                            "create",
                            [
                                {
                                    "product": self.products[ln.product].id,
                                    "quantity": ln.quantity,
                                    "unit": self.products[ln.product].default_uom.id,
                                    "lot": self.lots[ln.lot].id if ln.lot else None,
                                    "from_location": self.customer_location.id,
                                    "to_location": self.warehouse.input_location.id,
                                    "unit_price": self.demo.product(ln.product).list_price,
                                    "currency": self.currency.id,
                                    "company": self.company,
                                    "origin": str(delivered[(spec.rma, self.products[ln.product].id)]),
                                }
                                for ln in spec.lines
                            ],
                        )
                    ],
                }
                for spec, sale in sold
            ]
        )
        for spec, shipment in zip(self.demo.returns, created, strict=True):
            shipment.number = spec.number
        Return.save(created)

    def orders(self) -> None:
        Shipment = self.get("stock.shipment.out")
        sales = [self._sale(o.customer, o.order, o.lines) for o in self.demo.orders]
        for sale, spec in zip(sales, self.demo.orders, strict=True):
            sale.station_service_class, sale.station_due_at = spec.service_class, spec.due_at
        self.get("sale.sale").save(sales)
        shipments = self._process(sales, [o.lines for o in self.demo.orders])
        for spec, shipment in zip(self.demo.orders, shipments, strict=True):
            shipment.number = spec.shipment
        Shipment.save(shipments)
