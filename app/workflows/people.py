"""People at the station: sign-in by badge and PIN, roles, and the tasks each role may do."""

from __future__ import annotations

from typing import Literal, Protocol

from app.workflows.results import Refusal
from sync.common.pins import verify_pin
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


class PeopleSource(Protocol):
    def person(self, badge: str) -> Person | None: ...


def authenticate(people: PeopleSource, badge: str, pin: str) -> Person | Refusal:
    """The person whose badge and PIN these are, or one refusal that does not say which part was
    wrong (nor whether the badge exists or is disabled)."""
    person = people.person(badge.strip())
    if person is None or not person.get("active", True):
        # Verify against a throwaway hash anyway, so a wrong badge takes as long as a wrong PIN.
        verify_pin(pin, _DUMMY_HASH)
        return SIGN_IN_REFUSED
    if not verify_pin(pin, person["pin_hash"]):
        return SIGN_IN_REFUSED
    return person


def tasks_for(person: Person) -> list[str]:
    """The tasks ``person``'s roles allow, in the order the home screen shows them."""
    roles = set(person.get("roles") or ())
    return [task for task, role in TASK_ROLES.items() if role in roles]


_DUMMY_HASH = "scrypt$16384$8$1$00000000000000000000000000000000$" + "0" * 64
