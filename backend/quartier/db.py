"""Database set-up: the ORM base, the async engine, and a private PostgreSQL cluster.

Quartier runs on PostgreSQL only. Production points ``DATABASE_URL`` at a managed server. For
development and tests, with no URL set, :class:`PrivateCluster` starts a cluster of the
project's own in a local data directory, listening on a unix socket only:

* Server binaries come from ``QUARTIER_PG_BINDIR``, else the distribution
  (``/usr/lib/postgresql/<newest>/bin`` or ``pg_ctl`` on the PATH), else the ``pgserver`` wheel,
  which ships PostgreSQL 16 binaries for CPython 3.11/3.12.
* PostgreSQL refuses to run as root. Run as root (CI, containers), the cluster runs as the
  unprivileged system user ``quartier-pg``, created on first use; when the data directory is not
  reachable for that user (e.g. a checkout under a 0700 temporary directory), the cluster is
  placed under ``/var/tmp/quartier-pg/`` instead, keyed by the project path.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import pwd
import re
import shutil
import stat
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

from advanced_alchemy.base import UUIDv7AuditBase, orm_registry
from sqlalchemy import MetaData, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

log = logging.getLogger(__name__)

Base = UUIDv7AuditBase
metadata: MetaData = orm_registry.metadata

PG_SYSTEM_USER = "quartier-pg"
SOCKET_NAME = ".s.PGSQL.5432"
_MAX_SOCKET_PATH = 100  # the kernel's limit for unix socket paths is 107 bytes


def create_engine(
    url: str, *, pool_size: int = 10, max_overflow: int = 10, connect_timeout: float | None = None
) -> AsyncEngine:
    """The engine of the app and the command line. A pooled connection is checked without a
    round trip before it is handed out (`_refuse_closed`) instead of SQLAlchemy's pre-ping, which
    would cost every request one."""
    connect_args: dict[str, Any] = {"server_settings": {"application_name": "quartier"}}
    if connect_timeout is not None:
        connect_args["timeout"] = connect_timeout
    engine = create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_recycle=1800,
        connect_args=connect_args,
    )
    event.listen(engine.sync_engine, "checkout", _refuse_closed)
    return engine


def _refuse_closed(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    """A pooled connection whose server went away (a restart, a terminated backend) has already
    seen its socket close: the pool is told to replace it, before any statement fails on it. A
    connection that died silently (a peer host lost without a FIN) still fails its first
    statement; SQLAlchemy then invalidates the pool and that one request is answered 503."""
    if dbapi_connection.driver_connection.is_closed():
        raise DisconnectionError("the pooled connection was closed by the server")


@contextlib.asynccontextmanager
async def session_scope(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session that commits on success (for the CLI and background work; requests use the
    plugin's session, committed by the request)."""
    maker = async_sessionmaker(engine, expire_on_commit=False)
    async with maker() as session, session.begin():
        yield session


def engine_of(connection: Any) -> AsyncEngine:
    """The app's engine, for a request (or any ASGI connection) that talks to the asyncpg
    driver directly (`core.driver`) or checks the database outside the request's session."""
    engine: AsyncEngine = connection.app.state["db_config"].get_engine()
    return engine


class ClusterError(RuntimeError):
    pass


def find_pg_bindir() -> Path:
    """Where the PostgreSQL server binaries are (see the module docstring for the order)."""
    candidates: list[Path] = []
    if explicit := os.environ.get("QUARTIER_PG_BINDIR"):
        candidates.append(Path(explicit))
    distro = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    candidates.extend(distro)
    if on_path := shutil.which("pg_ctl"):
        candidates.append(Path(on_path).resolve().parent)
    with contextlib.suppress(ImportError):
        import pgserver

        candidates.append(Path(pgserver.__file__).parent / "pginstall" / "bin")
    for candidate in candidates:
        if (candidate / "initdb").exists() and (candidate / "pg_ctl").exists():
            return candidate
    raise ClusterError(
        "no PostgreSQL server binaries found: install the distribution's postgresql package, "
        "`pip install pgserver`, set QUARTIER_PG_BINDIR, or set DATABASE_URL"
    )


