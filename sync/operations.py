"""Operations: the sync protocol between a station and the ERP.

An operation is one governed state change, written to the station's outbox before the person is
told "saved", and applied by the ERP connector exactly once (its ``id`` is the idempotency key).

Rules (ARCHITECTURE.md):
- Types are added, never changed in place. A payload change makes a new ``version`` of the type
  and the connector keeps applying every older version it ever accepted.
- ``depends_on`` lists operation ids that must be applied first: a photo upload before the
  inspection that cites it, a receipt before the inspections of its items, an approval request
  before its decision.
- ``station`` and ``user`` (the person's badge) stamp every operation; ``created_at`` is the
  station clock in UTC.

Payloads, version 1 (ERP ids are Tryton record ids as pulled into the reference cache):

``receive_return`` — a return's box was opened and its contents scanned::

    {"return_id": 12, "return_number": "CR00012", "rma": "RMA-000123",
     "lines": [{"move_id": 40, "product_id": 7, "lot_expected": "L2409A" | null, "expected": 2,
                "received": 1, "lots": [{"lot": "L2409A", "quantity": 1}], "serials": []}],
     "extra":   [{"barcode": "0950600013435", "product_id": 9 | null, "quantity": 1,
                  "lot": null, "serial": null,
                  "reason": "extra item" | "wrong item" | "wrong lot" | "unknown barcode"}],
     "missing": [{"move_id": 41, "product_id": 8, "quantity": 1}],
     "partial_reason": null | "carrier damaged box, second parcel expected"}

  ``lot_expected`` (added, optional) is the lot or serial the line expected (the one sold): the
  station keeps it to tell the inspector whether a unit is the one sold; the ERP may ignore it.
  ERP effect: the return's incoming moves get the received quantities and lots (extra known
  products become extra incoming moves; missing quantities are not received); the return goes to
  ``received``. Conflict when the return is no longer ``draft`` (another station received it).

``upload_photo`` — an inspection photo, content-addressed::

    {"sha256": "ab12…", "mime": "image/jpeg", "return_id": 12}

  The bytes are not in the payload: the engine reads them from the store's photo files. ERP effect:
  an ``ir.attachment`` named by the hash on the return shipment (found by name before creating).

``inspect_item`` — one unit graded and given a disposition::

    {"return_id": 12, "product_id": 7, "quantity": 1, "lot": "L2409A" | null, "serial": null,
     "grade": "B", "checklist": {"seal_intact": true, "days_to_expiry": 120},
     "photos": ["ab12…"],
     "disposition": "restock" | "refurbish" | "quarantine" | "return_to_vendor" | "dispose",
     "rule_id": "health-expired", "rules_version": "2026-11-01.1",
     "refund": {"kind": "full" | "partial" | "none" | "exchange", "restocking_fee_pct": 15 | null},
     "approval_required": false, "note": null}

  depends_on: the ``upload_photo`` of each photo and, when queued at this station, the
  ``receive_return``. ERP effect: a ``quality.inspection`` with the grade and checklist (passed,
  or pending when ``approval_required``), the photos attached to it, and the unit's inventory move
  sent to the disposition's location (held in place while approval is pending); the return goes to
  ``done`` when every received unit is disposed.

``request_approval`` — a person asks a supervisor to allow something the rules gate::

    {"request_id": "uuid", "kind": "disposition" | "write_off" | "override" | "short_pack",
     "subject_op": "uuid of the inspect_item or confirm_pack it gates",
     "return_id": 12 | null, "shipment_id": null | 5, "product_id": 7 | null,
     "reason": "unit value 640.00 over the 250.00 threshold", "summary": "…", "value": 640.0,
     "rule_id": "electronics-high-value", "evidence": ["ab12…"]}

  ERP effect: a pending approval request visible to every station's supervisor (pulled as
  reference data ``approvals``).

``decide_approval`` — a supervisor's decision::

    {"request_id": "uuid", "decision": "approve" | "refuse", "note": "checked the serial"}

  ERP effect: approve passes the pending inspection and moves the unit to its disposition, or packs
  the short pack held on the request (in the same transaction: if the ERP cannot pack it, the
  decision is not recorded either); refuse fails the inspection, raises a ``quality.alert`` and
  holds the unit in quarantine, or drops the held short pack (the shipment stays assigned, the
  request shows ``refused`` with the note). The decider must not be the requester (refused by the
  station and by the ERP).

``confirm_pack`` — an outgoing order packed and verified by scan::

    {"shipment_id": 5, "shipment_number": "CS00005",
     "lines": [{"move_id": 61, "product_id": 3, "quantity": 2,
                "lots": [{"lot": "L2501", "quantity": 2}], "serials": []}],
     "short": [{"move_id": 62, "product_id": 4, "quantity": 1}],
     "short_reason": null | "last unit damaged", "approval_request": null | "uuid"}

  ERP effect: the shipment is picked and packed with one package holding its moves. Conflict when
  it is already packed or no longer assigned. With an ``approval_request`` (a short pack) the
  shipment is packed only once that request is approved: while it is pending the pack is accepted
  but held on the request (refs ``held_for_approval``; the shipment stays assigned) and
  ``decide_approval`` applies it; when the request was already approved it packs at once, when it
  was refused it is a conflict and nothing is packed.

``open_return`` — a parcel nobody announced, matched to the sale it came from (found online)::

    {"sale_id": 3, "sale_number": "SO-1003", "rma": "UA-3F2A9C01", "parcel_code": "1Z…" | null,
     "lines": [{"sold_move_id": 40, "product_id": 7, "quantity": 1}], "reason": "unannounced"}

  ``sold_move_id`` is the delivered move (the sale search's line). ERP effect: a draft customer
  return of that sale with reason "unannounced", one expected line per sold line (refs: its
  ``return_id``, ``number`` and ``moves`` by ``sold_move_id``). Conflict when a line's units are
  already returned. The station's ``receive_return`` for it follows with ``depends_on`` this
  operation and, instead of ``return_id`` and each line's ``move_id``, ``"return_op": "<this
  operation's id>"`` and each line's ``sold_move_id`` (the ERP fills in what it created).

``blind_receipt`` — a parcel matched to no sale (none found, or the ERP out of reach)::

    {"rma": "BLIND-3F2A9C01", "parcel_code": "1Z…" | null, "why": "no sale found" | "offline",
     "items": [{"barcode": "0950600013435", "product_id": 9 | null, "quantity": 1,
                "lot": null, "serial": null}]}

  ERP effect: a customer return from the party "Unknown sender (blind receipts)" with reason
  "unannounced", received, its units moved to quarantine, and a note for a supervisor
  (``station_review``: identify the sender; unknown barcodes listed there).

``sort_to_tote`` — an inspected unit put into the tote of its disposition (the station sorts)::

    {"tote": "TOTE-REFURB-0003", "inspect_op": "uuid of its inspect_item (sent with
     "to_sort": true)", "return_id": 12, "product_id": 7, "lot": null, "serial": null,
     "disposition": "refurbish"}

  ``depends_on`` the ``inspect_item``. ERP effect: a move sort location -> the disposition's
  location on the tote's internal shipment, packed in the tote (a ``stock.package`` numbered as
  the label; the first unit opens it). Refused: a label that is no tote's, a tote of another
  disposition than the ERP's inspection, a closed tote; conflict: the unit is already in a tote.

``close_tote`` — a full tote closed and moved as a whole::

    {"tote": "TOTE-REFURB-0003", "units": 4}

  ERP effect: the tote's internal shipment done: its units reach the disposition's location.
  Conflict when another station closed it already; refused when it never held a unit.

``station_status`` — what only the station knows about itself, queued by the sync engine every
``STATION_STATUS_INTERVAL`` seconds (sync.station_status; never two waiting at once), ``user`` empty
(the station speaks, not a person)::

    {"outbox": {"pending": 3, "failed": 1, …}, "refusals": {"wrong_item": 2, …},
     "app_version": "0.1.0", "clock_offset_s": -0.412 | null}

  ``refusals``: counted since the station's previous status; ``clock_offset_s``: the station's
  clock minus the ERP's, measured against ``returns.station.clock.now`` (null: not reachable).
  ERP effect: the station's latest status (``returns.station.status``: last seen, outbox, app
  version, clock offset) and its refusals kept per status (``returns.station.status.refusal``),
  shown in the figures' ``stations`` and ``pack.wrong_items_stopped``.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

OPERATION_TYPES: dict[str, int] = {
    # type -> newest payload version this code writes (the connector applies every version <= it)
    "receive_return": 1,
    "upload_photo": 1,
    "inspect_item": 1,
    "request_approval": 1,
    "decide_approval": 1,
    "confirm_pack": 1,
    "open_return": 1,
    "blind_receipt": 1,
    "station_status": 1,
    "sort_to_tote": 1,
    "close_tote": 1,
}


class UnknownOperationType(ValueError):
    """An operation type (or version) this code does not know: written by a newer station."""


def utc_now() -> str:
    """The station clock, UTC, ISO 8601 with milliseconds and a ``Z``."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass(frozen=True)
