"""The ERP at scale on one machine: Tryton on a private PostgreSQL cluster, served by several
gunicorn worker processes, optionally by several Tryton servers on the one database.

What :class:`PostgresErp` does, in order (``station erp serve --postgresql`` and ``bench/day.py
--postgresql`` use it; the README's deployment section shows the same steps for a real server):

1. a private cluster of Debian's ``postgresql`` package in ``DATA_DIR/pgdata`` on 127.0.0.1:PORT
   (``initdb`` and ``postgres`` refuse to run as root: as root they run as the ``postgres`` user),
   no system service; its unix socket stays in the data directory;
2. ``DATA_DIR/trytond.conf`` pointing trytond at it, with ``[cache] clean_timeout = 0``: every
   Tryton process then LISTENs on PostgreSQL's ``ir_cache`` channel and drops a cache entry the
   moment another process NOTIFYs a change (the default, 300, re-reads a table every 5 minutes, so
   a second server could answer from a stale cache for that long);
3. the database ``returns`` with every module and the demo data (built once per module version
   and day as a template; a fresh ``returns`` is a copy of it, made in a second);
4. ``servers`` gunicorn processes (``trytond.application:app``), each with ``workers`` workers, on
   consecutive ports from ``port``.

Servers and the cluster are child processes in their own sessions; :meth:`PostgresErp.stop` ends
them (SIGTERM, then SIGKILL), and they end with their parent too (gunicorn's ``--timeout`` aside).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from sync.erp.address import DEFAULT_DATABASE, ErpAddress
from sync.erp.tryton.server import ADMIN_LOGIN, ErpSetupError, module_fingerprint, rpc

FINGERPRINT_COMMENT = "returns_station module"  # the comment on a database: "<this> <fingerprint hex>"


def template_name() -> str:
    """The demo template's database name: rebuilt when the module's code or the day changes (the
    demo's expiry dates are relative to the day it was built)."""
    import datetime as dt

    return f"{DEFAULT_DATABASE}_t{module_fingerprint():07x}_{dt.date.today():%Y%m%d}"


def postgres_bin() -> Path:
    """The newest installed PostgreSQL's bin directory; ErpSetupError naming the package when none."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=lambda p: int(p.parent.parent.name)
    )
    if not found:
        raise ErpSetupError("PostgreSQL is not installed: apt-get install postgresql (Debian's package)")
    return found[-1].parent


def _need_drivers() -> None:
    try:
        import gunicorn  # noqa: F401
        import psycopg  # noqa: F401
        import psycopg_pool  # noqa: F401
    except ImportError as exc:
        raise ErpSetupError(
            f"{exc.name} is missing: pip install 'returns-station[postgresql]' "
            "(psycopg[binary,pool] and gunicorn) in this environment"
        ) from None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PostgresCluster:
    """A private PostgreSQL cluster in ``data_dir`` on 127.0.0.1:``port`` (trust auth, loopback only)."""

    def __init__(self, data_dir: Path, port: int) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.pgdata = self.data_dir / "pgdata"
        self.socket_dir = self.data_dir / "pgsocket"
        self.port = port
        self.bin = postgres_bin()
        self._process: subprocess.Popen[bytes] | None = None
        self._as_postgres = os.geteuid() == 0

    def _command(self, *args: str) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *args] if self._as_postgres else list(args)

    def _own(self, path: Path) -> None:
        if self._as_postgres:
            entry = pwd.getpwnam("postgres")
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def init(self, progress: Callable[[str], None]) -> None:
        """Create the cluster unless ``data_dir`` already holds one."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self._as_postgres:
            # The postgres user must reach its directories: open the way down (not the contents).
            for parent in [self.data_dir, *self.data_dir.parents]:
                if parent == Path("/"):
                    break
                mode = parent.stat().st_mode
                if not mode & 0o001:
                    parent.chmod(mode | 0o001)
        for folder in (self.pgdata, self.socket_dir):
            folder.mkdir(exist_ok=True)
            self._own(folder)
        self.pgdata.chmod(0o700)
        if (self.pgdata / "PG_VERSION").exists():
            return
        progress(f"Creating a PostgreSQL cluster in {self.pgdata}")
        result = subprocess.run(
            self._command(
                str(self.bin / "initdb"), "-D", str(self.pgdata), "-U", "postgres", "-A", "trust",
                "-E", "UTF8", "--no-instructions",
            ),
            capture_output=True, text=True,
        )  # fmt: skip
        if result.returncode != 0:
            raise ErpSetupError(f"initdb failed: {result.stderr.strip().splitlines()[-1:]}")

    def _log(self):  # type: ignore[no-untyped-def]
        return open(self.data_dir / "postgres.log", "ab")  # noqa: SIM115 - the child keeps it

    def start(self, timeout: float = 60) -> None:
        self._process = subprocess.Popen(
            self._command(
                str(self.bin / "postgres"), "-D", str(self.pgdata), "-p", str(self.port),
                "-k", str(self.socket_dir), "-c", "listen_addresses=127.0.0.1", "-c", "max_connections=400",
                "-c", "shared_buffers=128MB",
            ),
            stdout=subprocess.DEVNULL, stderr=self._log(), start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while True:
            try:
                with self.connect("postgres"):
                    return
            except Exception as exc:  # psycopg.OperationalError while it starts
                if self._process.poll() is not None:
                    raise ErpSetupError(
                        f"PostgreSQL did not start (see {self.data_dir / 'postgres.log'})"
                    ) from None
                if time.monotonic() > deadline:
                    raise ErpSetupError(f"PostgreSQL did not answer within {timeout:.0f} s: {exc}") from None
                time.sleep(0.2)

    def connect(self, database: str):  # type: ignore[no-untyped-def]
        import psycopg

        return psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            user="postgres",
            dbname=database,
            autocommit=True,
            connect_timeout=5,
        )

    def databases(self) -> set[str]:
        with self.connect("postgres") as conn:
            return {row[0] for row in conn.execute("SELECT datname FROM pg_database")}

    def copy_database(self, source: str, target: str) -> None:
        """``target`` as a fresh copy of ``source`` (dropped first when it exists)."""
        with self.connect("postgres") as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{target}" TEMPLATE "{source}"')

    def drop_database(self, name: str) -> None:
        with self.connect("postgres") as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def fingerprint(self, database: str) -> int | None:
        """The module fingerprint ``database`` was last built or updated with (kept in the
        database's comment, as the embedded ERP keeps it in ``PRAGMA user_version``); None when
        it has none (built by a version that did not record it)."""
        with self.connect("postgres") as conn:
            row = conn.execute(
                "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
                (database,),
            ).fetchone()
        text = (row[0] if row else None) or ""
        prefix = f"{FINGERPRINT_COMMENT} "
        return int(text[len(prefix) :], 16) if text.startswith(prefix) else None

    def set_fingerprint(self, database: str, fingerprint: int) -> None:
        with self.connect("postgres") as conn:
            conn.execute(f"COMMENT ON DATABASE \"{database}\" IS '{FINGERPRINT_COMMENT} {fingerprint:07x}'")

    def stop(self, timeout: float = 30) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGINT)  # PostgreSQL's fast shutdown
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    @property
    def uri(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/"


def write_trytond_conf(path: Path, uri: str) -> Path:
    path.write_text(
        "\n".join(
            [
                "[database]",
                f"uri = {uri}",
                "[cache]",
                "# LISTEN/NOTIFY on PostgreSQL: every server drops a changed entry at once",
                "clean_timeout = 0",
                "[password]",
                "length = 0",
                "",
            ]
        )
    )
    return path


def build_database(config: Path, name: str, *, password: str, progress: Callable[[str], None]) -> None:
    """Create ``name`` on the configured PostgreSQL with every module and the demo data
    (trytond-admin --all plus the demo seeder, in-process). Run it in a process of its own."""
    os.environ.setdefault("TRYTOND_LOGGING_LEVEL", "40")
    from trytond import config as trytond_config

    trytond_config.update_etc(str(config))
    from sync.erp.tryton.server import create_demo_database

    started = time.monotonic()
    create_demo_database(name, password=password, progress=progress)
    progress(f"Built {name} on PostgreSQL in {time.monotonic() - started:.0f} s")


class PostgresErp:
    """The cluster, the database and ``servers`` Tryton servers with ``workers`` workers each."""

    def __init__(
        self,
        data_dir: Path,
        *,
        port: int = 8000,
        pg_port: int = 0,
        workers: int = 4,
        servers: int = 1,
        password: str = "admin",
        host: str = "127.0.0.1",
        progress: Callable[[str], None] = print,
    ) -> None:
        _need_drivers()
        self.data_dir = Path(data_dir).resolve()
        self.cluster = PostgresCluster(self.data_dir, pg_port or _free_port())
        self.port = port
        self.host = host
        self.workers = workers
        self.servers = servers
        self._password = password
        self.progress = progress
        self.config = self.data_dir / "trytond.conf"
        self.ports: list[int] = []
        self._gunicorns: list[subprocess.Popen[bytes]] = []

    def addresses(self) -> list[ErpAddress]:
        """Admin access to ``returns`` on each server."""
        return [
            ErpAddress(
                host=self.host, port=p, database=DEFAULT_DATABASE, user=ADMIN_LOGIN, password=self._password
            )
            for p in self.ports
        ]

    def prepare(self, *, fresh: bool = True) -> None:
        """Start the cluster; make sure the template exists; ``returns`` a fresh copy of it when
        ``fresh`` (else kept when it exists)."""
        self.cluster.init(self.progress)
        self.cluster.start()
        write_trytond_conf(self.config, self.cluster.uri)
        existing = self.cluster.databases()
        template = template_name()
        if template not in existing:
            for old in existing:
                if old.startswith(f"{DEFAULT_DATABASE}_t"):
                    self.cluster.drop_database(old)
            self.progress("Building the demo database on PostgreSQL (first start only; a few minutes)")
            result = subprocess.run(
                [sys.executable, "-m", "sync.erp.tryton.postgres", "build", str(self.config), template],
                env={**os.environ, "STATION_ERP_PASSWORD": self._password},
                cwd=Path(__file__).resolve().parents[3],
            )
            if result.returncode != 0:
                raise ErpSetupError("building the demo database on PostgreSQL failed (see above)")
        if fresh or DEFAULT_DATABASE not in existing:
            self.cluster.copy_database(template, DEFAULT_DATABASE)
            self.cluster.set_fingerprint(DEFAULT_DATABASE, module_fingerprint())
        elif self.cluster.fingerprint(DEFAULT_DATABASE) != module_fingerprint():
            # A kept database (its returns, people, stock) built by older code: its tables are
            # brought up to this module, as `trytond-admin -u returns_station` does on a server.
            self.progress("Updating the returns_station module in the database (its code changed)")
            result = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "sync.erp.tryton.postgres",
                    "update",
                    str(self.config),
                    DEFAULT_DATABASE,
                ],
                cwd=Path(__file__).resolve().parents[3],
            )
            if result.returncode != 0:
                raise ErpSetupError("updating the returns_station module on PostgreSQL failed (see above)")
            self.cluster.set_fingerprint(DEFAULT_DATABASE, module_fingerprint())

    def serve(self, timeout: float = 180) -> None:
        """Start the Tryton servers and return once each answers."""
        env = {
            **os.environ,
            "TRYTOND_CONFIG": str(self.config),
            "TRYTOND_DATABASE_NAMES": DEFAULT_DATABASE,
            "TRYTOND_LOGGING_LEVEL": os.environ.get("TRYTOND_LOGGING_LEVEL", "40"),
        }
        if not self.ports:
            self.ports = [self.port + n if self.port else _free_port() for n in range(self.servers)]
        for port in self.ports:
            self._gunicorns.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "gunicorn",
                        "--workers",
                        str(self.workers),
                        "--bind",
                        f"{self.host}:{port}",
                        "--timeout",
                        "120",
                        "--graceful-timeout",
                        "5",
                        "--log-level",
                        "warning",
                        "--no-control-socket",  # one per user by default: two servers would share it
                        "trytond.application:app",
                    ],
                    env=env,
                    start_new_session=True,
                )  # fmt: skip
            )
        deadline = time.monotonic() + timeout
        for address in self.addresses():
            while True:
                try:
                    rpc(address, "common.server.version", timeout=5)
                    break
                except (OSError, ValueError, ErpSetupError):
                    if any(p.poll() is not None for p in self._gunicorns):
                        raise ErpSetupError(
                            "a Tryton server exited while starting (see its output above)"
                        ) from None
                    if time.monotonic() > deadline:
                        raise ErpSetupError(
                            f"Tryton did not answer on port {address.port} within {timeout:.0f} s"
                        ) from None
                    time.sleep(0.3)
        listed = ", ".join(f"http://{self.host}:{p}" for p in self.ports)
        self.progress(
            f"ERP ready on {listed} (database {DEFAULT_DATABASE!r} on PostgreSQL, "
            f"{self.workers} workers per server)"
        )

    def stop_servers(self, timeout: float = 20) -> None:
        for process in self._gunicorns:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        for process in self._gunicorns:
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self._gunicorns = []

    def restart(self, timeout: float = 600) -> None:
        """Stop and start the Tryton servers on the same ports (an ERP outage; the data stays)."""
        self.stop_servers()
        self.serve(timeout)

    def stop(self) -> None:
        self.stop_servers()
        self.cluster.stop()


