"""``station erp rules publish FILE`` / ``station erp rules show``: the disposition rules the ERP
holds (versioned, one in force, pulled by every station and checked by the ERP itself)."""

from __future__ import annotations

import argparse
from pathlib import Path

from app.cli import CommandError

WHO = (
    "Runs as STATION_ERP_ADMIN_URL (http://USER:PASSWORD@HOST:PORT/DATABASE: an administrator, or an "
    'ERP user of the group "Returns Supervisor"), else admin with STATION_ERP_PASSWORD on the '
    "embedded ERP at 127.0.0.1."
)


def register(sub: argparse._SubParsersAction) -> None:
    rules = sub.add_parser(
        "rules",
        help="the disposition rules the ERP holds: publish a new version, show the one in force",
    )
    rsub = rules.add_subparsers(dest="rules_command", metavar="RULES_COMMAND", required=True)
    publish = rsub.add_parser(
        "publish",
        help="make a rules file (TOML) the version in force; stations get it at their next pull",
        description="Publish a rules file in the ERP. An invalid file is refused with its line and "
        "reason, and so is a version already published (change `version`). " + WHO,
    )
    publish.add_argument("file", help="the rules file (TOML); check it first with `station rules check`")
    publish.set_defaults(handler=_publish)
    show = rsub.add_parser(
        "show", help="print the rules version in force (and the file with --text)", description=WHO
    )
    show.add_argument("--text", action="store_true", help="print the whole rules file too")
    show.set_defaults(handler=_show)


def _erp_errors(address, call):  # type: ignore[no-untyped-def]
    from sync.erp.protocol import ErpAuthFailed, ErpError, ErpRejected, ErpUnavailable

    try:
        return call()
    except ErpAuthFailed as exc:
        if "login" in str(exc):
            raise CommandError(str(exc).replace("STATION_ERP_URL", "STATION_ERP_ADMIN_URL")) from None
        raise CommandError(
            f"the ERP user {address.user!r} may not manage the rules: use an administrator or a user of "
            'the group "Returns Supervisor" in STATION_ERP_ADMIN_URL'
        ) from None
    except ErpRejected as exc:
        raise CommandError(str(exc)) from None
    except ErpUnavailable as exc:
        raise CommandError(f"{exc}: start it, or set STATION_ERP_ADMIN_URL") from None
    except ErpError as exc:
        raise CommandError(str(exc)) from None


def _publish(args: argparse.Namespace) -> int:
    from app.commands.erp import _admin_address, _say
    from sync.erp.tryton.rule_books import publish_rules

    path = Path(args.file).expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"cannot read {path}: {exc}") from None
    address = _admin_address()
    book = _erp_errors(address, lambda: publish_rules(address, text))
    _say(
        f"Rules version {book['version']} is now in force in {address.base_url}/{address.database} "
        f"(sha256 {book['sha256'][:12]}…, published by {book['published_by']}); stations take it at "
        "their next pull."
    )
    return 0


def _show(args: argparse.Namespace) -> int:
    from app.commands.erp import _admin_address, _say
    from sync.erp.tryton.rule_books import current_rules

    address = _admin_address()
    shown = _erp_errors(address, lambda: current_rules(address))
    book = shown["current"]
    if book is None:
        raise CommandError("the ERP holds no rules: publish a file with `station erp rules publish FILE`")
    _say(
        f"Rules version {book['version']} in force since {book['published_at']} UTC "
        f"(published by {book['published_by']}, sha256 {book['sha256'][:12]}…)."
    )
    older = [v for v in shown["accepted"] if v != book["version"]]
    _say(
        f"Inspections decided with a version superseded less than {shown['grace_days']} days ago are "
        "checked with that version" + (f": {', '.join(older)}." if older else " (none now).")
    )
    if args.text:
        _say(book["text"].rstrip("\n"))
    return 0
