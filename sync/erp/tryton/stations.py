"""Station users in the ERP: a Tryton user per station, in the group "Returns Station" only.

A station's ERP user may call the module's station-facing methods and nothing else (see
modules/returns_station/access.py and access.xml). :func:`add_station` creates one over JSON-RPC
as the ERP's administrator, so it works the same for the embedded ERP and a deployed Tryton. The
user speaks for one station id (``res.user.returns_station_id``, modules/returns_station/
station_user.py): its login unless told otherwise; the ERP applies only operations that carry it.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import replace

from sync.erp.address import ErpAddress
from sync.erp.tryton.server import ErpSetupError, login, rpc

STATION_GROUP = "Returns Station"  # access.xml, group_station
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")


def station_group_id(admin: ErpAddress, session: str) -> int:
    """The database id of the group "Returns Station" (ErpSetupError when the module is missing)."""
    domain = [("name", "=", STATION_GROUP)]
    found = rpc(admin, "model.res.group.search", domain, 0, 2, None, {}, session=session)
    if len(found) != 1:  # type: ignore[arg-type]
        raise ErpSetupError(
            f"the ERP at {admin.base_url}/{admin.database} has no single group {STATION_GROUP!r}: "
            "update its returns_station module (trytond-admin -u returns_station)"
        )
    return int(found[0])  # type: ignore[index]


def add_station(
    admin: ErpAddress, name: str, *, station: str | None = None, reset: bool = False
) -> ErpAddress:
    """Create the ERP user ``name`` for a station, with a new random password; return the address
    the station logs in with (it holds the password: show it once, never log it).

    The user speaks for the station id ``station`` (default ``name``): the ERP refuses operations
    that carry another. ``reset`` gives an existing station user a new password (and ``station``)
    instead of refusing. Raises ErpSetupError for a bad name or station id, an existing user
    (without ``reset``), a user that is not a station user, or an ERP that refuses the
    administrator.
    """
    if not _NAME.match(name):
        raise ErpSetupError(
            f"{name!r} is not a usable station name: use letters, digits, '-', '_' or '.' (e.g. dock-2)"
        )
    station = name if station is None else station.strip()
    if not station:
        raise ErpSetupError("the station id it speaks for is empty: give the station's id (its STATION_ID)")
    session = login(admin)
    group = station_group_id(admin, session)
    password = secrets.token_urlsafe(24)
    existing = rpc(
        admin,
        "model.res.user.search_read",
        [("login", "=", name)],
        0,
        1,
        None,
        ["groups", "administrator"],
        {"active_test": False},
        session=session,
    )
    if existing:
        (user,) = existing  # type: ignore[misc]
        if not reset:
            raise ErpSetupError(
                f"the ERP already has a user {name!r}: choose another name, or --reset to give it a "
                "new password"
            )
        if user["administrator"] or set(user["groups"]) - {group}:
            raise ErpSetupError(
                f"the ERP user {name!r} is not a station user (it has other rights): choose another name"
            )
        rpc(
            admin,
            "model.res.user.write",
            [user["id"]],
            {
                "password": password,
                "active": True,
                "groups": [("add", [group])],
                "returns_station_id": station,
            },
            {},
            session=session,
        )
    else:
        companies = rpc(admin, "model.company.company.search", [], 0, 1, None, {}, session=session)
        values: dict[str, object] = {
            "login": name,
            "name": f"Station {name}",
            "password": password,
            "groups": [("add", [group])],
            "returns_station_id": station,
        }
        if companies:
            values["companies"] = [("add", list(companies))]  # type: ignore[arg-type]
            values["company"] = companies[0]  # type: ignore[index]
        rpc(admin, "model.res.user.create", [values], {}, session=session)
    return replace(admin, user=name, password=password)