class Operation:
    """One state change on its way to the ERP. Immutable once queued."""

    id: str
    type: str
    station: str
    user: str
    created_at: str
    payload: dict[str, Any]
    depends_on: tuple[str, ...] = ()
    version: int = 1
    # The supervisor who edited the payload at the outbox (None: as the person made it). Sent to
    # the ERP, which checks that badge is a supervisor's and keeps it on the operation's marker.
    edited_by: str | None = None

    def __post_init__(self) -> None:
        newest = OPERATION_TYPES.get(self.type)
        if newest is None:
            raise UnknownOperationType(f"unknown operation type {self.type!r}")
        if not 1 <= self.version <= newest:
            raise UnknownOperationType(
                f"{self.type} version {self.version} is newer than this station knows (up to {newest})"
            )

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["depends_on"] = list(self.depends_on)
        if data["edited_by"] is None:
            del data["edited_by"]  # as before edits were recorded: the same JSON, the same fingerprint
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Operation:
        return cls(
            id=data["id"],
            type=data["type"],
            station=data["station"],
            user=data["user"],
            created_at=data["created_at"],
            payload=dict(data["payload"]),
            depends_on=tuple(data.get("depends_on") or ()),
            version=int(data.get("version", 1)),
            edited_by=data.get("edited_by"),
        )

    @classmethod
    def from_json(cls, text: str) -> Operation:
        return cls.from_dict(json.loads(text))


def new_operation(
    type: str,
    payload: dict[str, Any],
    *,
    station: str,
    user: str,
    depends_on: tuple[str, ...] | list[str] = (),
    id: str | None = None,
    created_at: str | None = None,
) -> Operation:
    """A fresh operation of the newest version of ``type``, with a new UUID unless one is given."""
    return Operation(
        id=id or str(uuid.uuid4()),
        type=type,
        station=station,
        user=user,
        created_at=created_at or utc_now(),
        payload=payload,
        depends_on=tuple(depends_on),
        version=OPERATION_TYPES.get(type, 1),
    )


@dataclass(frozen=True)
class ApplyResult:
    """What the connector reports after applying an operation.

    ``already`` is true when the ERP had applied this operation id before (a re-send after a lost
    response): nothing was changed this time.
    """

    already: bool = False
    erp_refs: dict[str, Any] = field(default_factory=dict)
