"""What the figures need that Tryton does not record: when each stage happened, and where.

- ``sale.sale.station_channel``: the customer channel the order came through.
- ``stock.shipment.out.return``: when the RMA was issued (``rma_issued_at``; the record's creation
  when empty), the refund (``refund_amount``, ``refunded_at``), and when and where a station
  received it (``station_received_at``, ``station_received_station``).
- ``stock.move`` (a return's inventory move, one per inspected line): when and where it was
  inspected, and when it was put away (the return went ``done`` with its disposition final); and
  for every move of a customer return, that return's id as an integer column (``station_return``,
  see :meth:`Move.__register__`), so the figures join returns and moves on an integer instead of
  building the ``shipment`` reference text of each return.
- ``stock.shipment.out``: the service class and the time the order is due.
- ``returns.station.figures.configuration``: the service-level target, the recovery factor of each
  disposition path and the alert thresholds, set in the ERP.

The stage stamps are written after each applied batch from the operation markers (station clock,
UTC): an operation id has one marker, so a re-sent operation stamps nothing twice.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from decimal import Decimal

from trytond import backend
from trytond.model import ModelSingleton, ModelSQL, ModelView, fields
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction

logger = logging.getLogger(__name__)

CHANNELS = [
    ("web", "Web shop"),
    ("marketplace", "Marketplace"),
    ("store", "Store"),
]
SERVICE_CLASSES = [
    ("premium", "Premium"),
    ("marketplace", "Marketplace"),
    ("wholesale", "Wholesale"),
    ("standard", "Standard"),
]
# Most urgent first: Pack lists waiting orders in this order, then by due time.
SERVICE_RANK = {key: rank for rank, (key, _) in enumerate(SERVICE_CLASSES)}
# Disposition paths and the inventory state of the location each one sends a unit to.
PATHS = {
    "sellable": "restock",
    "refurbish": "refurbish",
    "vendor_return": "return_to_vendor",
    "quarantine": "quarantine",
    "disposed": "dispose",
}
DEFAULT_FACTORS = {
    "restock": Decimal("1.00"),
    "refurbish": Decimal("0.60"),
    "return_to_vendor": Decimal("0.80"),
    "quarantine": Decimal("0.00"),
    "dispose": Decimal("0.00"),
}


def parse_station_time(text: str | None) -> dt.datetime | None:
    """A station's ``created_at`` (ISO 8601, UTC, maybe with ``Z``) as a naive UTC datetime."""
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


class Sale(metaclass=PoolMeta):
    __name__ = "sale.sale"

    station_channel = fields.Selection(CHANNELS, "Channel", help="The customer channel of this order.")

    @staticmethod
    def default_station_channel():
        return "web"


class ShipmentOutReturn(metaclass=PoolMeta):
    __name__ = "stock.shipment.out.return"

    rma_issued_at = fields.DateTime("RMA Issued At", help="When the customer was given the RMA.")
    refund_amount = fields.Numeric("Refund Amount", digits=(12, 2), help="What the customer was refunded.")
    refunded_at = fields.DateTime("Refunded At")
    station_received_at = fields.DateTime(
        "Received At", readonly=True, help="Station clock (UTC) of the receipt."
    )
    station_received_station = fields.Char("Received At Station", readonly=True)


class Move(metaclass=PoolMeta):
    __name__ = "stock.move"

    station_inspected_at = fields.DateTime("Inspected At", readonly=True)
    station_inspected_station = fields.Char("Inspected At Station", readonly=True)
    station_put_away_at = fields.DateTime("Put Away At", readonly=True)

    @classmethod
    def __register__(cls, module_name):
        super().__register__(module_name)
        add_return_column(cls._table)


