"""The embedded central ERP: a Tryton database on SQLite, created and seeded on first start, served
over JSON-RPC on loopback.

Trytond's configuration is process-global, so everything here that imports trytond runs in a
process of its own: ``station erp init`` / ``station erp serve`` call :func:`ensure_database` and
:func:`serve`; in-process callers (``station demo``, test fixtures) use :class:`ErpProcess`, which
runs ``station erp serve`` as a child process.

A first start builds the database under a temporary name and renames it into place only when it is
complete, so a start killed half-way leaves nothing that a later start could mistake for a
database: the next start removes the leftovers and builds again.
"""

from __future__ import annotations

import base64
import collections
import contextlib
import datetime as dt
import decimal
import errno
import hashlib
import json
import logging
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from sync.erp.address import DEFAULT_DATABASE, ErpAddress

DATABASE = DEFAULT_DATABASE
_BUILDING = DATABASE + "_building"
ADMIN_LOGIN = "admin"
MODULES = (
    "company",
    "stock",
    "stock_lot",
    "stock_lot_sled",
    "sale",
    "quality",
    "stock_package",
    "returns_station",
)
READY_PREFIX = "ERP ready on "
STATION = (sys.executable, "-m", "app.cli")  # the `station` command, in this interpreter


class ErpSetupError(Exception):
    """The ERP cannot be created or served; the message says what to do, in an admin's words."""


def database_file(data_dir: Path, name: str = DATABASE) -> Path:
    """The SQLite file Tryton uses for database ``name`` in ``data_dir``."""
    return Path(data_dir) / f"{name}.sqlite"


def configure_trytond(data_dir: Path) -> None:
    """Point this process's trytond at SQLite files in ``data_dir``. Call before using trytond."""
    os.environ.setdefault("TRYTOND_LOGGING_LEVEL", "40")  # errors only: keep the console readable
    from trytond import config

    config.set("database", "uri", "sqlite://")
    config.set("database", "path", str(Path(data_dir).resolve()))
    # The demo password is "admin"; a deployment sets its own (see README, Deployment).
    config.set("password", "length", "0")


def check_data_dir(data_dir: Path) -> None:
    """Raise ErpSetupError unless ``data_dir`` exists (or can be made) and is writable."""
    data_dir = Path(data_dir)
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        probe = data_dir / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ErpSetupError(
            f"cannot write to the ERP data directory {data_dir} ({exc.strerror or exc}): "
            "fix its permissions or choose another with --data-dir"
        ) from None


def _remove_database_files(data_dir: Path, name: str) -> bool:
    removed = False
    for suffix in ("", "-wal", "-shm", "-journal"):
        path = Path(str(database_file(data_dir, name)) + suffix)
        if path.exists():
            path.unlink()
            removed = True
    return removed


def _is_tryton_database(path: Path) -> bool:
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
            row = conn.execute(
                "SELECT 1 FROM ir_module WHERE name = 'returns_station' AND state = 'activated'"
            ).fetchone()
        return row is not None
    except sqlite3.Error:
        return False


MODULE_DIR = Path(__file__).resolve().parent / "modules" / "returns_station"
COMMON_DIR = Path(__file__).resolve().parents[2] / "common"  # the vocabulary and rules the module runs


def module_fingerprint() -> int:
    """A 28-bit hash of the returns_station module's sources and the ``sync/common`` code it runs,
    kept in the database file's ``PRAGMA user_version`` (which travels with copies) to notice a
    database built by older code."""
    digest = hashlib.sha256()
    for source in (MODULE_DIR, COMMON_DIR):
        for path in sorted(source.rglob("*")):
            if path.is_file() and path.suffix in (".py", ".cfg", ".xml", ".toml"):
                name = path.relative_to(source.parent).as_posix()
                digest.update(name.encode() + b"\0" + path.read_bytes())
    return int(digest.hexdigest()[:7], 16)


def _stored_fingerprint(path: Path) -> int:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return conn.execute("PRAGMA user_version").fetchone()[0]


def _store_fingerprint(path: Path) -> None:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute(f"PRAGMA user_version = {module_fingerprint()}")
        conn.commit()


def _update_module(data_dir: Path, progress: Callable[[str], None]) -> None:
    """Bring the database's returns_station tables up to this code (new fields, new models)."""
    from trytond.pool import Pool

    progress("Updating the returns_station module in the database (its code changed)")
    Pool.start()
    Pool(DATABASE).init(update=["returns_station"], lang=["en"])
    _store_fingerprint(database_file(data_dir))


