"""What a station has confirmed, derived from the operations it queues.

Each operation carries progress rows (:func:`progress_of`): a receipt, one row per return line it
received; an inspection, the unit; a pack, one row per shipment line; an approval asked or decided.
The store writes them in the same transaction as the operation (``Store.record_progress``), and the
tasks read them back to know what is left to do, instead of reading the outbox's payloads. A
cancelled operation's rows are removed with it, so what it had confirmed can be done again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

RECEIVED, INSPECTED, PACKED, ASKED, DECIDED = "received", "inspected", "packed", "asked", "decided"
# sort to tote: a unit put in a tote (subject: the tote's label), a tote closed
SORTED, TOTE_CLOSED = "sorted", "tote_closed"


@dataclass(frozen=True)
class Progress:
    kind: str  # received | inspected | packed | asked | decided | sorted | tote_closed
    subject: str  # return id, shipment id, approval request id
    line: str = ""  # "" for the action itself; "move:<id>", "extra:<n>", "unit:<product id>"
    quantity: float = 0.0
    data: dict[str, Any] | None = None


def progress_of(op: Mapping[str, Any]) -> list[Progress]:
    """The progress rows an operation (its dict form) records; none for a photo upload."""
    kind, payload = op["type"], op.get("payload") or {}
    if kind == "receive_return":
        # a return the station opened itself (open_return) has no ERP id yet: its operation's id
        opened = payload.get("return_id") is None and payload.get("return_op")
        subject = f"op:{payload['return_op']}" if opened else str(payload["return_id"])
        rows = [Progress(RECEIVED, subject, "", 0.0, {"rma": payload.get("rma")})]
        for line in payload.get("lines") or []:
            rows.append(
                Progress(
                    RECEIVED,
                    subject,
                    f"move:{line.get('move_id')}",
                    float(line.get("received") or 0),
                    {"product_id": line["product_id"], "lot_expected": line.get("lot_expected")},
                )
            )
        for n, extra in enumerate(payload.get("extra") or []):
            if extra.get("product_id") is not None:
                rows.append(
                    Progress(
                        RECEIVED,
                        subject,
                        f"extra:{n}",
                        float(extra.get("quantity") or 0),
                        {"product_id": extra["product_id"], "lot_expected": None},
                    )
                )
        return rows
    if kind == "inspect_item":
        return [
            Progress(
                INSPECTED,
                str(payload["return_id"]),
                f"unit:{payload['product_id']}",
                float(payload.get("quantity", 1)),
                {
                    "product_id": payload["product_id"],
                    "serial": payload.get("serial"),
                    "lot": payload.get("lot"),
                },
            )
        ]
    if kind == "confirm_pack":
        subject = str(payload["shipment_id"])
        rows = [Progress(PACKED, subject, "", 0.0, {"approval_request": payload.get("approval_request")})]
        for line in payload.get("lines") or []:
            rows.append(
                Progress(
                    PACKED,
                    subject,
                    f"move:{line.get('move_id')}",
                    float(line.get("quantity") or 0),
                    {"product_id": line.get("product_id")},
                )
            )
        return rows
    if kind == "request_approval":
        return [Progress(ASKED, str(payload["request_id"]), "", 0.0, {"operation": dict(op)})]
    if kind == "sort_to_tote":
        return [
            Progress(
                SORTED,
                str(payload["tote"]),
                f"unit:{payload.get('inspect_op')}",
                1.0,
                {"disposition": payload.get("disposition"), "product_id": payload.get("product_id")},
            )
        ]
    if kind == "close_tote":
        return [Progress(TOTE_CLOSED, str(payload["tote"]), "", float(payload.get("units") or 0), None)]
    if kind == "decide_approval":
        return [Progress(DECIDED, str(payload["request_id"]), "", 0.0, {"decision": payload.get("decision")})]
    return []