RETURN_REFERENCE = "stock.shipment.out.return,"
# The customer return a move belongs to, as the database computes it from the move's ``shipment``
# reference on every insert and update: no code path that links a move to a return (the ORM, a
# handler, bulk SQL) can leave it stale, and adding it fills the existing rows. Not a Tryton field:
# nothing writes it. PostgreSQL stores it (and answers NULL for a malformed id instead of failing
# the write); SQLite cannot add a stored column to an existing table and computes it when read.
RETURN_COLUMN = {
    "postgresql": "INTEGER GENERATED ALWAYS AS (CAST(SUBSTRING(shipment FROM "
    "'^stock\\.shipment\\.out\\.return,([0-9]{1,9})$') AS INTEGER)) STORED",
    "sqlite": f"INTEGER GENERATED ALWAYS AS (CASE WHEN shipment LIKE '{RETURN_REFERENCE}%' "
    f"THEN CAST(SUBSTR(shipment, {len(RETURN_REFERENCE) + 1}) AS INTEGER) END) VIRTUAL",
}


def add_return_column(table: str) -> None:
    """Add ``station_return`` (and its index) to the moves' table unless it is there."""
    cursor = Transaction().connection.cursor()
    if backend.name == "sqlite":
        # PRAGMA table_info (Tryton's column_exist) leaves generated columns out; table_xinfo has them.
        cursor.execute(f'PRAGMA table_xinfo("{table}")')
        exists = any(row[1] == "station_return" for row in cursor)
    else:
        cursor.execute(
            "SELECT 1 FROM information_schema.columns WHERE table_name = %s AND column_name = %s",
            (table, "station_return"),
        )
        exists = cursor.fetchone() is not None
    if not exists:
        cursor.execute(f'ALTER TABLE "{table}" ADD COLUMN station_return {RETURN_COLUMN[backend.name]}')
    cursor.execute(
        f'CREATE INDEX IF NOT EXISTS "{table}_station_return" ON "{table}" (station_return)'
        " WHERE station_return IS NOT NULL"
    )


class ShipmentOut(metaclass=PoolMeta):
    __name__ = "stock.shipment.out"

    service_class = fields.Selection(SERVICE_CLASSES, "Service Class")
    due_at = fields.DateTime("Due At", help="When the order must leave the warehouse.")

    @staticmethod
    def default_service_class():
        return "standard"


class FiguresConfiguration(ModelSingleton, ModelSQL, ModelView):
    "Returns Station Figures Configuration"

    __name__ = "returns.station.figures.configuration"

    sla_hours = fields.Integer("Put-away Target (hours)", help="Restocked units put away within this.")
    factor_restock = fields.Numeric("Restock Recovery", digits=(4, 2))
    factor_refurbish = fields.Numeric("Refurbish Recovery", digits=(4, 2))
    factor_return_to_vendor = fields.Numeric("Return to Vendor Recovery", digits=(4, 2))
    factor_quarantine = fields.Numeric("Quarantine Recovery", digits=(4, 2))
    factor_dispose = fields.Numeric("Dispose Recovery", digits=(4, 2))
    alert_days = fields.Integer("Return-rate Window (days)")
    alert_return_rate = fields.Numeric("Return-rate Alert", digits=(4, 2), help="Units returned / sold.")
    alert_min_units = fields.Integer("Return-rate Minimum Units")
    alert_quarantine_days = fields.Integer("Quarantine Alert (days)")
    alert_exposure = fields.Numeric("Exposure Alert", digits=(12, 2))

    @staticmethod
    def default_sla_hours():
        return 48

    @staticmethod
    def default_factor_restock():
        return DEFAULT_FACTORS["restock"]

    @staticmethod
    def default_factor_refurbish():
        return DEFAULT_FACTORS["refurbish"]

    @staticmethod
    def default_factor_return_to_vendor():
        return DEFAULT_FACTORS["return_to_vendor"]

    @staticmethod
    def default_factor_quarantine():
        return DEFAULT_FACTORS["quarantine"]

    @staticmethod
    def default_factor_dispose():
        return DEFAULT_FACTORS["dispose"]

    @staticmethod
    def default_alert_days():
        return 14

    @staticmethod
    def default_alert_return_rate():
        return Decimal("0.30")

    @staticmethod
    def default_alert_min_units():
        return 3

    @staticmethod
    def default_alert_quarantine_days():
        return 7

    @staticmethod
    def default_alert_exposure():
        return Decimal("1000.00")

    def factors(self) -> dict[str, Decimal]:
        return {
            path: Decimal(
                getattr(self, f"factor_{path}") if getattr(self, f"factor_{path}") is not None else 0
            )
            for path in DEFAULT_FACTORS
        }


