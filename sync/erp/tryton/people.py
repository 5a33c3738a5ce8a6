"""Managing station people in the ERP over JSON-RPC (``station erp people …``).

Runs as the ERP's administrator or as a user of the group "Returns Supervisor" (access.xml): both
may enrol people, give them a PIN, deactivate them and list them. A PIN is sent once to the ERP,
which checks it (digits; a supervisor's has at least 6) and keeps only its hash; nobody types or
reads a hash. Deactivated people are kept (their badge stays in the ERP's history).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any

from sync.common import pins
from sync.common.vocabulary import ROLES
from sync.erp.address import ErpAddress
from sync.erp.tryton.server import ErpSetupError, login, rpc

PERSON = "returns.station.person"


class PeopleError(Exception):
    """A refusal in plain words (an unknown badge, a PIN too short, the ERP said no)."""


@dataclass(frozen=True)
class Person:
    badge: str
    name: str
    roles: tuple[str, ...]
    active: bool
    has_pin: bool


class People:
    """One logged-in session on the ERP's people (``admin``: the administrator or a supervisor)."""

    def __init__(self, admin: ErpAddress) -> None:
        self.admin = admin
        self.session = login(admin)

    def _call(self, method: str, *params: Any) -> Any:
        try:
            return rpc(self.admin, f"model.{PERSON}.{method}", *params, session=self.session)
        except ErpSetupError as exc:
            raise PeopleError(_erp_words(str(exc))) from None

    def everyone(self) -> list[Person]:
        """Everyone, active or not, by badge."""
        rows = self._call(
            "search_read",
            [],
            0,
            None,
            [("badge", "ASC")],
            ["badge", "name", "roles", "active", "pin_version"],
            {"active_test": False},
        )
        return [
            Person(
                r["badge"],
                r["name"],
                tuple(sorted(r["roles"] or ())),
                bool(r["active"]),
                bool(r["pin_version"]),
            )
            for r in rows
        ]

    def _id(self, badge: str) -> int:
        found = self._call("search", [("badge", "=", badge)], 0, 1, None, {"active_test": False})
        if not found:
            raise PeopleError(f"no person has badge {badge} in the ERP (see `station erp people list`)")
        return int(found[0])

    def enroll(self, badge: str, name: str, roles: list[str], pin: str) -> None:
        """Create a person with ``roles`` and ``pin``. PeopleError for a badge in use, an unknown
        role or a PIN the rules refuse."""
        badge, name = badge.strip(), name.strip()
        if not badge or not name:
            raise PeopleError("a person needs a badge and a name")
        unknown = sorted(set(roles) - set(ROLES))
        if unknown or not roles:
            raise PeopleError(
                f"give at least one role of: {', '.join(ROLES)}"
                + (f" (not {', '.join(unknown)})" if unknown else "")
            )
        _check_pin(pin, roles)
        if self._call("search", [("badge", "=", badge)], 0, 1, None, {"active_test": False}):
            raise PeopleError(f"badge {badge} is already enrolled: use `station erp people pin {badge}`")
        self._call("create", [{"badge": badge, "name": name, "roles": sorted(set(roles)), "pin": pin}], {})

    def set_pin(self, badge: str, pin: str) -> None:
        """Give ``badge`` a new PIN (their stations' offline verifiers stop working)."""
        person = self._person(badge)
        _check_pin(pin, person["roles"] or ())
        self._call("write", [person["id"]], {"pin": pin}, {})

    def generate_pin(self, badge: str) -> str:
        """Give ``badge`` a random PIN, made by the ERP; the PIN, to show once."""
        given = self._call("new_pin", [self._id(badge)], {})
        return given[badge]

    def deactivate(self, badge: str) -> None:
        """Deactivate ``badge``: no station signs them in again (online at once, offline after the pull)."""
        self._call("write", [self._id(badge)], {"active": False}, {})

    def _person(self, badge: str) -> dict[str, Any]:
        rows = self._call("read", [self._id(badge)], ["roles", "badge"], {"active_test": False})
        return rows[0]


def _check_pin(pin: str, roles: Any) -> None:
    problem = pins.pin_problem(pin, roles)
    if problem:
        raise PeopleError(problem)


def _erp_words(text: str) -> str:
    """The message inside an ERP error ("ERP refused m: ['UserError', ['words', '']]")."""
    _, _, rest = text.partition(": ")
    try:
        error = ast.literal_eval(rest)
        return str(error[1][0]) if isinstance(error[1], list | tuple) else str(error[1])
    except (ValueError, SyntaxError, IndexError, TypeError):
        return text
