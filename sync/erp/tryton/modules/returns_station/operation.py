"""Exactly-once application of station operations, and the reference pull, inside the ERP.

``returns.station.operation`` holds one row per applied operation id (the marker). Its RPC method
``apply_batch(operations)`` applies each operation in its own savepoint of the ONE transaction
Tryton gives the call: marker check, the effect, the marker write. A re-sent batch (its response
was lost) finds every marker and changes nothing: each result says ``already``.

Each result is ``{"id", "status", "message", "refs"}`` where ``status`` is one of
``applied`` / ``already`` / ``conflict`` (the ERP's state moved: another station did it) /
``rejected`` (the ERP refuses this payload; ``message`` says why in its words) / ``skipped``
(a dependency in the same batch did not apply; nothing was tried).

``pull(cursors)`` returns the ``sync.reference`` shapes changed since each cursor.
"""

import base64
import datetime as dt
import hashlib
import json
from decimal import Decimal

from trytond.exceptions import UserError, UserWarning
from trytond.model import ModelSQL, ModelView, Unique, fields
from trytond.model.exceptions import ValidationError
from trytond.model.modelview import ButtonActionException
from trytond.pool import Pool, PoolMeta
from trytond.rpc import RPC
from trytond.transaction import Transaction

# Where each disposition sends the unit: a stock.location's inventory_state (stock.py).
DISPOSITION_STATES = {
    "restock": "sellable",
    "refurbish": "refurbish",
    "quarantine": "quarantine",
    "return_to_vendor": "vendor_return",
    "dispose": "disposed",
}
GENERIC_CONTROL = "Returns Station grading"
PACKAGE_TYPE = "Returns Station box"
# Records changed this close to "now" are sent again on the next pull: a transaction that started
# earlier may still commit rows with an older write_date (PostgreSQL stamps the transaction start).
CURSOR_MARGIN = dt.timedelta(seconds=5)


class StationConflict(UserError):
    """The ERP's state moved under the operation."""


class StationRefusal(UserError):
    """The ERP refuses the operation's payload."""


