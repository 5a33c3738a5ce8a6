"""People at the station: sign-in by badge and PIN, roles, and the tasks each role may do.

A PIN is checked in the ERP when the station can reach it (StationSession.sign_in); offline, with
the verifier the ERP gave this station when that person last signed in here (:func:`authenticate`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, Protocol

from app.workflows.results import Refusal
from sync.common.pins import VERIFIER_DAYS, verify_pin
from sync.reference import Person

TaskKind = Literal["receive", "inspect", "pack", "supervise"]
TASK_ROLES: dict[str, str] = {
    "receive": "receiver",
    "inspect": "inspector",
    "pack": "packer",
    "supervise": "supervisor",
}
TASK_LABELS: dict[str, str] = {
    "receive": "Receive returns",
    "inspect": "Inspect and grade",
    "pack": "Pack orders",
    "supervise": "Supervise",
}
SIGN_IN_REFUSED = Refusal(
    "sign_in_refused", "badge or PIN not recognised: scan your badge and type your PIN again"
)
NEEDS_ERP = Refusal(
    "sign_in_needs_erp",
    "this station cannot check your PIN while the ERP is out of reach: your first sign-in here (and "
    f"the first after {VERIFIER_DAYS} days away) needs the ERP. Try again when the station is back "
    "online, or ask a supervisor",
)


class PeopleSource(Protocol):
    def person(self, badge: str) -> Person | None: ...

    def verifier(self, badge: str) -> dict[str, Any] | None: ...


def authenticate(people: PeopleSource, badge: str, pin: str, now: datetime) -> Person | Refusal:
    """Offline sign-in: the person whose badge and PIN these are, checked against the verifier the
    ERP gave this station. One refusal, :data:`SIGN_IN_REFUSED`, for a wrong PIN, an unknown badge
    and an inactive person (the same words as the ERP's); :data:`NEEDS_ERP` when the station holds
    no valid verifier for an active person (never signed in here, expired, or a new PIN since)."""
    badge = badge.strip()
    person = people.person(badge)
    if person is None or not person.get("active", True):
        verify_pin(pin, _DUMMY_HASH)  # a wrong badge takes as long as a wrong PIN
        return SIGN_IN_REFUSED
    held = people.verifier(badge)
    if held is None or not _valid(held, person, now):
        return NEEDS_ERP
    if not verify_pin(pin, held["verifier"]):
        return SIGN_IN_REFUSED
    return person


def _valid(held: dict[str, Any], person: Person, now: datetime) -> bool:
    if int(held.get("pin_version") or 0) != int(person.get("pin_version") or 0):
        return False
    return held["expires_at"] > now.strftime("%Y-%m-%dT%H:%M:%S")


def tasks_for(person: Person) -> list[str]:
    """The tasks ``person``'s roles allow, in the order the home screen shows them."""
    roles = set(person.get("roles") or ())
    return [task for task, role in TASK_ROLES.items() if role in roles]


_DUMMY_HASH = "scrypt$16384$8$1$00000000000000000000000000000000$" + "0" * 64
