"""``station``: the command line. Each command is thin: it opens what it needs, calls one
function of ``app`` or ``sync``, and turns their errors into a one-line message for an admin."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from app.config import Settings, load_settings
from sync.erp.address import ConfigError

# Each module under app/commands exposes ``register(subparsers)``; handlers import heavy
# dependencies (Flet, OpenCV, Tryton) only when they run, so ``station --help`` stays instant.
COMMAND_MODULES = ("ui", "erp", "sync", "replay", "scan", "report", "settings", "evidence")


class CommandError(Exception):
    """A failure the user can fix; printed as ``station: <message>`` with exit status 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="station",
        description="Returns Station: scan, grade, dispose and pack at a warehouse station; "
        "works offline and syncs every operation to the ERP exactly once.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"app.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"app.commands.{name}":
                raise
            continue
        module.register(sub)
    return parser


def add_station_options(parser: argparse.ArgumentParser) -> None:
    """The options every station command shares (flags override ``STATION_*`` variables)."""
    parser.add_argument("--data-dir", help="where the station keeps its data (env STATION_DATA_DIR)")
    parser.add_argument(
        "--erp-url",
        help="the ERP as http://USER:PASSWORD@HOST:PORT/DATABASE (env STATION_ERP_URL); "
        "prefer the variable: a flag shows in the process list",
    )
    parser.add_argument("--station-id", help="this station's name on every operation (env STATION_ID)")


def station_settings(args: argparse.Namespace) -> Settings:
    """The settings a station command runs with: its flags (see :func:`add_station_options`), else
    ``STATION_*`` variables, else what a supervisor saved on the app's Settings screen, else defaults.
    CommandError for an unusable setting."""
    from app.ui.saved_settings import apply_saved  # plain JSON: no Flet behind it

    data_dir = getattr(args, "data_dir", None)
    erp_url = getattr(args, "erp_url", None)
    station_id = getattr(args, "station_id", None)
    try:
        settings = load_settings(data_dir, erp_url, station_id)
    except ConfigError as exc:
        raise CommandError(str(exc)) from None
    return apply_saved(
        settings,
        erp_from_env=bool(erp_url or os.environ.get("STATION_ERP_URL")),
        station_from_env=bool(station_id or os.environ.get("STATION_ID")),
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except CommandError as exc:
        print(f"station: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    # ``python -m app.cli`` runs this file as __main__, a second copy of the module: command modules
    # raise ``app.cli.CommandError``, which only the imported module's main() catches.
    from app.cli import main as imported_main

    sys.exit(imported_main())
