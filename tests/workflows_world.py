"""A small, fixed world for workflow tests, modelled on the demo dataset (same names, barcodes and
kinds of mismatch) but frozen here, so the ERP's demo can grow without moving these tests. Tests
that run against the real ERP use the demo itself (sync/erp/tryton/demo.py)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from sync.common.pins import hash_pin
from sync.store import Store

WRITE_DATE = "2026-11-01T00:00:00.000Z"

# code, name, family, barcode, unit value, tracking
PRODUCTS = [
    ("APP-TEE-M-BLK", "Organic Cotton Tee, Black, M", "apparel", "5901732000014", 8.55, "none"),
    ("APP-TEE-L-BLK", "Organic Cotton Tee, Black, L", "apparel", "5901183000021", 8.55, "none"),
    ("APP-TEE-M-WHT", "Organic Cotton Tee, White, M", "apparel", "5905879000036", 8.55, "none"),
    ("APP-TEE-L-WHT", "Organic Cotton Tee, White, L", "apparel", "5901106000046", 8.55, "none"),
    ("APP-HOOD-L-GRY", "Fleece Hoodie, Grey, L", "apparel", "5901821000062", 22.05, "none"),
    ("ACC-BELT-BRN", "Leather Belt, Brown", "accessories", "5907053000184", 15.75, "none"),
    ("ACC-CAP-NVY", "Baseball Cap, Navy", "accessories", "5904632000207", 9.90, "none"),
    ("ACC-BEANIE-RED", "Wool Beanie, Red", "accessories", "5905404000210", 11.25, "none"),
    ("ACC-WALLET-BLK", "Bifold Wallet, Black", "accessories", "5906791000227", 20.25, "none"),
    ("ACC-SCARF-GRY", "Merino Scarf, Grey", "accessories", "5901242000252", 17.55, "none"),
    ("ELE-EARBUDS-W", "Wireless Earbuds", "electronics", "094655000263", 58.05, "serial"),
    ("ELE-CHRG-65W", "65 W USB-C Charger", "electronics", "035128000304", 17.55, "serial"),
    ("ELE-EREADER-6", "E-Reader 6 inch", "electronics", "058984000332", 53.55, "serial"),
    ("HLT-VITD-60", "Vitamin D3 Capsules, 60", "health", "5906340000340", 5.40, "lot"),
    ("HLT-OMEGA-90", "Omega-3 Softgels, 90", "health", "5909960000356", 10.80, "lot"),
    ("HLT-HANDCR-75", "Hand Cream, 75 ml", "health", "5908104000382", 4.05, "lot"),
]
# number, product, expiration (None for serials)
LOTS = [
    ("SNRT10SMXA2M", "ELE-EARBUDS-W", None), ("SN82C8M5DGQB", "ELE-EARBUDS-W", None),
    ("SN6UV8HS487S", "ELE-CHRG-65W", None),
    ("SN8XTZZ16Q76", "ELE-EREADER-6", None), ("SNRELACCMKLY", "ELE-EREADER-6", None),
    ("L26971Y", "HLT-VITD-60", "2026-09-07"), ("L26552F", "HLT-VITD-60", "2026-12-19"),
    ("L26565J", "HLT-VITD-60", "2028-09-23"),
    ("L26819F", "HLT-OMEGA-90", "2026-09-11"), ("L26116Y", "HLT-OMEGA-90", "2026-12-16"),
    ("L26213B", "HLT-OMEGA-90", "2028-06-26"),
    ("L26499A", "HLT-HANDCR-75", "2026-08-22"), ("L26445K", "HLT-HANDCR-75", "2026-12-23"),
    ("L26642U", "HLT-HANDCR-75", "2027-11-01"),
]  # fmt: skip
# rma, tracking, order, reason, expected lines (product, quantity, lot)
RETURNS = [
    (
        "RMA-000101",
        "1Z5JTBD58CLCW2D0WM",
        "WEB-5001",
        "wrong size",
        [("APP-TEE-M-WHT", 1, None), ("ACC-BEANIE-RED", 1, None)],
    ),
    (
        "RMA-000104",
        "1ZV55J5VUFAG95B54V",
        "WEB-5004",
        "wrong size",
        [("APP-TEE-L-BLK", 1, None), ("ACC-CAP-NVY", 1, None)],
    ),
    ("RMA-000105", "1Z8Y1CMNEJYWU90EE1", "WEB-5005", "wrong size", [("ELE-CHRG-65W", 1, "SN6UV8HS487S")]),
    ("RMA-000106", "1ZYEMRJUBHLRH5048D", "WEB-5006", "wrong size", [("ACC-SCARF-GRY", 1, None)]),
    ("RMA-000107", "1ZFM67BABXC2DNGCRN", "WEB-5007", "arrived too late", [("APP-HOOD-L-GRY", 1, None)]),
    (
        "RMA-000110",
        "1ZE9DCGS0GP1BKZLYZ",
        "WEB-5010",
        "arrived too late",
        [("APP-HOOD-L-GRY", 1, None), ("ACC-WALLET-BLK", 1, None)],
    ),
    ("RMA-000113", "1Z67VD7G2HE49SSLC4", "WEB-5013", "wrong size", [("HLT-HANDCR-75", 1, "L26642U")]),
    (
        "RMA-000116",
        "1ZCMC65GVDCKA41NWG",
        "WEB-5016",
        "arrived too late",
        [("ELE-EREADER-6", 1, "SN8XTZZ16Q76")],
    ),
]
# order reference, customer, lines (product, quantity, lot)
ORDERS = [
    ("WEB-6001", "Dev Patel", [("HLT-OMEGA-90", 2, "L26213B"), ("APP-TEE-M-BLK", 2, None)]),
    ("WEB-6003", "Bruno Costa", [("ACC-BEANIE-RED", 1, None)]),
    ("WEB-6006", "Elif Yilmaz", [("ACC-BEANIE-RED", 2, None), ("ACC-BELT-BRN", 1, None)]),
    ("WEB-6010", "Alma Jansen", [("APP-TEE-M-BLK", 2, None), ("APP-TEE-L-WHT", 1, None)]),
]
# badge, name, roles, pin, active
PEOPLE = [
    ("U-RECV-1", "Rosa Diaz", ["receiver"], "1111", True),
    ("U-INSP-1", "Ivan Petrov", ["inspector"], "2222", True),
    ("U-PACK-1", "Priya Nair", ["packer"], "3333", True),
    ("U-SUPV-1", "Sam Okafor", ["supervisor"], "444444", True),
    ("U-LEAD-1", "Lee Chen", ["receiver", "inspector"], "5555", True),
    ("U-GONE-1", "Gus Walker", ["packer"], "9999", False),
]


FAR_FUTURE = "2999-01-01T00:00:00Z"


@cache
def pin_hash(badge: str, pin: str) -> str:
    """Hashing is deliberately slow (scrypt): hash each test person's PIN once per test run."""
    return hash_pin(pin, salt=badge.encode().ljust(16, b"-")[:16])


