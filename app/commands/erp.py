"""``station erp``: the embedded central ERP (Tryton on SQLite) and its demo data."""

from __future__ import annotations

import argparse
import ipaddress
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from app.cli import CommandError
from app.config import load_settings
from sync.erp.address import DEFAULT_ERP_PORT, ConfigError, ErpAddress

TOTES_PER_DISPOSITION = 3  # tote labels per disposition on the sheet (station erp labels --totes)


def register(subparsers: argparse._SubParsersAction) -> None:
    erp = subparsers.add_parser("erp", help="the embedded Tryton ERP with its demo data")
    sub = erp.add_subparsers(dest="erp_command", metavar="ERP_COMMAND", required=True)

    serve = sub.add_parser(
        "serve",
        help="create the ERP database with demo data on first start, then serve JSON-RPC until Ctrl-C",
        description="Serve the embedded Tryton ERP (database 'returns', user admin). The admin password "
        "is STATION_ERP_PASSWORD (default admin), set at every start and never printed.",
    )
    _data_dir_option(serve)
    serve.add_argument(
        "--port",
        type=int,
        default=DEFAULT_ERP_PORT,
        help=f"TCP port to listen on (default {DEFAULT_ERP_PORT})",
    )
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)"
    )
    _postgresql_options(serve)
    _history_option(serve)
    serve.set_defaults(handler=_serve)

    init = sub.add_parser("init", help="create the ERP database with demo data if it is missing, then exit")
    _data_dir_option(init)
    _history_option(init)
    init.set_defaults(handler=_init)

    add = sub.add_parser(
        "add-station",
        help='create the ERP user a station logs in with (group "Returns Station"); prints its '
        "STATION_ERP_URL once",
        description='Create a Tryton user for one station, in the group "Returns Station" only: it may '
        "apply station operations and pull reference data, and nothing else. Runs as the ERP's "
        "administrator: STATION_ERP_ADMIN_URL (http://admin:PASSWORD@HOST:PORT/DATABASE), else admin "
        "with STATION_ERP_PASSWORD on the embedded ERP at 127.0.0.1. The station's password is random "
        "and shown once.",
    )
    add.add_argument("name", help="the station's ERP login, e.g. dock-2")
    add.add_argument(
        "--reset", action="store_true", help="give an existing station user a new password instead"
    )
    add.add_argument(
        "--station",
        metavar="ID",
        help="the station id it speaks for, when it is not NAME (the station's STATION_ID): the ERP "
        "applies only operations that carry it",
    )
    add.set_defaults(handler=_add_station)

    from app.commands import erp_rules

    erp_rules.register(sub)

    labels = sub.add_parser(
        "labels", help="write a printable PDF of the demo's barcodes: RMAs, products, lots, badges"
    )
    labels.add_argument(
        "--out", default="demo-labels.pdf", help="the PDF file to write (default demo-labels.pdf)"
    )
    labels.add_argument(
        "--totes",
        type=int,
        default=TOTES_PER_DISPOSITION,
        metavar="N",
        help=f"tote labels to print per disposition (default {TOTES_PER_DISPOSITION}; a label is one trip)",
    )
    labels.set_defaults(handler=_labels)

    from app.commands import people

    people.register(sub)


def _data_dir_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        help="directory holding the ERP database (default: the erp folder in the station's data directory)",
    )


def _erp_dir(args: argparse.Namespace) -> Path:
    if args.data_dir:
        return Path(args.data_dir).expanduser()
    return load_settings().erp_data_dir


DEMO_PASSWORD = "admin"


def _password() -> str:
    return os.environ.get("STATION_ERP_PASSWORD", DEMO_PASSWORD)


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def _admin_address() -> ErpAddress:
    url = os.environ.get("STATION_ERP_ADMIN_URL")
    if url:
        try:
            return ErpAddress.parse(url)
        except ConfigError as exc:
            raise CommandError(str(exc).replace("STATION_ERP_URL", "STATION_ERP_ADMIN_URL")) from None
    return ErpAddress(user="admin", password=_password())


@contextmanager
def _as_admin(admin: ErpAddress) -> Iterator[None]:
    """What the ERP refuses an administrator's command, or an ERP that cannot be reached, as a
    CommandError in an admin's words."""
    from sync.erp.tryton.server import ErpSetupError

    try:
        yield
    except ErpSetupError as exc:
        raise CommandError(str(exc)) from None
    except OSError as exc:
        raise CommandError(
            f"cannot reach the ERP at {admin.base_url} ({exc}): start it, or set STATION_ERP_ADMIN_URL"
        ) from None


