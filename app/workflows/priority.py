"""Service-level priority for packing: which waiting order to pack first, and which are late.

An order (an outgoing shipment from the cache) carries its sale's ``service_class`` and ``due_at``
(sync.reference.Shipment). The most urgent comes first: late orders (due before now), then by due
time (none last), then by class (premium, marketplace, wholesale, standard), then by number. The
Pack screen lists waiting orders in that order and Home counts the late ones; both say "late" in
words, never by colour alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from app.workflows.views import OrderView
from sync.progress import PACKED
from sync.reference import Shipment

if TYPE_CHECKING:
    from sync.store import Store

# Most urgent first (the ERP's order too: returns_station/figures_data.SERVICE_CLASSES).
SERVICE_CLASSES = ("premium", "marketplace", "wholesale", "standard")
SERVICE_RANK = {name: rank for rank, name in enumerate(SERVICE_CLASSES)}
# Orders not yet packed: "waiting" waits for stock (listed, not packable yet), the others are ready.
WAITING_STATES = ("waiting", "assigned", "picked")
READY_STATES = ("assigned", "picked")


def due_at(shipment: Shipment) -> datetime | None:
    """When the order must leave (aware UTC), or None when it has no due time or an unreadable one."""
    text = shipment.get("due_at")
    if not text:
        return None
    try:
        value = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def is_late(shipment: Shipment, now: datetime) -> bool:
    due = due_at(shipment)
    return due is not None and due < now


def urgency(shipment: Shipment, now: datetime) -> tuple:
    """Sort key, most urgent first: late, due time (none last), service class, number."""
    due = due_at(shipment)
    rank = SERVICE_RANK.get(shipment.get("service_class") or "standard", len(SERVICE_CLASSES))
    return (
        0 if is_late(shipment, now) else 1,
        due is None,
        due or now,
        rank,
        shipment.get("number") or "",
    )


def by_urgency(shipments: Iterable[Shipment], now: datetime) -> list[Shipment]:
    """The orders waiting to be packed (``WAITING_STATES``), most urgent first."""
    waiting = [s for s in shipments if s.get("state") in WAITING_STATES]
    return sorted(waiting, key=lambda s: urgency(s, now))


def not_packed_here(store: Store) -> list[Shipment]:
    """The cached orders, less those this station packed and has not had refused (their pack may
    not have reached the ERP yet, so the cache still says they wait)."""
    latest: dict[str, dict] = {}
    for row in store.progress(PACKED):
        if not row["line"]:
            latest[str(row["subject"])] = row
    out = []
    for shipment in store.shipments():
        row = latest.get(str(shipment["id"]))
        if row is not None:
            request_id = (row["data"] or {}).get("approval_request")
            approval = store.approval(request_id) if request_id else None
            if approval is None or approval["state"] != "refused":
                continue
        out.append(shipment)
    return out


def late_count(shipments: Iterable[Shipment], now: datetime) -> int:
    """How many orders waiting to be packed are past their due time."""
    return sum(1 for s in shipments if s.get("state") in WAITING_STATES and is_late(s, now))


def when(due: datetime, now: datetime) -> str:
    """``"due 14:00 UTC, in 3 h"`` / ``"due 30 Nov 18:00 UTC, 11 h ago"``: a due time in words."""
    day = "" if due.date() == now.date() else due.strftime("%d %b ").lstrip("0")
    hours = abs(due - now).total_seconds() / 3600
    if hours < 1:
        span = f"{int(hours * 60)} min"
    else:
        span = f"{int(hours)} h" if hours < 48 else f"{int(hours // 24)} days"
    rel = f"{span} ago" if due < now else f"in {span}"
    return f"due {day}{due.strftime('%H:%M')} UTC, {rel}"


def order_view(shipment: Shipment, now: datetime) -> OrderView:
    """One waiting order as the Pack screen lists it, with its words (also its accessible name)."""
    late = is_late(shipment, now)
    service = shipment.get("service_class") or "standard"
    due = due_at(shipment)
    units = sum(float(line["quantity"]) for line in shipment.get("lines") or ())
    ready = shipment.get("state") in READY_STATES
    parts = [shipment["number"]]
    if late:
        parts.append("LATE")
    parts.append(service)
    parts.append(when(due, now) if due else "no due time")
    parts.append(f"{units:g} item(s) for {shipment.get('customer') or 'a customer'}")
    if not ready:
        parts.append("waiting for stock")
    return OrderView(
        key=str(shipment["id"]),
        number=shipment["number"],
        order=shipment.get("order"),
        customer=shipment.get("customer") or "",
        service_class=service,
        due_at=shipment.get("due_at"),
        late=late,
        ready=ready,
        units=units,
        label=" · ".join(parts),
    )