def serve_postgresql(
    data_dir: Path,
    *,
    port: int,
    host: str,
    workers: int,
    servers: int,
    password: str,
    progress: Callable[[str], None] = print,
) -> None:
    """``station erp serve --postgresql``: cluster, database (kept between starts) and servers until
    SIGINT or SIGTERM; then everything it started is stopped."""
    if shutil.which("runuser") is None and os.geteuid() == 0:
        raise ErpSetupError("runuser is missing: PostgreSQL cannot run as root")
    erp = PostgresErp(
        data_dir, port=port, workers=workers, servers=servers, password=password, host=host, progress=progress
    )
    stopping = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        erp.prepare(fresh=False)
        erp.serve()
        while not stopping:
            time.sleep(0.5)
    finally:
        erp.stop()
        progress("ERP stopped")


def update_module(config: Path, name: str) -> None:
    """Bring ``name``'s returns_station tables up to this code (trytond-admin -u returns_station),
    in-process: run it in a process of its own."""
    os.environ.setdefault("TRYTOND_LOGGING_LEVEL", "40")
    from trytond import config as trytond_config

    trytond_config.update_etc(str(config))
    from trytond.pool import Pool

    Pool.start()
    Pool(name).init(update=["returns_station"], lang=["en"])


def _main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[0] == "build":
        build_database(
            Path(argv[1]), argv[2], password=os.environ.get("STATION_ERP_PASSWORD", "admin"), progress=print
        )
        return 0
    if len(argv) == 3 and argv[0] == "update":
        update_module(Path(argv[1]), argv[2])
        return 0
    print("usage: python -m sync.erp.tryton.postgres build|update TRYTOND_CONF DATABASE", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