class Operation(metaclass=PoolMeta):
    __name__ = "returns.station.operation"

    @classmethod
    def apply_batch(cls, operations):
        results = super().apply_batch(operations)
        applied = [r["id"] for r in results if r["status"] == "applied"]
        if applied:
            with Transaction().set_context(_check_access=False):
                stamp_stages(cls.search([("operation_id", "in", applied)]))
                _evaluate_alerts_now_and_then()
        return results


# Alerts after a batch: at most every ALERT_INTERVAL per database and worker process, because the
# figures behind them read the whole window (seconds on a large ERP). The RPC evaluates every time.
ALERT_INTERVAL = dt.timedelta(minutes=10)
_last_evaluated: dict[str, dt.datetime] = {}


def _evaluate_alerts_now_and_then() -> None:
    transaction = Transaction()
    now = dt.datetime.now(dt.UTC)
    last = _last_evaluated.get(transaction.database.name)
    if last is not None and now - last < ALERT_INTERVAL:
        return
    _last_evaluated[transaction.database.name] = now
    cursor = transaction.connection.cursor()
    cursor.execute("SAVEPOINT station_alerts")
    try:
        Pool().get("quality.alert").station_evaluate()
    except Exception:
        # An alert must never cost a station its batch: the operations stay applied.
        cursor.execute("ROLLBACK TO SAVEPOINT station_alerts")
        logger.exception("returns_station: evaluating the alerts after a batch failed")
    cursor.execute("RELEASE SAVEPOINT station_alerts")


def stamp_stages(markers) -> None:
    """Write each marker's stage times (receipt, inspection, put-away) on the records it changed."""
    pool = Pool()
    Return = pool.get("stock.shipment.out.return")
    Move = pool.get("stock.move")
    cursor = Transaction().connection.cursor()
    returns = Return.__table__()
    moves = Move.__table__()
    for marker in sorted(markers, key=lambda m: (m.created_at or "", m.id)):
        refs = json.loads(marker.result or "{}")
        when = parse_station_time(marker.created_at) or marker.create_date
        # SQL, not write(): done moves refuse writes, and these stamps change no stock.
        if marker.type == "receive_return" and refs.get("return_id"):
            cursor.execute(
                *returns.update(
                    [returns.station_received_at, returns.station_received_station],
                    [when, marker.station],
                    where=(returns.id == int(refs["return_id"])) & (returns.station_received_at == None),  # noqa: E711
                )
            )
        if marker.type == "inspect_item" and refs.get("move_id"):
            cursor.execute(
                *moves.update(
                    [moves.station_inspected_at, moves.station_inspected_station],
                    [when, marker.station],
                    where=(moves.id == int(refs["move_id"])) & (moves.station_inspected_at == None),  # noqa: E711
                )
            )
        if refs.get("return_state") == "done" and refs.get("inspection_id"):
            inspection = pool.get("quality.inspection")(int(refs["inspection_id"]))
            origin = inspection.origin
            if origin is not None and origin.__name__ == "stock.shipment.out.return":
                cursor.execute(
                    *moves.update(
                        [moves.station_put_away_at],
                        [when],
                        where=(moves.shipment == str(origin))
                        & (moves.from_location == origin.warehouse_input.id)
                        & (moves.state == "done")
                        & (moves.station_put_away_at == None),  # noqa: E711
                    )
                )
    for cache in Transaction().cache.values():
        cache.clear()
