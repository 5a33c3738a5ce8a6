"""Station settings: where the data lives, which ERP to sync with, who this station is.

Every setting comes from a CLI flag, else an environment variable, else a default. The ERP
password is part of ``STATION_ERP_URL`` and is never printed: use :meth:`Settings.redacted_url`.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, replace
from pathlib import Path

import platformdirs

from sync.erp.address import ErpAddress


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("returns-station", appauthor=False))


@dataclass(frozen=True)
class Settings:
    """Everything a station process needs to know about its surroundings."""

    data_dir: Path
    erp: ErpAddress
    station_id: str

    @property
    def store_path(self) -> Path:
        """The station's one SQLite file (cache, outbox, audit); photos live beside it."""
        return self.data_dir / "station.sqlite"

    @property
    def photos_dir(self) -> Path:
        return self.data_dir / "photos"

    @property
    def erp_data_dir(self) -> Path:
        """Where the embedded Tryton ERP keeps its database (``station erp serve``)."""
        return self.data_dir / "erp"

    def with_erp(self, erp: ErpAddress) -> Settings:
        return replace(self, erp=erp)


def load_settings(
    data_dir: str | os.PathLike[str] | None = None,
    erp_url: str | None = None,
    station_id: str | None = None,
    environ: os.Mapping[str, str] | None = None,
) -> Settings:
    """Settings from flags (the arguments), else ``STATION_*`` variables, else defaults."""
    env = os.environ if environ is None else environ
    directory = data_dir or env.get("STATION_DATA_DIR") or default_data_dir()
    url = erp_url or env.get("STATION_ERP_URL")
    if url:
        erp = ErpAddress.parse(url)
    else:
        erp = ErpAddress(password=env.get("STATION_ERP_PASSWORD", "admin"))
    station = station_id or env.get("STATION_ID") or socket.gethostname().split(".")[0] or "station"
    return Settings(data_dir=Path(directory).expanduser(), erp=erp, station_id=station)
