"""What the Settings screen saves: a small JSON file in the data directory, readable only by the
station's user (it holds the ERP password). Flags and ``STATION_*`` variables still win over it."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from app.config import Settings
from sync.erp.address import ConfigError, ErpAddress

FILE_NAME = "station-settings.json"


@dataclass(frozen=True)
class SavedSettings:
    erp_url: str | None = None  # includes the password: never print it
    station_id: str | None = None
    scanner_suffix: str = "enter"  # what the scanner sends after a code: "enter" or "tab"
    camera: str | None = None  # camera index or device path, None = none chosen
    gs_replacement: str | None = None  # the printable stand-in the scanner sends for GS1's GS
    sort_to_totes: bool = False  # Inspect asks for the tote of each unit's disposition


def load_saved(data_dir: Path) -> SavedSettings:
    path = data_dir / FILE_NAME
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError):
        return SavedSettings()
    known = {k: v for k, v in data.items() if k in SavedSettings.__dataclass_fields__}
    return SavedSettings(**known)


def sorts_to_totes(data_dir: Path, environ: Any = None) -> bool:
    """Whether this station sorts inspected units into totes: ``STATION_SORT_TO_TOTES`` (1 / 0)
    when set, else the saved setting (``station settings --sort-to-totes on``)."""
    env = (environ if environ is not None else os.environ).get("STATION_SORT_TO_TOTES", "").strip().lower()
    if env:
        return env in ("1", "on", "yes", "true")
    return bool(load_saved(data_dir).sort_to_totes)


def save(data_dir: Path, saved: SavedSettings) -> None:
    """Write atomically with mode 0600 (the file holds the ERP password)."""
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = data_dir / FILE_NAME
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(asdict(saved), handle, indent=2)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def update_saved(data_dir: Path, **changes: Any) -> SavedSettings:
    """Change some saved settings and keep the others; returns what is saved now."""
    from dataclasses import replace

    saved = replace(load_saved(data_dir), **changes)
    save(data_dir, saved)
    return saved


def apply_saved(settings: Settings, *, erp_from_env: bool, station_from_env: bool) -> Settings:
    """``settings`` with the saved ERP address and station id where no flag or variable set them."""
    saved = load_saved(settings.data_dir)
    result = settings
    if saved.erp_url and not erp_from_env:
        try:
            result = result.with_erp(ErpAddress.parse(saved.erp_url))
        except ValueError:
            pass
    if saved.station_id and not station_from_env:
        from dataclasses import replace

        result = replace(result, station_id=saved.station_id)
    return result


def form_address(
    current: ErpAddress, *, host: str, port: str, database: str, user: str, password: str
) -> ErpAddress | str:
    """The ERP address the Settings form describes, or what is wrong with it (in the admin's words).

    An empty password keeps the saved one only for the server it was saved for (same scheme, host
    and port): a saved password is never sent to another server, whoever typed its address."""
    try:
        number = int(port)
    except ValueError:
        return f"The port must be a number, not {port!r}"
    if not 0 < number < 65536:
        return f"The port must be between 1 and 65535, not {number}"
    if not host.strip() or not database.strip():
        return "Fill in the ERP host and database"
    same_server = (host.strip().lower(), number) == (current.host.lower(), current.port)
    try:
        return ErpAddress(
            scheme=current.scheme,
            host=host.strip(),
            port=number,
            database=database.strip(),
            user=user.strip() or current.user,
            password=password or (current.password if same_server else ""),
        )
    except ConfigError as exc:
        return str(exc)