@dataclass
class World:
    today: dt.date
    product_ids: dict[str, int] = field(default_factory=dict)  # code -> id
    barcodes: dict[str, str] = field(default_factory=dict)  # code -> barcode
    return_ids: dict[str, int] = field(default_factory=dict)  # rma -> id
    shipment_ids: dict[str, int] = field(default_factory=dict)  # order reference -> id

    def barcode(self, code: str) -> str:
        return self.barcodes[code]

    def gs1(
        self, code: str, *, lot: str | None = None, expiry: dt.date | None = None, serial: str | None = None
    ) -> str:
        """The text a scanner types for a GS1 DataMatrix of this product (AIM ]d2, GS separators)."""
        text = "]d201" + self.barcodes[code].zfill(14)
        if expiry is not None:
            text += "17" + expiry.strftime("%y%m%d")
        if lot is not None:
            text += "10" + lot + "\x1d"
        if serial is not None:
            text += "21" + serial + "\x1d"
        return text.rstrip("\x1d")


def seed_world(store: Store, today: dt.date) -> World:
    """Write the fixed world into ``store`` as reference data (ids in list order from 1)."""
    world = World(today=today)
    products: list[dict[str, Any]] = []
    for number, (code, name, family, barcode, value, tracking) in enumerate(PRODUCTS, start=1):
        world.product_ids[code] = number
        world.barcodes[code] = barcode
        products.append(
            {
                "id": number,
                "code": code,
                "name": name,
                "family": family,
                "category": family,
                "barcodes": [barcode],
                "unit_value": value,
                "lot_tracked": tracking == "lot",
                "serial_tracked": tracking == "serial",
                "write_date": WRITE_DATE,
            }
        )
    lots = [
        {
            "id": n,
            "number": number,
            "product_id": world.product_ids[product],
            "expiration_date": expiry,
            "recalled": False,
            "write_date": WRITE_DATE,
        }
        for n, (number, product, expiry) in enumerate(LOTS, start=1)
    ]
    move = 1000
    returns = []
    for number, (rma, tracking, order, reason, lines) in enumerate(RETURNS, start=1):
        world.return_ids[rma] = number
        expected = []
        for product, quantity, lot in lines:
            move += 1
            expected.append(
                {"move_id": move, "product_id": world.product_ids[product], "quantity": quantity, "lot": lot}
            )
        returns.append(
            {
                "id": number,
                "number": f"CR{number:05d}",
                "rma": rma,
                "tracking": tracking,
                "order": order,
                "customer": "Test Customer",
                "reason": reason,
                "state": "draft",
                "lines": expected,
                "write_date": WRITE_DATE,
            }
        )
    shipments = []
    for reference, customer, lines in ORDERS:
        number = int(reference[-2:])
        world.shipment_ids[reference] = number
        expected = []
        for product, quantity, lot in lines:
            move += 1
            expected.append(
                {"move_id": move, "product_id": world.product_ids[product], "quantity": quantity, "lot": lot}
            )
        shipments.append(
            {
                "id": number,
                "number": f"CS{number:05d}",
                "order": reference,
                "customer": customer,
                "state": "assigned",
                "lines": expected,
                "write_date": WRITE_DATE,
            }
        )
    people = [
        {
            "badge": badge,
            "name": name,
            "roles": roles,
            "active": active,
            "write_date": WRITE_DATE,
        }
        for badge, name, roles, pin, active in PEOPLE
    ]
    store.upsert_reference("products", products)
    store.upsert_reference("lots", lots)
    store.upsert_reference("returns", returns)
    store.upsert_reference("shipments", shipments)
    store.upsert_reference("people", people)
    seed_verifiers(store, [(badge, pin) for badge, _name, _roles, pin, _active in PEOPLE])
    return world


def seed_verifiers(
    store: Store, badges_and_pins: list[tuple[str, str]], expires_at: str = FAR_FUTURE
) -> None:
    """As if each person had signed in at this station while the ERP could check their PIN: the
    verifier the ERP would have handed back (sync.common.pins), valid until ``expires_at``."""
    for badge, pin in badges_and_pins:
        person = store.person(badge)
        version = int(person.get("pin_version") or 0) if person else 0
        store.save_verifier(badge, pin_hash(badge, pin), expires_at, pin_version=version)
