"""Autolog for scikit-learn: what happens around each top-level ``fit``.

A *top-level* fit is one not called from inside another patched fit on the same thread: a Pipeline's
steps, a meta-estimator's base estimators and a search's refits are nested and record nothing of their
own. For each top-level fit:

1. the run: the active run of this thread, or a new one that autolog ends when it is done;
2. params (``get_params(deep=True)``, values made stable strings), the estimator's class as tags, the
   training data as a dataset input, then the fit itself runs untouched;
3. training metrics (from one ``predict``) and the fit time; for search CV, the best params and score,
   ``cv_results_`` as a table and one child run per candidate (best first, up to ``max_tuning_runs``);
4. the model, with signature and input example, serialized and uploaded on a background thread; a run
   that autolog created is ended by that thread once the model is stored. A new fit of the same
   estimator object, ``mlops.flush()`` and interpreter exit wait for it.

Errors inside autolog's own logging become a warning; the fit's result and exceptions are never
changed.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
import warnings
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from mlops.autologging.extract import flatten_params, stable_str, training_metrics
from mlops.errors import MlopsError

__all__ = ["AutologConfig", "make_wrapper", "wait_for_pending"]

log = logging.getLogger(__name__)

_SEARCH_CLASSES = ("GridSearchCV", "RandomizedSearchCV", "HalvingGridSearchCV", "HalvingRandomSearchCV")
_INPUT_EXAMPLE_ROWS = 5


@dataclass
class AutologConfig:
    """The options given to :func:`mlops.autolog`."""

    log_models: bool = True
    log_datasets: bool = True
    log_training_metrics: bool = True
    max_tuning_runs: int = 50
    silent: bool = False
    exclusive: bool = False


_config = AutologConfig()
_local = threading.local()  # .depth: patched fits in progress on this thread
_jobs = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mlops-autolog")
_pending: dict[int, Future[None]] = {}  # id(estimator) -> its model-logging job
_pending_lock = threading.Lock()


def configure(config: AutologConfig) -> None:
    global _config
    _config = config


def _warn(message: str) -> None:
    if not _config.silent:
        warnings.warn(f"mlops autolog: {message}", stacklevel=3)
    log.debug("autolog: %s", message)


def wait_for_pending(timeout_s: float | None = None) -> None:
    """Block until every background model upload has finished (``mlops.flush()`` calls this)."""
    with _pending_lock:
        futures = list(_pending.values())
    for future in futures:
        try:
            future.result(timeout=timeout_s)
        except Exception as e:  # already reported as a warning by the job
            log.debug("autolog job failed: %s", e)


def make_wrapper(original: Callable[..., Any], method: str) -> Callable[..., Any]:
    """The replacement for one fitting method (see :func:`mlops.autologging.patching.patch`)."""

    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        depth = getattr(_local, "depth", 0)
        if depth:
            return original(self, *args, **kwargs)
        _wait_for(self)  # the previous fit's model upload must not see this fit's changes
        _local.depth = 1  # every fit from here on (inside the estimator or in our metrics) is nested
        try:
            session = _start(self, method, args, kwargs)
            started = time.perf_counter()
            try:
                result = original(self, *args, **kwargs)
            except BaseException as e:
                _fail(session, e)
                raise
            _finish(session, self, time.perf_counter() - started, args, kwargs)
            return result
        finally:
            _local.depth = 0

    return wrapper


def _wait_for(estimator: Any) -> None:
    with _pending_lock:
        future = _pending.get(id(estimator))
    if future is not None:
        try:
            future.result()
        except Exception as e:  # reported by the job itself
            log.debug("previous autolog job failed: %s", e)


@dataclass
class _Session:
    client: Any
    run_id: str
    owns_run: bool


def _start(estimator: Any, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> _Session | None:
    try:
        import mlops

        active = mlops.active_run()
        if active is not None and not _config.exclusive:
            session = _Session(mlops.get_client(), active.run_id, owns_run=False)
        else:
            client = mlops.get_client()
            if active is not None:
                experiment_id = active.experiment_id
            else:
                from mlops.tracking.fluent import _active_experiment_id

                experiment_id = _active_experiment_id(client)
            run = client.create_run(
                experiment_id,
                run_name=f"{type(estimator).__name__}-{time.strftime('%H%M%S')}",
                parent_run_id=active.run_id if active is not None else None,
            )
            session = _Session(client, run.run_id, owns_run=True)
        cls = type(estimator)
        tags = {
            "estimator_name": cls.__name__,
            "estimator_class": f"{cls.__module__}.{cls.__qualname__}",
            "mlops.autolog.method": method,
        }
        session.client.log_batch(session.run_id, params=flatten_params(estimator), tags=tags)
        X = _fit_inputs(args, kwargs)[0]
        if _config.log_datasets and X is not None:
            try:
                from mlops.tracking.datasets import describe_dataset

                session.client.store.log_inputs(session.run_id, [describe_dataset(X, name="training")])
            except Exception as e:  # the run and its params are still worth having
                _warn(f"could not describe the training data of {type(estimator).__name__}: {e}")
        return session
    except Exception as e:
        _warn(f"could not start logging {type(estimator).__name__}.{method}: {e}")
        return None


def _fail(session: _Session | None, error: BaseException) -> None:
    if session is None or not session.owns_run:
        return
    try:
        status = "KILLED" if isinstance(error, KeyboardInterrupt) else "FAILED"
        session.client.end_run(session.run_id, status=status)
    except Exception as e:
        _warn(f"could not end run {session.run_id}: {e}")


def _fit_inputs(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, Any, Any]:
    X = args[0] if args else kwargs.get("X")
    y = args[1] if len(args) > 1 else kwargs.get("y", kwargs.get("Y"))
    return X, y, kwargs.get("sample_weight")


def _finish(
    session: _Session | None, estimator: Any, fit_time: float, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    if session is None:
        return
    X, y, sample_weight = _fit_inputs(args, kwargs)
    try:
        metrics = {"training_fit_time_s": fit_time}
        if _config.log_training_metrics and X is not None:
            metrics.update(training_metrics(estimator, X, y, sample_weight))
        if type(estimator).__name__ in _SEARCH_CLASSES and hasattr(estimator, "cv_results_"):
            metrics.update(_log_search(session, estimator))
        session.client.log_metrics(session.run_id, metrics)
    except Exception as e:
        _warn(f"could not log metrics of {type(estimator).__name__}: {e}")
    model = getattr(estimator, "best_estimator_", None) or estimator
    job = _jobs.submit(_store_model, session, model, X)
    with _pending_lock:
        _pending[id(estimator)] = job
    job.add_done_callback(functools.partial(_forget, id(estimator)))


def _forget(key: int, future: Future[None]) -> None:
    with _pending_lock:
        if _pending.get(key) is future:
            del _pending[key]


def _store_model(session: _Session, model: Any, X: Any) -> None:
    """Background job: log the model (if asked), then end the run autolog created."""
    _local.depth = 1  # fits made while serializing (none expected) are not top-level fits
    try:
        if _config.log_models:
            session.client.log_model(session.run_id, model, "model", input_example=_head(X))
    except Exception as e:
        _warn(f"could not log the model {type(model).__name__}: {e}")
    finally:
        if session.owns_run:
            try:
                session.client.end_run(session.run_id)
            except MlopsError as e:
                _warn(f"could not end run {session.run_id}: {e}")


def _head(X: Any) -> Any:
    if X is None:
        return None
    try:
        import pandas as pd

        if isinstance(X, (pd.DataFrame, pd.Series)):
            return X.iloc[:_INPUT_EXAMPLE_ROWS]
        if hasattr(X, "shape") and hasattr(X, "__getitem__") and not hasattr(X, "tocsr"):
            return X[:_INPUT_EXAMPLE_ROWS]
    except Exception:  # an input type we cannot slice: log the model without an example
        return None
    return None


def _log_search(session: _Session, search: Any) -> dict[str, float]:
    """Best params as params, cv_results_ as a table, and one child run per candidate."""
    import numpy as np
    import pandas as pd

    client = session.client
    best = {f"best_{k}": stable_str(v) for k, v in getattr(search, "best_params_", {}).items()}
    if best:
        client.log_batch(session.run_id, params=best)
    results = pd.DataFrame(search.cv_results_)
    table = results.copy()
    table["params"] = table["params"].map(stable_str)
    client.log_table(
        session.run_id,
        table.astype({c: str for c in table.columns if table[c].dtype == object}),
        "cv_results.csv",
    )
    metrics: dict[str, float] = {}
    if getattr(search, "best_score_", None) is not None and np.isfinite(search.best_score_):
        metrics["best_cv_score"] = float(search.best_score_)
    order = (
        results["rank_test_score"].argsort(kind="stable") if "rank_test_score" in results else results.index
    )
    run = client.get_run(session.run_id)
    score_columns = [c for c in results.columns if c.startswith(("mean_test_", "std_test_", "rank_test_"))]
    for position in list(order)[: max(_config.max_tuning_runs, 0)]:
        row = results.iloc[position]
        child = client.create_run(
            run.experiment_id, run_name=f"{run.run_name}-candidate-{position}", parent_run_id=session.run_id
        )
        client.log_batch(child.run_id, params={k: stable_str(v) for k, v in row["params"].items()})
        values = {c: float(row[c]) for c in score_columns if np.isfinite(float(row[c]))}
        if values:
            client.log_metrics(child.run_id, values)
        client.end_run(child.run_id)
    return metrics