def ensure_database(
    data_dir: Path, *, password: str, progress: Callable[[str], None] = print, history: bool = False
) -> None:
    """Make sure ``data_dir`` holds the seeded demo database ``returns``; create and seed it when it is
    missing, removing what a killed first start left behind. Sets the admin password to ``password``.
    With ``history``, adds the demo's 90 days of past activity once (sync/erp/tryton/history.py).

    Raises ErpSetupError (unwritable directory, a file that is not a Returns Station database).
    Configures trytond for ``data_dir`` in this process: call it in a process of its own.
    """
    data_dir = Path(data_dir)
    check_data_dir(data_dir)
    target = database_file(data_dir)
    configure_trytond(data_dir)
    if target.exists():
        if not _is_tryton_database(target):
            raise ErpSetupError(
                f"{target} is not a Returns Station ERP database: move it away or choose another --data-dir"
            )
        if _stored_fingerprint(target) != module_fingerprint():
            _update_module(data_dir, progress)
    else:
        target.with_name(target.name + ".partial").unlink(missing_ok=True)
        if _remove_database_files(data_dir, _BUILDING):
            progress("Removing a half-initialised database left by an interrupted first start")
        _build(data_dir, password=password, progress=progress)
        _publish(database_file(data_dir, _BUILDING), target)
        _remove_database_files(data_dir, _BUILDING)
        progress("Database ready")
    if history:
        from sync.erp.tryton import history as past

        past.add(DATABASE, progress=progress)
    set_admin_password(password)


def _build(data_dir: Path, *, password: str, progress: Callable[[str], None]) -> None:
    started = time.monotonic()
    progress(f"Creating the Tryton database in {data_dir} (first start only; about a minute)")
    create_demo_database(_BUILDING, password=password, progress=progress)
    _store_fingerprint(database_file(data_dir, _BUILDING))
    progress(f"Seeded the demo data in {time.monotonic() - started:.0f} s")


def create_demo_database(name: str, *, password: str, progress: Callable[[str], None]) -> None:
    """Create database ``name`` on the configured backend (SQLite or PostgreSQL), activate every
    module, seed the demo data and set the admin password: what ``trytond-admin --all`` and the
    demo seeder do, in this process. Trytond must be configured first."""
    from trytond import backend
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    from sync.erp.tryton import demo

    Pool.start()
    database = backend.Database()
    database.connect()
    connection = database.get_connection(autocommit=True)
    try:
        database.create(connection, name)
    finally:
        database.put_connection(connection)
        database.close()
    database = backend.Database(name).connect()
    connection = database.get_connection()
    try:
        database.init()
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO ir_configuration (language) VALUES ('en')")
        connection.commit()
    finally:
        database.put_connection(connection)

    pool = Pool(name)
    progress("Installing Tryton's base")
    pool.init(update=["res", "ir"], lang=["en"])
    with Transaction().start(name, 0) as transaction:
        pool.get("res.user").create([{"login": ADMIN_LOGIN, "name": "Administrator", "administrator": True}])
        pool.get("ir.module").update_list()
        transaction.commit()
    progress("Activating modules: " + ", ".join(MODULES))
    pool.init(update=list(MODULES), lang=["en"], activatedeps=True)
    demo.seed(name, admin_login=ADMIN_LOGIN, progress=progress)
    with Transaction().start(name, 0) as transaction:
        User = pool.get("res.user")
        (admin,) = User.search([("login", "=", ADMIN_LOGIN)])
        User.write([admin], {"password": password})
        transaction.commit()
    backend.Database(name).close()
    Pool.stop(name)


def _publish(built: Path, target: Path) -> None:
    """Copy ``built`` to ``target`` as one self-contained file, atomically (rename into place)."""
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    with sqlite3.connect(built) as source, sqlite3.connect(partial) as copy:
        source.backup(copy)
    copy.close()
    source.close()
    os.replace(partial, target)


def set_admin_password(password: str, database: str = DATABASE) -> None:
    """Set the admin password of ``database`` (trytond must be configured in this process)."""
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    Pool.start()
    pool = Pool(database)
    pool.init()
    with Transaction().start(database, 0) as transaction:
        User = pool.get("res.user")
        (admin,) = User.search([("login", "=", ADMIN_LOGIN)])
        if not User._login_password(ADMIN_LOGIN, {"password": password}):
            User.write([admin], {"password": password})
            transaction.commit()


