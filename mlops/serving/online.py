"""``OnlinePredictor``: one record at a time, at close to the raw model's latency, thread-safe.

The signature check is compiled once per loaded model; a record (a ``dict``) goes through
:meth:`~mlops.models.Signature.record_to_array` straight to a NumPy row for models that take arrays
(see :mod:`mlops.serving._plan` for how that is decided; a ``ColumnTransformer`` that picks columns
by name, string or category columns, or a python-function model get a one-row DataFrame instead).

Following an alias or a stage (``models:/credit@champion``, ``models:/credit/Production``): with
``refresh_s`` a background thread asks the registry every ``refresh_s`` seconds which version the URI
names; when it changed, it loads and verifies the new version *beside* the old one, then swaps one
reference. A request reads that reference once, so it runs entirely on one version: requests in flight
finish on the old model, later ones use the new one, none fails or waits. A failed refresh keeps the
current model (see :attr:`OnlinePredictor.last_refresh_error`). Every :class:`Prediction` carries the
version that produced it.

Example:
    >>> import pathlib, tempfile
    >>> import pandas as pd
    >>> from sklearn.linear_model import LogisticRegression
    >>> from mlops.models import save_model
    >>> X = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0]}); y = [0, 0, 1, 1]
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "m"
    >>> _ = save_model(LogisticRegression().fit(X, y), path, input_example=X)
    >>> with OnlinePredictor(str(path)) as predictor:
    ...     predictor.predict({"a": 3.0}).value
    1
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mlops.errors import InvalidInputError
from mlops.serving._plan import Output, ScoringPlan, check_output
from mlops.serving._source import ModelSource, ResolvedModel
from mlops.serving.sinks import PredictionLogger, PredictionSink, open_sink

__all__ = ["OnlinePredictor", "Prediction", "PredictionBatch", "new_request_id"]

_log = logging.getLogger("mlops.serving")
_REQUEST_PREFIX = os.urandom(6).hex()
_REQUEST_COUNTER = itertools.count(1)


def new_request_id() -> str:
    """A request id unique across processes (a random per-process prefix and a counter).

    Example:
        >>> new_request_id() != new_request_id()
        True
    """
    return f"{_REQUEST_PREFIX}-{next(_REQUEST_COUNTER):x}"


@dataclass(frozen=True, slots=True)
class Prediction:
    """The answer for one record.

    Attributes:
        value: the prediction (a Python scalar; a list for multi-output models), or None with
            ``output="predict_proba"``.
        proba: class probabilities in ``classes`` order (with ``output="predict_proba"`` or ``"both"``).
        model_version: the registry version that produced it (None outside the registry).
        request_id: this request's id (for :meth:`Router.record_outcome` and the prediction log).
        latency_ms: time spent in ``predict``.
        variant: the router's variant that answered (None outside a router).
    """

    value: Any
    proba: tuple[float, ...] | None
    model_version: int | None
    request_id: str
    latency_ms: float
    variant: str | None = None


@dataclass(frozen=True)
class PredictionBatch:
    """The answers for several records, in their order.

    Attributes:
        values: predictions (a NumPy array), or None with ``output="predict_proba"``.
        proba: an ``(n, n_classes)`` array, or None.
        model_version: the registry version used for every record.
        request_ids: one id per record.
        latency_ms: time spent in ``predict_many``.
        variant: the router's variant (None outside a router).
    """

    values: Any
    proba: Any
    model_version: int | None
    request_ids: tuple[str, ...]
    latency_ms: float
    variant: str | None = None

    def __len__(self) -> int:
        return len(self.request_ids)


@dataclass(frozen=True, slots=True)
class _Active:
    """What one request uses, read once: never mutated, replaced whole on a swap."""

    plan: ScoringPlan
    version: int | None
    source: str


class OnlinePredictor:
    """Low-latency, thread-safe predictions for single records, following an alias when asked.

    Args:
        model_uri: any model URI; ``models:/name@alias``, ``models:/name/<stage>`` and
            ``models:/name/latest`` can be followed with ``refresh_s``.
        output: ``"predict"``, ``"predict_proba"`` or ``"both"``.
        refresh_s: poll the registry this often (seconds) and swap to a new version; only for URIs
            that follow (an alias, a stage or ``latest``). None: load once.
        log_to: log every prediction for monitoring: a :class:`~mlops.serving.sinks.PredictionSink`,
            ``runs:/<run_id>/<folder>`` or a folder path/URL for Parquet parts. Buffered and written by
            a background thread (see :mod:`mlops.serving.sinks`).
        log_options: ``batch_rows``, ``flush_interval_s``, ``max_buffer_rows`` for the logger.
        **load_options: passed to :func:`mlops.load_model` (``registry_uri``, ``client``,
            ``allow_pickle``, ``trusted_types``, ``storage_options``, ``cache_dir``).

    Raises:
        InvalidInputError: a bad option (``refresh_s`` for a URI that names one fixed model).
        NotFoundError: no model at the URI.

    Example:
        >>> OnlinePredictor("models:/credit/3", refresh_s=5)
        Traceback (most recent call last):
        mlops.errors.InvalidInputError: refresh_s only applies to a URI that can move ...
    """

    def __init__(
        self,
        model_uri: str,
        *,
        output: Output = "predict",
        refresh_s: float | None = None,
        log_to: PredictionSink | str | None = None,
        log_options: Mapping[str, Any] | None = None,
        **load_options: Any,
    ) -> None:
        self.output = check_output(output)
        self.source = ModelSource(model_uri, load_options)
        if refresh_s is not None:
            if isinstance(refresh_s, bool) or not isinstance(refresh_s, (int, float)) or not refresh_s > 0:
                raise InvalidInputError(f"refresh_s must be a positive number of seconds, not {refresh_s!r}")
            if not self.source.follows:
                raise InvalidInputError(
                    f"refresh_s only applies to a URI that can move (models:/name@alias, "
                    f"models:/name/<stage>, models:/name/latest); {model_uri!r} names one model"
                )
        self.model_uri = model_uri
        self.refresh_s = refresh_s
        self.swaps = 0
        self.last_refresh_error: BaseException | None = None
        self._refresh_lock = threading.Lock()
        self._active = self._load(self.source.resolve())
        self._logger: PredictionLogger | None = None
        if log_to is not None:
            sink = open_sink(log_to, client=load_options.get("client"))
            self._logger = PredictionLogger(sink, **dict(log_options or {}))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if refresh_s is not None:
            self._thread = threading.Thread(target=self._poll, name="mlops-model-refresh", daemon=True)
            self._thread.start()

    def __repr__(self) -> str:
        return f"OnlinePredictor({self.model_uri!r}, version={self.model_version}, mode={self.mode!r})"

    def __enter__(self) -> OnlinePredictor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ state
    def _load(self, resolved: ResolvedModel) -> _Active:
        model = self.source.load(resolved)
        return _Active(ScoringPlan(model, self.output), resolved.version, resolved.source)

    @property
    def model_version(self) -> int | None:
        """The registry version serving now (None outside the registry)."""
        return self._active.version

    @property
    def model(self) -> Any:
        """The :class:`~mlops.models.LoadedModel` serving now."""
        return self._active.plan.model

    @property
    def mode(self) -> str:
        """How records reach the model: ``"array"``, ``"names"`` or ``"frame"`` (see ``_plan``)."""
        return self._active.plan.mode

    @property
    def logger(self) -> PredictionLogger | None:
        """The prediction logger, when ``log_to`` was given."""
        return self._logger

    def refresh(self) -> bool:
        """Ask the registry now; load and swap to a new version if the URI moved.

        Returns:
            True when the model was swapped.

        Raises:
            NotFoundError: the alias or stage names no version any more (the current model stays).
        """
        if not self.source.follows:
            return False
        with self._refresh_lock:
            resolved = self.source.resolve()
            current = self._active
            if resolved.version == current.version and resolved.source == current.source:
                return False
            self._active = self._load(resolved)  # one reference swap: requests read it once
            self.swaps += 1
            _log.info("%s: now serving version %s", self.model_uri, resolved.version)
            return True

    def _poll(self) -> None:
        assert self.refresh_s is not None
        while not self._stop.wait(self.refresh_s):
            try:
                self.refresh()
                self.last_refresh_error = None
            except Exception as e:  # keep serving the current version
                self.last_refresh_error = e
                _log.warning(
                    "%s: refresh failed, still serving version %s: %s", self.model_uri, self.model_version, e
                )

    def close(self) -> None:
        """Stop polling and flush the prediction log (idempotent)."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()
        if self._logger is not None:
            self._logger.close()

    # ------------------------------------------------------------------ predicting
    def predict(self, record: Any, *, variant: str | None = None) -> Prediction:
        """The prediction for one record: a dict ``{column: value}`` or a one-row DataFrame.

        Raises:
            InvalidInputError: the record does not match the model's signature (missing or unknown
                key, wrong type); the message names the column.

        Example:
            >>> OnlinePredictor.__doc__ is not None
            True
        """
        started = time.perf_counter()
        active = self._active
        plan = active.plan
        if isinstance(record, Mapping) or plan.tensor:
            X = plan.record_input(record)
        elif hasattr(record, "columns") and hasattr(record, "iloc"):
            if len(record) != 1:
                raise InvalidInputError(
                    f"predict takes one record; this frame has {len(record)} rows: use predict_many"
                )
            X = plan.frame_input(record, fast=True)
        else:
            X = plan.record_input(record)  # raises with the expected form
        pred, proba = plan.call(X, fast=True)
        value = None
        if pred is not None:
            first = pred[0]
            value = first.tolist() if hasattr(first, "tolist") else first
        probs = None if proba is None else tuple(proba[0].tolist())
        request_id = f"{_REQUEST_PREFIX}-{next(_REQUEST_COUNTER):x}"
        latency_ms = (time.perf_counter() - started) * 1e3
        if self._logger is not None:
            self._logger.log(_entry(record, value, probs, active.version, request_id, latency_ms, variant))
        return Prediction(value, probs, active.version, request_id, latency_ms, variant)

    def predict_many(
        self, records: Sequence[Mapping[str, Any]] | Any, *, variant: str | None = None
    ) -> PredictionBatch:
        """Predictions for a list of records or a DataFrame, all from one model version.

        Raises:
            InvalidInputError: a record does not match the signature.
        """
        import numpy as np

        started = time.perf_counter()
        active = self._active
        plan = active.plan
        if hasattr(records, "columns") and hasattr(records, "iloc"):
            X = plan.frame_input(records, fast=True)
            rows: list[Any] | None = None
        else:
            rows = list(records)
            X = plan.records_input(rows)
        pred, proba = plan.call(X, fast=True)
        n = len(pred) if pred is not None else len(proba)
        ids = tuple(f"{_REQUEST_PREFIX}-{next(_REQUEST_COUNTER):x}" for _ in range(n))
        latency_ms = (time.perf_counter() - started) * 1e3
        if self._logger is not None:
            if rows is None:
                rows = records.to_dict(orient="records")  # type: ignore[union-attr]
            each = latency_ms / max(n, 1)
            for i in range(n):
                value = None if pred is None else _py(pred[i])
                probs = None if proba is None else tuple(np.asarray(proba[i]).tolist())
                self._logger.log(_entry(rows[i], value, probs, active.version, ids[i], each, variant))
        return PredictionBatch(pred, proba, active.version, ids, latency_ms, variant)


def _py(value: Any) -> Any:
    return value.tolist() if hasattr(value, "tolist") else value


def _entry(
    record: Any,
    value: Any,
    proba: tuple[float, ...] | None,
    version: int | None,
    request_id: str,
    latency_ms: float,
    variant: str | None,
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "request_id": request_id,
        "timestamp_ms": int(time.time() * 1000),
        "model_version": version,
        "variant": variant,
        "latency_ms": latency_ms,
    }
    items: Any
    if isinstance(record, Mapping):
        items = record.items()
    elif hasattr(record, "iloc"):
        items = record.iloc[0].to_dict().items()
    else:
        items = enumerate(record)
    for key, v in items:
        entry[f"input.{key}"] = _py(v)
    entry["prediction"] = value
    entry["proba"] = list(proba) if proba is not None else None
    return entry
