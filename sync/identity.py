"""Which station this station's ERP login speaks for, and what to say when it is not this one.

The ERP applies only operations whose ``station`` is the id its login speaks for (the module's
station_user.py; ``station erp add-station NAME [--station ID]`` sets it). The sync engine asks
once, before its first push (``returns.station.identity.speaks_for``), so a station configured with
another id learns it at its first sync, in words an administrator can act on, and sends nothing
until the two agree, rather than collecting a refusal on every operation. The engine stamps its
configured id on every operation it sends (:func:`stamped`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sync.operations import Operation

METHOD = "returns.station.identity.speaks_for"


def mismatch(answer: Any, station: str) -> str | None:
    """What to tell an administrator when the ERP's ``answer`` ({"user", "station"}) names another
    station than ``station`` (this station's configured id); None when they agree, when the login
    speaks for every station (an administrator) or when the answer says nothing usable."""
    if not isinstance(answer, dict):
        return None
    speaks_for = answer.get("station")
    if not speaks_for or speaks_for == station:
        return None
    user = answer.get("user") or "?"
    return (
        f"this station is configured as {station} but its ERP user {user} speaks for {speaks_for}: "
        f"set this station's id to {speaks_for} (Settings, or STATION_ID), or have the ERP's "
        f"administrator run `station erp add-station {user} --station {station} --reset` (the "
        "station then needs the new STATION_ERP_URL). Nothing is sent until they agree"
    )


def stamped(op: Operation, station: str) -> Operation:
    """``op`` as this station sends it: carrying ``station``, this station's configured id (an
    operation queued before the id was changed, or by a session opened before, goes under the id
    the ERP login speaks for now; the payload and its fingerprint are unchanged)."""
    return op if op.station == station else replace(op, station=station)