def _reachable_by_others(path: Path) -> bool:
    """True when every existing ancestor of path can be traversed by an unprivileged user."""
    for ancestor in [path, *path.parents]:
        if not ancestor.exists():
            continue
        mode = ancestor.stat().st_mode
        if not mode & stat.S_IXOTH:
            return False
    return True


def _process_alive(pid: int) -> bool:
    """True for a running process; False for a dead one or a zombie awaiting its reaper."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    state = next((line for line in status.splitlines() if line.startswith("State:")), "")
    return "Z" not in state.split(":", 1)[-1].split()[0:1]


class PrivateCluster:
    """A PostgreSQL cluster owned by the project, on a unix socket, started on demand."""

    def __init__(self, base_dir: Path, *, fsync: bool = True, database: str = "quartier") -> None:
        self.bindir = find_pg_bindir()
        self.as_root = os.geteuid() == 0
        base_dir = base_dir.resolve()
        if self.as_root and not _reachable_by_others(base_dir):
            digest = hashlib.sha256(str(base_dir).encode()).hexdigest()[:16]
            base_dir = Path("/var/tmp/quartier-pg") / digest
            log.info("data directory not reachable for %s; using %s", PG_SYSTEM_USER, base_dir)
        self.base_dir = base_dir
        self.data_dir = base_dir / "pgdata"
        self.socket_dir = base_dir / "run"
        if len(str(self.socket_dir / SOCKET_NAME)) > _MAX_SOCKET_PATH:
            digest = hashlib.sha256(str(base_dir).encode()).hexdigest()[:16]
            self.socket_dir = Path("/tmp") / f"quartier-pg-{digest}"
        self.log_file = base_dir / "postgresql.log"
        self.fsync = fsync
        self.database = database

    # -- user and permissions -------------------------------------------------------------
    def _ensure_system_user(self) -> pwd.struct_passwd:
        try:
            return pwd.getpwnam(PG_SYSTEM_USER)
        except KeyError:
            subprocess.run(
                [
                    "useradd",
                    "--system",
                    "--no-create-home",
                    "--home-dir",
                    "/nonexistent",
                    "--shell",
                    "/usr/sbin/nologin",
                    PG_SYSTEM_USER,
                ],
                check=True,
                capture_output=True,
            )
            return pwd.getpwnam(PG_SYSTEM_USER)

    def _run(self, args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        if self.as_root:
            user = self._ensure_system_user()
            kwargs.setdefault("user", user.pw_uid)
            kwargs.setdefault("group", user.pw_gid)
            kwargs.setdefault("extra_groups", [])
        env = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
        env.pop("PGDATA", None)
        return subprocess.run(args, check=False, capture_output=True, text=True, env=env, **kwargs)

    def _prepare_dirs(self) -> None:
        for directory in (self.base_dir, self.socket_dir):
            directory.mkdir(parents=True, exist_ok=True)
        if self.as_root:
            user = self._ensure_system_user()
            for directory in (self.base_dir, self.socket_dir):
                os.chown(directory, user.pw_uid, user.pw_gid)
                directory.chmod(0o755)
            if self.data_dir.exists():
                for root, dirs, files in os.walk(self.data_dir):
                    os.chown(root, user.pw_uid, user.pw_gid)
                    for name in dirs + files:
                        os.lchown(os.path.join(root, name), user.pw_uid, user.pw_gid)

    # -- lifecycle --------------------------------------------------------------------------
    @property
    def initialised(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def _postmaster_pid(self) -> int | None:
        try:
            return int((self.data_dir / "postmaster.pid").read_text().splitlines()[0])
        except (OSError, ValueError, IndexError):
            return None

    def _clear_stale_pidfile(self) -> None:
        """After a crash the postmaster may linger as a zombie until its new parent reaps it;
        PostgreSQL (and `pg_ctl status`) would take the zombie for a running server and refuse
        to start. A pid that is dead or a zombie leaves a stale lock file: remove it."""
        pid = self._postmaster_pid()
        if pid is not None and not _process_alive(pid):
            (self.data_dir / "postmaster.pid").unlink(missing_ok=True)
            # The socket's lock file names the same dead postmaster.
            (self.socket_dir / f"{SOCKET_NAME}.lock").unlink(missing_ok=True)
            (self.socket_dir / SOCKET_NAME).unlink(missing_ok=True)

    def is_running(self) -> bool:
        if not self.initialised:
            return False
        self._clear_stale_pidfile()
        result = self._run([str(self.bindir / "pg_ctl"), "status", "-D", str(self.data_dir)])
        return result.returncode == 0

    def start(self) -> str:
        """Initialise (first time) and start the cluster; return an asyncpg URL to its database."""
        self._prepare_dirs()
        if not self.initialised:
            result = self._run(
                [
                    str(self.bindir / "initdb"),
                    "-D",
                    str(self.data_dir),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                ]
            )
            if result.returncode != 0:
                raise ClusterError(f"initdb failed:\n{result.stderr}")
        if not self.is_running():
            options = (
                f"-c listen_addresses='' -c unix_socket_directories='{self.socket_dir}' "
                f"-c max_connections=200 -c shared_buffers=128MB "
                f"-c fsync={'on' if self.fsync else 'off'} "
                f"-c full_page_writes={'on' if self.fsync else 'off'}"
            )
            result = self._run(
                [
                    str(self.bindir / "pg_ctl"),
                    "start",
                    "-w",
                    "-t",
                    "60",
                    "-D",
                    str(self.data_dir),
                    "-l",
                    str(self.log_file),
                    "-o",
                    options,
                ]
            )
            if result.returncode != 0:
                tail = self.log_file.read_text()[-2000:] if self.log_file.exists() else ""
                raise ClusterError(f"pg_ctl start failed:\n{result.stderr}\n{tail}")
        self._wait_ready()
        self.ensure_database(self.database)
        return self.url(self.database)

    def _wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.psql("postgres", "SELECT 1").returncode == 0:
                return
            time.sleep(0.1)
        raise ClusterError("PostgreSQL did not accept connections in time")

    def stop(self, mode: str = "fast") -> None:
        if self.is_running():
            self._run(
                [str(self.bindir / "pg_ctl"), "stop", "-w", "-m", mode, "-D", str(self.data_dir)]
            )

    def destroy(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.base_dir, ignore_errors=True)

    # -- helpers ----------------------------------------------------------------------------
    def psql(self, database: str, sql: str) -> subprocess.CompletedProcess[str]:
        psql = self.bindir / "psql"
        if not psql.exists():
            psql = Path(shutil.which("psql") or "psql")
        return self._run(
            [
                str(psql),
                "-h",
                str(self.socket_dir),
                "-U",
                "postgres",
                "-d",
                database,
                "-v",
                "ON_ERROR_STOP=1",
                "-qAtc",
                sql,
            ]
        )

    def ensure_database(self, name: str, template: str | None = None) -> None:
        for identifier in (name, template or "x"):
            if not re.fullmatch(r"[a-z_][a-z0-9_]*", identifier):
                raise ClusterError(f"not a plain database name: {identifier!r}")
        exists = self.psql("postgres", f"SELECT 1 FROM pg_database WHERE datname = '{name}'")  # noqa: S608
        if exists.stdout.strip() == "1":
            return
        clause = f' TEMPLATE "{template}"' if template else ""
        result = self.psql("postgres", f'CREATE DATABASE "{name}"{clause}')
        if result.returncode != 0:
            raise ClusterError(f"could not create database {name}: {result.stderr}")

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://postgres@/{database}?host={quote(str(self.socket_dir))}"

    def libpq_args(self) -> list[str]:
        return ["-h", str(self.socket_dir), "-U", "postgres"]