def serve(
    data_dir: Path,
    *,
    port: int,
    host: str = "127.0.0.1",
    password: str,
    progress: Callable[[str], None] = print,
    history: bool = False,
) -> None:
    """Create the database if needed (``history``: with the demo's past activity, see
    :func:`ensure_database`), then serve JSON-RPC for every database in ``data_dir`` on
    ``host:port`` until SIGINT or SIGTERM. Prints ``ERP ready on http://HOST:PORT`` when it answers.

    Raises ErpSetupError for a port in use, an unwritable directory or a foreign database file.
    """
    started = time.monotonic()
    listener = _bind(host, port)  # before the slow part: a port in use fails at once
    try:
        ensure_database(data_dir, password=password, progress=progress, history=history)
        from trytond.wsgi import app
        from werkzeug.serving import make_server

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request

        server = make_server(
            host,
            listener.getsockname()[1],
            _with_pools(app, Path(data_dir)),
            threaded=True,
            fd=listener.fileno(),
        )
    except BaseException:
        listener.close()
        raise

    def stop(signum: int, frame: object) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if os.environ.get(_EXIT_WITH_PARENT) == "1":
        threading.Thread(target=_exit_with_parent, args=(server,), daemon=True).start()
    address = server.socket.getsockname()
    shown = f"[{address[0]}]" if ":" in address[0] else address[0]
    progress(
        f"{READY_PREFIX}http://{shown}:{address[1]} (database {DATABASE!r}, "
        f"started in {time.monotonic() - started:.1f} s; Ctrl-C stops it)"
    )
    try:
        server.serve_forever()
    finally:
        server.server_close()
        progress("ERP stopped")


_DATABASE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


def _with_pools(app: Callable, data_dir: Path) -> Callable:  # type: ignore[type-arg]
    """Load a database's pool before its first request. Trytond means to do this itself, but a
    request for a database it has not loaded yet can find an empty pool (KeyError 'res.user')."""
    from trytond.pool import Pool

    loaded = {DATABASE}
    lock = threading.Lock()

    def forget_removed() -> None:
        # A database whose file was removed (a test's copy) gives its memory back.
        for gone in [n for n in loaded if n != DATABASE and not database_file(data_dir, n).exists()]:
            Pool.stop(gone)
            loaded.discard(gone)

    def wsgi(environ: dict, start_response: Callable) -> object:  # type: ignore[type-arg]
        name = environ.get("PATH_INFO", "/").split("/")[1]
        if (
            name
            and name not in loaded
            and _DATABASE_NAME.match(name)
            and database_file(data_dir, name).exists()
        ):
            with lock:
                if name not in loaded:
                    forget_removed()
                    Pool(name).init()
                    loaded.add(name)
        return app(environ, start_response)

    return wsgi


_EXIT_WITH_PARENT = "STATION_ERP_EXIT_WITH_PARENT"


def _exit_with_parent(server: object) -> None:
    """Stop serving when the process that started us (ErpProcess) is gone, even if it was killed:
    no server is left holding a port behind a crashed demo or test run."""
    parent = os.getppid()
    while os.getppid() == parent:
        time.sleep(1)
    server.shutdown()  # type: ignore[attr-defined]


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ErpSetupError(
                f"port {port} on {host} is already in use (is another ERP running?): "
                "stop it or choose another port with --port"
            ) from None
        raise ErpSetupError(f"cannot listen on {host}:{port} ({exc.strerror or exc}): check --host") from None
    sock.set_inheritable(True)
    return sock


def rpc(
    address: ErpAddress, method: str, *params: object, session: str | None = None, timeout: float = 30
) -> object:
    """One JSON-RPC call to ``address``'s database (for fixtures and checks; stations use the connector).

    ``session`` is the ``Authorization`` header value from :func:`login`; ErpSetupError on an error reply.
    """
    server_wide = method in ("common.server.version", "common.db.list", "common.authentication.services")
    url = f"{address.base_url}/rpc/" if server_wide else f"{address.base_url}/{address.database}/rpc/"
    body = json.dumps({"id": 1, "method": method, "params": list(params)}).encode()
    headers = {"Content-Type": "application/json"}
    if session:
        headers["Authorization"] = session
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            reply = json.loads(response.read(), object_hook=_tryton_types)
    except urllib.error.HTTPError as exc:
        reason = "credentials refused" if exc.code == 401 else exc.reason
        raise ErpSetupError(f"ERP answered HTTP {exc.code} ({reason}) to {method}") from None
    if reply.get("error"):
        raise ErpSetupError(f"ERP refused {method}: {reply['error']}")
    return reply["result"]


def _tryton_types(obj: dict) -> object:  # type: ignore[type-arg]
    """Tryton's JSON-RPC encodes these types as objects with a ``__class__`` key."""
    kind = obj.get("__class__")
    if kind == "Decimal":
        return decimal.Decimal(obj["decimal"])
    if kind == "date":
        return dt.date(obj["year"], obj["month"], obj["day"])
    if kind == "datetime":
        return dt.datetime(
            obj["year"],
            obj["month"],
            obj["day"],
            obj["hour"],
            obj["minute"],
            obj["second"],
            obj.get("microsecond", 0),
        )
    if kind == "bytes":
        return base64.b64decode(obj["base64"])
    return obj


