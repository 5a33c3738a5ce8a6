"""What the Settings screen saves: a small JSON file in the data directory, readable only by the
station's user (it holds the ERP password). Flags and ``STATION_*`` variables still win over it."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from app.config import Settings
from sync.erp.address import ErpAddress

FILE_NAME = "station-settings.json"


@dataclass(frozen=True)
class SavedSettings:
    erp_url: str | None = None  # includes the password: never print it
    station_id: str | None = None
    scanner_suffix: str = "enter"  # what the scanner sends after a code: "enter" or "tab"
    camera: str | None = None  # camera index or device path, None = none chosen
    gs_replacement: str | None = None  # the printable stand-in the scanner sends for GS1's GS


def load_saved(data_dir: Path) -> SavedSettings:
    path = data_dir / FILE_NAME
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError):
        return SavedSettings()
    known = {k: v for k, v in data.items() if k in SavedSettings.__dataclass_fields__}
    return SavedSettings(**known)


def save(data_dir: Path, saved: SavedSettings) -> None:
    """Write atomically with mode 0600 (the file holds the ERP password)."""
    data_dir.mkdir(parents=True, exist_ok=True)
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
