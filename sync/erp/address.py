"""Where the ERP is and how to log in: parsed from ``STATION_ERP_URL``
(``http://USER:PASSWORD@HOST:PORT/DATABASE``). The password is never printed: use
:meth:`ErpAddress.redacted`."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import quote, unquote, urlsplit

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
