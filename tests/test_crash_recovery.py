"""SIGKILL during logging (BENCHMARKS W8, SPEC "Reliability"): the store survives, flushed points stay.

A child process logs a metric in a tight loop in the default buffered mode, calling ``flush()`` every
few hundred points and printing the last step each ``flush()`` confirmed. The test kills it with
SIGKILL (no atexit, no finally), then reopens the SQLite file and checks that it is intact, accepts a
new run, holds every confirmed point with its exact value, and that ``Client.mark_dead_runs``
recognises the killed run as dead. Nothing here asserts on timings.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from mlops import Client

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX SIGKILL"),
]

FLUSH_EVERY = 500
CONFIRMATIONS_BEFORE_KILL = 4
STALE_AFTER_S = 1.0

# The child: log loss = step / 4 (exact in binary floating point), flush every FLUSH_EVERY points and
# report each confirmed step on stdout. It never ends by itself.
CHILD = textwrap.dedent(
    """
    import sys
    from mlops import Client

    uri, artifacts, flush_every = sys.argv[1], sys.argv[2], int(sys.argv[3])
    client = Client(uri, artifact_uri=artifacts)
    run = client.create_run(client.get_or_create_experiment("crash").experiment_id, run_name="doomed")
    print("RUN", run.run_id, flush=True)
    step = 0
    while True:
        client.log_metric(run.run_id, "loss", step / 4, step=step)
        if (step + 1) % flush_every == 0:
            client.flush()
            print("F", step, flush=True)
        step += 1
    """
)


@dataclass(frozen=True)
class Killed:
    """What the killed child left behind."""

    db: Path
    uri: str
    artifacts: str
    run_id: str
    confirmed: int  # the last step that a returned flush() covered
    killed_at: float  # time.time() just before the kill


@pytest.fixture(scope="module")
def killed(tmp_path_factory: pytest.TempPathFactory) -> Killed:
    """Run the logging child, SIGKILL it after a few confirmed flushes, and describe the aftermath."""
    root = tmp_path_factory.mktemp("crash")
    db = root / "mlops.db"
    uri = f"sqlite:///{db}"
    artifacts = str(root / "artifacts")
    stderr = open(root / "child.stderr", "w+")  # noqa: SIM115 - read back when the child fails
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, uri, artifacts, str(FLUSH_EVERY)],
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
    )
    run_id = ""
    confirmed = -1
    confirmations = 0
    deadline = time.monotonic() + 60  # a guard against a hung child, not a measurement
    try:
        assert child.stdout is not None
        while confirmations < CONFIRMATIONS_BEFORE_KILL and time.monotonic() < deadline:
            line = child.stdout.readline()
            if not line:
                break  # the child died on its own
            kind, value = line.split()
            if kind == "RUN":
                run_id = value
            elif kind == "F":
                confirmed = int(value)
                confirmations += 1
        killed_at = time.time()
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        stderr.seek(0)
        errors = stderr.read()
        stderr.close()
    assert child.returncode == -signal.SIGKILL, f"the child ended by itself: {errors}"
    assert run_id and confirmations == CONFIRMATIONS_BEFORE_KILL, f"the child did not log: {errors}"
    return Killed(db, uri, artifacts, run_id, confirmed, killed_at)


def test_sqlite_integrity_check_is_ok_after_the_kill(killed: Killed) -> None:
    con = sqlite3.connect(killed.db)
    try:
        assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert con.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        con.close()


def test_store_reopens_and_accepts_a_new_run(killed: Killed) -> None:
    client = Client(killed.uri, artifact_uri=killed.artifacts)
    try:
        exp = client.get_or_create_experiment("crash").experiment_id
        run = client.create_run(exp, run_name="after-the-crash")
        client.log_param(run.run_id, "p", "x")
        for step in range(10):
            client.log_metric(run.run_id, "m", step * 1.5, step=step)
        client.end_run(run.run_id)
        again = client.get_run(run.run_id)
        assert again.status == "FINISHED"
        assert again.params == {"p": "x"}
        assert [m.value for m in client.get_metric_history(run.run_id, "m")] == [s * 1.5 for s in range(10)]
    finally:
        client.close()


def test_every_confirmed_point_is_there_with_its_value(killed: Killed) -> None:
    client = Client(killed.uri, artifact_uri=killed.artifacts)
    try:
        history = client.get_metric_history(killed.run_id, "loss")
    finally:
        client.close()
    steps = [m.step for m in history]
    assert len(steps) >= killed.confirmed + 1
    # batches are written whole and in order: the history is a prefix of what was logged
    assert steps == list(range(len(steps)))
    assert all(m.value == m.step / 4 for m in history)
    assert client.store.get_run(killed.run_id).metrics["loss"] == steps[-1] / 4


def test_mark_dead_runs_marks_the_killed_run_killed(killed: Killed) -> None:
    client = Client(killed.uri, artifact_uri=killed.artifacts)
    live = Client(killed.uri, artifact_uri=killed.artifacts)  # another "process" with a running run
    try:
        before = client.store.get_run(killed.run_id)
        assert before.status == "RUNNING"  # nobody ended it
        heartbeat = (before.heartbeat_time or before.start_time) / 1000
        # the killed process refreshed its heartbeat for the last time before the kill
        assert heartbeat <= killed.killed_at + 0.01
        time.sleep(max(0.0, heartbeat + STALE_AFTER_S + 0.1 - time.time()))  # let it go stale
        alive = live.create_run(live.get_or_create_experiment("crash").experiment_id, run_name="alive")
        dead = client.mark_dead_runs(stale_after_s=STALE_AFTER_S)
        assert killed.run_id in dead
        assert alive.run_id not in dead
        after = client.store.get_run(killed.run_id)
        assert after.status == "KILLED"
        assert after.end_time is not None
        assert client.store.get_run(alive.run_id).status == "RUNNING"
        assert client.mark_dead_runs(stale_after_s=STALE_AFTER_S) == []  # idempotent
    finally:
        live.close()
        client.close()
