"""Approvals: a person asks a supervisor to allow what the rules gate; a supervisor decides.

The list a supervisor sees is the ERP's pending requests (pulled as reference ``approvals``) plus
those asked at this station and not yet pulled, minus those this station already decided."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from app.workflows.results import Refusal
from sync.reference import Approval, Person


def approval_from_request(op: Mapping[str, Any]) -> Approval:
    """A pending Approval built from a ``request_approval`` operation queued at this station."""
    payload = op["payload"]
    return {
        "request_id": payload["request_id"],
        "kind": payload["kind"],
        "state": "pending",
        "requested_by": op["user"],
        "requested_at": op["created_at"],
        "station": op["station"],
        "reason": payload.get("reason", ""),
        "summary": payload.get("summary", ""),
        "value": payload.get("value"),
        "rule_id": payload.get("rule_id"),
        "return_id": payload.get("return_id"),
        "shipment_id": payload.get("shipment_id"),
        "product_id": payload.get("product_id"),
        "evidence": list(payload.get("evidence") or []),
        "write_date": op["created_at"],
    }


def pending_approvals(
    cached: Iterable[Approval], requested_here: Iterable[Mapping[str, Any]], decided_here: Iterable[str]
) -> list[tuple[Approval, bool]]:
    """(approval, synced) pairs still waiting for a decision, oldest first."""
    decided = set(decided_here)
    out: dict[str, tuple[Approval, bool]] = {}
    for approval in cached:
        if approval["state"] == "pending" and approval["request_id"] not in decided:
            out[approval["request_id"]] = (approval, True)
    for op in requested_here:
        request_id = op["payload"]["request_id"]
        if request_id not in out and request_id not in decided:
            out[request_id] = (approval_from_request(op), False)
    return sorted(out.values(), key=lambda pair: pair[0]["requested_at"])


def why_cannot_decide(approval: Approval, person: Person) -> str | None:
    """None when ``person`` may decide ``approval``; else why not, in their words."""
    if "supervisor" not in (person.get("roles") or ()):
        return "only a supervisor can decide an approval request"
    if approval["requested_by"] == person["badge"]:
        return "you asked for this approval yourself: another supervisor must decide it"
    if approval["state"] != "pending":
        return f"this request was already {approval['state']}"
    return None


def find_request(
    pending: Sequence[Approval], ref: str, subjects: Mapping[str, set[str]]
) -> Approval | Refusal:
    """The request ``ref`` names: its id, ``oldest``/``newest``, or the number of the return or order it
    concerns (``subjects`` maps request id -> RMA, return, shipment and order numbers)."""
    ref = (ref or "").strip()
    if not pending:
        return Refusal("no_approvals", "no approval request is waiting")
    if ref in ("", "oldest", "next"):
        return pending[0]
    if ref in ("newest", "latest", "last"):
        return pending[-1]
    for approval in pending:
        if approval["request_id"] == ref:
            return approval
    matches = [a for a in pending if ref in subjects.get(a["request_id"], set())]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        return Refusal("ambiguous_request", f"{len(matches)} requests concern {ref}: pick one by its id")
    return Refusal("unknown_request", f"no waiting approval request matches {ref}")