class Operation(ModelSQL, ModelView):
    "Station Operation"

    __name__ = "returns.station.operation"
    _rec_name = "operation_id"

    operation_id = fields.Char("Operation", required=True, readonly=True)
    type = fields.Char("Type", required=True, readonly=True)
    version = fields.Integer("Version", readonly=True)
    station = fields.Char("Station", readonly=True)
    user_badge = fields.Char("User", readonly=True)
    created_at = fields.Char("Created At", readonly=True, help="Station clock, UTC.")
    result = fields.Text("Result", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ("operation_unique", Unique(t, t.operation_id), "Each station operation is applied once."),
        ]
        cls.__rpc__.update(
            {
                "apply_batch": RPC(readonly=False),
                "pull": RPC(readonly=True),
            }
        )

    # --- apply ------------------------------------------------------------------------------------
    @classmethod
    def apply_batch(cls, operations):
        """Apply each ``{"operation": {...}, "photo": base64 | None}`` once; one result per item."""
        transaction = Transaction()
        cursor = transaction.connection.cursor()
        # SQLite (the embedded ERP) opens a transaction only before a write: a SAVEPOINT outside one
        # starts a transaction of its own that its RELEASE commits, so each effect would commit
        # without its marker (found by bench/day.py). Open the call's transaction first: effects and
        # markers commit together or not at all. PostgreSQL is always in a transaction here.
        if getattr(transaction.connection, "in_transaction", True) is False:
            cursor.execute("BEGIN IMMEDIATE")
        ids = [item["operation"]["id"] for item in operations]
        markers = {m.operation_id: m for m in cls.search([("operation_id", "in", ids)])} if ids else {}
        results = []
        new_markers = []
        not_applied = set()
        for index, item in enumerate(operations):
            op = item["operation"]
            if op["id"] in markers:
                refs = json.loads(markers[op["id"]].result or "{}")
                results.append({"id": op["id"], "status": "already", "message": None, "refs": refs})
                continue
            if any(dep in not_applied for dep in op.get("depends_on") or ()):
                not_applied.add(op["id"])
                results.append({"id": op["id"], "status": "skipped", "message": None, "refs": {}})
                continue
            savepoint = f"station_op_{index}"
            cursor.execute(f"SAVEPOINT {savepoint}")
            try:
                # The person at the station already confirmed what they did: the ERP's warnings
                # (moves without an origin, …) have nobody to answer them here.
                # The station's ERP user may call this model; the effects are the module's own
                # (buttons of quality and stock run without the user's button groups).
                with Transaction().set_context(_skip_warnings=True, _check_access=False):
                    refs = cls._apply_one(op, item.get("photo"))
                # The markers are written together at the end of the batch, in this same
                # transaction: they commit with the effects or not at all. The unique operation_id
                # makes a concurrent second apply of the same id fail (and roll back) as a whole.
                new_markers.append(
                    {
                        "operation_id": op["id"],
                        "type": op["type"],
                        "version": op.get("version", 1),
                        "station": op.get("station"),
                        "user_badge": op.get("user"),
                        "created_at": op.get("created_at"),
                        "result": json.dumps(refs, sort_keys=True, default=str),
                    }
                )
            except StationConflict as exc:
                cls._rollback_to(cursor, savepoint)
                not_applied.add(op["id"])
                results.append({"id": op["id"], "status": "conflict", "message": exc.message, "refs": {}})
                continue
            except (UserError, UserWarning, ValidationError) as exc:
                cls._rollback_to(cursor, savepoint)
                not_applied.add(op["id"])
                message = getattr(exc, "message", None) or str(exc)
                results.append({"id": op["id"], "status": "rejected", "message": message, "refs": {}})
                continue
            except ButtonActionException:
                cls._rollback_to(cursor, savepoint)
                not_applied.add(op["id"])
                results.append(
                    {
                        "id": op["id"],
                        "status": "rejected",
                        "message": "the ERP asks for a manual step (a wizard) to do this",
                        "refs": {},
                    }
                )
                continue
            except (KeyError, TypeError, ValueError) as exc:
                # A payload this code cannot read: a person must look at it, the rest go on.
                cls._rollback_to(cursor, savepoint)
                not_applied.add(op["id"])
                results.append(
                    {
                        "id": op["id"],
                        "status": "rejected",
                        "message": f"the ERP cannot read this operation ({type(exc).__name__}: {exc})",
                        "refs": {},
                    }
                )
                continue
            cursor.execute(f"RELEASE SAVEPOINT {savepoint}")
            results.append({"id": op["id"], "status": "applied", "message": None, "refs": refs})
        if new_markers:
            with Transaction().set_context(_check_access=False):
                cls.create(new_markers)
        return results

    @staticmethod
    def _rollback_to(cursor, savepoint):
        cursor.execute(f"ROLLBACK TO SAVEPOINT {savepoint}")
        cursor.execute(f"RELEASE SAVEPOINT {savepoint}")
        # Records read or written inside the savepoint may be cached: forget them.
        for cache in Transaction().cache.values():
            cache.clear()

    @classmethod
    def _apply_one(cls, op, photo):
        kind = op["type"]
        payload = op["payload"]
        version = op.get("version", 1)
        if version != 1:
            raise StationRefusal(f"{kind} version {version} is newer than this ERP module knows (up to 1)")
        if kind == "receive_return":
            return cls._receive_return(payload)
        if kind == "upload_photo":
            return cls._upload_photo(payload, photo)
        if kind == "inspect_item":
            return cls._inspect_item(op, payload)
        if kind == "request_approval":
            return cls._request_approval(op, payload)
        if kind == "decide_approval":
            return cls._decide_approval(op, payload)
        if kind == "confirm_pack":
            return cls._confirm_pack(payload)
        raise StationRefusal(f"unknown operation type {kind!r}")

    # --- helpers ----------------------------------------------------------------------------------
    @staticmethod
    def _product(product_id):
        Product = Pool().get("product.product")
        with Transaction().set_context(active_test=False):
            found = Product.search([("id", "=", int(product_id))])
        if not found:
            raise StationRefusal(f"unknown product (id {product_id}) in the ERP")
        return found[0]

    @staticmethod
    def _lot(product, number):
        Lot = Pool().get("stock.lot")
        lots = Lot.search([("product", "=", product.id), ("number", "=", number)], limit=1)
        if lots:
            return lots[0]
        lot = Lot(product=product, number=number)
        lot.save()
        return lot

    @staticmethod
    def _return(return_id):
        Return = Pool().get("stock.shipment.out.return")
        found = Return.search([("id", "=", int(return_id))])
        if not found:
            raise StationRefusal(f"unknown return (id {return_id}) in the ERP")
        return found[0]

    @staticmethod
    def _location(state):
        Location = Pool().get("stock.location")
        found = Location.search([("inventory_state", "=", state)], limit=1)
        if not found:
            raise StationRefusal(f"the ERP has no location for the inventory state {state!r}")
        return found[0]

    @classmethod
    def _disposition_location(cls, shipment, disposition):
        state = DISPOSITION_STATES.get(disposition)
        if state is None:
            raise StationRefusal(f"unknown disposition {disposition!r}")
        if state == "sellable":
            return shipment.warehouse_storage
        return cls._location(state)

    # --- receive_return -----------------------------------------------------------------------------
    @classmethod
    def _receive_return(cls, payload):
        pool = Pool()
        Return = pool.get("stock.shipment.out.return")
        Move = pool.get("stock.move")
        shipment = cls._return(payload["return_id"])
        if shipment.state == "cancelled":
            raise StationRefusal(f"return {shipment.number} was cancelled in the ERP")
        if shipment.state != "draft":
            raise StationConflict(
                f"return {shipment.number} ({shipment.reference or 'no RMA'}) is already {shipment.state} "
                "in the ERP: another station received it first"
            )
        moves = {m.id: m for m in shipment.incoming_moves}
        handled = set()
        to_save, to_cancel = [], []
        for line in payload.get("lines") or []:
            move = moves.get(int(line["move_id"]))
            if move is None:
                raise StationRefusal(
                    f"line {line['move_id']} is not an expected line of return {shipment.number}"
                )
            if int(line["product_id"]) != move.product.id:
                raise StationRefusal(
                    f"line {line['move_id']} of return {shipment.number} is not that product"
                )
            handled.add(move.id)
            received = float(line.get("received", 0))
            lots = [lot for lot in (line.get("lots") or []) if float(lot.get("quantity", 0)) > 0]
            for serial in line.get("serials") or []:
                lots.append({"lot": serial, "quantity": 1})
            if received <= 0:
                to_cancel.append(move)
                continue
            if not lots:
                move.quantity = received
                to_save.append(move)
                continue
            remaining = received
            first = True
            for lot in lots:
                quantity = min(float(lot["quantity"]), remaining)
                if quantity <= 0:
                    break
                remaining -= quantity
                target = move if first else Move.copy([move], default={"quantity": quantity})[0]
                target.quantity = quantity
                target.lot = cls._lot(move.product, lot["lot"])
                to_save.append(target)
                first = False
            if remaining > 0:
                extra = Move.copy([move], default={"quantity": remaining, "lot": None})[0]
                to_save.append(extra)
        for move_id, move in moves.items():
            if move_id not in handled:
                to_cancel.append(move)  # listed neither as received nor missing: nothing came
        extras = []
        for extra in payload.get("extra") or []:
            if not extra.get("product_id"):
                continue  # an unknown barcode cannot become stock; it stays in the station's record
            product = cls._product(extra["product_id"])
            template = next(iter(moves.values()), None)
            move = Move(
                product=product,
                unit=product.default_uom,
                quantity=float(extra.get("quantity", 1)),
                from_location=shipment.customer_location,
                to_location=shipment.warehouse_input,
                company=shipment.company,
                shipment=shipment,
                planned_date=template.planned_date if template else None,
                unit_price=getattr(template, "unit_price", None) if template else None,
                currency=getattr(template, "currency", None) if template else None,
            )
            for name in ("unit_price", "currency"):
                if getattr(move, name, None) is None and name in Move._fields:
                    setattr(
                        move, name, {"unit_price": Decimal(0), "currency": shipment.company.currency}[name]
                    )
            if extra.get("lot") or extra.get("serial"):
                move.lot = cls._lot(product, extra.get("lot") or extra.get("serial"))
            extras.append(move)
        Move.save(to_save + extras)
        if to_cancel:
            Move.cancel(to_cancel)
        Return.receive([shipment])
        shipment = Return(shipment.id)
        # Tryton makes an inventory move for every incoming move with a quantity, cancelled ones
        # too: a unit that never came would wait forever to be put away, and the return would
        # never be done (found by bench/day.py: a missing, wrong item, lot or serial line).
        never_came = [
            m
            for m in shipment.inventory_moves
            if m.state == "draft" and m.origin and getattr(m.origin, "state", None) == "cancelled"
        ]
        if never_came:
            Move.cancel(never_came)
            shipment = Return(shipment.id)
        return {"return_id": shipment.id, "state": shipment.state, "extra_moves": [m.id for m in extras]}

    # --- upload_photo -----------------------------------------------------------------------------
    @classmethod
    def _attach(cls, resource, digest, data):
        Attachment = Pool().get("ir.attachment")
        found = Attachment.search([("resource", "=", resource), ("name", "=", digest)], limit=1)
        if found:
            return found[0]
        attachment = Attachment(resource=resource, name=digest, type="data", data=data)
        attachment.save()
        return attachment

    @classmethod
    def _upload_photo(cls, payload, photo):
        digest = payload["sha256"]
        if photo is None:
            raise StationRefusal(f"photo {digest[:12]}… arrived without its bytes")
        data = base64.b64decode(photo)
        if hashlib.sha256(data).hexdigest() != digest:
            raise StationRefusal(f"photo {digest[:12]}… does not match its hash (damaged on the way)")
        if payload.get("return_id"):
            resource = str(cls._return(payload["return_id"]))
        else:
            resource = None
        if resource is None:
            Company = Pool().get("company.company")
            resource = str(Company(Transaction().context.get("company") or Company.search([], limit=1)[0].id))
        attachment = cls._attach(resource, digest, data)
        return {"attachment_id": attachment.id}

    @staticmethod
    def _photo_data(digest):
        Attachment = Pool().get("ir.attachment")
        found = Attachment.search([("name", "=", digest)], limit=1)
        if not found:
            raise StationRefusal(f"photo {digest[:12]}… has not reached the ERP (upload it first)")
        return found[0].data

    # --- inspect_item ------------------------------------------------------------------------------
    @classmethod
    def _control_for(cls, shipment, product):
        Control = Pool().get("quality.control")
        operation = "stock.shipment.out.return:do"
        for control in Control.search([("operations", "in", operation)]):
            if control.match({"products": [product.id]}):
                return control
        found = Control.search([("name", "=", GENERIC_CONTROL)], limit=1)
        if found:
            return found[0]
        control = Control(
            name=GENERIC_CONTROL,
            operations=[],
            frequency=1,
            points=[{"name": "station_graded", "string": "Graded at a station", "type_": "boolean"}],
        )
        control.save()
        return control

    @classmethod
    def _inspect_item(cls, op, payload):
        pool = Pool()
        Inspection = pool.get("quality.inspection")
        Move = pool.get("stock.move")
        shipment = cls._return(payload["return_id"])
        if shipment.state == "draft":
            raise StationConflict(f"return {shipment.number} has not been received in the ERP yet")
        if shipment.state in ("done", "cancelled"):
            raise StationConflict(f"return {shipment.number} is already {shipment.state} in the ERP")
        product = cls._product(payload["product_id"])
        quantity = float(payload.get("quantity", 1))
        lot_number = payload.get("lot") or payload.get("serial")
        candidates = [
            m
            for m in shipment.inventory_moves
            if m.product == product and m.state not in ("done", "cancelled") and not m.station_disposition
        ]
        if lot_number:
            exact = [m for m in candidates if m.lot and m.lot.number == lot_number]
            candidates = exact or [m for m in candidates if not m.lot] or candidates
        if not candidates:
            raise StationConflict(
                f"no {product.rec_name} of return {shipment.number} is waiting for inspection in the ERP "
                "(already inspected elsewhere, or never received)"
            )
        move = candidates[0]
        if move.quantity < quantity:
            raise StationRefusal(
                f"return {shipment.number} has {move.quantity:g} {product.rec_name} to inspect,"
                f" not {quantity:g}"
            )
        if move.quantity > quantity:
            Move.copy([move], default={"quantity": move.quantity - quantity})
            move.quantity = quantity
        if lot_number and not move.lot:
            move.lot = cls._lot(product, lot_number)
        control = cls._control_for(shipment, product)
        points = _points(control, payload.get("checklist") or {})
        inspection = Inspection(
            control=control,
            company=shipment.company,
            origin=shipment,
            points=points or None,
            reference=f"{shipment.number} {product.rec_name}"[:100],
            station_operation=op["id"],
            station_grade=payload.get("grade"),
            station_checklist=json.dumps(payload.get("checklist") or {}, sort_keys=True),
            station_disposition=payload.get("disposition"),
            station_rule=payload.get("rule_id"),
            station_refund=json.dumps(payload.get("refund") or {}, sort_keys=True),
            station_note=payload.get("note"),
        )
        inspection.save()
        move.to_location = cls._disposition_location(shipment, payload["disposition"])
        move.station_inspection = inspection
        move.station_disposition = "held" if payload.get("approval_required") else "disposed"
        move.save()
        for digest in payload.get("photos") or []:
            cls._attach(str(inspection), digest, cls._photo_data(digest))
        if payload.get("approval_required"):
            state = "pending"
        else:
            Inspection.pass_([inspection])
            state = "passed"
        finished = cls._finish_return(shipment)
        return {
            "inspection_id": inspection.id,
            "inspection_state": state,
            "move_id": move.id,
            "location_id": move.to_location.id,
            "return_state": finished,
        }

    @classmethod
    def _finish_return(cls, shipment):
        """The return goes to ``done`` once every received unit is disposed; returns its state."""
        Return = Pool().get("stock.shipment.out.return")
        shipment = Return(shipment.id)
        if shipment.state != "received":
            return shipment.state
        waiting = [
            m
            for m in shipment.inventory_moves
            if m.state not in ("done", "cancelled") and m.station_disposition != "disposed"
        ]
        if waiting or shipment.quality_inspections_pending() or shipment.quality_inspections_failed():
            return shipment.state
        cursor = Transaction().connection.cursor()
        cursor.execute("SAVEPOINT station_finish")
        try:
            Return.do([shipment])
        except (UserError, UserWarning, ButtonActionException):
            # Something else holds the return (an open quality alert): it stays received.
            cls._rollback_to(cursor, "station_finish")
            return "received"
        cursor.execute("RELEASE SAVEPOINT station_finish")
        return Return(shipment.id).state

    # --- approvals ----------------------------------------------------------------------------------
    @classmethod
    def _request_approval(cls, op, payload):
        Approval = Pool().get("returns.station.approval")
        found = Approval.search([("request_id", "=", payload["request_id"])], limit=1)
        if found:
            raise StationConflict(f"approval request {payload['request_id']} already exists in the ERP")
        approval = Approval(
            request_id=payload["request_id"],
            kind=payload["kind"],
            state="pending",
            subject_op=payload.get("subject_op"),
            requested_by=op.get("user") or "?",
            requested_at=op.get("created_at"),
            station=op.get("station"),
            reason=payload.get("reason"),
            summary=payload.get("summary"),
            value=payload.get("value"),
            rule_id=payload.get("rule_id"),
            return_shipment=payload.get("return_id"),
            shipment=payload.get("shipment_id"),
            product=payload.get("product_id"),
            evidence="\n".join(payload.get("evidence") or []),
        )
        approval.save()
        return {"approval_id": approval.id}

    @classmethod
    def _decide_approval(cls, op, payload):
        pool = Pool()
        Inspection = pool.get("quality.inspection")
        Move = pool.get("stock.move")
        Approval = pool.get("returns.station.approval")
        found = Approval.search([("request_id", "=", payload["request_id"])], limit=1)
        if not found:
            raise StationRefusal(f"approval request {payload['request_id']} is unknown to the ERP")
        approval = found[0]
        decider = op.get("user")
        if approval.state != "pending":
            raise StationConflict(
                f"approval request {approval.request_id} was already {approval.state}"
                f" by {approval.decided_by}"
            )
        if decider and decider == approval.requested_by:
            raise StationRefusal(f"{decider} asked for this approval and cannot decide it too")
        decision = payload["decision"]
        if decision not in ("approve", "refuse"):
            raise StationRefusal(f"unknown decision {decision!r}: approve or refuse")
        approval.state = "approved" if decision == "approve" else "refused"
        approval.decided_by = decider
        approval.decided_at = op.get("created_at")
        approval.note = payload.get("note")
        approval.save()
        refs = {"approval_id": approval.id, "state": approval.state}
        if approval.held_pack:
            # A short pack waits on this decision: approve packs it now, in this same transaction
            # (a pack the ERP refuses refuses the decision too); refuse leaves the shipment as it was.
            held = json.loads(approval.held_pack)
            refs["shipment_id"] = int(held["shipment_id"])
            if decision == "approve":
                packed = cls._pack(held)
                refs["shipment_state"] = packed["state"]
                refs["package_id"] = packed["package_id"]
        inspections = (
            Inspection.search([("station_operation", "=", approval.subject_op)])
            if approval.subject_op
            else []
        )
        for inspection in inspections:
            moves = Move.search([("station_inspection", "=", inspection.id)])
            shipment = inspection.origin
            if decision == "approve":
                if inspection.state == "pending":
                    Inspection.pass_([inspection])
            else:
                if inspection.state != "failed":
                    Inspection.fail([inspection])
                quarantine = cls._location("quarantine")
                for move in moves:
                    move.to_location = quarantine
            for move in moves:
                move.station_disposition = "disposed"
            Move.save(moves)
            refs["inspection_id"] = inspection.id
            if shipment is not None and shipment.__name__ == "stock.shipment.out.return":
                refs["return_state"] = cls._finish_return(shipment)
        return refs

    # --- confirm_pack ---------------------------------------------------------------------------------
    @classmethod
    def _package_type(cls):
        Type = Pool().get("stock.package.type")
        found = Type.search([("name", "=", PACKAGE_TYPE)], limit=1)
        if found:
            return found[0]
        package_type = Type(name=PACKAGE_TYPE)
        package_type.save()
        return package_type

    @classmethod
    def _confirm_pack(cls, payload):
        """Pack now; a short pack waits on its approval (held on the request) until it is approved."""
        request_id = payload.get("approval_request")
        if not request_id:
            return cls._pack(payload)
        Approval = Pool().get("returns.station.approval")
        found = Approval.search([("request_id", "=", request_id)], limit=1)
        if not found:
            raise StationRefusal(f"approval request {request_id} is unknown to the ERP")
        approval = found[0]
        if approval.state == "approved":
            return cls._pack(payload)  # the decision reached the ERP first
        if approval.state == "refused":
            raise StationConflict(
                f"{approval.decided_by} refused shipping {payload.get('shipment_number') or 'this order'}"
                f" short ({approval.note or 'no note'}): it was not packed"
            )
        if approval.held_pack:
            raise StationConflict(f"approval request {request_id} already holds another pack")
        shipment = cls._shipment_to_pack(payload)
        approval.held_pack = json.dumps(payload, sort_keys=True)
        approval.save()
        return {"shipment_id": shipment.id, "state": shipment.state, "held_for_approval": request_id}

    @staticmethod
    def _shipment_to_pack(payload):
        """The shipment of a ``confirm_pack``, refused or in conflict unless it is ready to pack."""
        Shipment = Pool().get("stock.shipment.out")
        found = Shipment.search([("id", "=", int(payload["shipment_id"]))])
        if not found:
            raise StationRefusal(f"unknown shipment (id {payload['shipment_id']}) in the ERP")
        shipment = found[0]
        if shipment.state in ("done", "cancelled", "shipped"):
            raise StationRefusal(f"shipment {shipment.number} is closed ({shipment.state}) in the ERP")
        if shipment.state == "packed":
            raise StationConflict(f"shipment {shipment.number} is already packed in the ERP")
        if shipment.state not in ("assigned", "picked"):
            raise StationConflict(
                f"shipment {shipment.number} is {shipment.state} in the ERP, no longer ready to pack"
            )
        return shipment

    @classmethod
    def _pack(cls, payload):
        """Pick and pack the shipment as scanned (the moves of short lines are cut to what was packed)."""
        pool = Pool()
        Shipment = pool.get("stock.shipment.out")
        Move = pool.get("stock.move")
        Package = pool.get("stock.package")
        shipment = cls._shipment_to_pack(payload)
        if shipment.state == "assigned":
            moves = {m.id: m for m in shipment.inventory_moves}
            lines = {int(line["move_id"]): line for line in payload.get("lines") or []}
            shorts = {int(s["move_id"]): float(s["quantity"]) for s in payload.get("short") or []}
            for move_id in set(lines) | set(shorts):
                if move_id not in moves:
                    raise StationRefusal(f"line {move_id} is not on shipment {shipment.number}")
            changes = {}  # move id -> (quantity packed, lots scanned): what differs from the plan
            for move_id, move in moves.items():
                line = lines.get(move_id)
                packed = float(line["quantity"]) if line else 0.0
                if line and int(line["product_id"]) != move.product.id:
                    raise StationRefusal(f"line {move_id} of shipment {shipment.number} is not that product")
                if packed > move.quantity:
                    raise StationRefusal(
                        f"{packed:g} packed but shipment {shipment.number} asks {move.quantity:g}"
                        f" on line {move_id}"
                    )
                lots = [lot for lot in (line or {}).get("lots") or [] if float(lot.get("quantity", 0)) > 0]
                for serial in (line or {}).get("serials") or []:
                    lots.append({"lot": serial, "quantity": 1})
                same_lot = not lots or (len(lots) == 1 and move.lot and move.lot.number == lots[0]["lot"])
                if packed == move.quantity and same_lot:
                    continue  # packed as planned: the assigned move stays as it is
                changes[move_id] = (packed, lots)
            if changes:
                # An assigned move cannot change: back to draft first, then adjust the fresh records.
                Move.draft(Move.browse(sorted(changes)))
                to_save = []
                for move in Move.browse(sorted(changes)):
                    packed, lots = changes[move.id]
                    move.quantity = packed
                    if lots:
                        move.lot = cls._lot(move.product, lots[0]["lot"])
                        move.quantity = min(packed, float(lots[0]["quantity"]))
                        rest = packed - move.quantity
                        for lot in lots[1:]:
                            quantity = min(float(lot["quantity"]), rest)
                            if quantity <= 0:
                                break
                            rest -= quantity
                            Move.copy(
                                [move],
                                default={"quantity": quantity, "lot": cls._lot(move.product, lot["lot"]).id},
                            )
                    to_save.append(move)
                Move.save(to_save)
                shipment = Shipment(shipment.id)
            Shipment.pick([shipment])
        shipment = Shipment(shipment.id)
        outgoing = [m for m in shipment.outgoing_moves if m.state != "cancelled" and m.quantity]
        package = Package(
            company=shipment.company, type=cls._package_type(), shipment=shipment, moves=outgoing
        )
        package.save()
        Shipment.pack([shipment])
        shipment = Shipment(shipment.id)
        return {"shipment_id": shipment.id, "state": shipment.state, "package_id": package.id}

    # --- pull ---------------------------------------------------------------------------------------------
    @classmethod
    def pull(cls, cursors):
        """Reference records changed since ``cursors`` ({kind: "YYYY-MM-DD HH:MM:SS.ffffff"})."""
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)  # Tryton stamps records in UTC
        safe = (now - CURSOR_MARGIN).strftime("%Y-%m-%d %H:%M:%S.%f")
        records, new_cursors = {}, {}
        for kind, reader in (
            ("products", cls._pull_products),
            ("lots", cls._pull_lots),
            ("returns", cls._pull_returns),
            ("shipments", cls._pull_shipments),
            ("locations", cls._pull_locations),
            ("people", cls._pull_people),
            ("approvals", cls._pull_approvals),
        ):
            since = _parse_cursor(cursors.get(kind))
            rows = reader(since)
            records[kind] = rows
            latest = max((r["write_date"] for r in rows), default=cursors.get(kind) or "")
            if latest:
                new_cursors[kind] = min(latest, safe)
            else:
                new_cursors[kind] = safe
        return {"records": records, "cursors": new_cursors}

    @staticmethod
    def _changed(since, *paths):
        if since is None:
            return []
        clauses = ["OR"]
        for path in paths:
            prefix = f"{path}." if path else ""
            # Strictly after: the cursor is never later than "now - CURSOR_MARGIN", so every record
            # stamped at or before it was committed and already sent.
            clauses.append((f"{prefix}write_date", ">", since))
            clauses.append((f"{prefix}create_date", ">", since))
        return [clauses]

    @staticmethod
    def _changed_ids(model, since, domain=()):
        """Ids of ``model`` records created or written after ``since`` (one table, no joins)."""
        found = model.search(
            [*domain, ["OR", ("write_date", ">", since), ("create_date", ">", since)]], order=[]
        )
        return [r.id for r in found]

    @classmethod
    def _pull_products(cls, since):
        # Bulk reads, table by table: per-record attribute access (function and multi-company
        # fields) costs about 10 ms a product, far too slow for 10,000 of them.
        pool = Pool()
        Product = pool.get("product.product")
        Template = pool.get("product.template")
        Identifier = pool.get("product.identifier")
        Category = pool.get("product.category")
        CostPrice = pool.get("product.cost_price")
        ListPrice = pool.get("product.list_price")
        with Transaction().set_context(active_test=since is None):
            if since is None:
                ids = [p.id for p in Product.search([], order=[("id", "ASC")])]
            else:
                changed = set(cls._changed_ids(Product, since))
                templates = cls._changed_ids(Template, since)
                if templates:
                    changed.update(p.id for p in Product.search([("template", "in", templates)], order=[]))
                changed.update(
                    i.product.id
                    for i in Identifier.search(
                        ["OR", ("write_date", ">", since), ("create_date", ">", since)], order=[]
                    )
                    if i.product
                )
                ids = sorted(changed)
        rows = []
        for start in range(0, len(ids), 1000):
            rows.extend(
                cls._product_rows(
                    ids[start : start + 1000], Product, Template, Identifier, Category, CostPrice, ListPrice
                )
            )
        return rows

    @staticmethod
    def _product_rows(ids, Product, Template, Identifier, Category, CostPrice, ListPrice):
        with Transaction().set_context(active_test=False):
            products = Product.read(ids, ["code", "template", "active", "write_date", "create_date"])
            template_ids = sorted({p["template"] for p in products})
            templates = {
                t["id"]: t
                for t in Template.read(
                    template_ids,
                    ["name", "station_family", "station_tracking", "categories", "write_date", "create_date"],
                )
            }
            category_ids = sorted({c for t in templates.values() for c in t["categories"][:1]})
            categories = {c["id"]: c["name"] for c in Category.read(category_ids, ["name"])}
            identifiers = {}
            for ident in Identifier.search_read(
                [("product", "in", ids)],
                order=[("id", "ASC")],
                fields_names=["product", "code", "type", "write_date", "create_date"],
            ):
                identifiers.setdefault(ident["product"], []).append(ident)
            company = Transaction().context.get("company")
            # With no company in the context (a bare RPC call), any company's price will do.
            by_company = [("company", "in", [company, None])] if company else []
            costs = {
                c["product"]: c["cost_price"]
                for c in CostPrice.search_read(
                    [("product", "in", ids), *by_company],
                    fields_names=["product", "cost_price"],
                )
                if c["cost_price"] is not None
            }
            lists = {
                lp["template"]: lp["list_price"]
                for lp in ListPrice.search_read(
                    [("template", "in", template_ids), *by_company],
                    fields_names=["template", "list_price"],
                )
                if lp["list_price"] is not None
            }
        rows = []
        for product in products:
            template = templates[product["template"]]
            own = identifiers.get(product["id"], [])
            stamps = [
                product["write_date"],
                product["create_date"],
                template["write_date"],
                template["create_date"],
            ]
            stamps += [i["write_date"] or i["create_date"] for i in own]
            value = costs.get(product["id"]) or lists.get(template["id"])
            rows.append(
                {
                    "id": product["id"],
                    "code": product["code"] or "",
                    "name": template["name"],
                    "family": template["station_family"],
                    "category": categories.get(template["categories"][0], "")
                    if template["categories"]
                    else "",
                    "barcodes": [i["code"] for i in own if i["type"] in ("ean", "upc", "isbn", None)],
                    "unit_value": float(value) if value is not None else 0.0,
                    "lot_tracked": template["station_tracking"] == "lot",
                    "serial_tracked": template["station_tracking"] == "serial",
                    "active": bool(product["active"]),
                    "write_date": _stamp(stamps),
                }
            )
        return rows

    @classmethod
    def _pull_lots(cls, since):
        Lot = Pool().get("stock.lot")
        lots = Lot.search(cls._changed(since, ""), order=[("id", "ASC")])
        return [
            {
                "id": lot.id,
                "number": lot.number,
                "product_id": lot.product.id,
                "expiration_date": str(lot.expiration_date)
                if getattr(lot, "expiration_date", None)
                else None,
                "recalled": bool(lot.recalled),
                "write_date": _stamp([lot.write_date, lot.create_date]),
            }
            for lot in lots
        ]

    @classmethod
    def _pull_returns(cls, since):
        Return = Pool().get("stock.shipment.out.return")
        domain = cls._changed(since, "", "moves") if since else [("state", "in", ["draft", "received"])]
        rows = []
        for shipment in Return.search(domain, order=[("id", "ASC")]):
            moves = [m for m in shipment.incoming_moves if m.state != "cancelled"]
            stamps = [shipment.write_date, shipment.create_date] + [
                m.write_date or m.create_date for m in moves
            ]
            rows.append(
                {
                    "id": shipment.id,
                    "number": shipment.number or "",
                    "rma": shipment.reference or "",
                    "tracking": shipment.tracking_number,
                    "order": shipment.returned_sale.number if shipment.returned_sale else None,
                    "customer": shipment.customer.rec_name if shipment.customer else "",
                    "reason": shipment.return_reason or "",
                    "state": shipment.state,
                    "lines": _move_lines(moves),
                    "write_date": _stamp(stamps),
                }
            )
        return rows

    @classmethod
    def _pull_shipments(cls, since):
        Shipment = Pool().get("stock.shipment.out")
        domain = (
            cls._changed(since, "", "moves")
            if since
            else [("state", "in", ["waiting", "assigned", "picked"])]
        )
        rows = []
        for shipment in Shipment.search(domain, order=[("id", "ASC")]):
            moves = [m for m in shipment.inventory_moves if m.state != "cancelled"]
            stamps = [shipment.write_date, shipment.create_date] + [
                m.write_date or m.create_date for m in moves
            ]
            rows.append(
                {
                    "id": shipment.id,
                    "number": shipment.number or "",
                    "order": shipment.station_order,
                    "customer": shipment.customer.rec_name if shipment.customer else "",
                    "state": shipment.state,
                    "lines": _move_lines(moves),
                    "write_date": _stamp(stamps),
                }
            )
        return rows

    @classmethod
    def _pull_locations(cls, since):
        Location = Pool().get("stock.location")
        return [
            {
                "id": loc.id,
                "code": loc.code or "",
                "name": loc.name,
                "state": loc.inventory_state or None,
                "write_date": _stamp([loc.write_date, loc.create_date]),
            }
            for loc in Location.search(cls._changed(since, ""), order=[("id", "ASC")])
        ]

    @classmethod
    def _pull_people(cls, since):
        Person = Pool().get("returns.station.person")
        with Transaction().set_context(active_test=False):
            people = Person.search(cls._changed(since, ""), order=[("id", "ASC")])
        return [
            {
                "badge": p.badge,
                "name": p.name,
                "roles": sorted(p.roles or []),
                "pin_hash": p.pin_hash,
                "active": bool(p.active),
                "write_date": _stamp([p.write_date, p.create_date]),
            }
            for p in people
        ]

    @classmethod
    def _pull_approvals(cls, since):
        Approval = Pool().get("returns.station.approval")
        domain = cls._changed(since, "") if since else [("state", "=", "pending")]
        rows = []
        for approval in Approval.search(domain, order=[("id", "ASC")]):
            row = approval.to_reference()
            row["write_date"] = _stamp([approval.write_date, approval.create_date])
            rows.append(row)
        return rows


