"""What the views stand on: this station's settings, its store, its sync engine, its sessions.

No Flet here: the same object serves the browser app, the desktop window and the tests. The views
read the store, call the workflows, and show the sync engine's status; they never call the ERP.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from app.config import Settings


@dataclass(frozen=True)
class StripStatus:
    """What the status strip shows: one line a worker reads at a glance."""

    online: bool | None  # None: no sync engine (no ERP configured) or not tried yet
    last_sync: str | None  # ISO time of the last successful exchange with the ERP
    waiting: int  # operations not yet delivered (pending + sending)
    failures: int  # operations a person must look at (failed + conflict)
    last_error: str | None = None
    oldest_waiting_s: float | None = None
    fault: str | None = None  # the store could not be written (disk full...): a red banner, plain words

    @property
    def label(self) -> str:
        """The strip's whole text, also its accessible name."""
        state = {True: "Online", False: "Offline", None: "Not connected"}[self.online]
        parts = [state, f"last sync {ago(self.last_sync)}", f"{self.waiting} waiting"]
        if self.failures:
            parts.append(f"{self.failures} need attention")
        return " · ".join(parts)


def ago(iso: str | None, *, now: float | None = None) -> str:
    """``"never"``, ``"just now"``, ``"5 min ago"``: a time as a person on the floor says it."""
    if not iso:
        return "never"
    try:
        then = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return iso
    if then.tzinfo is None:
        then = then.replace(tzinfo=UTC)
    seconds = (now if now is not None else time.time()) - then.timestamp()
    return "just now" if seconds < 60 else age(seconds) + " ago"


def age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 60:
        return "under 1 min"
    if seconds < 3600:
        return f"{int(seconds // 60)} min"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60)} min"
    return f"{int(seconds // 86400)} d"


