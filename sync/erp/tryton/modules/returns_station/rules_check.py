"""The ERP decides an inspection again, with the station's own evaluator (``sync.common.rules``).

:func:`check` derives the facts from the ERP's records (the product's family and value, the
return's reason, the unit that was received: its lot's expiry and recall, whether its lot or serial
is the one sold) and takes only the inspector's observations from the payload (grade, checklist
answers). Which rules: rule_book.rules_for (the station's version within the grace period, else
the current one). What the station sent is compared with what those rules decide; any difference
in disposition, refund or approval is an override: the unit is held for a supervisor, and
:func:`hold` raises the approval request a supervisor decides (unless the station asked for one).
"""

import datetime as dt
import json
from dataclasses import dataclass

from trytond.pool import Pool

from sync.common.rules import Decision, Facts
from sync.common.vocabulary import DISPOSITION_LABELS, DISPOSITIONS, GRADES

from .exceptions import StationRefusal
from .rule_book import grace_days, rules_for

ERP_REQUEST_PREFIX = "erp-override-"


@dataclass(frozen=True)
class Verdict:
    """What the ERP's rules decided (``decision``, by ``version``) and, when the station's payload
    differs, why in a supervisor's words (``override``; None when they agree)."""

    decision: Decision
    version: str
    override: str | None
    facts: Facts


def _refund_words(kind, fee):
    if kind == "partial":
        return f"partial ({fee}% restocking fee)"
    return str(kind)


def _as_of(op):
    """The day the station decided (its clock, UTC), within the grace period before today; else today."""
    today = dt.datetime.now(dt.UTC).date()
    try:
        stamped = dt.date.fromisoformat(str(op.get("created_at") or "")[:10])
    except ValueError:
        return today
    if today - dt.timedelta(days=grace_days()) <= stamped <= today:
        return stamped
    return today


def sold_number(move):
    """The lot or serial sold for the returned unit ``move``: the lot of the delivery it came back
    from (inventory move -> incoming move -> delivered move); None when the ERP cannot tell."""
    current = move
    for _ in range(3):
        origin = getattr(current, "origin", None)
        if origin is None or getattr(origin, "__name__", None) != "stock.move":
            return None
        if origin.to_location and origin.to_location.type == "customer":
            return origin.lot.number if origin.lot else None
        current = origin
    return None


def facts_for(op, shipment, product, move):
    """The rules' inputs for the unit ``move`` of ``shipment``: the ERP's records, plus the grade
    and checklist answers the inspector observed."""
    payload = op["payload"]
    grade = payload.get("grade")
    if grade not in GRADES:
        raise StationRefusal(f"grade {grade!r} is not a grade: {', '.join(GRADES)}")
    checklist = payload.get("checklist") or {}
    if not isinstance(checklist, dict):
        raise StationRefusal("the checklist must be answers by question")
    answers = dict(checklist)
    lot = move.lot
    sold = sold_number(move)
    tracking = getattr(product, "station_tracking", None)
    if sold and lot is not None:
        answers["serial_matches" if tracking == "serial" else "lot_matches"] = lot.number == sold
    days = None
    expires = getattr(lot, "expiration_date", None) if lot is not None else None
    if expires:
        days = (expires - _as_of(op)).days
        answers["days_to_expiry"] = days
    elif isinstance(answers.get("days_to_expiry"), int) and not isinstance(answers["days_to_expiry"], bool):
        days = answers["days_to_expiry"]  # read off the unit's label: the ERP holds no expiry for it
    value = getattr(product, "station_unit_value", None)
    return Facts(
        family=product.station_family,
        grade=grade,
        checklist=answers,
        unit_value=float(value or 0),
        days_to_expiry=days,
        reason=shipment.return_reason or None,
        lot_expired=days is not None and days < 0,
        lot_recalled=bool(lot is not None and lot.recalled),
    )