class Move(metaclass=PoolMeta):
    __name__ = "stock.move"

    station_disposition = fields.Selection(
        [(None, ""), ("held", "Held for approval"), ("disposed", "Disposed")],
        "Station Disposition",
        readonly=True,
        help="Set when a station inspected this unit of a return.",
    )
    station_inspection = fields.Many2One(
        "quality.inspection", "Station Inspection", readonly=True, ondelete="SET NULL"
    )


class Inspection(metaclass=PoolMeta):
    __name__ = "quality.inspection"

    station_operation = fields.Char("Station Operation", readonly=True)
    station_grade = fields.Char("Grade", readonly=True)
    station_checklist = fields.Text("Checklist", readonly=True)
    station_disposition = fields.Char("Disposition", readonly=True)
    station_rule = fields.Char("Rule", readonly=True)
    station_refund = fields.Text("Refund", readonly=True)
    station_note = fields.Text("Note", readonly=True)


def _key(text):
    return "".join(ch for ch in str(text).lower() if ch.isalnum())


def _points(control, checklist):
    """The control's points filled from the station's checklist (matched by name or label)."""
    answers = {_key(k): v for k, v in checklist.items()}
    points = {}
    for point in control.points:
        if point.name == "station_graded":
            points[point.name] = True
            continue
        for key in (point.name, point.string):
            if _key(key) in answers:
                value = answers[_key(key)]
                if point.type_ == "boolean":
                    value = bool(value)
                elif isinstance(value, bool) or not isinstance(value, (int, float)):
                    continue
                points[point.name] = value
                break
    return points


def _parse_cursor(value):
    if not value:
        return None
    text = str(value).replace("T", " ").rstrip("Z")
    for fmt in ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S"):
        try:
            return dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


def _move_lines(moves):
    """A shipment's moves as reference-data lines (sync.reference ReturnLine / ShipmentLine)."""
    return [
        {
            "move_id": m.id,
            "product_id": m.product.id,
            "quantity": m.quantity,
            "lot": m.lot.number if m.lot else None,
        }
        for m in moves
    ]


def _stamp(values):
    stamps = [v for v in values if v is not None]
    if not stamps:
        return ""
    return max(stamps).strftime("%Y-%m-%d %H:%M:%S.%f")


CLASSES: list[type] = [Operation, Move, Inspection]
