"""The fluent API: ``mlops.start_run()``, ``mlops.log_metric(...)`` and friends.

A thin layer over one process-wide :class:`~mlops.tracking.client.Client` (created on first use from
:func:`set_tracking_uri` / the environment / the defaults). Each thread and each asyncio task has its
own stack of active runs (a :mod:`contextvars` variable), so concurrent training loops never log into
each other's runs. The active experiment is process-wide, as in MLflow.
"""

from __future__ import annotations

import atexit
import contextvars
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

from mlops.entities import ArtifactInfo, Experiment, Metric, Run, ViewType
from mlops.errors import InvalidInputError
from mlops.tracking.client import Client

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "ActiveRun",
    "active_run",
    "compare_runs",
    "end_run",
    "flush",
    "get_artifact_uri",
    "get_client",
    "get_experiment_by_name",
    "get_metric_history",
    "get_run",
    "get_tracking_uri",
    "log_artifact",
    "log_artifacts",
    "log_dict",
    "log_figure",
    "log_input",
    "log_metric",
    "log_metrics",
    "log_param",
    "log_params",
    "log_table",
    "log_text",
    "search_runs",
    "set_artifact_uri",
    "set_experiment",
    "set_tag",
    "set_tags",
    "set_tracking_uri",
    "start_run",
]

DEFAULT_EXPERIMENT = "Default"


class _State:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.client: Client | None = None
        self.tracking_uri: str | None = None
        self.artifact_uri: str | None = None
        self.experiment_id: str | None = None


_state = _State()
_run_stack: contextvars.ContextVar[tuple[ActiveRun, ...]] = contextvars.ContextVar(
    "mlops_run_stack", default=()
)


class ActiveRun:
    """A started run: use it as a context manager to end it (FAILED on an exception, KILLED on Ctrl-C).

    ``run_id`` and ``info`` (the :class:`~mlops.entities.Run` as it was when started) mirror MLflow.
    """

    def __init__(self, run: Run, client: Client) -> None:
        self.info = run
        self.run_id = run.run_id
        self.experiment_id = run.experiment_id
        self._client = client

    def __repr__(self) -> str:
        return f"ActiveRun(run_id={self.run_id!r}, run_name={self.info.run_name!r})"

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            status = "FINISHED"
        elif issubclass(exc_type, KeyboardInterrupt):
            status = "KILLED"
        else:
            status = "FAILED"
        _end(self, status, raise_errors=exc_type is None)


def get_client() -> Client:
    """The process-wide client the fluent functions use (created on first call).

    Example:
        >>> isinstance(get_client(), Client)
        True
    """
    with _state.lock:
        if _state.client is None:
            _state.client = Client(_state.tracking_uri, _state.artifact_uri)
        return _state.client


def _reset_client() -> None:
    with _state.lock:
        old, _state.client, _state.experiment_id = _state.client, None, None
    if old is not None:
        old.close()


def set_tracking_uri(uri: str | None) -> None:
    """Use ``uri`` for metadata from now on (``None`` goes back to the environment/default).

    Example:
        >>> set_tracking_uri("sqlite:///mlops-data/mlops.db")
        >>> set_tracking_uri(None)
    """
    _state.tracking_uri = uri
    _reset_client()


def get_tracking_uri() -> str:
    """The tracking URI in use."""
    return get_client().tracking_uri


def set_artifact_uri(uri: str | None) -> None:
    """Use ``uri`` as the artifact root of experiments created from now on."""
    _state.artifact_uri = uri
    _reset_client()


def get_artifact_uri(artifact_path: str | None = None) -> str:
    """The active run's artifact URI (optionally joined with ``artifact_path``)."""
    run = _require_active()
    base = get_client().store.get_run(run.run_id).artifact_uri
    return f"{base.rstrip('/')}/{artifact_path}" if artifact_path else base


def set_experiment(experiment_name: str | None = None, *, experiment_id: str | None = None) -> Experiment:
    """Make an experiment active for new runs, creating it by name if needed.

    Example:
        >>> set_experiment("doc-experiment").name
        'doc-experiment'
    """
    client = get_client()
    if (experiment_name is None) == (experiment_id is None):
        raise InvalidInputError("set_experiment needs exactly one of experiment_name or experiment_id")
    if experiment_id is not None:
        experiment = client.get_experiment(experiment_id)
        if experiment.lifecycle_stage != "active":
            raise InvalidInputError(f"experiment {experiment_id!r} is deleted; restore it first")
    else:
        experiment = client.get_or_create_experiment(experiment_name or "")
    _state.experiment_id = experiment.experiment_id
    return experiment


