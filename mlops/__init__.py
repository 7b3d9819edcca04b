"""mlops: the whole life of a machine-learning model, embedded in your Python process.

Track experiments with MLflow's fluent names, over a store that needs no server::

    import mlops

    mlops.set_experiment("credit")
    with mlops.start_run(run_name="logreg"):
        mlops.log_param("C", 0.1)
        mlops.log_metric("auc", 0.81)
    print(mlops.search_runs(filter_string="metrics.auc > 0.8"))

Example:
    >>> import mlops
    >>> mlops.__version__
    '0.1.0'
"""

from __future__ import annotations

from mlops import errors, registry
from mlops.autologging import autolog
from mlops.entities import Experiment, Metric, ModelVersion, Param, RegisteredModel, Run
from mlops.models import load_model, log_model, save_model
from mlops.registry.fluent import register_model
from mlops.tracking.client import Client
from mlops.tracking.fluent import (
    ActiveRun,
    active_run,
    compare_runs,
    end_run,
    flush,
    get_artifact_uri,
    get_client,
    get_experiment_by_name,
    get_metric_history,
    get_run,
    get_tracking_uri,
    log_artifact,
    log_artifacts,
    log_dict,
    log_figure,
    log_input,
    log_metric,
    log_metrics,
    log_param,
    log_params,
    log_table,
    log_text,
    search_runs,
    set_artifact_uri,
    set_experiment,
    set_tag,
    set_tags,
    set_tracking_uri,
    start_run,
)

__version__ = "0.1.0"

_SUBPACKAGES = frozenset({"datasets", "fairness", "models", "serving", "store", "tracking"})


def __getattr__(name: str) -> object:
    """``mlops.fairness``, ``mlops.serving``, ... without importing them up front (PEP 562)."""
    if name in _SUBPACKAGES:
        import importlib

        return importlib.import_module(f"mlops.{name}")
    raise AttributeError(f"module 'mlops' has no attribute {name!r}")

__all__ = [
    "ActiveRun",
    "Client",
    "Experiment",
    "Metric",
    "ModelVersion",
    "Param",
    "RegisteredModel",
    "Run",
    "__version__",
    "active_run",
    "autolog",
    "compare_runs",
    "end_run",
    "errors",
    "flush",
    "get_artifact_uri",
    "get_client",
    "get_experiment_by_name",
    "get_metric_history",
    "get_run",
    "get_tracking_uri",
    "load_model",
    "log_artifact",
    "log_artifacts",
    "log_dict",
    "log_figure",
    "log_input",
    "log_metric",
    "log_metrics",
    "log_model",
    "log_param",
    "log_params",
    "log_table",
    "log_text",
    "register_model",
    "registry",
    "save_model",
    "search_runs",
    "set_artifact_uri",
    "set_experiment",
    "set_tag",
    "set_tags",
    "set_tracking_uri",
    "start_run",
]