def check(op, shipment, product, move):
    """The ERP's own decision for the inspected unit and, if the station's differs, the override."""
    payload = op["payload"]
    rules, why = rules_for(payload.get("rules_version"))
    facts = facts_for(op, shipment, product, move)
    sent = payload.get("disposition")
    if sent not in DISPOSITIONS:
        raise StationRefusal(f"unknown disposition {sent!r}")
    by_rule = rules.decide(facts)
    chosen = sent if sent != by_rule.disposition else None
    try:
        decision = rules.decide(facts, chosen=chosen)
    except ValueError as exc:
        raise StationRefusal(f"{DISPOSITION_LABELS[sent]} refused: {exc}") from None
    refund = payload.get("refund") or {}
    sent_refund = (refund.get("kind"), refund.get("restocking_fee_pct"))
    asked = bool(payload.get("approval_required"))
    differences = []
    if chosen is not None:
        differences.append(f"the disposition ({DISPOSITION_LABELS[sent]})")
    if sent_refund != (decision.refund, decision.restocking_fee_pct):
        differences.append(f"the refund ({_refund_words(*sent_refund)})")
    if decision.approval_required != asked:
        differences.append("no supervisor's approval" if not asked else "a supervisor's approval")
    override = None
    if differences:
        says = (
            f"{DISPOSITION_LABELS[by_rule.disposition]}, refund "
            f"{_refund_words(decision.refund, decision.restocking_fee_pct)} (rule {by_rule.rule_id})"
        )
        if decision.approval_required and not chosen:
            says += ", with a supervisor's approval (" + "; ".join(decision.approval_reasons) + ")"
        override = (
            f"The ERP's rules {rules.version} say {says}; the station sent {', '.join(differences)}: "
            "held until a supervisor approves the override."
        )
        if why:
            override += f" ({why}: checked with the current rules.)"
    return Verdict(decision=decision, version=rules.version, override=override, facts=facts)


def approved_override(op):
    """An approved override request for the unit of ``op`` (a supervisor allowed it already)."""
    Approval = Pool().get("returns.station.approval")
    return bool(
        Approval.search(
            [("subject_op", "=", op["id"]), ("state", "=", "approved"), ("kind", "=", "override")], limit=1
        )
    )


def hold(op, verdict, shipment, product, move):
    """Raise the ERP's own override request for the held unit (the station asked for none)."""
    Approval = Pool().get("returns.station.approval")
    payload = op["payload"]
    ident = move.lot.number if move.lot else None
    refund = payload.get("refund") or {}
    summary = (
        f"{shipment.reference or shipment.number}: {product.rec_name}{f' ({ident})' if ident else ''}, "
        f"grade {payload.get('grade')} → {DISPOSITION_LABELS[payload['disposition']]}, refund "
        f"{_refund_words(refund.get('kind'), refund.get('restocking_fee_pct'))} (as sent by the station)"
    )
    approval = Approval(
        request_id=f"{ERP_REQUEST_PREFIX}{op['id']}",
        kind="override",
        state="pending",
        subject_op=op["id"],
        requested_by=op.get("user") or "?",
        requested_at=op.get("created_at"),
        station=op.get("station"),
        reason=verdict.override,
        summary=summary,
        value=verdict.facts.unit_value,
        rule_id=verdict.decision.rule_id,
        return_shipment=shipment.id,
        product=product.id,
        evidence="\n".join(payload.get("photos") or []),
    )
    approval.save()
    return approval


def reason_with_erp_check(subject_op, reason):
    """A station's approval ``reason`` for ``subject_op``, led by the ERP's override sentence when
    the ERP found the station's decision differs from its rules (the supervisor reads both)."""
    if not subject_op:
        return reason
    Inspection = Pool().get("quality.inspection")
    found = Inspection.search([("station_operation", "=", subject_op)], limit=1)
    check_text = found[0].station_erp_check if found else None
    if not check_text or (reason and check_text in reason):
        return reason
    return f"{check_text} Station: {reason}" if reason else check_text


def dumps(verdict):
    """The ERP's decision as kept on the inspection (JSON)."""
    d = verdict.decision
    return json.dumps(
        {
            "disposition": d.disposition,
            "refund": d.refund_payload,
            "approval_required": d.approval_required,
            "rule_id": d.rule_id,
            "rules_version": verdict.version,
        },
        sort_keys=True,
    )
