"""A throwaway PostgreSQL cluster for the test session (Debian's server binaries, 127.0.0.1 only).

Reuses ``MLOPS_TEST_PG_URL`` when set; otherwise runs ``initdb`` + ``pg_ctl`` on a free port in a temp
dir (as the ``postgres`` user when running as root) and removes it after the session.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator

import pytest
from _require import skip_or_fail

__all__ = ["pg_server_url", "pg_url"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pg_bindir() -> str | None:
    candidates = [
        shutil.which("initdb"),
        *sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True),
    ]
    for cand in candidates:
        if cand and os.path.exists(cand):
            bindir = os.path.dirname(os.path.realpath(cand))
            if os.path.exists(os.path.join(bindir, "pg_ctl")):
                return bindir
    return None


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """URL of a PostgreSQL server's ``postgres`` database (superuser, trust auth)."""
    if os.environ.get("MLOPS_TEST_PG_URL"):
        yield os.environ["MLOPS_TEST_PG_URL"]
        return
    try:
        import psycopg  # noqa: F401
    except ImportError:
        skip_or_fail("psycopg is not installed (pip install 'mlops[postgres]')")
    bindir = _pg_bindir()
    if bindir is None:
        skip_or_fail("PostgreSQL server binaries not installed (apt-get install postgresql)")
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb and postgres refuse to run as root
        if not shutil.which("runuser"):
            skip_or_fail("running as root without runuser: cannot start PostgreSQL")
        as_user = ["runuser", "-u", "postgres", "--"]
    tmp = tempfile.mkdtemp(prefix="mlops-pg-")
    if as_user:
        shutil.chown(tmp, "postgres", "postgres")
    data = os.path.join(tmp, "data")
    subprocess.run(
        [
            *as_user,
            f"{bindir}/initdb",
            "-D",
            data,
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        ],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    port = 0
    for _attempt in range(3):  # a port picked by bind-then-close can be taken before postgres binds it
        port = _free_port()
        opts = (
            f"-c listen_addresses=127.0.0.1 -p {port} -k {tmp} -c max_connections=200 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        started = subprocess.run(
            [
                *as_user,
                f"{bindir}/pg_ctl",
                "-D",
                data,
                "-l",
                f"{tmp}/server.log",
                "-w",
                "-t",
                "30",
                "-o",
                opts,
                "start",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if started.returncode == 0:
            break
    else:
        shutil.rmtree(tmp, ignore_errors=True)
        pytest.fail("could not start PostgreSQL; see its server.log")
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*as_user, f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture
def pg_url(pg_server_url: str) -> Iterator[str]:
    """A fresh, empty database on the session's server, dropped after the test."""
    import sqlalchemy as sa

    name = f"t_{uuid.uuid4().hex[:16]}"
    admin = sa.create_engine(pg_server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')  # identifier generated above, not user input
    base = pg_server_url.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
