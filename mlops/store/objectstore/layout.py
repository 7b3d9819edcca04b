"""Where each metadata object lives, relative to ``<store root>/.mlops/meta-v1/``.

::

    tracking/experiments/log/000000000000.json ...   experiments log (create-only, one record per change)
    tracking/experiments/log/snapshot.json           folded state at some record (a hint, never trusted alone)
    tracking/experiments/<exp_id>/runs/<run_id>      empty marker: the run belongs to the experiment
    tracking/runs/<run_id>/000000000000.json         the run's creation record
    tracking/runs/<run_id>/000000000001.json ...     one record per change: a log_batch (metrics, params,
                                                      tags), an update_run, a log_inputs
    tracking/runs/<run_id>/snapshot.json             the run's folded state at some record (a hint)
    registry/log/000000000000.json ...               registry log: one record per mutating call
    registry/log/snapshot.json                       folded registry state at some record (a hint)

Every numbered record is written once with a create-only write and never changed, so records form a
chain that cannot fork: two writers that both try to append record ``n`` race on one name and exactly
one wins. The ``.mlops`` prefix keeps the metadata out of an artifact store that shares the root.

Example:
    >>> record_key("tracking/runs/abc", 7)
    'tracking/runs/abc/000000000007.json'
"""

from __future__ import annotations

__all__ = [
    "EXPERIMENTS_LOG",
    "META_PREFIX",
    "REGISTRY_LOG",
    "experiment_runs_dir",
    "meta_uri",
    "record_key",
    "run_log",
    "run_marker",
    "snapshot_key",
]

META_PREFIX = ".mlops/meta-v1"
EXPERIMENTS_LOG = "tracking/experiments/log"
REGISTRY_LOG = "registry/log"


def meta_uri(uri: str) -> str:
    """The URI of the metadata root inside a store URI.

    Example:
        >>> meta_uri("s3://bucket/mlops/")
        's3://bucket/mlops/.mlops/meta-v1'
    """
    if uri.endswith("://"):
        return uri + META_PREFIX
    return f"{uri.rstrip('/')}/{META_PREFIX}"


def record_key(log: str, n: int) -> str:
    """The key of record ``n`` of the log under ``log``."""
    return f"{log}/{n:012d}.json"


def snapshot_key(log: str) -> str:
    """The key of a log's snapshot hint."""
    return f"{log}/snapshot.json"


def run_log(run_id: str) -> str:
    """The log of one run."""
    return f"tracking/runs/{run_id}"


def experiment_runs_dir(experiment_id: str) -> str:
    """The folder of run markers of one experiment."""
    return f"tracking/experiments/{experiment_id}/runs"


def run_marker(experiment_id: str, run_id: str) -> str:
    """The marker saying that ``run_id`` belongs to ``experiment_id``."""
    return f"{experiment_runs_dir(experiment_id)}/{run_id}"