def login(address: ErpAddress, timeout: float = 30) -> str:
    """Log in to ``address`` and return the ``Authorization`` header value for later calls."""
    user_id, key = rpc(
        address, "common.db.login", address.user, {"password": address.password}, "en", timeout=timeout
    )[:2]
    token = base64.b64encode(f"{address.user}:{user_id}:{key}".encode()).decode()
    return f"Session {token}"


def _answers(address: ErpAddress) -> bool:
    try:
        rpc(address, "common.server.version", timeout=2)
        return True
    except (OSError, ValueError, ErpSetupError):
        return False


class ErpProcess:
    """``station erp serve`` as a child process on loopback, for ``station demo`` and test fixtures."""

    def __init__(
        self,
        data_dir: Path,
        host: str,
        port: int,
        password: str,
        progress: Callable[[str], None] | None,
        history: bool = False,
    ) -> None:
        self.history = history
        self.data_dir = Path(data_dir)
        self.host = host
        self.port = port
        self._password = password
        self._progress = progress
        self._process: subprocess.Popen[str] | None = None
        self._output: collections.deque[str] = collections.deque(maxlen=200)  # the last lines, for errors

    @property
    def address(self) -> ErpAddress:
        """Admin access to the database ``returns`` on this server."""
        return ErpAddress(
            host=self.host, port=self.port, database=DATABASE, user=ADMIN_LOGIN, password=self._password
        )

    def station_address(self, name: str = "demo-station", station: str | None = None) -> ErpAddress:
        """A station user ``name`` on this server (created, or given a new password), speaking for
        the station id ``station`` (default ``name``): what a station logs in with. Stations never
        log in as the administrator."""
        from sync.erp.tryton.stations import add_station

        return add_station(self.address, name, station=station, reset=True)

    @classmethod
    def start(
        cls,
        data_dir: Path,
        *,
        port: int = 0,
        host: str = "127.0.0.1",
        password: str = "admin",
        progress: Callable[[str], None] | None = None,
        timeout: float = 300,
        history: bool = False,
    ) -> ErpProcess:
        """Start the server (port 0: a free one) and return once its JSON-RPC answers; ``history``
        adds the demo's 90 days of past activity first (once).

        Raises ErpSetupError with the child's own one-line message when it cannot start.
        """
        erp = cls(data_dir, host, port, password, progress, history)
        erp._launch(timeout)
        return erp

    def _launch(self, timeout: float) -> None:
        env = {
            **os.environ,
            "STATION_ERP_PASSWORD": self._password,
            "PYTHONUNBUFFERED": "1",
            _EXIT_WITH_PARENT: "1",
        }
        command = [
            *STATION,
            "erp",
            "serve",
            "--data-dir",
            str(self.data_dir),
            "--host",
            self.host,
            "--port",
            str(self.port),
            *(["--history"] if self.history else []),
        ]
        self._output.clear()
        self._process = subprocess.Popen(
            command,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            start_new_session=True,
        )
        ready = threading.Event()
        threading.Thread(target=self._read_output, args=(self._process, ready), daemon=True).start()
        deadline = time.monotonic() + timeout
        while not ready.wait(0.05):
            if self._process.poll() is not None:
                ready.wait(0.5)  # let the reader collect the last lines
                message = next(
                    (line for line in reversed(self._output) if line.startswith("station: ")), None
                )
                detail = message.removeprefix("station: ") if message else " / ".join(list(self._output)[-5:])
                raise ErpSetupError(detail or f"the ERP exited with status {self._process.returncode}")
            if time.monotonic() > deadline:
                self.stop()
                raise ErpSetupError(f"the ERP did not start within {timeout:.0f} s")
        while not _answers(self.address):
            if time.monotonic() > deadline:
                self.stop()
                raise ErpSetupError(f"the ERP did not answer within {timeout:.0f} s")
            time.sleep(0.05)

    def _read_output(self, process: subprocess.Popen[str], ready: threading.Event) -> None:
        assert process.stdout is not None
        for raw in process.stdout:
            line = raw.rstrip("\n")
            self._output.append(line)
            if line.startswith(READY_PREFIX) and not ready.is_set():
                self.port = int(line.removeprefix(READY_PREFIX).split()[0].rsplit(":", 1)[1])
                ready.set()
            elif self._progress is not None:
                self._progress(line)

    @property
    def output(self) -> list[str]:
        """The server's last lines of output (progress, errors); the password is never among them."""
        return list(self._output)

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stop(self, timeout: float = 20) -> None:
        """Stop the server (SIGTERM, then SIGKILL if it does not exit within ``timeout``)."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def kill(self) -> None:
        """Kill the server at once (SIGKILL), as a crash or a power cut would."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()

    def restart(self, timeout: float = 120) -> None:
        """Stop and start again on the same port."""
        self.stop()
        self._launch(timeout)

    def __enter__(self) -> ErpProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
