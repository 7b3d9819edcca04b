"""Automatic logging of scikit-learn training: ``mlops.autolog()``.

Example:
    >>> import mlops
    >>> from sklearn.linear_model import LinearRegression
    >>> mlops.autolog(silent=True)
    >>> model = LinearRegression().fit([[0.0], [1.0], [2.0]], [0.0, 1.0, 2.0])
    >>> mlops.flush()
    >>> run = mlops.search_runs(filter_string="tags.estimator_name = 'LinearRegression'").iloc[0]
    >>> run["params.fit_intercept"], round(float(run["metrics.training_r2_score"]), 3)
    ('True', 1.0)
    >>> mlops.autolog(disable=True)
"""

from __future__ import annotations

from mlops.autologging import patching
from mlops.autologging.sklearn import AutologConfig, configure, make_wrapper, wait_for_pending

__all__ = ["autolog", "wait_for_pending"]


def autolog(
    *,
    log_models: bool = True,
    log_datasets: bool = True,
    log_training_metrics: bool = True,
    max_tuning_runs: int = 50,
    silent: bool = False,
    disable: bool = False,
    exclusive: bool = False,
) -> None:
    """Record every top-level scikit-learn ``fit`` (and ``fit_transform``/``fit_predict``).

    Args:
        log_models: store the fitted model (with signature and input example) as ``model``.
        log_datasets: record the training data's digest, schema and row count as a dataset input.
        log_training_metrics: compute metrics on the training data (one ``predict``).
        max_tuning_runs: child runs for the best candidates of a hyperparameter search (0: none).
        silent: no warnings from autolog itself.
        disable: restore scikit-learn's original methods.
        exclusive: never log into a run the user started; use a child run of it instead.

    Calling it again changes the options; the patches are installed once.
    """
    if disable:
        wait_for_pending()
        patching.unpatch()
        return
    configure(
        AutologConfig(
            log_models=log_models,
            log_datasets=log_datasets,
            log_training_metrics=log_training_metrics,
            max_tuning_runs=max_tuning_runs,
            silent=silent,
            exclusive=exclusive,
        )
    )
    if not patching.is_patched():
        patching.patch(make_wrapper)
        _warm_up(log_models)


def _warm_up(log_models: bool) -> None:
    """Pay one-time costs now rather than in the first fit: open the store (and create its schema),
    and import the model-packaging code on a background thread."""
    import threading

    import mlops

    try:
        mlops.get_client()
    except Exception:  # an unreachable store is reported by the first fit, as a warning
        return
    if log_models:

        def _imports() -> None:
            try:
                import skops.io  # noqa: F401

                import mlops.models  # noqa: F401
            except Exception:  # a missing extra is reported when a model is logged
                pass

        threading.Thread(target=_imports, name="mlops-autolog-warmup", daemon=True).start()