def _add_station(args: argparse.Namespace) -> int:
    from sync.erp.tryton.stations import add_station

    admin = _admin_address()
    with _as_admin(admin):
        station = add_station(admin, args.name, station=args.station, reset=args.reset)
    done = "has a new password" if args.reset else "was created"
    _say(
        f'Station user {args.name!r} {done} in {admin.base_url}/{admin.database} (group "Returns Station": '
        "it applies station operations and pulls reference data, nothing else)."
    )
    speaks_for = args.station or args.name
    _say(f"It speaks for station {speaks_for}: the ERP applies only operations that carry that id.")
    _say("Give that station these settings; the password is shown only this once:")
    _say(f"STATION_ID={speaks_for}")
    _say(f"STATION_ERP_URL={station.url()}")
    return 0


def _history_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--history",
        action="store_true",
        help="add the demo's 90 days of past activity (sales, returns through every stage, a second "
        "warehouse) once, for the figures (embedded SQLite ERP only)",
    )


def _init(args: argparse.Namespace) -> int:
    from sync.erp.tryton.server import ErpSetupError, ensure_database

    try:
        ensure_database(_erp_dir(args), password=_password(), progress=_say, history=args.history)
    except ErpSetupError as exc:
        raise CommandError(str(exc)) from None
    return 0


def _postgresql_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--postgresql",
        action="store_true",
        help="serve the ERP from a private PostgreSQL cluster in --data-dir (created on first start, "
        "with the demo data) through gunicorn workers, instead of the embedded SQLite file",
    )
    parser.add_argument(
        "--workers", type=int, default=4, help="with --postgresql: worker processes per server (default 4)"
    )
    parser.add_argument(
        "--servers",
        type=int,
        default=1,
        help="with --postgresql: Tryton servers on one database, on consecutive ports (default 1)",
    )


def _serve_postgresql(args: argparse.Namespace) -> int:
    from sync.erp.tryton.postgres import serve_postgresql
    from sync.erp.tryton.server import ErpSetupError

    if args.workers < 1 or args.servers < 1:
        raise CommandError("--workers and --servers must be at least 1")
    try:
        serve_postgresql(
            _erp_dir(args) / "postgresql",
            port=args.port,
            host=args.host,
            workers=args.workers,
            servers=args.servers,
            password=_password(),
            progress=_say,
        )
    except ErpSetupError as exc:
        raise CommandError(str(exc)) from None
    return 0


def _serve(args: argparse.Namespace) -> int:
    from sync.erp.tryton.server import ErpSetupError, serve

    if not 0 <= args.port <= 65535:
        raise CommandError(f"--port must be between 0 and 65535 (got {args.port})")
    if _password() == DEMO_PASSWORD and not _is_loopback(args.host):
        raise CommandError(
            f"refusing to serve on {args.host} with the demo admin password: anyone on the network "
            "could log in as admin. Set STATION_ERP_PASSWORD to a strong password of your own "
            "(or keep --host 127.0.0.1)"
        )
    if args.postgresql:
        return _serve_postgresql(args)
    try:
        serve(
            _erp_dir(args),
            port=args.port,
            host=args.host,
            password=_password(),
            progress=_say,
            history=args.history,
        )
    except ErpSetupError as exc:
        raise CommandError(str(exc)) from None
    return 0


def station_labels(totes: int = 3) -> list:
    """The station's own sections of the label sheet (after the demo's): ``totes`` tote labels per
    disposition for sort to tote, then the scanner check-up."""
    from app.scan.checkup import CHECKUP_LABEL
    from sync.common.totes import TOTE_WORDS, disposition_words, tote_code
    from sync.erp.tryton.labels import Label

    checkup = Label(
        CHECKUP_LABEL,
        "Code128GS1",
        "Scanner check-up",
        "Settings > Scanner check-up, or: station scan --check",
    )
    tote_labels = [
        Label(
            tote_code(disposition, n),
            "Code128",
            tote_code(disposition, n),
            f"{disposition_words(disposition)} tote (Inspect, sort to tote)",
        )
        for disposition in TOTE_WORDS
        for n in range(1, totes + 1)
    ]
    return [  # the check-up last, where the README and Settings say it is
        *([("Totes for sort to tote (one label per trip)", tote_labels, 3)] if tote_labels else []),
        ("Scanner check-up: what does your scanner send?", [checkup], 1),
    ]


def _labels(args: argparse.Namespace) -> int:
    from sync.erp.tryton.labels import write_label_sheet

    out = Path(args.out).expanduser()
    try:
        pages = write_label_sheet(out, extra=station_labels(max(0, getattr(args, "totes", 3))))
    except OSError as exc:
        raise CommandError(f"cannot write {out} ({exc.strerror or exc}): choose another --out") from None
    _say(f"Wrote {pages} pages of demo labels to {out}")
    return 0


def _say(line: str) -> None:
    print(line, flush=True)