def get_experiment_by_name(name: str) -> Experiment | None:
    """The experiment named ``name``, or None."""
    return get_client().get_experiment_by_name(name)


def _active_experiment_id(client: Client) -> str:
    if _state.experiment_id is None:
        _state.experiment_id = client.get_or_create_experiment(DEFAULT_EXPERIMENT).experiment_id
    return _state.experiment_id


def start_run(
    run_id: str | None = None,
    experiment_id: str | None = None,
    run_name: str | None = None,
    nested: bool = False,
    tags: Mapping[str, Any] | None = None,
    description: str | None = None,
) -> ActiveRun:
    """Start a run (or resume ``run_id``) and make it the active run of this thread/task.

    Use it as a context manager: the run ends FINISHED, or FAILED if the block raises (the exception
    propagates). With ``nested=True`` the new run is a child of the current active run.

    Raises:
        InvalidInputError: a run is already active and ``nested`` is False.

    Example:
        >>> with start_run(run_name="doc") as run:
        ...     log_metric("loss", 0.1)
        >>> get_run(run.run_id).status
        'FINISHED'
    """
    stack = _run_stack.get()
    if stack and not nested:
        raise InvalidInputError(
            f"run {stack[-1].run_id} is already active; end it with mlops.end_run() or start this one "
            "with nested=True"
        )
    client = get_client()
    parent = stack[-1].run_id if stack else None
    if run_id is not None:
        run = client.resume_run(run_id)
        if tags:
            client.set_tags(run_id, tags)
    else:
        exp = experiment_id or (stack[-1].experiment_id if stack else _active_experiment_id(client))
        run = client.create_run(
            exp, run_name=run_name, tags=tags, parent_run_id=parent, description=description
        )
    active = ActiveRun(run, client)
    _run_stack.set((*stack, active))
    return active


def active_run() -> ActiveRun | None:
    """The innermost active run of this thread/task, or None."""
    stack = _run_stack.get()
    return stack[-1] if stack else None


def end_run(status: str = "FINISHED") -> None:
    """End the active run of this thread/task (no-op when there is none)."""
    stack = _run_stack.get()
    if stack:
        _end(stack[-1], status, raise_errors=True)


def _end(run: ActiveRun, status: str, *, raise_errors: bool) -> None:
    stack = _run_stack.get()
    if run in stack:
        _run_stack.set(stack[: stack.index(run)])
    try:
        run._client._end_run(run.run_id, status, None, read_back=False)
    except Exception:
        if raise_errors:
            raise  # otherwise the block's own exception is the one the user needs to see


@atexit.register
def _end_runs_at_exit() -> None:
    """A script that exits normally ends its open runs as FINISHED (as MLflow does)."""
    while active_run() is not None:
        try:
            end_run()
        except Exception:  # the interpreter is going away; the heartbeat marks the run later
            break


def _require_active() -> ActiveRun:
    run = active_run()
    if run is None:
        raise InvalidInputError("no active run: call mlops.start_run() first")
    return run


def _active_or_start() -> ActiveRun:
    """The active run, or a new one (MLflow starts a run on the first log call without one)."""
    return active_run() or start_run()


def log_param(key: str, value: Any) -> Any:
    """Record a param of the active run; return the value.

    Example:
        >>> with start_run():
        ...     log_param("C", 0.1)
        0.1
    """
    run = _active_or_start()
    run._client.log_param(run.run_id, key, value)
    return value


def log_params(params: Mapping[str, Any]) -> None:
    """Record several params of the active run."""
    run = _active_or_start()
    run._client.log_params(run.run_id, params)


def log_metric(
    key: str, value: float, step: int = 0, timestamp: int | None = None, *, synchronous: bool | None = None
) -> None:
    """Record a metric point of the active run (buffered; see the durability contract)."""
    stack = _run_stack.get()
    run = stack[-1] if stack else _active_or_start()
    run._client.log_metric(run.run_id, key, value, step, timestamp, synchronous=synchronous)


