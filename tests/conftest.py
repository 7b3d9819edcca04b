"""Shared pytest fixtures: real S3/GCS/PostgreSQL servers and every store implementation."""

from _metadata_stores import *  # noqa: F403
from _object_servers import *  # noqa: F403
from _pg_server import *  # noqa: F403

# ---------------------------------------------------------------- which backends ran
_BACKEND_IDS = ("sqlite", "postgresql", "file", "memory", "s3", "gcs")
_backend_counts: dict[str, dict[str, int]] = {}


def pytest_runtest_logreport(report: object) -> None:
    """Count test outcomes per backend id found in the test's parameters (``test_x[postgresql]``)."""
    when, nodeid, outcome = (getattr(report, a, "") for a in ("when", "nodeid", "outcome"))
    if when != "call" and not (when == "setup" and outcome == "skipped"):
        return
    params = nodeid.rpartition("[")[2].rstrip("]").split("-") if nodeid.endswith("]") else []
    for backend in _BACKEND_IDS:
        if backend in params:
            counts = _backend_counts.setdefault(backend, {})
            counts[outcome] = counts.get(outcome, 0) + 1


def pytest_terminal_summary(terminalreporter: object) -> None:
    """Print how many tests ran on each backend, so a log shows PostgreSQL, S3 and GCS really ran."""
    if not _backend_counts:
        return
    write = terminalreporter.write_line  # type: ignore[attr-defined]
    write(
        "backends exercised: "
        + ", ".join(
            f"{b} " + "/".join(f"{n} {o}" for o, n in sorted(_backend_counts[b].items()))
            for b in _BACKEND_IDS
            if b in _backend_counts
        )
    )
