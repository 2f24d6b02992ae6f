"""A throw-away PostgreSQL server for the tests, started from the machine's own binaries.

`PostgresServer` runs `initdb` into a fresh temporary directory, starts the server with `pg_ctl`
on a free TCP port on 127.0.0.1 (its unix socket in the same directory), creates a database and
exposes a SQLAlchemy URL (`postgresql+psycopg://postgres@127.0.0.1:PORT/DB`). `stop()` and
`start()` can be repeated on the same data directory (outage tests); `cleanup()` stops the server
and removes the directory (also run at interpreter exit if forgotten).

Root: `initdb` and `pg_ctl` refuse to run as root. When the tests run as root (CI containers),
every PostgreSQL command runs as an unprivileged account instead, switched to in the child
process by `subprocess` (`user=`/`group=`/`extra_groups=[]`, i.e. setgid/setuid before exec,
no `su`/`runuser`/`sudo` needed). The account is `$PGTEST_USER` if set, else the first of
`postgres` and `nobody` that exists and that the kernel lets us switch to (checked with a trial
run); the temporary directory is chowned to it. Nothing is added to the system's user database.

Binaries are found from `$PG_BINDIR`, then `pg_ctl` on PATH, then `/usr/lib/postgresql/*/bin`
(Debian, newest first), `/usr/pgsql-*/bin` (RHEL) and `/usr/local/pgsql/bin`. If none is found
the fixture fails (it does not skip) and says how to install them (`make system-packages`).

Pytest plugin: load with `pytest_plugins = ["tests.support.postgres"]` (or `-p tests.support.postgres`).
Fixtures: `postgres_server` (session) and `postgres_url` (function: a fresh database per test).
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

__all__ = [
    "PostgresError",
    "PostgresServer",
    "find_postgres_bindir",
    "postgres_server",
    "postgres_url",
]

_REQUIRED_BINARIES = ("initdb", "pg_ctl", "postgres")
_SOCKET_PATH_LIMIT = 100  # sun_path is 108 bytes; leave room for "/.s.PGSQL.NNNNN"
_START_TIMEOUT_S = 60
_MISSING_BINARIES_MESSAGE = (
    "PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found: looked at $PG_BINDIR, "
    "pg_ctl on PATH, /usr/lib/postgresql/*/bin, /usr/pgsql-*/bin and /usr/local/pgsql/bin. "
    "Install them with `make system-packages` (Debian: apt-get install postgresql) or point "
    "PG_BINDIR at the directory holding initdb and pg_ctl."
)


class PostgresError(RuntimeError):
    """The test server could not be initialised, started or stopped."""


def _has_binaries(directory: Path) -> bool:
    return all(os.access(directory / name, os.X_OK) for name in _REQUIRED_BINARIES)


def _version_key(path: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", path))


def find_postgres_bindir() -> Path | None:
    """The directory holding initdb, pg_ctl and postgres, or None."""
    candidates: list[Path] = []
    if os.environ.get("PG_BINDIR"):
        candidates.append(Path(os.environ["PG_BINDIR"]))
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(os.path.realpath(on_path)).parent)
    for pattern in ("/usr/lib/postgresql/*/bin", "/usr/pgsql-*/bin"):
        candidates.extend(Path(p) for p in sorted(glob.glob(pattern), key=_version_key, reverse=True))
    candidates.append(Path("/usr/local/pgsql/bin"))
    return next((c for c in candidates if _has_binaries(c)), None)


@dataclass(frozen=True)
class _Account:
    """Who runs the PostgreSQL commands: None fields mean "ourselves"."""

    name: str | None = None
    uid: int | None = None
    gid: int | None = None

    def subprocess_kwargs(self) -> dict[str, object]:
        if self.uid is None:
            return {}
        return {"user": self.uid, "group": self.gid, "extra_groups": []}


def _clean_env() -> dict[str, str]:
    # PG* variables (PGDATA, PGPORT, PGHOST, ...) of the caller must not redirect our commands.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["LC_ALL"] = "C"
    env["TZ"] = "UTC"
    return env


def _choose_account(bindir: Path, directory: Path) -> _Account:
    if os.geteuid() != 0:
        return _Account()
    requested = os.environ.get("PGTEST_USER")
    names = [requested] if requested else ["postgres", "nobody"]
    problems: list[str] = []
    for name in names:
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            problems.append(f"{name}: no such user")
            continue
        if entry.pw_uid == 0:
            problems.append(f"{name}: is root")
            continue
        account = _Account(name, entry.pw_uid, entry.pw_gid)
        try:
            os.chown(directory, entry.pw_uid, entry.pw_gid)
            subprocess.run(
                [str(bindir / "initdb"), "--version"],
                check=True,
                capture_output=True,
                cwd=directory,
                env=_clean_env(),
                timeout=30,
                **account.subprocess_kwargs(),  # type: ignore[arg-type]
            )
        except (OSError, subprocess.SubprocessError) as exc:
            problems.append(f"{name}: {exc}")
            continue
        return account
    raise PostgresError(
        "running as root, and initdb/pg_ctl refuse root: no usable unprivileged account to run them "
        f"as ({'; '.join(problems)}). Set PGTEST_USER to an existing non-root user."
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _make_base_dir() -> Path:
    # As root the directory is handed to another account, so it must sit under a directory that
    # account can traverse: /tmp rather than a possibly private $TMPDIR.
    parent = os.environ.get("PGTEST_TMPDIR") or ("/tmp" if os.geteuid() == 0 else tempfile.gettempdir())
    if len(parent) + len("/pgtest-XXXXXXXX") > _SOCKET_PATH_LIMIT:
        parent = "/tmp"
    return Path(tempfile.mkdtemp(prefix="pgtest-", dir=parent))


@dataclass
class _State:
    """Everything cleanup needs, kept apart from the server object so a finalizer can hold it."""

    base_dir: Path
    bindir: Path
    account: _Account
    data_dir: Path = field(init=False)

    def __post_init__(self) -> None:
        self.data_dir = self.base_dir / "data"

    def run(self, *args: str, timeout: float = _START_TIMEOUT_S + 30) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.bindir / args[0]), *args[1:]],
            capture_output=True,
            text=True,
            cwd=self.base_dir,
            env=_clean_env(),
            timeout=timeout,
            check=False,
            **self.account.subprocess_kwargs(),  # type: ignore[arg-type]
        )

    def postmaster_pid(self) -> int | None:
        try:
            return int((self.data_dir / "postmaster.pid").read_text().splitlines()[0])
        except (OSError, ValueError, IndexError):
            return None

    def cleanup(self) -> None:
        if self.data_dir.exists() and self.postmaster_pid() is not None:
            for mode in ("fast", "immediate"):
                with contextlib.suppress(OSError, subprocess.SubprocessError):
                    if (
                        self.run(
                            "pg_ctl", "stop", "-D", str(self.data_dir), "-m", mode, "-w", "-t", "20"
                        ).returncode
                        == 0
                    ):
                        break
            else:
                pid = self.postmaster_pid()
                if pid is not None:
                    with contextlib.suppress(OSError):
                        os.kill(pid, signal.SIGKILL)
        shutil.rmtree(self.base_dir, ignore_errors=True)


class PostgresServer:
    """A private PostgreSQL cluster in a temporary directory, reachable on 127.0.0.1:PORT."""

    superuser = "postgres"
    host = "127.0.0.1"

    def __init__(self, *, bindir: Path | None = None, database: str = "nbcds_test") -> None:
        found = bindir or find_postgres_bindir()
        if found is None:
            raise PostgresError(_MISSING_BINARIES_MESSAGE)
        self.bindir = Path(found)
        self.database = database
        self.port: int | None = None
        self.timings: dict[str, float] = {}
        base_dir = _make_base_dir()
        try:
            account = _choose_account(self.bindir, base_dir)
        except BaseException:
            shutil.rmtree(base_dir, ignore_errors=True)
            raise
        self._state = _State(base_dir=base_dir, bindir=self.bindir, account=account)
        self._finalizer = weakref.finalize(self, self._state.cleanup)
        self._initialised = False
        self._database_created = False

    # -- paths and URLs ------------------------------------------------------------------------

    @property
    def base_dir(self) -> Path:
        return self._state.base_dir

    @property
    def data_dir(self) -> Path:
        return self._state.data_dir

    @property
    def socket_dir(self) -> Path:
        return self._state.base_dir

    @property
    def log_path(self) -> Path:
        return self._state.base_dir / "postgres.log"

    @property
    def run_as(self) -> str | None:
        """The account the server runs as when we are root (None: ourselves)."""
        return self._state.account.name

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the server's test database."""
        return self.url_for(self.database)

    def url_for(self, database: str) -> str:
        if self.port is None:
            raise PostgresError("the server has not been started")
        return f"postgresql+psycopg://{self.superuser}@{self.host}:{self.port}/{database}"

    # -- lifecycle -------------------------------------------------------------------------------

    def __enter__(self) -> PostgresServer:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.cleanup()

    def _log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"

    def _initdb(self) -> None:
        started = time.perf_counter()
        result = self._state.run(
            "initdb",
            "-D",
            str(self.data_dir),
            "-U",
            self.superuser,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-locale",
            "--no-sync",
            "--no-instructions",
        )
        if result.returncode != 0:
            raise PostgresError(
                f"initdb failed (exit {result.returncode}) in {self.data_dir}"
                f"{' as ' + self.run_as if self.run_as else ''}:\n{result.stdout}\n{result.stderr}"
            )
        with (self.data_dir / "postgresql.conf").open("a") as conf:
            conf.write("\ninclude_if_exists = 'pgtest.conf'\n")
        self.timings["initdb_s"] = time.perf_counter() - started
        self._initialised = True

    def _write_settings(self, port: int) -> None:
        socket_dir = str(self.socket_dir).replace("'", "''")
        settings = f"""# written by tests/support/postgres.py
listen_addresses = '{self.host}'
port = {port}
unix_socket_directories = '{socket_dir}'
max_connections = 100
shared_buffers = 32MB
fsync = off
synchronous_commit = off
full_page_writes = off
timezone = 'UTC'
log_timezone = 'UTC'
"""
        path = self.data_dir / "pgtest.conf"
        path.write_text(settings)
        account = self._state.account
        if account.uid is not None:
            os.chown(path, account.uid, account.gid if account.gid is not None else -1)

    def is_running(self) -> bool:
        if not self._initialised:
            return False
        return self._state.run("pg_ctl", "status", "-D", str(self.data_dir), timeout=30).returncode == 0

    def start(self) -> None:
        """Start the server (initdb first if needed); a restart keeps the same port and data."""
        if not self._initialised:
            self._initdb()
        if self.is_running():
            return
        started = time.perf_counter()
        first_start = self.port is None
        attempts = 5 if first_start else 1
        for attempt in range(attempts):
            port = self.port if self.port is not None and not first_start else _free_port()
            self._write_settings(port)
            result = self._state.run(
                "pg_ctl", "start", "-D", str(self.data_dir), "-l", str(self.log_path),
                "-w", "-t", str(_START_TIMEOUT_S), "-s",
            )  # fmt: skip
            if result.returncode == 0:
                self.port = port
                break
            port_taken = "could not bind" in self._log_tail() or "already in use" in self._log_tail()
            if not (first_start and port_taken and attempt + 1 < attempts):
                raise PostgresError(
                    f"pg_ctl start failed (exit {result.returncode}) on port {port}:\n"
                    f"{result.stdout}{result.stderr}\n--- server log ---\n{self._log_tail()}"
                )
        key = "start_s" if "start_s" not in self.timings else "restart_s"
        self.timings[key] = time.perf_counter() - started
        if not self._database_created:
            started = time.perf_counter()
            self.create_database(self.database)
            self._database_created = True
            self.timings["create_database_s"] = time.perf_counter() - started

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (`mode`: smart, fast or immediate). Data and port are kept for `start()`."""
        if mode not in ("smart", "fast", "immediate"):
            raise ValueError("mode must be smart, fast or immediate")
        if not self.is_running():
            return
        result = self._state.run(
            "pg_ctl", "stop", "-D", str(self.data_dir), "-m", mode, "-w", "-t", "60", "-s"
        )
        if result.returncode != 0:
            raise PostgresError(
                f"pg_ctl stop failed (exit {result.returncode}): {result.stdout}{result.stderr}"
            )

    def restart(self) -> None:
        self.stop()
        self.start()

    def cleanup(self) -> None:
        """Stop the server and delete its directory. The object cannot be started again."""
        self._finalizer()

    # -- databases -----------------------------------------------------------------------------

    def connect(self, database: str = "postgres") -> psycopg.Connection[tuple[object, ...]]:
        """A psycopg connection (autocommit) as the superuser."""
        if self.port is None:
            raise PostgresError("the server has not been started")
        return psycopg.connect(
            host=self.host,
            port=self.port,
            user=self.superuser,
            dbname=database,
            autocommit=True,
            connect_timeout=10,
        )

    def create_database(self, name: str | None = None) -> str:
        """Create a database (a unique name if none is given) and return its name."""
        name = name or f"t_{uuid.uuid4().hex[:16]}"
        with self.connect() as conn:
            # FILE_COPY (PostgreSQL 15+) clones the tiny template faster than WAL-logging it.
            strategy = sql.SQL(" STRATEGY FILE_COPY" if conn.info.server_version >= 150000 else "")
            conn.execute(sql.SQL("CREATE DATABASE {}{}").format(sql.Identifier(name), strategy))
        return name

    def drop_database(self, name: str) -> None:
        """Drop a database, disconnecting whoever still uses it."""
        with self.connect() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


# --------------------------------------------------------------------------------------------
# pytest plugin

_started_servers: list[PostgresServer] = []


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the whole test session (fails, never skips, without binaries)."""
    bindir = find_postgres_bindir()
    if bindir is None:
        pytest.fail(_MISSING_BINARIES_MESSAGE, pytrace=False)
    try:
        server = PostgresServer(bindir=bindir)
    except PostgresError as exc:
        pytest.fail(f"cannot prepare a PostgreSQL test server: {exc}", pytrace=False)
    started = time.perf_counter()
    try:
        server.start()
    except PostgresError as exc:
        server.cleanup()
        pytest.fail(f"cannot start the PostgreSQL test server: {exc}", pytrace=False)
    server.timings["fixture_total_s"] = time.perf_counter() - started
    _started_servers.append(server)
    try:
        yield server
    finally:
        server.cleanup()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """SQLAlchemy URL of a fresh, empty database for this test (dropped afterwards)."""
    if not postgres_server.is_running():
        postgres_server.start()
    name = postgres_server.create_database()
    yield postgres_server.url_for(name)
    if not postgres_server.is_running():  # a test that stopped the server must not break the next
        postgres_server.start()
    postgres_server.drop_database(name)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for server in _started_servers:
        timings = ", ".join(f"{key} {value:.2f}" for key, value in server.timings.items())
        who = f" as {server.run_as}" if server.run_as else ""
        terminalreporter.write_line(f"postgres_server ({server.bindir}{who}): {timings}")
