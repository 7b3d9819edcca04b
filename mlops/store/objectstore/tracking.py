"""The tracking store on an object store: experiments in one log, each run in its own log.

* Experiments (create, rename, tags, delete/restore, purge) are records of one create-only log
  (``tracking/experiments/log/``), so names stay unique across processes.
* Each run is a log of its own (``tracking/runs/<run_id>/``): record 0 creates it, and every
  ``log_batch`` (metrics, params and tags of one call, however large), ``update_run`` and
  ``log_inputs`` is one immutable record appended with a create-only write. The append is validated
  against the run's state just before it (params write-once, ended or deleted runs refuse data), so a
  batch is stored whole or not at all and two processes can never store two values of one param.
* A run's membership in its experiment is an empty marker object (``tracking/experiments/<id>/runs/``),
  listed by :meth:`ObjectTrackingStore.search_runs`, which then folds the runs (fetching only records
  this process has not seen, concurrently on S3/GCS) and evaluates the filter in memory with
  :func:`mlops.query.matches` and :func:`mlops.query.sort_runs`: the same answers as the SQL store.

Example:
    >>> store = ObjectTrackingStore("memory://doc-objtrack")
    >>> exp = store.create_experiment("demo", "memory://doc-objtrack-artifacts")
    >>> run = store.create_run(exp, run_name="r", start_time=1)
    >>> store.log_batch(run.run_id, metrics=[Metric("auc", 0.9, 5, 0)], params=[Param("C", "1")])
    >>> [r.metrics["auc"] for r in store.search_runs([exp], "params.C = '1'")]
    [0.9]
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

from mlops.entities import (
    TERMINAL_RUN_STATUSES,
    DatasetInput,
    Experiment,
    Metric,
    Param,
    Run,
    ViewType,
    now_ms,
)
from mlops.errors import AlreadyExistsError, InvalidInputError, NotFoundError
from mlops.query import matches, parse_filter, parse_order_by, sort_runs
from mlops.store.objectstore._fs import ObjectFS
from mlops.store.objectstore.index import Log, decode, refresh_many
from mlops.store.objectstore.layout import (
    EXPERIMENTS_LOG,
    experiment_runs_dir,
    meta_uri,
    record_key,
    run_log,
    run_marker,
)
from mlops.store.tracking import TrackingStore, check_lifecycle_stage, check_run_status, check_view

__all__ = ["ObjectTrackingStore"]

State = dict[str, Any]
_CACHED_RUNS = 50_000  # run logs whose folded state stays in memory (LRU)
_READ_CHUNK = 256


# ====================================================================== experiments log
def apply_experiment(state: State, r: dict[str, Any], n: int) -> tuple[Any, bool]:
    """Fold one experiments-log record (validating it first)."""
    exps, names = state.setdefault("exps", {}), state.setdefault("names", {})
    op, exp_id = r["op"], r["id"]
    if op == "create":
        if r["name"] in names:
            raise AlreadyExistsError(f"an experiment named {r['name']!r} already exists")
        exps[exp_id] = {
            "name": r["name"],
            "artifact_location": r["location"],
            "lifecycle_stage": "active",
            "creation_time": r["now"],
            "last_update_time": r["now"],
            "tags": dict(r["tags"]),
        }
        names[r["name"]] = exp_id
        return exp_id, True
    exp = exps.get(exp_id)
    if exp is None:
        raise NotFoundError(f"no experiment with id {exp_id!r}")
    if op == "purge":
        if exp["lifecycle_stage"] != "deleted":
            raise InvalidInputError(
                f"experiment {exp_id!r} is {exp['lifecycle_stage']}; delete it before purging it permanently"
            )
        del exps[exp_id], names[exp["name"]]
        return None, True
    new_name = r.get("name")
    if new_name is not None and names.get(new_name, exp_id) != exp_id:
        raise AlreadyExistsError(f"an experiment named {new_name!r} already exists")
    if new_name is not None:
        del names[exp["name"]]
        names[new_name] = exp_id
        exp["name"] = new_name
    if r.get("stage") is not None:
        exp["lifecycle_stage"] = r["stage"]
    for key, value in (r.get("tags") or {}).items():
        if value is None:
            exp["tags"].pop(key, None)
        else:
            exp["tags"][key] = value
    exp["last_update_time"] = r["now"]
    return None, True


def _experiment(exp_id: str, e: dict[str, Any]) -> Experiment:
    return Experiment(
        experiment_id=exp_id,
        name=e["name"],
        artifact_location=e["artifact_location"],
        lifecycle_stage=e["lifecycle_stage"],
        creation_time=e["creation_time"],
        last_update_time=e["last_update_time"],
        tags=e["tags"],
    )


# ====================================================================== run logs
def apply_run(state: State, r: dict[str, Any], n: int) -> tuple[Any, bool]:
    """Fold one run-log record (validating it first)."""
    op = r["op"]
    if op == "create":
        if state:
            raise AlreadyExistsError(f"run {r['run_id']!r} already exists")
        state.update(
            {
                k: r[k]
                for k in (
                    "run_id",
                    "experiment_id",
                    "run_name",
                    "start_time",
                    "user_id",
                    "parent_run_id",
                    "artifact_uri",
                )
            }
        )
        state.update(
            status="RUNNING",
            end_time=None,
            lifecycle_stage="active",
            heartbeat_time=r["start_time"],
            params={},
            tags=dict(r["tags"]),
            latest={},
            inputs=[],
        )
        return None, True
    if not state:
        raise NotFoundError(f"no run with id {r['run_id']!r}")
    if op == "update":
        for field in ("status", "end_time", "run_name", "lifecycle_stage", "heartbeat_time"):
            if r.get(field) is not None:
                state[field] = r[field]
        return None, True
    if op == "inputs":
        have = {(d["name"], d["digest"], d["context"]) for d in state["inputs"]}
        new = []
        for d in r["datasets"]:
            if (d["name"], d["digest"], d["context"]) not in have:
                have.add((d["name"], d["digest"], d["context"]))
                new.append(d)
        state["inputs"].extend(new)
        return None, bool(new)
    metrics, params, tags = r.get("m") or {}, r.get("p") or {}, r.get("t") or {}
    stage, status = state["lifecycle_stage"], state["status"]
    if (metrics or params) and (stage != "active" or status in TERMINAL_RUN_STATUSES):
        current = "deleted" if stage != "active" else status
        raise InvalidInputError(f"run {r['run_id']!r} is {current}; it accepts no more params or metrics")
    stored = state["params"]
    for key, value in params.items():
        if key in stored and stored[key] != value:
            raise InvalidInputError(
                f"param {key!r} of run {r['run_id']!r} is already {stored[key]!r}; cannot change it to "
                f"{value!r} (params are write-once: log a new run, or use a metric or tag)"
            )
    new_params = {k: v for k, v in params.items() if k not in stored}
    tag_changes = {k: v for k, v in tags.items() if state["tags"].get(k) != v}
    if not (metrics or new_params or tag_changes):
        return None, False
    stored.update(new_params)
    for key, value in tag_changes.items():
        if value is None:
            state["tags"].pop(key, None)
        else:
            state["tags"][key] = value
    latest = state["latest"]
    for key, points in metrics.items():
        best = latest.get(key)
        for point in points:  # [step, timestamp, value]: highest step, then timestamp, then last logged
            if best is None or (point[0], point[1]) >= (best[0], best[1]):
                best = point
        latest[key] = best
    return None, True


def _run(s: State) -> Run:
    return Run(
        run_id=s["run_id"],
        experiment_id=s["experiment_id"],
        run_name=s["run_name"],
        status=s["status"],
        start_time=s["start_time"],
        end_time=s["end_time"],
        lifecycle_stage=s["lifecycle_stage"],
        artifact_uri=s["artifact_uri"],
        user_id=s["user_id"],
        parent_run_id=s["parent_run_id"],
        heartbeat_time=s["heartbeat_time"],
        params=s["params"],
        metrics={k: p[2] for k, p in s["latest"].items()},
        tags=s["tags"],
        inputs=tuple(DatasetInput(**d) for d in s["inputs"]),
    )


class ObjectTrackingStore(TrackingStore):
    """Tracking store on a local folder, ``memory://``, ``s3://`` or ``gs://`` (no database).

    Args:
        uri: the store root; metadata lives under ``<uri>/.mlops/meta-v1/tracking/``.
        **storage_options: fsspec options (``endpoint_url``, ``key``, ``secret``, ``token``, ...).

    Search evaluates filters in memory (``supports_native_search`` is False). See
    ``docs/objectstore.md`` for the layout, guarantees, limits and measured scale.

    Example:
        >>> store = ObjectTrackingStore("memory://doc-objtrack-class")
        >>> store.get_experiment(store.create_experiment("e", "memory://a")).name
        'e'
    """

    supports_native_search = False

    def __init__(self, uri: str, **storage_options: Any) -> None:
        self.uri = uri
        self._fs = ObjectFS(meta_uri(uri), **storage_options)
        self._experiments = Log(self._fs, EXPERIMENTS_LOG, apply_experiment, snapshot_every=32)
        self._runs: OrderedDict[str, Log] = OrderedDict()
        self._runs_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"ObjectTrackingStore({self.uri!r})"

    def _run_log(self, run_id: str) -> Log:
        with self._runs_lock:
            log = self._runs.get(run_id)
            if log is None:
                log = self._runs[run_id] = Log(
                    self._fs, run_log(run_id), apply_run, snapshot_every=32, optimistic=True
                )
                if len(self._runs) > _CACHED_RUNS:
                    self._runs.popitem(last=False)
            else:
                self._runs.move_to_end(run_id)
            return log

    def _run_state(self, run_id: str) -> Log:
        """The run's log, caught up; NotFoundError when the run does not exist."""
        log = self._run_log(run_id)
        with log.lock:
            log.catch_up(verify_origin=True)
            if log.tip < 0:
                raise NotFoundError(f"no run with id {run_id!r}")
        return log

    # ================================================================== experiments
    def create_experiment(
        self, name: str, artifact_location: str, tags: Mapping[str, str] | None = None
    ) -> str:
        record = {
            "op": "create",
            "id": uuid.uuid4().hex,
            "name": name,
            "location": artifact_location,
            "tags": dict(tags or {}),
            "now": now_ms(),
        }
        exp_id: str = self._experiments.commit(record)
        return exp_id

    def get_experiment(self, experiment_id: str) -> Experiment:
        def get(s: State) -> Experiment:
            e = s.get("exps", {}).get(experiment_id)
            if e is None:
                raise NotFoundError(f"no experiment with id {experiment_id!r}")
            return _experiment(experiment_id, e)

        return self._experiments.read(get)

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        def get(s: State) -> Experiment | None:
            exp_id = s.get("names", {}).get(name)
            return None if exp_id is None else _experiment(exp_id, s["exps"][exp_id])

        return self._experiments.read(get)

    def search_experiments(self, view: ViewType = "active") -> list[Experiment]:
        check_view(view)

        def search(s: State) -> list[Experiment]:
            found = [
                _experiment(i, e)
                for i, e in s.get("exps", {}).items()
                if view == "all" or e["lifecycle_stage"] == view
            ]
            return sorted(found, key=lambda e: (e.creation_time, e.experiment_id))

        return self._experiments.read(search)

    def update_experiment(
        self,
        experiment_id: str,
        *,
        name: str | None = None,
        lifecycle_stage: str | None = None,
        tags: Mapping[str, str | None] | None = None,
    ) -> Experiment:
        check_lifecycle_stage(lifecycle_stage)
        self._experiments.commit(
            {
                "op": "update",
                "id": experiment_id,
                "name": name,
                "stage": lifecycle_stage,
                "tags": dict(tags or {}),
                "now": now_ms(),
            }
        )
        return self.get_experiment(experiment_id)

    def purge_experiment(self, experiment_id: str) -> None:
        self._experiments.commit({"op": "purge", "id": experiment_id, "now": now_ms()})
        # The experiment is gone (its name is free) from here on; its runs are deleted next. A crash
        # in between leaves unreachable run objects, never a visible half-purged experiment.
        for run_id in self._fs.list(experiment_runs_dir(experiment_id)):
            self._delete_run(experiment_id, run_id)
        self._fs.delete_tree(f"tracking/experiments/{experiment_id}")

    # ================================================================== runs
    def create_run(
        self,
        experiment_id: str,
        *,
        run_name: str,
        start_time: int,
        user_id: str = "",
        tags: Mapping[str, str] | None = None,
        parent_run_id: str | None = None,
        artifact_uri: str | None = None,
    ) -> Run:
        exp = self.get_experiment(experiment_id)
        if exp.lifecycle_stage != "active":
            raise InvalidInputError(f"experiment {experiment_id!r} is deleted; restore it to add runs")
        if parent_run_id is not None:
            try:
                self._run_state(parent_run_id)
            except NotFoundError:
                raise NotFoundError(f"no parent run with id {parent_run_id!r}") from None
        run_id = uuid.uuid4().hex
        location = artifact_uri or f"{exp.artifact_location.rstrip('/')}/{run_id}/artifacts"
        # The marker first: a crash before record 0 leaves a marker that search skips.
        self._fs.create(run_marker(experiment_id, run_id), b"")
        log = self._run_log(run_id)
        log.commit(
            {
                "op": "create",
                "run_id": run_id,
                "experiment_id": experiment_id,
                "run_name": run_name,
                "start_time": start_time,
                "user_id": user_id,
                "tags": dict(tags or {}),
                "parent_run_id": parent_run_id,
                "artifact_uri": location,
            }
        )
        return log.read(_run, fresh=False)

    def get_run(self, run_id: str) -> Run:
        return self._run_state(run_id).read(_run, fresh=False)

    def update_run(
        self,
        run_id: str,
        *,
        status: str | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
        lifecycle_stage: str | None = None,
        heartbeat_time: int | None = None,
    ) -> Run:
        check_run_status(status)
        check_lifecycle_stage(lifecycle_stage)
        log = self._run_log(run_id)
        record = {
            "op": "update",
            "run_id": run_id,
            "status": status,
            "end_time": end_time,
            "run_name": run_name,
            "lifecycle_stage": lifecycle_stage,
            "heartbeat_time": heartbeat_time,
        }
        if any(v is not None for k, v in record.items() if k not in ("op", "run_id")):
            # An ended run changes rarely: snapshot it so that later readers fold (almost) nothing.
            log.commit(record, snapshot=status in TERMINAL_RUN_STATUSES)
        return self.get_run(run_id)

    def purge_run(self, run_id: str) -> None:
        log = self._run_state(run_id)
        experiment_id = log.read(lambda s: s["experiment_id"], fresh=False)
        self._delete_run(experiment_id, run_id)

    def _delete_run(self, experiment_id: str, run_id: str) -> None:
        # Marker, then record 0 (the run is gone for every reader), then the rest.
        self._fs.delete([run_marker(experiment_id, run_id), record_key(run_log(run_id), 0)])
        self._fs.delete_tree(run_log(run_id))
        with self._runs_lock:
            self._runs.pop(run_id, None)

    # ================================================================== run data
    def log_batch(
        self,
        run_id: str,
        *,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Mapping[str, str | None] | None = None,
    ) -> None:
        unique: dict[str, str] = {}
        for p in params:
            if p.key in unique and unique[p.key] != p.value:
                raise InvalidInputError(
                    f"param {p.key!r} is given twice in one batch with different values "
                    f"({unique[p.key]!r} and {p.value!r})"
                )
            unique[p.key] = p.value
        if not (metrics or unique or tags):
            self._run_state(run_id)
            return
        grouped: dict[str, list[list[Any]]] = {}
        for m in metrics:
            grouped.setdefault(m[0], []).append([int(m[3]), int(m[2]), float(m[1])])
        record = {"op": "batch", "run_id": run_id, "m": grouped, "p": unique, "t": dict(tags or {})}
        self._run_log(run_id).commit(record)

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        log = self._run_state(run_id)
        tip = log.tip
        points: list[Metric] = []
        for start in range(1, tip + 1, _READ_CHUNK):
            keys = [record_key(log.prefix, n) for n in range(start, min(start + _READ_CHUNK, tip + 1))]
            for rel, data in zip(keys, self._fs.read_many(keys), strict=True):
                if data is None:
                    raise NotFoundError(f"no run with id {run_id!r} (it was deleted while being read)")
                record = decode(data, rel)
                for step, timestamp, value in (record.get("m") or {}).get(key, ()):
                    points.append(Metric(key, float(value), int(timestamp), int(step)))
        points.sort(key=lambda m: (m.step, m.timestamp))  # stable: insertion order breaks ties
        return points

    def log_inputs(self, run_id: str, datasets: Sequence[DatasetInput]) -> None:
        if not datasets:
            return
        rows = [
            {
                "name": d.name,
                "digest": d.digest,
                "source": d.source,
                "schema": d.schema,
                "num_rows": d.num_rows,
                "context": d.context,
            }
            for d in datasets
        ]
        self._run_log(run_id).commit({"op": "inputs", "run_id": run_id, "datasets": rows})

    # ================================================================== search
    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        *,
        view: ViewType = "active",
        order_by: Sequence[str] = (),
        max_results: int | None = None,
    ) -> list[Run]:
        if isinstance(experiment_ids, str):
            raise InvalidInputError(
                f"experiment_ids must be a list of ids, not the string {experiment_ids!r}"
            )
        node = parse_filter(filter_string)
        keys = parse_order_by(order_by)
        check_view(view)
        if max_results is not None and (
            isinstance(max_results, bool) or not isinstance(max_results, int) or max_results < 0
        ):
            raise InvalidInputError(
                f"max_results must be a non-negative integer or None, not {max_results!r}"
            )
        logs = [
            self._run_log(run_id)
            for exp in dict.fromkeys(str(e) for e in experiment_ids)
            for run_id in self._fs.list(experiment_runs_dir(exp))
        ]
        refresh_many(logs)
        runs = []
        for log in logs:
            with log.lock:
                if log.tip < 0 or not log.state:
                    continue  # a marker whose run was never created (its creator crashed)
                if view != "all" and log.state["lifecycle_stage"] != view:
                    continue
                run = _run(log.state)
            if matches(node, run):
                runs.append(run)
        ordered = sort_runs(runs, keys)
        return ordered if max_results is None else ordered[:max_results]
