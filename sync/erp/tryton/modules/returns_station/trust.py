"""The ERP trusts no station: what it checks on every operation, whatever the payload says.

The dispatcher (operation.py) calls :func:`check_people` before every handler: the badge on the
operation exists, is active and holds the role for the operation's type (an empty badge never
passes), and an operation a supervisor edited at a station names an active supervisor. What only
concerns one type is checked in its handler (handlers/): a decision by a supervisor who did not ask
for it, a short pack citing an approved request for its own shipment, an inspection naming a unit
that was received, a quantity beyond what was expected received as extra. Before that it calls
:func:`check_station`: an operation carries the station id its ERP login speaks for
(station_user.py), so no station sends a status or anything else under another station's name.

:func:`payload_hash` fingerprints what an operation asks; the marker keeps it, so the same id sent
again with another payload is a ``conflict`` naming both fingerprints (:func:`clash`), never
``already`` (as an idempotency key works for Stripe: the key is bound to its request).

A refusal reads the same whether the ERP or the station says it.
"""

import hashlib
import json

from trytond.pool import Pool
from trytond.transaction import Transaction

from .exceptions import StationRefusal
from .station_user import speaks_for

# The roles that may send each operation type (None: any active person at a station).
ROLES_FOR_TYPE = {
    "receive_return": ("receiver",),
    "upload_photo": None,
    "inspect_item": ("inspector",),
    "request_approval": ("inspector", "packer", "receiver"),
    "decide_approval": ("supervisor",),
    "confirm_pack": ("packer",),
    "sort_to_tote": ("inspector",),
    "close_tote": ("inspector",),
}
# Types a station sends about itself, not for a person: its ERP login vouches for them, and their
# ``user`` is empty (a status goes every few minutes whether anyone is signed in or not).
STATION_ITSELF = frozenset({"station_status"})
WHAT_A_ROLE_DOES = {
    "receiver": "receive returns",
    "inspector": "inspect returns",
    "packer": "pack orders",
    "supervisor": "decide approvals",
}


def payload_hash(op):
    """sha256 of what an operation asks: its type, version, person, editor and payload."""
    canonical = json.dumps(
        {
            "type": op.get("type"),
            "version": op.get("version", 1),
            "user": op.get("user"),
            "edited_by": op.get("edited_by"),
            "payload": op.get("payload"),
        },
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def clash(op_id, stored, sent):
    """The conflict message for an id applied before with another payload."""
    return (
        f"operation {op_id} was already applied with another payload (sha256 {stored[:12]}… in the "
        f"ERP, {sent[:12]}… sent now): the changed copy is not applied"
    )


def person(badge):
    """The station person with this badge, active or not; None when the ERP has none."""
    Person = Pool().get("returns.station.person")
    with Transaction().set_context(active_test=False):
        found = Person.search([("badge", "=", badge)], limit=1, order=[])  # badges are unique
    return found[0] if found else None


def require_person(badge, roles, what, doing=None):
    """The active person with ``badge`` holding one of ``roles`` (None: any), else StationRefusal.
    ``what`` names the operation for an empty badge; ``doing`` what the role allows."""
    if not badge:
        raise StationRefusal(f"{what} carries no badge: the ERP applies only what a signed-in person did")
    found = person(badge)
    if found is None:
        raise StationRefusal(f"badge {badge} is not a person the ERP knows")
    if not found.active:
        raise StationRefusal(f"badge {badge} ({found.name}) is no longer active in the ERP")
    if roles and not set(found.roles or ()) & set(roles):
        raise StationRefusal(
            f"{badge} ({found.name}) may not {doing or WHAT_A_ROLE_DOES[roles[0]]}: the ERP gives them no "
            f"{' or '.join(roles)} role"
        )
    return found


def check_people(op):
    """Refuse ``op`` unless its badge may send its type, and its editor (if any) is a supervisor."""
    kind = op.get("type")
    if kind not in STATION_ITSELF or op.get("user"):
        require_person(op.get("user"), ROLES_FOR_TYPE.get(kind), kind)
    if "edited_by" in op and op["edited_by"] is not None:
        editor = op["edited_by"]
        if not editor:
            raise StationRefusal(f"{kind} was edited by nobody named: only a supervisor may edit")
        require_person(editor, ("supervisor",), f"the edit of {kind}", doing="edit operations")


def check_station(op):
    """Refuse ``op`` unless its ``station`` is the one the caller's ERP login speaks for
    (administrators speak for every station)."""
    login, station = speaks_for()
    if station is None or op.get("station") == station:
        return
    sent = op.get("station")
    named = f"station {sent}" if sent else "no station"
    raise StationRefusal(
        f"{op.get('type')} names {named}, but it was sent by the ERP user {login}, which speaks for "
        f"station {station}: a station sends only its own operations"
    )
