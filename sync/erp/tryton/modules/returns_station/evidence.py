"""``returns.station.evidence``: what an evidence pack for a return is built from, read from the
ERP's own records (so any station can build one), and the pack attached back to the return.

RPC ``gather(rma)`` (read-only): the return (RMA, number, customer, reason, dates), each unit's
``quality.inspection`` (grade, checklist, disposition, rule and rules version, refund, note, the
operation that recorded it with its station, badge and time from ``returns.station.operation``),
the photos attached to each inspection (``ir.attachment`` named by the SHA-256 the station sent;
``data`` base64), the approvals of the return, and the packs already attached.

RPC ``attach(rma, content_sha256, pdf_base64, manifest_json)``: the pack attached to the return as
``evidence-<content sha256>.pdf`` with its manifest beside it (``evidence-<sha>.json``); the
attachment's description records the SHA-256 of the content and of the PDF file. Idempotent by the
content hash: attaching the same pack again changes nothing (``already``); a manifest whose hash is
not the one given is refused.
"""

import base64
import hashlib
import json

from trytond.model import Model
from trytond.pool import Pool
from trytond.rpc import RPC
from trytond.transaction import Transaction

from .access import check_station_caller
from .exceptions import StationRefusal

RETURN = "stock.shipment.out.return"


class Evidence(Model):
    "Station Evidence Pack"

    __name__ = "returns.station.evidence"

    @classmethod
    def __setup__(cls):
        super().__setup__()
        # Station-facing (access.py): any station may build or check a pack.
        cls.__rpc__.update(
            {
                "gather": RPC(readonly=True, check_access=False),
                "attach": RPC(readonly=False, check_access=False),
            }
        )

    @classmethod
    def gather(cls, rma):
        check_station_caller("returns.station.evidence.gather")
        with Transaction().set_context(_check_access=False, active_test=False):
            shipment = _return(rma)
            return {
                "return": _return_record(shipment),
                "received": _marker_for_return(shipment, "receive_return"),
                "units": [_unit(i) for i in _inspections(shipment)],
                "approvals": _approvals(shipment),
                "packs": _packs(shipment),
            }

    @classmethod
    def attach(cls, rma, content_sha256, pdf_base64, manifest_json):
        check_station_caller("returns.station.evidence.attach")
        canonical = manifest_json.encode("utf-8")
        if hashlib.sha256(canonical).hexdigest() != content_sha256:
            raise StationRefusal("the pack's manifest does not match its SHA-256 (damaged on the way)")
        data = base64.b64decode(pdf_base64)
        file_sha = hashlib.sha256(data).hexdigest()
        Attachment = Pool().get("ir.attachment")
        with Transaction().set_context(_check_access=False):
            shipment = _return(rma)
            resource = str(shipment)
            name = f"evidence-{content_sha256}.pdf"
            found = Attachment.search([("resource", "=", resource), ("name", "=", name)], limit=1)
            if found:
                return {"status": "already", "attachment_id": found[0].id, "file_sha256": file_sha}
            pdf = Attachment(
                resource=resource,
                name=name,
                type="data",
                data=data,
                description=f"Evidence pack of {shipment.reference or shipment.number}\n"
                f"content sha256: {content_sha256}\nfile sha256: {file_sha}",
            )
            manifest = Attachment(
                resource=resource,
                name=f"evidence-{content_sha256}.json",
                type="data",
                data=canonical,
                description=f"Manifest of the evidence pack {content_sha256}",
            )
            Attachment.save([pdf, manifest])
            return {"status": "applied", "attachment_id": pdf.id, "file_sha256": file_sha}


def _return(rma):
    Return = Pool().get(RETURN)
    found = Return.search(["OR", ("reference", "=", rma), ("number", "=", rma)], limit=1)
    if not found:
        raise StationRefusal(f"the ERP has no return {rma}")
    return found[0]


def _date(value):
    return value.isoformat() if value else None


