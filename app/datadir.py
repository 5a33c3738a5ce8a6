"""The station's data folder is private to the station's user: the folder 0700, the store 0600.

The store holds people's PIN verifiers and the outbox, the folder the saved ERP password: no other
account on the machine reads them. Every command that opens the store calls :func:`prepare` before
and after opening it.
"""

from __future__ import annotations

from pathlib import Path

FOLDER_MODE = 0o700
FILE_MODE = 0o600


def prepare(data_dir: Path, store_path: Path) -> None:
    """Create ``data_dir`` 0700 when missing and tighten one that other accounts can enter; tighten the
    store's files (call again after opening the store: SQLite creates them with the umask's mode, and
    the folder keeps others out meanwhile). OSError when the folder cannot be made."""
    data_dir = Path(data_dir)
    data_dir.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    if data_dir.stat().st_mode & 0o077:
        data_dir.chmod(FOLDER_MODE)
    for path in data_dir.glob(Path(store_path).name + "*"):
        if path.is_file() and path.stat().st_mode & 0o077:
            path.chmod(FILE_MODE)
