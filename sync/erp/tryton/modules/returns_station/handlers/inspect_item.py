"""``inspect_item``: one unit of a received return graded at a station and sent where its
disposition says (a ``quality.inspection`` records the grade, checklist and photos).

Payload: ``return_id``, ``product_id``, ``quantity`` (1), ``lot`` / ``serial``, ``grade``,
``checklist``, ``disposition`` (lookups.DISPOSITION_STATES), ``rule_id``, ``rules_version``,
``refund``, ``note``,
``photos`` (hashes already uploaded), ``approval_required`` (the unit is held, its inspection
pending, until ``decide_approval``), ``to_sort`` (optional: the station sorts into totes; the unit
goes to the warehouse's sort location, not to its disposition's, and a ``sort_to_tote`` and its
tote's ``close_tote`` carry it on: tote.py; a held unit, or a warehouse without a sort location,
goes straight to the disposition's location as without it). The return goes to ``done`` once
every unit is disposed.
The unit is the one named (its lot or serial exactly, no other unit stands in) and a unit of an
expired or recalled lot is never restocked, whatever the payload says.

The ERP decides the unit again with its own rules (rules_check.py): a disposition, refund or
approval that differs from them is an override, held for a supervisor like ``approval_required``
(the ERP raises the request when the station did not); the answer's ``held`` says why. The
inspection records the rules version the ERP checked with and what it decided.
"""

import json

from trytond.exceptions import UserError, UserWarning
from trytond.model.modelview import ButtonActionException
from trytond.pool import Pool
from trytond.transaction import Transaction

from .. import lookups, rules_check, tote
from ..exceptions import StationConflict, StationRefusal
from ..savepoint import open_savepoint, release, rollback_to

GENERIC_CONTROL = "Returns Station grading"


def apply(op, photo):
    payload = op["payload"]
    pool = Pool()
    Inspection = pool.get("quality.inspection")
    Move = pool.get("stock.move")
    shipment = lookups.return_(payload["return_id"])
    if shipment.state == "draft":
        raise StationConflict(f"return {shipment.number} has not been received in the ERP yet")
    if shipment.state in ("done", "cancelled"):
        raise StationConflict(f"return {shipment.number} is already {shipment.state} in the ERP")
    product = lookups.product(payload["product_id"])
    quantity = float(payload.get("quantity", 1))
    lot_number = payload.get("lot") or payload.get("serial")
    candidates = [
        m
        for m in shipment.inventory_moves
        if m.product == product and m.state not in ("done", "cancelled") and not m.station_disposition
    ]
    if lot_number and candidates:
        # The unit named exactly: no other unit of the product stands in for it.
        exact = [m for m in candidates if m.lot and m.lot.number == lot_number]
        if not exact:
            received = sorted({m.lot.number for m in candidates if m.lot}) or ["none recorded"]
            raise StationRefusal(
                f"return {shipment.number} received no {product.rec_name} with lot or serial {lot_number} "
                f"(received: {', '.join(received)}): inspect the unit that was received"
            )
        candidates = exact
    if not candidates:
        raise StationConflict(
            f"no {product.rec_name} of return {shipment.number} is waiting for inspection in the ERP "
            "(already inspected elsewhere, or never received)"
        )
    move = candidates[0]
    if move.quantity < quantity:
        raise StationRefusal(
            f"return {shipment.number} has {move.quantity:g} {product.rec_name} to inspect, not {quantity:g}"
        )
    if move.quantity > quantity:
        Move.copy([move], default={"quantity": move.quantity - quantity})
        move.quantity = quantity
    if lot_number and not move.lot:
        move.lot = lookups.lot(product, lot_number)
    if payload.get("disposition") == "restock" and move.lot:
        never_restocked(move.lot, product)
    verdict = rules_check.check(op, shipment, product, move)
    override = verdict.override if verdict.override and not rules_check.approved_override(op) else None
    held = bool(payload.get("approval_required")) or override is not None
    control = control_for(shipment, product)
    points = checklist_points(control, payload.get("checklist") or {})
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
        station_rules_version=payload.get("rules_version"),
        station_refund=json.dumps(payload.get("refund") or {}, sort_keys=True),
        station_note=payload.get("note"),
        station_erp_rules_version=verdict.version,
        station_erp_decision=rules_check.dumps(verdict),
        station_erp_check=verdict.override,
    )
    inspection.save()
    sort_table = None
    if payload.get("to_sort") and not held:  # a unit the ERP holds waits where its disposition says
        sort_table = tote.sort_location(shipment.warehouse)
    move.to_location = sort_table or lookups.disposition_location(shipment, payload["disposition"])
    move.station_inspection = inspection
    move.station_disposition = "held" if held else "disposed"
    move.save()
    for digest in payload.get("photos") or []:
        lookups.attach(str(inspection), digest, lookups.photo_data(digest))
    if held:
        state = "pending"
        if override and not payload.get("approval_required"):
            rules_check.hold(op, verdict, shipment, product, move)
    else:
        Inspection.pass_([inspection])
        state = "passed"
    finished = finish_return(shipment)
    sorting = {"to_sort": sort_table is not None} if payload.get("to_sort") else {}
    refs = {
        **sorting,
        "inspection_id": inspection.id,
        "inspection_state": state,
        "move_id": move.id,
        "location_id": move.to_location.id,
        "return_state": finished,
        "rules_version_checked": verdict.version,
    }
    if override:
        refs["held"] = override
    return refs


def control_for(shipment, product):
    """The quality control for ``product`` on a return's ``do``, else the module's generic one."""
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


def _key(text):
    return "".join(ch for ch in str(text).lower() if ch.isalnum())


def checklist_points(control, checklist):
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


def finish_return(shipment):
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
    open_savepoint(cursor, "station_finish")
    try:
        Return.do([shipment])
    except (UserError, UserWarning, ButtonActionException):
        # Something else holds the return (an open quality alert): it stays received.
        rollback_to(cursor, "station_finish")
        return "received"
    release(cursor, "station_finish")
    return Return(shipment.id).state


def never_restocked(lot, product):
    """Refuse restocking a unit of an expired or recalled lot, whatever the station decided."""
    if lot.recalled:
        raise StationRefusal(f"lot {lot.number} of {product.rec_name} is recalled: it is never restocked")
    expires = getattr(lot, "expiration_date", None)
    if expires and expires < Pool().get("ir.date").today():
        raise StationRefusal(
            f"lot {lot.number} of {product.rec_name} expired on {expires.isoformat()}: it is never restocked"
        )
