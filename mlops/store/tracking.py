"""The tracking store interface: experiments, runs, params, metrics, tags and dataset inputs.

Contract shared by every implementation:

* **Thread safety.** One store object may be used from many threads at once.
* **Processes.** Several processes may open the same store location at once; every method is
  atomic with respect to the others (a method either fully happens or not at all).
* **Identifiers.** Experiment and run ids are opaque strings chosen by the store.
* **Validation.** Stores check invariants that need stored state (param write-once, a run that
  has ended refuses new data, unique experiment names). Syntax checks on keys and values are done
  by the caller (:mod:`mlops.store.validation`) before reaching a store, but stores must never
  corrupt themselves on bad input: they raise :class:`~mlops.errors.InvalidInputError`.
* **Floats.** Metric values round-trip exactly, NaN and ±inf included.
* **Errors.** Only :mod:`mlops.errors` exceptions escape: ``NotFoundError`` for a missing id,
  ``AlreadyExistsError`` for a taken name, ``InvalidInputError`` for a request that contradicts
  stored state, ``StoreUnavailableError`` when the backend cannot be reached after retries.

Nothing here names SQL: an implementation on an object store alone must be possible.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mlops.entities import (
    LIFECYCLE_STAGES,
    RUN_STATUSES,
    DatasetInput,
    Experiment,
    Metric,
    Param,
    Run,
    ViewType,
)
from mlops.errors import InvalidInputError

__all__ = [
    "RUN_TABLE_ATTRIBUTES",
    "RunTable",
    "SparseColumn",
    "TrackingStore",
    "check_lifecycle_stage",
    "check_run_status",
    "check_view",
    "group_by_key",
    "sparse_columns",
]


def check_view(view: str) -> None:
    """Refuse a lifecycle view other than ``active``, ``deleted`` or ``all`` (for implementations).

    Example:
        >>> check_view("all")
    """
    if view not in ("active", "deleted", "all"):
        raise InvalidInputError(f"view must be 'active', 'deleted' or 'all', not {view!r}")


def check_lifecycle_stage(stage: str | None) -> None:
    """Refuse a lifecycle stage other than ``active`` or ``deleted`` (None: not given).

    Example:
        >>> check_lifecycle_stage("deleted")
    """
    if stage is not None and stage not in LIFECYCLE_STAGES:
        raise InvalidInputError(f"lifecycle_stage must be one of {LIFECYCLE_STAGES}, not {stage!r}")


def check_run_status(status: str | None) -> None:
    """Refuse an unknown run status (None: not given).

    Example:
        >>> check_run_status("FINISHED")
    """
    if status is not None and status not in RUN_STATUSES:
        raise InvalidInputError(f"status must be one of {RUN_STATUSES}, not {status!r}")


#: The run attributes of a :class:`RunTable`, in the order a table of runs shows them.
RUN_TABLE_ATTRIBUTES = (
    "run_id",
    "experiment_id",
    "run_name",
    "status",
    "start_time",
    "end_time",
    "artifact_uri",
    "user_id",
    "parent_run_id",
    "lifecycle_stage",
)


@dataclass(frozen=True)
class SparseColumn:
    """The values of one key (a param, metric or tag) in a :class:`RunTable`.

    ``values[i]`` belongs to the run in row ``rows[i]`` of the table; the other runs lack the key.
    Either may be any sequence: lists, a ``range`` of rows, a numpy array of metric values.

    Example:
        >>> SparseColumn(rows=[0, 2], values=["0.1", "10"]).rows
        [0, 2]
    """

    rows: Sequence[int]
    values: Sequence[Any]


def group_by_key(
    by_key: dict[str, tuple[list[int], list[Any]]], triples: Iterable[tuple[int, str, Any]]
) -> None:
    """Add ``(row, key, value)`` triples (in any order) to ``by_key``: key -> (rows, values).

    Example:
        >>> grouped: dict[str, tuple[list[int], list[Any]]] = {}
        >>> group_by_key(grouped, [(0, "C", "1"), (1, "C", "2"), (1, "solver", "lbfgs")])
        >>> grouped["C"]
        ([0, 1], ['1', '2'])
    """
    for row, key, value in triples:
        column = by_key.get(key)
        if column is None:
            column = by_key[key] = ([], [])
        column[0].append(row)
        column[1].append(value)


def sparse_columns(by_key: Mapping[str, tuple[list[int], list[Any]]]) -> dict[str, SparseColumn]:
    """One :class:`SparseColumn` per key of what :func:`group_by_key` gathered."""
    return {key: SparseColumn(rows, values) for key, (rows, values) in by_key.items()}


@dataclass(frozen=True)
class RunTable:
    """Runs in columnar form: what a table of runs (``search_runs`` as a DataFrame) is built from.

    It carries what :class:`~mlops.entities.Run` objects would, minus heartbeats and dataset inputs,
    without one object per run, so a store can fill it straight from its query results.

    Attributes:
        columns: one list per name of :data:`RUN_TABLE_ATTRIBUTES`, all of the same length; row
            ``i`` of every list is the ``i``-th run. Values as on :class:`~mlops.entities.Run`:
            ``start_time``/``end_time`` are epoch milliseconds (``end_time`` is None while running),
            ``parent_run_id`` is None for a top-level run.
        params: one column per param key of these runs (string values), in any key order.
        metrics: one column per metric key: the latest values, floats with NaN kept (NaN may also
            be given as None).
        tags: one column per tag key (string values).

    Example:
        >>> from mlops.entities import Run
        >>> run = Run("r1", "e1", "a", "FINISHED", 0, 1000, "active", "memory://x", params={"C": "1"})
        >>> table = RunTable.from_runs([run])
        >>> table.columns["run_name"], table.params
        (['a'], {'C': SparseColumn(rows=[0], values=['1'])})
    """

    columns: Mapping[str, Sequence[Any]]
    params: Mapping[str, SparseColumn]
    metrics: Mapping[str, SparseColumn]
    tags: Mapping[str, SparseColumn]

    @classmethod
    def from_runs(cls, runs: Sequence[Run]) -> RunTable:
        """The table of these runs, in this order."""

        def keyed(attribute: str) -> dict[str, SparseColumn]:
            grouped: dict[str, tuple[list[int], list[Any]]] = {}
            group_by_key(
                grouped,
                (
                    (row, key, value)
                    for row, run in enumerate(runs)
                    for key, value in getattr(run, attribute).items()
                ),
            )
            return sparse_columns(grouped)

        return cls(
            columns={name: [getattr(r, name) for r in runs] for name in RUN_TABLE_ATTRIBUTES},
            params=keyed("params"),
            metrics=keyed("metrics"),
            tags=keyed("tags"),
        )


class TrackingStore(abc.ABC):
    """Abstract tracking store. See the module docstring for the contract."""

    #: Whether :meth:`search_runs` evaluates the filter inside the backend (True) or in memory.
    supports_native_search: bool = False

    # ---------------------------------------------------------------- experiments
    @abc.abstractmethod
    def create_experiment(
        self, name: str, artifact_location: str, tags: Mapping[str, str] | None = None
    ) -> str:
        """Create an experiment and return its id.

        Raises:
            AlreadyExistsError: an experiment (active or deleted, not purged) has this name.
        """

    @abc.abstractmethod
    def get_experiment(self, experiment_id: str) -> Experiment:
        """Return the experiment with this id, active or deleted.

        Raises:
            NotFoundError: no experiment has this id (or it was purged).
        """

    @abc.abstractmethod
    def get_experiment_by_name(self, name: str) -> Experiment | None:
        """Return the experiment with this name (active or deleted), or None."""

    @abc.abstractmethod
    def search_experiments(self, view: ViewType = "active") -> list[Experiment]:
        """Return experiments in the given lifecycle view, oldest first."""

    @abc.abstractmethod
    def update_experiment(
        self,
        experiment_id: str,
        *,
        name: str | None = None,
        lifecycle_stage: str | None = None,
        tags: Mapping[str, str | None] | None = None,
    ) -> Experiment:
        """Rename, delete/restore (``lifecycle_stage``) or set tags (``None`` value removes one).

        Raises:
            NotFoundError: unknown experiment id.
            AlreadyExistsError: the new name is taken.
            InvalidInputError: unknown lifecycle stage.
        """

    @abc.abstractmethod
    def purge_experiment(self, experiment_id: str) -> None:
        """Delete an experiment and all its runs permanently; its name can be reused.

        Raises:
            NotFoundError: unknown experiment id.
            InvalidInputError: the experiment is not in the ``deleted`` stage.
        """

    # ---------------------------------------------------------------- runs
    @abc.abstractmethod
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
        """Create a RUNNING run. ``artifact_uri`` defaults to ``<experiment location>/<run_id>``.

        Raises:
            NotFoundError: unknown experiment or parent run.
            InvalidInputError: the experiment is deleted.
        """

    @abc.abstractmethod
    def get_run(self, run_id: str) -> Run:
        """Return the run with its params, latest metrics, tags and inputs.

        Raises:
            NotFoundError: unknown run id.
        """

    @abc.abstractmethod
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
        """Change a run's status, end time, name, lifecycle stage or heartbeat.

        Raises:
            NotFoundError: unknown run id.
            InvalidInputError: unknown status or stage.
        """

    def end_run(
        self,
        run_id: str,
        *,
        status: str,
        end_time: int,
        metrics: Sequence[Metric] = (),
        read_back: bool = True,
    ) -> Run | None:
        """Write the run's last metric points, then end it with ``status`` at ``end_time``.

        The client ends a run with its remaining buffered points through this one call, so a store
        that can do both in one transaction (the SQL store does) saves a commit per run. This
        default writes the points with :meth:`log_batch`, then calls :meth:`update_run`.

        Returns:
            The ended run; with ``read_back=False`` (a caller that does not need it, such as
            ``with mlops.start_run():``) a store may skip reading it back and return None.

        Raises:
            NotFoundError: unknown run id.
            InvalidInputError: unknown status, or ``metrics`` for a run that is deleted or ended.
        """
        if metrics:
            self.log_batch(run_id, metrics=metrics)
        return self.update_run(run_id, status=status, end_time=end_time)

    @abc.abstractmethod
    def purge_run(self, run_id: str) -> None:
        """Delete a run and all its data permanently.

        Raises:
            NotFoundError: unknown run id.
        """

    # ---------------------------------------------------------------- run data
    @abc.abstractmethod
    def log_batch(
        self,
        run_id: str,
        *,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Mapping[str, str | None] | None = None,
    ) -> None:
        """Record metrics, params and tags (a ``None`` tag value removes the tag) in one atomic write.

        No size limit: implementations split large batches internally but stay all-or-nothing.
        Metric points accumulate (the full history is kept); the *latest* value of a key is the one
        with the highest step, then the latest timestamp.

        Raises:
            NotFoundError: unknown run id.
            InvalidInputError: a param already has a different value (message names both values),
                the same param key is given twice with different values, or the run is deleted or
                has ended (FINISHED/FAILED/KILLED) and ``params``/``metrics`` are not empty.
        """

    @abc.abstractmethod
    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        """All points of one metric, ordered by step then timestamp (insertion order breaks ties).

        Raises:
            NotFoundError: unknown run id.
        """

    @abc.abstractmethod
    def log_inputs(self, run_id: str, datasets: Sequence[DatasetInput]) -> None:
        """Record datasets the run consumed. Logging the same (name, digest, context) again is a no-op.

        Raises:
            NotFoundError: unknown run id.
        """

    # ---------------------------------------------------------------- search
    @abc.abstractmethod
    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        *,
        view: ViewType = "active",
        order_by: Sequence[str] = (),
        max_results: int | None = None,
    ) -> list[Run]:
        """Runs of the given experiments that match an MLflow-style filter, ordered.

        Without ``order_by`` runs come newest first (``start_time DESC``, then ``run_id``).

        Raises:
            InvalidInputError: malformed filter or order clause (the message shows the position).
        """

    def search_run_table(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        *,
        view: ViewType = "active",
        order_by: Sequence[str] = (),
        max_results: int | None = None,
    ) -> RunTable:
        """:meth:`search_runs` in columnar form: the same runs, in the same order, as a :class:`RunTable`.

        This is what ``search_runs`` returning a DataFrame uses. The default builds the table from
        :meth:`search_runs`; a store that can fill it without ``Run`` objects overrides it.

        Raises:
            InvalidInputError: as :meth:`search_runs`.
        """
        return RunTable.from_runs(
            self.search_runs(
                experiment_ids, filter_string, view=view, order_by=order_by, max_results=max_results
            )
        )