def log_metrics(
    metrics: Mapping[str, float],
    step: int = 0,
    timestamp: int | None = None,
    *,
    synchronous: bool | None = None,
) -> None:
    """Record several metrics of the active run at one step."""
    run = _active_or_start()
    run._client.log_metrics(run.run_id, metrics, step, timestamp, synchronous=synchronous)


def set_tag(key: str, value: Any) -> None:
    """Set a tag on the active run."""
    run = _active_or_start()
    run._client.set_tag(run.run_id, key, value)


def set_tags(tags: Mapping[str, Any]) -> None:
    """Set several tags on the active run."""
    run = _active_or_start()
    run._client.set_tags(run.run_id, tags)


def log_artifact(local_path: str | Path, artifact_path: str | None = None) -> ArtifactInfo:
    """Upload a local file to the active run's artifacts."""
    run = _active_or_start()
    return run._client.log_artifact(run.run_id, local_path, artifact_path)


def log_artifacts(local_dir: str | Path, artifact_path: str | None = None) -> list[ArtifactInfo]:
    """Upload a local folder to the active run's artifacts."""
    run = _active_or_start()
    return run._client.log_artifacts(run.run_id, local_dir, artifact_path)


def log_dict(dictionary: Any, artifact_file: str) -> ArtifactInfo:
    """Store a dict as a JSON or YAML artifact of the active run."""
    run = _active_or_start()
    return run._client.log_dict(run.run_id, dictionary, artifact_file)


def log_text(text: str, artifact_file: str) -> ArtifactInfo:
    """Store text as an artifact of the active run."""
    run = _active_or_start()
    return run._client.log_text(run.run_id, text, artifact_file)


def log_figure(figure: Any, artifact_file: str) -> ArtifactInfo:
    """Store a matplotlib figure as an image artifact of the active run."""
    run = _active_or_start()
    return run._client.log_figure(run.run_id, figure, artifact_file)


def log_table(data: Any, artifact_file: str) -> ArtifactInfo:
    """Store a DataFrame as a table artifact (.json, .csv or .parquet) of the active run."""
    run = _active_or_start()
    return run._client.log_table(run.run_id, data, artifact_file)


def log_input(data: Any, *, name: str | None = None, source: str = "", context: str = "training") -> None:
    """Record that the active run used a dataset (digest, schema, row count)."""
    run = _active_or_start()
    run._client.log_input(run.run_id, data, name=name, source=source, context=context)


def get_run(run_id: str) -> Run:
    """A run by id, with its data."""
    return get_client().get_run(run_id)


def get_metric_history(run_id: str, key: str) -> list[Metric]:
    """Every point of one metric of a run."""
    return get_client().get_metric_history(run_id, key)


def search_runs(
    experiment_ids: Sequence[str] | str | None = None,
    filter_string: str = "",
    *,
    experiment_names: Sequence[str] | None = None,
    view: ViewType = "active",
    order_by: Sequence[str] | str = (),
    max_results: int | None = None,
    output_format: Literal["pandas", "list"] = "pandas",
) -> pd.DataFrame | list[Run]:
    """Search runs (default: the active experiment) with an MLflow-style filter; a DataFrame by default.

    Example:
        >>> frame = search_runs(filter_string="attributes.status = 'FINISHED'")
        >>> "run_id" in frame.columns
        True
    """
    client = get_client()
    if experiment_names is not None:
        found = [client.get_experiment_by_name(n) for n in experiment_names]
        missing = [n for n, e in zip(experiment_names, found, strict=True) if e is None]
        if missing:
            raise InvalidInputError(f"no experiment named {', '.join(map(repr, missing))}")
        experiment_ids = [e.experiment_id for e in found if e is not None]
    elif experiment_ids is None:
        experiment_ids = [_active_experiment_id(client)]
    return client.search_runs(
        experiment_ids,
        filter_string,
        view=view,
        order_by=order_by,
        max_results=max_results,
        output_format=output_format,
    )


def compare_runs(run_ids: Sequence[str]) -> pd.DataFrame:
    """Params and metrics of several runs side by side."""
    return get_client().compare_runs(run_ids)


def flush() -> None:
    """Make every buffered metric point durable (and every model that autolog is still uploading)."""
    autologging = sys.modules.get("mlops.autologging")
    if autologging is not None:
        autologging.wait_for_pending()
    with _state.lock:
        client = _state.client
    if client is not None:
        client.flush()
