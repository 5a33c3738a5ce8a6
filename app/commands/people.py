"""``station erp people …``: enrol station people, give them PINs, deactivate them, print badges.

Runs against the ERP as its administrator (STATION_ERP_ADMIN_URL, else admin on the embedded ERP)
or as a user of the group "Returns Supervisor" (put that user in STATION_ERP_ADMIN_URL). Thin over
sync.erp.tryton.people: the ERP checks every PIN and keeps only its hash.
"""

from __future__ import annotations

import argparse
import getpass
from pathlib import Path

from app.cli import CommandError
from app.commands.erp_rules import WHO as _WHO  # who runs the ERP-side commands
from sync.common.vocabulary import ROLES


def register(sub: argparse._SubParsersAction) -> None:
    people = sub.add_parser(
        "people",
        help="station people in the ERP: list, enroll, pin, deactivate, badges",
        description="Manage the people who sign in at stations. " + _WHO,
    )
    cmds = people.add_subparsers(dest="people_command", metavar="PEOPLE_COMMAND", required=True)

    listing = cmds.add_parser("list", help="everyone, active or not, with their roles")
    listing.set_defaults(handler=_list)

    enroll = cmds.add_parser("enroll", help="add a person with their roles and a PIN")
    enroll.add_argument("badge", help="what the badge's barcode holds, e.g. U-RECV-2")
    enroll.add_argument("name", help="the person's name, e.g. 'Rosa Diaz'")
    enroll.add_argument(
        "--role",
        action="append",
        choices=list(ROLES),
        required=True,
        help="a role (repeat for several): " + ", ".join(ROLES),
    )
    _pin_options(enroll)
    enroll.set_defaults(handler=_enroll)

    pin = cmds.add_parser("pin", help="give a person a new PIN (their stations then need the ERP once)")
    pin.add_argument("badge", help="the badge of the person, e.g. U-RECV-1")
    _pin_options(pin)
    pin.set_defaults(handler=_pin)

    off = cmds.add_parser("deactivate", help="no station signs this person in again")
    off.add_argument("badge", help="the badge of the person, e.g. U-GONE-1")
    off.set_defaults(handler=_deactivate)

    badges = cmds.add_parser("badges", help="write a printable PDF of the active people's badges")
    badges.add_argument("--out", default="badges.pdf", help="the PDF file to write (default badges.pdf)")
    badges.set_defaults(handler=_badges)


def _pin_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--generate",
        action="store_true",
        help="let the ERP choose a random PIN and show it once (default: type it twice, not shown)",
    )


def _people():  # type: ignore[no-untyped-def]
    from app.commands.erp import _admin_address, _as_admin
    from sync.erp.tryton.people import People

    admin = _admin_address()
    with _as_admin(admin):
        return People(admin)


def _run(action):  # type: ignore[no-untyped-def]
    from sync.erp.tryton.people import PeopleError

    try:
        return action()
    except PeopleError as exc:
        raise CommandError(str(exc)) from None


def _typed_pin() -> str:
    first = getpass.getpass("New PIN (digits, not shown): ")
    if getpass.getpass("The same PIN again: ") != first:
        raise CommandError("the two PINs differ: nothing was changed")
    return first


def _list(args: argparse.Namespace) -> int:
    people = _people()
    for p in _run(people.everyone):
        state = "" if p.active else "  (inactive)"
        pin = "" if p.has_pin else "  (no PIN yet)"
        print(f"{p.badge:<14} {p.name:<24} {', '.join(p.roles)}{state}{pin}")
    return 0


def _enroll(args: argparse.Namespace) -> int:
    from sync.common.pins import new_pin

    people = _people()
    pin = new_pin(args.role) if args.generate else _typed_pin()
    _run(lambda: people.enroll(args.badge, args.name, args.role, pin))
    print(f"{args.badge} ({args.name}) enrolled as {', '.join(sorted(set(args.role)))}.")
    if args.generate:
        print(f"Their PIN, shown only this once: {pin}")
    print("Their first sign-in at each station needs the ERP online.")
    return 0


def _pin(args: argparse.Namespace) -> int:
    people = _people()
    if args.generate:
        pin = _run(lambda: people.generate_pin(args.badge))
        print(f"{args.badge} has a new PIN, shown only this once: {pin}")
    else:
        _run(lambda: people.set_pin(args.badge, _typed_pin()))
        print(f"{args.badge} has a new PIN.")
    print("Their old PIN no longer works; their next sign-in at each station needs the ERP online.")
    return 0


def _deactivate(args: argparse.Namespace) -> int:
    people = _people()
    _run(lambda: people.deactivate(args.badge))
    print(f"{args.badge} is deactivated: no station signs them in (offline stations after their next pull).")
    return 0


def _badges(args: argparse.Namespace) -> int:
    from sync.erp.tryton.labels import badge_labels, write_label_sheet

    people = [p for p in _run(_people().everyone) if p.active]
    out = Path(args.out).expanduser()
    sections = badge_labels([(p.badge, p.name, p.roles, p.active) for p in people])
    try:
        pages = write_label_sheet(out, sections=sections, heading="Returns Station badges")
    except OSError as exc:
        raise CommandError(f"cannot write {out} ({exc.strerror or exc}): choose another --out") from None
    print(f"Wrote {len(people)} badges on {pages} page(s) to {out}")
    return 0
