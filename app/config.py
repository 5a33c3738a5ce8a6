"""Station settings: where the data lives, which ERP to sync with, who this station is.

Every setting comes from a CLI flag, else an environment variable, else a default. The ERP
password is part of ``STATION_ERP_URL`` and is never printed: use :meth:`Settings.redacted_url`.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import platformdirs

DEFAULT_ERP_PORT = 8000
DEFAULT_DATABASE = "returns"


class ConfigError(ValueError):
    """A setting is unusable; the message says which and what to do, in an admin's words."""


@dataclass(frozen=True)
class ErpAddress:
    """Where the Tryton ERP is and how to log in. ``password`` is a secret: never print it."""

    scheme: str = "http"
    host: str = "127.0.0.1"
    port: int = DEFAULT_ERP_PORT
    database: str = DEFAULT_DATABASE
    user: str = "admin"
    password: str = field(default="admin", repr=False)

    @classmethod
    def parse(cls, url: str) -> ErpAddress:
        """Parse ``http://USER:PASSWORD@HOST:PORT/DATABASE``; raise ConfigError when it is not that."""
        parts = urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(
                "STATION_ERP_URL must look like http://USER:PASSWORD@HOST:PORT/DATABASE "
                f"(got scheme {parts.scheme or 'none'!r})"
            )
        database = parts.path.strip("/")
        if not database or "/" in database:
            raise ConfigError("STATION_ERP_URL must end with the database name, e.g. .../returns")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError as exc:
            raise ConfigError(f"STATION_ERP_URL has a bad port: {exc}") from None
        return cls(
            scheme=parts.scheme,
            host=parts.hostname,
            port=port,
            database=database,
            user=unquote(parts.username or "admin"),
            password=unquote(parts.password or ""),
        )

    @property
    def base_url(self) -> str:
        """The server's root, without credentials or database: safe to show."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"

    def url(self) -> str:
        """The full URL including the password, for storing in settings. Do not print it."""
        cred = f"{quote(self.user, safe='')}:{quote(self.password, safe='')}@"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{cred}{host}:{self.port}/{self.database}"

    def redacted(self) -> str:
        """The URL with the password replaced by ``***``: safe for logs and screens."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{quote(self.user, safe='')}:***@{host}:{self.port}/{self.database}"


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