def _return_record(shipment):
    return {
        "id": shipment.id,
        "rma": shipment.reference,
        "number": shipment.number,
        "customer": shipment.customer.rec_name if shipment.customer else None,
        "reason": getattr(shipment, "return_reason", None),
        "order": shipment.returned_sale.number if getattr(shipment, "returned_sale", None) else None,
        "state": shipment.state,
        "planned_date": _date(shipment.planned_date),
        "effective_date": _date(shipment.effective_date),
        "created": _date(shipment.create_date),
    }


def _marker(operation_id):
    if not operation_id:
        return None
    Operation = Pool().get("returns.station.operation")
    found = Operation.search([("operation_id", "=", operation_id)], limit=1)
    return _marker_record(found[0]) if found else None


def _marker_record(marker):
    return {
        "operation": marker.operation_id,
        "type": marker.type,
        "station": marker.station,
        "user": marker.user_badge,
        "at": marker.created_at,
    }


def _marker_for_return(shipment, type_):
    Operation = Pool().get("returns.station.operation")
    for marker in Operation.search([("type", "=", type_)], order=[("id", "ASC")]):
        if json.loads(marker.result or "{}").get("return_id") == shipment.id:
            return _marker_record(marker)
    return None


def _inspections(shipment):
    Inspection = Pool().get("quality.inspection")
    return Inspection.search([("origin", "=", str(shipment))], order=[("id", "ASC")])


def _unit(inspection):
    Attachment = Pool().get("ir.attachment")
    Move = Pool().get("stock.move")
    moves = Move.search([("station_inspection", "=", inspection.id)], limit=1)
    move = moves[0] if moves else None
    photos = Attachment.search([("resource", "=", str(inspection))], order=[("id", "ASC")])
    return {
        "inspection_id": inspection.id,
        "reference": inspection.reference,
        "product": move.product.rec_name if move else None,
        "lot": move.lot.number if move and move.lot else None,
        "state": inspection.state,
        "grade": inspection.station_grade,
        "checklist": json.loads(inspection.station_checklist or "{}"),
        "disposition": inspection.station_disposition,
        "rule": inspection.station_rule,
        "rules_version": getattr(inspection, "station_rules_version", None),
        "refund": json.loads(inspection.station_refund or "{}"),
        "note": inspection.station_note,
        "location": move.to_location.rec_name if move and move.to_location else None,
        "inspected": _marker(inspection.station_operation),
        "photos": [{"name": p.name, "data": base64.b64encode(p.data or b"").decode("ascii")} for p in photos],
    }


def _approvals(shipment):
    Approval = Pool().get("returns.station.approval")
    return [
        {
            "request": a.request_id,
            "kind": a.kind,
            "state": a.state,
            "rule": a.rule_id,
            "reason": a.reason,
            "requested_by": a.requested_by,
            "requested_at": a.requested_at,
            "station": a.station,
            "decided_by": a.decided_by,
            "decided_at": a.decided_at,
            "note": a.note,
        }
        for a in Approval.search([("return_shipment", "=", shipment.id)], order=[("id", "ASC")])
    ]


def _packs(shipment):
    """The packs attached to the return, oldest first: content hash, the manifest as recorded,
    the PDF's SHA-256 as recorded and as its bytes are now."""
    Attachment = Pool().get("ir.attachment")
    resource = str(shipment)
    packs = []
    for manifest in Attachment.search(
        [("resource", "=", resource), ("name", "like", "evidence-%.json")], order=[("id", "ASC")]
    ):
        digest = manifest.name[len("evidence-") : -len(".json")]
        pdfs = Attachment.search(
            [("resource", "=", resource), ("name", "=", f"evidence-{digest}.pdf")], limit=1
        )
        recorded = None
        if pdfs:
            for line in (pdfs[0].description or "").splitlines():
                if line.startswith("file sha256: "):
                    recorded = line[len("file sha256: ") :].strip()
        packs.append(
            {
                "content_sha256": digest,
                "manifest": (manifest.data or b"").decode("utf-8", errors="replace"),
                "file_sha256": recorded,
                "file_sha256_now": hashlib.sha256(pdfs[0].data or b"").hexdigest() if pdfs else None,
                "attachment_id": pdfs[0].id if pdfs else None,
            }
        )
    return packs
