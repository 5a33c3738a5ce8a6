"""``station settings``: show or save this station's ERP address and id, on the station's own host.

The app's Settings screen needs a supervisor's sign-in once an ERP is configured; this command
needs only the station's account, so a wrong ERP address never locks everyone out.
"""

from __future__ import annotations

import argparse
import os

from app.cli import CommandError, add_station_options, station_settings


def register(subparsers: argparse._SubParsersAction) -> None:
    settings = subparsers.add_parser(
        "settings",
        help="show this station's settings, or save an ERP address (STATION_ERP_URL or --erp-url) and "
        "station id for the app",
        description="Without options, show the settings the station runs with (the password hidden). "
        "With --erp-url (or STATION_ERP_URL) or --station-id, save them where the app's Settings screen "
        "saves, so the next start uses them.",
    )
    add_station_options(settings)
    settings.add_argument(
        "--sort-to-totes",
        choices=("on", "off"),
        help="on: Inspect asks for the tote of each unit's disposition (sort to tote); off: units go "
        "straight to their location (STATION_SORT_TO_TOTES=1/0 wins over the saved setting)",
    )
    settings.set_defaults(handler=_settings)


def _settings(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from app.datadir import prepare
    from app.ui.saved_settings import load_saved, save, sorts_to_totes

    current = station_settings(args)
    new_erp = args.erp_url or os.environ.get("STATION_ERP_URL")
    sort = getattr(args, "sort_to_totes", None)
    if new_erp or args.station_id or sort:
        saved = load_saved(current.data_dir)
        if sort:
            saved = replace(saved, sort_to_totes=sort == "on")
        if new_erp:
            saved = replace(saved, erp_url=current.erp.url())
        if args.station_id:
            saved = replace(saved, station_id=current.station_id)
        try:
            prepare(current.data_dir, current.store_path)
            save(current.data_dir, saved)
        except OSError as exc:
            raise CommandError(f"cannot save in {current.data_dir} ({exc.strerror or exc})") from None
        print(f"Saved in {current.data_dir}: the station's next start uses them.")
    print(f"ERP: {current.erp.redacted()}")
    print(f"Station id: {current.station_id}")
    print(f"Data directory: {current.data_dir}")
    print(f"Sort to totes: {'on' if sorts_to_totes(current.data_dir) else 'off'}")
    return 0