def _get(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


def strip_status(
    engine_status: Any | None, counts: dict[str, int], last_pull: str | None, fault: str | None = None
) -> StripStatus:
    """Fold the sync engine's status (or, with no engine, the store's outbox counts) into the strip."""
    if engine_status is not None:
        counts = dict(_get(engine_status, "counts", None) or counts)
        last = _get(engine_status, "last_success") or last_pull
        if isinstance(last, (int, float)):
            last = datetime.fromtimestamp(last, UTC).isoformat()
        elif isinstance(last, datetime):
            last = last.isoformat()
        return StripStatus(
            online=_get(engine_status, "online"),
            last_sync=last,
            waiting=counts.get("pending", 0) + counts.get("sending", 0),
            failures=counts.get("failed", 0) + counts.get("conflict", 0),
            last_error=_get(engine_status, "last_error"),
            oldest_waiting_s=_get(engine_status, "oldest_pending_age_s"),
            fault=fault or _get(engine_status, "store_fault"),
        )
    return StripStatus(
        online=None,
        last_sync=last_pull,
        waiting=counts.get("pending", 0) + counts.get("sending", 0),
        failures=counts.get("failed", 0) + counts.get("conflict", 0),
        fault=fault,
    )


class SerialSession:
    """A StationSession whose methods run one at a time. Flet runs event handlers on a thread pool,
    so two quick presses (four checklist answers in a row) would otherwise race inside the session,
    which is not thread-safe, and one answer would be lost."""

    def __init__(self, session: Any) -> None:
        self._session = session
        self._lock = threading.RLock()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._session, name)
        if not callable(attr):
            return attr

        def serial(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                return attr(*args, **kwargs)

        return serial


@dataclass
class Station:
    """One station process: settings, store, and (when an ERP is configured) the sync engine.

    ``engine`` may be None: the station then works fully offline and says "Not connected"."""

    settings: Settings
    store: Any  # sync.store.Store
    engine: Any | None = None  # sync.engine.SyncEngine
    rules: Any | None = None
    scanner_suffix: str = "enter"  # what the scanner sends after a code: "enter" or "tab"
    gs_replacement: str | None = None  # the scanner's printable stand-in for GS1's GS (check-up)
    idle_sign_out_s: float = 600.0  # a person is signed out after this long without an action
    camera_source: str | None = None  # a device index ("0"), a video file or a stream URL; None: no camera
    sort_to_totes: bool = False  # Inspect asks for a tote per disposition (app/workflows/tasks/sorting.py)
    # Once an ERP is configured, only a signed-in supervisor opens Settings (`station settings` on
    # the station's host always can): before, a new station is set up from the sign-in screen.
    erp_configured: bool = False
    _listeners: list[Callable[[], None]] = field(default_factory=list)
    _camera: Any | None = None  # app.scan.camera.Camera, started on first use
    _camera_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def station_id(self) -> str:
        return self.settings.station_id

    def status(self) -> StripStatus:
        engine_status = None
        if self.engine is not None:
            try:
                engine_status = self.engine.status()
            except Exception:  # a status read must never take the screen down
                engine_status = None
        fault = getattr(self.store, "fault", None)
        try:
            last_pull = self.store.last_pull_at() if hasattr(self.store, "last_pull_at") else None
            counts = self.store.queue_counts()
        except Exception as exc:  # the store itself failing is what the banner is for
            return StripStatus(online=None, last_sync=None, waiting=0, failures=0, fault=fault or str(exc))
        return strip_status(engine_status, counts, last_pull, fault)

    def request_sync(self) -> None:
        """Ask the engine to sync soon (after a confirm); a no-op without one."""
        if self.engine is not None:
            self.engine.request_sync()

    def on_change(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback`` (from any thread) when the sync status may have changed; returns unsubscribe."""
        if self.engine is not None and hasattr(self.engine, "add_listener"):
            return self.engine.add_listener(lambda *_: callback())
        return lambda: None

    # --- work waiting -------------------------------------------------------------------------
    def work_counts(self) -> dict[str, int]:
        """How much work waits for each job screen, from the reference cache; ``pack_late``: the
        orders waiting to be packed past their due time (app.workflows.priority)."""
        from app.workflows.priority import late_count, not_packed_here

        try:
            return {
                "pack_late": late_count(not_packed_here(self.store), datetime.now(UTC)),
                "receive": len(self.store.returns("draft")),
                "inspect": len(self.store.returns("received")),
                "pack": len(self.store.shipments("assigned")) + len(self.store.shipments("waiting")),
                "supervise": len(self.store.approvals("pending")),
            }
        except Exception:  # the cache is optional for the home screen
            return {}

    def job_for_scan(self, text: str) -> str | None:
        """Which job screen a scan made on the home screen starts: a return label or an order."""
        if self.store.find_return(text) is not None:
            return "receive" if self.store.find_return(text)["state"] == "draft" else "inspect"
        if self.store.find_shipment(text) is not None:
            return "pack"
        return None

    # --- sessions -----------------------------------------------------------------------------
    def new_session(self) -> Any:
        """A workflows session (app.workflows.station.StationSession) for one tab or window."""
        from datetime import timedelta

        from app.workflows.station import StationSession, rules_for

        if self.rules is None:
            self.rules = rules_for(self.store)
        idle = timedelta(seconds=self.idle_sign_out_s)
        requester = self.engine.request if self.engine is not None else None
        session = StationSession(
            self.store,
            self.station_id,
            rules=self.rules,
            idle_sign_out=idle,
            gs_replacement=self.gs_replacement,
            requester=requester,
            sort_to_totes=lambda: self.sort_to_totes,
        )
        return SerialSession(session)

    # --- settings -----------------------------------------------------------------------------
    def test_connection(self, erp: Any, station_id: str | None = None) -> tuple[bool, str]:
        """Log in to the ERP at ``erp`` (an ErpAddress) through its connector: (worked, what to show).
        With ``station_id``, also whether the ERP user speaks for that station (sync.identity).

        Blocking (network): call it off the UI loop. The message never holds the password."""
        from sync import identity
        from sync.engine import connector_for
        from sync.erp.protocol import ErpAuthFailed, ErpError

        try:
            connector = connector_for(erp)
            description = connector.check()
            problem = None
            if station_id:
                try:
                    problem = identity.mismatch(connector.request(identity.METHOD), station_id)
                except ErpError:
                    problem = None  # an ERP that cannot say (an older module): the login worked
            if problem:
                return False, f"Connected, but {problem}"
        except ErpAuthFailed:
            if not erp.password:
                return False, (
                    f"The ERP at {erp.base_url} refused user {erp.user} without a password: type "
                    "its password (the saved one is sent only to the server it was saved for)"
                )
            return False, f"The ERP at {erp.base_url} refused user {erp.user}: check the user and password"
        except ErpError as exc:
            # the connector's own words already name the address (never the password)
            text = str(exc) or f"cannot reach the ERP at {erp.base_url}"
            return False, text[0].upper() + text[1:]
        except Exception as exc:  # a connector bug still gets a readable line, not a stack trace
            return False, f"Connection test failed: {type(exc).__name__}: {exc}"
        return True, f"Connected: {description}"

    def save_settings(self, *, erp: Any, station_id: str, scanner_suffix: str, camera: str | None) -> str:
        """Save what the Settings screen holds; returns what to tell the admin."""
        from dataclasses import replace

        from app.ui.saved_settings import update_saved

        camera = (camera or "").strip() or None
        update_saved(
            self.settings.data_dir,
            erp_url=erp.url(),
            station_id=station_id,
            scanner_suffix=scanner_suffix,
            camera=camera,
        )
        changed_erp = erp != self.settings.erp
        self.erp_configured = True
        self.settings = replace(self.settings.with_erp(erp), station_id=station_id)
        if self.engine is not None:
            self.engine.station = station_id  # what it stamps on every operation it sends from now on
        self.scanner_suffix = scanner_suffix
        self.set_camera(camera)
        if changed_erp and self.engine is not None:
            return "Saved. Restart the station to sync with the new ERP address"
        return "Saved"

    def save_gs_replacement(self, stand_in: str | None) -> str:
        """Read ``stand_in`` as GS1's GS in every scan from now on (the scanner check-up saves it)."""
        from app.ui.saved_settings import update_saved

        update_saved(self.settings.data_dir, gs_replacement=stand_in or None)
        self.gs_replacement = stand_in or None
        return f"Saved: this station reads {stand_in!r} as the GS1 separator" if stand_in else "Saved"

    def save_sort_to_totes(self, on: bool) -> str:
        """Sort inspected units into totes from now on (or not); saved for the next start too."""
        from app.ui.saved_settings import update_saved

        update_saved(self.settings.data_dir, sort_to_totes=bool(on))
        self.sort_to_totes = bool(on)
        if on:
            return "Saved: Inspect asks for the tote of each unit's disposition"
        return "Saved: inspected units go straight to their location"

    def cameras(self) -> list[str] | str:
        """The cameras this machine offers, or why there are none (photos then come from files)."""
        try:
            from app.scan import camera  # type: ignore[attr-defined]
        except ImportError:
            return "No camera support on this station: photos are added from files"
        lister = getattr(camera, "list_cameras", None)
        if lister is None:
            return "No camera support on this station: photos are added from files"
        try:
            found = [str(c) for c in lister()]
        except Exception as exc:
            return f"Cameras could not be listed: {exc}"
        return found or "No camera found: photos are added from files"

    def photo(self, sha256: str) -> bytes | None:
        """A stored photo's bytes for an Image control (None when the file is missing)."""
        try:
            return self.store.photo_bytes(sha256)
        except Exception:
            return None

    def camera_note(self) -> str:
        if self.camera_source:
            return "Or add photos from files"
        cams = self.cameras()
        if isinstance(cams, str):
            return cams
        return "Camera: " + ", ".join(cams)

    # --- camera -------------------------------------------------------------------------------
    def set_camera(self, source: str | None) -> None:
        """Use ``source`` as this station's camera from now on (the old one, if any, is stopped)."""
        source = (source or "").strip() or None
        with self._camera_lock:
            if source == self.camera_source:
                return
            old, self._camera, self.camera_source = self._camera, None, source
        if old is not None:
            old.stop()

    def camera(self) -> Any | None:
        """The station's one Camera (app.scan.camera.Camera), started on first use; None without one.
        Every view shares it: a device can be opened by one reader only."""
        with self._camera_lock:
            if self.camera_source is None:
                return None
            if self._camera is None:
                from app.scan.camera import Camera

                self._camera = Camera(camera_source(self.camera_source), preview_width=480, preview_fps=5)
                self._camera.start()
            return self._camera

    def close(self) -> None:
        """Stop the camera and the sync engine (after the exchange in progress); close the store."""
        with self._camera_lock:
            cam, self._camera = self._camera, None
        if cam is not None:
            cam.stop()
        if self.engine is not None:
            self.engine.stop()
        self.store.close()


def camera_source(text: str) -> int | str:
    """What a worker types as the camera: ``"0"`` is device 0, anything else a video file or stream URL."""
    text = text.strip()
    return int(text) if text.isdigit() else text


def is_default_erp(erp: Any) -> bool:
    """Whether ``erp`` is the built-in default (the demo ERP on this machine): nothing configured."""
    from sync.erp.address import ErpAddress

    default = ErpAddress()
    return (erp.scheme, erp.host, erp.port, erp.database, erp.user) == (
        default.scheme,
        default.host,
        default.port,
        default.database,
        default.user,
    )


def open_station(
    settings: Settings,
    *,
    sync: bool = True,
    pull_interval: float = 30.0,
    rules: Any | None = None,
    environ: Mapping[str, str] | None = None,
) -> Station:
    """Open the station's store and (with ``sync``) start its sync engine towards ``settings.erp``.
    The camera is ``STATION_CAMERA`` (from ``environ``, default os.environ), else the saved one.

    Raises sync.store.StoreError when the store file cannot be used."""
    from app.datadir import prepare
    from app.ui.saved_settings import load_saved, sorts_to_totes
    from sync.store import Store

    prepare(settings.data_dir, settings.store_path)
    store = Store.open(settings.store_path, photos_dir=settings.photos_dir)
    prepare(settings.data_dir, settings.store_path)
    saved = load_saved(settings.data_dir)
    camera = (environ if environ is not None else os.environ).get("STATION_CAMERA") or saved.camera
    env = environ if environ is not None else os.environ
    station = Station(
        settings=settings,
        store=store,
        rules=rules,
        scanner_suffix=saved.scanner_suffix,
        gs_replacement=saved.gs_replacement,
        camera_source=(camera or "").strip() or None,
        erp_configured=bool(saved.erp_url or env.get("STATION_ERP_URL")) or not is_default_erp(settings.erp),
        sort_to_totes=sorts_to_totes(settings.data_dir, env),
    )
    if sync:
        from sync.engine import SyncEngine, connector_for
        from sync.station_status import interval_from

        station.engine = SyncEngine(
            store,
            lambda: connector_for(station.settings.erp),
            pull_interval=pull_interval,
            station=settings.station_id,
            status_interval=interval_from(env),
        )
    return station
