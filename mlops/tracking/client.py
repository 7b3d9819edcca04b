"""``mlops.Client``: the explicit, thread-safe tracking API that the fluent functions sit on.

An application can use it with no global state at all::

    client = mlops.Client("sqlite:///runs.db", artifact_uri="s3://bucket/mlops")
    run = client.create_run(client.get_or_create_experiment("credit").experiment_id)
    client.log_metric(run.run_id, "auc", 0.81)
    client.end_run(run.run_id)
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from mlops import config
from mlops.entities import ArtifactInfo, Experiment, Metric, Param, Run, ViewType, now_ms
from mlops.errors import AlreadyExistsError, InvalidInputError
from mlops.gc_pause import gc_paused
from mlops.store import (
    ArtifactStore,
    TrackingStore,
    open_artifact_store,
    open_registry_store,
    open_tracking_store,
)
from mlops.store.schemes import is_sql_uri
from mlops.tracking import validation as v
from mlops.tracking.artifact_files import dict_bytes, figure_bytes, table_bytes
from mlops.tracking.datasets import describe_dataset
from mlops.tracking.run_context import source_tags
from mlops.tracking.writer import MetricWriter

_known_keys = v.known_keys()
_time_ns = time.time_ns

if TYPE_CHECKING:
    import pandas as pd

    from mlops.models.info import ModelInfo
    from mlops.registry.client import RegistryClient

__all__ = ["TAG_NOTE", "TAG_PARENT", "Client"]

TAG_NOTE = "mlops.note.content"  # the run's description (MLflow's "mlflow.note.content")
TAG_PARENT = "mlops.parentRunId"
_TERMINAL = ("FINISHED", "FAILED", "KILLED")


class Client:
    """Tracking client bound to one tracking store and one default artifact root.

    Args:
        tracking_uri: where metadata goes (default: ``MLOPS_TRACKING_URI`` or ``./mlops-data/mlops.db``).
        artifact_uri: root for artifacts of new experiments (default: ``MLOPS_ARTIFACT_URI`` or
            ``./mlops-data/artifacts``).
        synchronous: write every metric through to the store before returning (slower, no buffer).
        flush_interval_s: how often buffered metric points are written (the most a crash can lose).
        storage_options: fsspec options (``endpoint_url``, credentials, ...) for artifact stores, and for
            the metadata stores too when ``tracking_uri`` is an object store (``s3://``, ``gs://``, a folder).

    Thread-safe: share one client between threads.

    Example:
        >>> client = Client("sqlite://", artifact_uri="memory://client-doc")
        >>> exp = client.get_or_create_experiment("demo")
        >>> run = client.create_run(exp.experiment_id, run_name="first")
        >>> client.log_metric(run.run_id, "auc", 0.9)
        >>> client.end_run(run.run_id).status
        'FINISHED'
        >>> client.get_run(run.run_id).metrics["auc"]
        0.9
    """

    def __init__(
        self,
        tracking_uri: str | None = None,
        artifact_uri: str | None = None,
        *,
        synchronous: bool = False,
        flush_interval_s: float = 0.5,
        storage_options: Mapping[str, Any] | None = None,
    ) -> None:
        self.tracking_uri = config.tracking_uri(tracking_uri)
        self.artifact_uri = config.artifact_uri(artifact_uri)
        self.synchronous = synchronous
        self.storage_options = dict(storage_options or {})
        self.store: TrackingStore = open_tracking_store(self.tracking_uri, **self._store_options())
        self._writer = MetricWriter(self.store, flush_interval_s=flush_interval_s)
        self._lock = threading.Lock()
        self._open_runs: set[str] = set()  # runs known to accept data (created or resumed here)
        self._artifact_stores: dict[str, ArtifactStore] = {}
        self._registry: RegistryClient | None = None

    def _store_options(self) -> dict[str, Any]:
        """Storage options for the metadata stores: an object store takes the same fsspec options as
        the artifacts; a SQL database takes none."""
        return {} if is_sql_uri(self.tracking_uri) else dict(self.storage_options)

    def __repr__(self) -> str:
        return f"Client(tracking_uri={self.tracking_uri!r}, artifact_uri={self.artifact_uri!r})"

    @property
    def registry(self) -> RegistryClient:
        """The model registry on this client's tracking URI, sharing its tracking store (for lineage).

        Example:
            >>> client = Client("sqlite://", artifact_uri="memory://client-registry")
            >>> client.registry.register_model("s3://bucket/model", "credit", user="ann").version
            1
        """
        from mlops.registry.client import RegistryClient

        with self._lock:
            if self._registry is None:
                self._registry = RegistryClient(
                    self.tracking_uri,
                    store=open_registry_store(self.tracking_uri, **self._store_options()),
                    tracking_store=self.store,
                )
            return self._registry

    # ================================================================== experiments
    def create_experiment(
        self, name: str, artifact_location: str | None = None, tags: Mapping[str, Any] | None = None
    ) -> str:
        """Create an experiment; return its id.

        Raises:
            AlreadyExistsError: the name is taken (by an active or a deleted experiment).
            InvalidInputError: a bad name or tag.

        Example:
            >>> Client("sqlite://", artifact_uri="memory://ce").create_experiment("churn") != ""
            True
        """
        v.validate_name(name, "experiment")
        clean_tags = self._clean_tags(tags or {})
        location = artifact_location or f"{self.artifact_uri.rstrip('/')}/{_safe_dir(name)}"
        return self.store.create_experiment(name, location, clean_tags)

    def get_experiment(self, experiment_id: str) -> Experiment:
        """The experiment with this id.

        Raises:
            NotFoundError: no such experiment.
        """
        return self.store.get_experiment(experiment_id)

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        """The experiment with this name (active or deleted), or None."""
        return self.store.get_experiment_by_name(name)

    def get_or_create_experiment(self, name: str) -> Experiment:
        """The experiment named ``name``, created if missing; safe when processes race to create it.

        Raises:
            InvalidInputError: the experiment exists but is deleted (restore it first).
        """
        existing = self.store.get_experiment_by_name(name)
        if existing is None:
            try:
                return self.store.get_experiment(self.create_experiment(name))
            except AlreadyExistsError:
                existing = self.store.get_experiment_by_name(name)
                if existing is None:  # created and purged in between: vanishingly rare
                    raise
        if existing.lifecycle_stage != "active":
            raise InvalidInputError(
                f"experiment {name!r} is deleted; restore it with restore_experiment("
                f"{existing.experiment_id!r}) or purge it to reuse the name"
            )
        return existing

    def search_experiments(self, view: ViewType = "active") -> list[Experiment]:
        """Experiments in a lifecycle view (``active``, ``deleted`` or ``all``), oldest first."""
        return self.store.search_experiments(view)

    def rename_experiment(self, experiment_id: str, new_name: str) -> Experiment:
        """Rename an experiment.

        Raises:
            AlreadyExistsError: the new name is taken.
        """
        v.validate_name(new_name, "experiment")
        return self.store.update_experiment(experiment_id, name=new_name)

    def set_experiment_tags(self, experiment_id: str, tags: Mapping[str, Any]) -> Experiment:
        """Set tags on an experiment (a ``None`` value removes the tag)."""
        clean = {
            v.validate_key(k, "tag"): None if x is None else v.validate_tag_value(k, x)
            for k, x in tags.items()
        }
        return self.store.update_experiment(experiment_id, tags=clean)

    def delete_experiment(self, experiment_id: str) -> None:
        """Mark an experiment deleted (its runs stay; restore with :meth:`restore_experiment`)."""
        self.store.update_experiment(experiment_id, lifecycle_stage="deleted")

    def restore_experiment(self, experiment_id: str) -> None:
        """Bring a deleted experiment back."""
        self.store.update_experiment(experiment_id, lifecycle_stage="active")

    def purge_experiment(self, experiment_id: str) -> None:
        """Delete an experiment and its runs permanently; the name becomes free again.

        Artifacts are not removed here (``python -m mlops gc`` removes orphaned ones).
        """
        self.flush()
        experiment = self.store.get_experiment(experiment_id)
        if experiment.lifecycle_stage != "deleted":
            self.delete_experiment(experiment_id)
        self.store.purge_experiment(experiment_id)

    # ================================================================== runs
    def create_run(
        self,
        experiment_id: str,
        *,
        run_name: str | None = None,
        tags: Mapping[str, Any] | None = None,
        parent_run_id: str | None = None,
        description: str | None = None,
        start_time: int | None = None,
    ) -> Run:
        """Start a RUNNING run with system tags (user, source file, git commit and dirty flag).

        Raises:
            NotFoundError: unknown experiment or parent run.
            InvalidInputError: bad name or tags, or a deleted experiment.
        """
        name = v.validate_name(run_name, "run") if run_name is not None else _generated_name()
        all_tags = source_tags()
        all_tags.update(self._clean_tags(tags or {}))
        if description is not None:
            all_tags[TAG_NOTE] = v.validate_tag_value(TAG_NOTE, description)
        if parent_run_id is not None:
            all_tags[TAG_PARENT] = parent_run_id
        run = self.store.create_run(
            experiment_id,
            run_name=name,
            start_time=v.validate_timestamp(start_time) if start_time is not None else now_ms(),
            user_id=all_tags["mlops.user"],
            tags=all_tags,
            parent_run_id=parent_run_id,
        )
        with self._lock:
            self._open_runs.add(run.run_id)
        self._writer.watch_run(run.run_id)
        return run

    def resume_run(self, run_id: str) -> Run:
        """Mark an existing run RUNNING again so that it accepts data (MLflow's ``start_run(run_id=)``).

        Raises:
            NotFoundError: unknown run.
            InvalidInputError: the run is deleted.
        """
        run = self.store.get_run(run_id)
        if run.lifecycle_stage != "active":
            raise InvalidInputError(f"run {run_id!r} is deleted; restore it before resuming it")
        if run.status != "RUNNING":
            run = self.store.update_run(run_id, status="RUNNING", heartbeat_time=now_ms())
        with self._lock:
            self._open_runs.add(run_id)
        self._writer.watch_run(run_id)
        return run

    def get_run(self, run_id: str) -> Run:
        """The run with its params, latest metrics, tags and inputs (buffered points are flushed first).

        Raises:
            NotFoundError: unknown run.
        """
        if self._writer.pending:
            self.flush()
        return self.store.get_run(run_id)

    def end_run(self, run_id: str, status: str = "FINISHED", end_time: int | None = None) -> Run:
        """Flush buffered metrics and end the run with ``status`` (FINISHED, FAILED or KILLED).

        Raises:
            InvalidInputError: an unknown status.
            WriterError: buffered metrics could not be written (the run is still ended).
        """
        ended = self._end_run(run_id, status, end_time, read_back=True)
        return ended if ended is not None else self.store.get_run(run_id)

    def _end_run(self, run_id: str, status: str, end_time: int | None, *, read_back: bool) -> Run | None:
        """:meth:`end_run`; with ``read_back=False`` the store need not read the ended run back
        (the fluent API's ``end_run`` returns nothing, and that read is a fifth of ending a run)."""
        if status not in _TERMINAL:
            raise InvalidInputError(f"a run ends as FINISHED, FAILED or KILLED, not {status!r}")
        stamp = end_time if end_time is not None else now_ms()

        def end(metrics: list[Metric]) -> Run | None:
            return self.store.end_run(
                run_id, status=status, end_time=stamp, metrics=metrics, read_back=read_back
            )

        with self._lock:
            self._open_runs.discard(run_id)
        self._writer.unwatch_run(run_id)
        # The run's remaining buffered points and its end are one store call (one transaction).
        return self._writer.finish_run(run_id, end)

    set_terminated = end_run  # MLflow's name

    def set_run_name(self, run_id: str, name: str) -> Run:
        """Rename a run."""
        return self.store.update_run(run_id, run_name=v.validate_name(name, "run"))

    def delete_run(self, run_id: str) -> None:
        """Mark a run deleted (hidden from searches; restore with :meth:`restore_run`)."""
        self.flush()
        self.store.update_run(run_id, lifecycle_stage="deleted")
        with self._lock:
            self._open_runs.discard(run_id)

    def restore_run(self, run_id: str) -> None:
        """Bring a deleted run back."""
        self.store.update_run(run_id, lifecycle_stage="active")

    def purge_run(self, run_id: str) -> None:
        """Delete a run and all its data permanently."""
        self.flush()
        self.store.purge_run(run_id)
        with self._lock:
            self._open_runs.discard(run_id)

    def mark_dead_runs(
        self, *, stale_after_s: float = 60.0, experiment_ids: Sequence[str] | None = None
    ) -> list[str]:
        """Mark RUNNING runs whose heartbeat is older than ``stale_after_s`` as KILLED; return their ids.

        A running client refreshes its runs' heartbeat every 10 s, so a run whose heartbeat is a
        minute old belongs to a process that died (killed, crashed, machine lost).
        """
        ids = (
            list(experiment_ids)
            if experiment_ids is not None
            else [e.experiment_id for e in self.store.search_experiments("all")]
        )
        cutoff = now_ms() - int(stale_after_s * 1000)
        dead = []
        for run in self.store.search_runs(ids, "attributes.status = 'RUNNING'", view="all"):
            if run.run_id in self._open_runs:
                continue
            if (run.heartbeat_time or run.start_time) < cutoff:
                self.store.update_run(
                    run.run_id, status="KILLED", end_time=run.heartbeat_time or run.start_time
                )
                dead.append(run.run_id)
        return dead

    # ================================================================== params, metrics, tags
    def log_param(self, run_id: str, key: str, value: Any) -> None:
        """Record a param (write-once: the same value again is fine, another value is an error).

        Raises:
            InvalidInputError: a bad key or value, a conflicting value, or a run that has ended.
        """
        self.log_batch(run_id, params={key: value})

    def log_params(self, run_id: str, params: Mapping[str, Any]) -> None:
        """Record several params at once (all or nothing)."""
        self.log_batch(run_id, params=params)

    def log_metric(
        self,
        run_id: str,
        key: str,
        value: float,
        step: int = 0,
        timestamp: int | None = None,
        *,
        synchronous: bool | None = None,
    ) -> None:
        """Record one metric point. Buffered by default (see the durability contract in the docs).

        Raises:
            InvalidInputError: a bad key, a value that is not a real number, a negative step, or a
                run that has ended.
            WriterError: an earlier buffered write failed.
        """
        # The hot path of a training loop: the common case (a known key, a float, a step >= 0) is
        # checked inline; anything else goes through the full validators.
        if not (type(key) is str and key in _known_keys and type(value) is float and type(step) is int):
            key, value, step = v.metric_point(key, value, step)
        elif not 0 <= step <= v.INT64_MAX:
            step = v.validate_step(step)
        stamp = _time_ns() // 1_000_000 if timestamp is None else v.validate_timestamp(timestamp)
        if run_id not in self._open_runs:
            self._require_open(run_id)
        if synchronous if synchronous is not None else self.synchronous:
            self._writer.check()
            self.store.log_batch(run_id, metrics=[Metric(key, value, stamp, step)])
        else:
            self._writer.add(run_id, key, value, stamp, step)

    def log_metrics(
        self,
        run_id: str,
        metrics: Mapping[str, float],
        step: int = 0,
        timestamp: int | None = None,
        *,
        synchronous: bool | None = None,
    ) -> None:
        """Record several metrics at the same step."""
        stamp = now_ms() if timestamp is None else v.validate_timestamp(timestamp)
        points = [v.metric_point(k, x, step) for k, x in metrics.items()]
        self._log_points(run_id, [(run_id, k, x, stamp, s) for k, x, s in points], synchronous)

    def log_batch(
        self,
        run_id: str,
        *,
        metrics: Iterable[Metric] = (),
        params: Mapping[str, Any] | Iterable[Param] = (),
        tags: Mapping[str, Any] | None = None,
        synchronous: bool | None = None,
    ) -> None:
        """Record metrics, params and tags; params and tags are written at once, metrics like
        :meth:`log_metric`. No size limit: pass a million points in one call.

        Raises:
            InvalidInputError: any bad item (then nothing is written).
        """
        param_items = params.items() if isinstance(params, Mapping) else ((p.key, p.value) for p in params)
        clean_params = [
            Param(v.validate_key(k, "param"), v.validate_param_value(k, x)) for k, x in param_items
        ]
        clean_tags = self._clean_tags(tags or {}, allow_delete=True)
        points = []
        with gc_paused():  # possibly a million small tuples, none in a cycle
            for m in metrics:
                key, value, step = v.metric_point(m.key, m.value, m.step)
                points.append((run_id, key, value, v.validate_timestamp(m.timestamp), step))
        if clean_params or clean_tags:
            self._writer.check()
            self.store.log_batch(run_id, params=clean_params, tags=clean_tags)
        if points:
            self._log_points(run_id, points, synchronous)

    def set_tag(self, run_id: str, key: str, value: Any) -> None:
        """Set a tag on a run (tags may change; finished runs accept tags too)."""
        self.log_batch(run_id, tags={key: value})

    def set_tags(self, run_id: str, tags: Mapping[str, Any]) -> None:
        """Set several tags at once."""
        self.log_batch(run_id, tags=tags)

    def delete_tag(self, run_id: str, key: str) -> None:
        """Remove a tag from a run."""
        self.log_batch(run_id, tags={key: None})

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        """Every point of one metric, by step (buffered points are flushed first)."""
        if self._writer.pending:
            self.flush()
        return self.store.get_metric_history(run_id, key)

    def flush(self, timeout_s: float | None = None) -> None:
        """Make every buffered metric point durable.

        Raises:
            WriterError: a buffered write failed.
        """
        self._writer.flush(timeout_s)

    def close(self) -> None:
        """Flush and stop the background writer."""
        self._writer.close()

    # ================================================================== artifacts and inputs
    def artifact_store(self, run_id: str) -> ArtifactStore:
        """The artifact store rooted at the run's artifact URI."""
        uri = self.store.get_run(run_id).artifact_uri
        with self._lock:
            store = self._artifact_stores.get(uri)
        if store is None:
            store = open_artifact_store(uri, **self.storage_options)
            with self._lock:
                self._artifact_stores[uri] = store
        return store

    def log_artifact(
        self, run_id: str, local_path: str | Path, artifact_path: str | None = None
    ) -> ArtifactInfo:
        """Upload one local file to ``<artifact_path>/<file name>`` in the run's artifacts.

        Raises:
            InvalidInputError: ``local_path`` is not a file, or ``artifact_path`` is not a valid key.
        """
        path = Path(local_path)
        if not path.is_file():
            raise InvalidInputError(
                f"log_artifact: {str(path)!r} is not a file (use log_artifacts for folders)"
            )
        return self.artifact_store(run_id).put_file(_join(artifact_path, path.name), path)

    def log_artifacts(
        self, run_id: str, local_dir: str | Path, artifact_path: str | None = None
    ) -> list[ArtifactInfo]:
        """Upload every file under a local folder, keeping its layout under ``artifact_path``."""
        root = Path(local_dir)
        if not root.is_dir():
            raise InvalidInputError(f"log_artifacts: {str(root)!r} is not a folder")
        store = self.artifact_store(run_id)
        return [
            store.put_file(_join(artifact_path, f.relative_to(root).as_posix()), f)
            for f in sorted(root.rglob("*"))
            if f.is_file()
        ]

    def log_bytes(self, run_id: str, data: bytes, artifact_file: str) -> ArtifactInfo:
        """Store raw bytes as an artifact file."""
        return self.artifact_store(run_id).put_bytes(artifact_file, data)

    def log_text(self, run_id: str, text: str, artifact_file: str) -> ArtifactInfo:
        """Store a string as a UTF-8 text artifact."""
        if not isinstance(text, str):
            raise InvalidInputError(f"log_text needs a str, not {type(text).__name__}")
        return self.log_bytes(run_id, text.encode("utf-8"), artifact_file)

    def log_dict(self, run_id: str, dictionary: Any, artifact_file: str) -> ArtifactInfo:
        """Store a dict as JSON (``.json``) or YAML (``.yaml``/``.yml``)."""
        return self.log_bytes(run_id, dict_bytes(dictionary, artifact_file), artifact_file)

    def log_figure(self, run_id: str, figure: Any, artifact_file: str) -> ArtifactInfo:
        """Store a matplotlib figure as an image in the file's format (``.png``, ``.svg``, ...)."""
        return self.log_bytes(run_id, figure_bytes(figure, artifact_file), artifact_file)

    def log_table(self, run_id: str, data: Any, artifact_file: str) -> ArtifactInfo:
        """Store a DataFrame (or a dict of columns) as ``.json``, ``.csv`` or ``.parquet``."""
        return self.log_bytes(run_id, table_bytes(data, artifact_file), artifact_file)

    def list_artifacts(self, run_id: str, path: str = "") -> list[ArtifactInfo]:
        """Files under ``path`` in the run's artifacts, with sizes and SHA-256."""
        return self.artifact_store(run_id).list(path)

    def download_artifacts(self, run_id: str, path: str, dst_path: str | Path) -> Path:
        """Copy an artifact file or folder to a local path; return it."""
        return self.artifact_store(run_id).download(path, dst_path)

    def log_model(self, run_id: str, model: Any, name: str, **kwargs: Any) -> ModelInfo:
        """Save ``model`` into the run's artifacts under ``name/`` (see :func:`mlops.log_model`).

        Keyword arguments (``input_example``, ``signature``, ``serialization``, ``flavor``,
        ``metadata``) are those of :func:`mlops.save_model`.

        Example:
            >>> from sklearn.dummy import DummyRegressor
            >>> client = Client("sqlite://", artifact_uri="memory://client-log-model")
            >>> run = client.create_run(client.get_or_create_experiment("e").experiment_id)
            >>> client.log_model(run.run_id, DummyRegressor().fit([[0]], [1]), "model").model_uri[:6]
            'runs:/'
        """
        from mlops.models.log import log_model_to_run

        return log_model_to_run(self, run_id, model, name, **kwargs)

    def log_input(
        self, run_id: str, data: Any, *, name: str | None = None, source: str = "", context: str = "training"
    ) -> None:
        """Record that the run used a dataset: its digest, schema and row count (lineage)."""
        self.store.log_inputs(run_id, [describe_dataset(data, name=name, source=source, context=context)])

    # ================================================================== search
    def search_runs(
        self,
        experiment_ids: Sequence[str] | str | None = None,
        filter_string: str = "",
        *,
        view: ViewType = "active",
        order_by: Sequence[str] | str = (),
        max_results: int | None = None,
        output_format: Literal["pandas", "list"] = "pandas",
    ) -> pd.DataFrame | list[Run]:
        """Runs matching an MLflow-style filter, as a DataFrame (default) or a list of :class:`Run`.

        ``experiment_ids`` defaults to every active experiment.

        Raises:
            InvalidInputError: a malformed filter or order clause (the message points at it).

        Example:
            >>> client = Client("sqlite://", artifact_uri="memory://sr")
            >>> exp = client.get_or_create_experiment("e").experiment_id
            >>> run = client.create_run(exp)
            >>> client.log_metric(run.run_id, "auc", 0.8)
            >>> client.search_runs([exp], "metrics.auc > 0.5")["metrics.auc"].tolist()
            [0.8]
        """
        self.flush()
        if experiment_ids is None:
            ids = [e.experiment_id for e in self.store.search_experiments("active")]
        else:
            ids = [experiment_ids] if isinstance(experiment_ids, str) else list(experiment_ids)
        orders = [order_by] if isinstance(order_by, str) else list(order_by)
        if output_format == "list":
            return self.store.search_runs(
                ids, filter_string, view=view, order_by=orders, max_results=max_results
            )
        if output_format != "pandas":
            raise InvalidInputError(f"output_format must be 'pandas' or 'list', not {output_format!r}")
        from mlops.tracking.frames import table_to_frame

        # Columnar all the way: no Run objects for a frame (the SQL store reads the table directly).
        # The collector is paused: a large search makes a million small objects (no cycles), and in
        # a process with a large heap every collection they trigger rescans all of it.
        with gc_paused():
            table = self.store.search_run_table(
                ids, filter_string, view=view, order_by=orders, max_results=max_results
            )
            return table_to_frame(table)

    def compare_runs(self, run_ids: Sequence[str]) -> pd.DataFrame:
        """Params and latest metrics of several runs side by side (one column per run)."""
        from mlops.tracking.frames import compare_frame

        self.flush()
        return compare_frame([self.store.get_run(r) for r in run_ids])

    # ================================================================== helpers
    def _require_open(self, run_id: str) -> None:
        run = self.store.get_run(run_id)
        if run.lifecycle_stage != "active" or run.status in _TERMINAL:
            state = "deleted" if run.lifecycle_stage != "active" else run.status
            raise InvalidInputError(f"run {run_id!r} is {state}; it accepts no more params or metrics")
        with self._lock:
            self._open_runs.add(run_id)

    def _log_points(
        self, run_id: str, points: list[tuple[str, str, float, int, int]], synchronous: bool | None
    ) -> None:
        if run_id not in self._open_runs:
            self._require_open(run_id)
        if synchronous if synchronous is not None else self.synchronous:
            self._writer.check()
            self.store.log_batch(run_id, metrics=[Metric(k, x, t, s) for _, k, x, t, s in points])
        else:
            self._writer.add_many(points)

    @staticmethod
    def _clean_tags(tags: Mapping[str, Any], *, allow_delete: bool = False) -> dict[str, Any]:
        clean: dict[str, Any] = {}
        for key, value in tags.items():
            v.validate_key(key, "tag")
            if value is None:
                if not allow_delete:
                    raise InvalidInputError(f"tag {key!r} has no value")
                clean[key] = None
            else:
                clean[key] = v.validate_tag_value(key, value)
        return clean


def _join(prefix: str | None, name: str) -> str:
    return f"{prefix.strip('/')}/{name}" if prefix and prefix.strip("/") else name


def _safe_dir(name: str) -> str:
    """A folder name for an experiment's artifacts: readable, and never a path of its own."""
    import hashlib
    import re

    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-.")[:64] or "experiment"
    return f"{slug}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"


_ADJECTIVES = ("bold", "calm", "keen", "quick", "wise", "brave", "bright", "gentle", "lucky", "sharp")
_NOUNS = ("otter", "falcon", "maple", "comet", "harbor", "lynx", "cedar", "quartz", "heron", "tide")


def _generated_name() -> str:
    """A readable random run name such as ``keen-otter-042`` (one ``os.urandom`` call: the three
    ``secrets`` draws it replaces cost a system call each)."""
    n = int.from_bytes(os.urandom(4), "little")
    return f"{_ADJECTIVES[n % 10]}-{_NOUNS[n // 10 % 10]}-{n // 100 % 1000:03d}"
