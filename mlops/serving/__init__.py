"""Serving: batch scoring of frames and files, low-latency online predictions, and A/B routing.

* :class:`BatchPredictor`: ``predict(frame)`` and ``predict_file(input_uri, output_uri)``, streaming
  CSV/Parquet from any fsspec location in chunks, atomically, in parallel with ``n_jobs``;
  :func:`spark_udf` and :func:`predict_dask` score Spark and Dask DataFrames with the same rules.
* :class:`OnlinePredictor`: ``predict(record)`` near the raw model's latency, thread-safe; follows
  an alias or a stage and swaps versions without dropping a request; optional prediction log.
* :class:`Router`: weighted A/B split, sticky by a key's stable hash or random, shadow scoring,
  per-variant figures and an outcome z-test.

See ``docs/serving.md``.

Example:
    >>> import pathlib, tempfile
    >>> import pandas as pd
    >>> from sklearn.linear_model import LinearRegression
    >>> from mlops.models import save_model
    >>> X = pd.DataFrame({"x": [1.0, 2.0]}); path = pathlib.Path(tempfile.mkdtemp()) / "m"
    >>> _ = save_model(LinearRegression().fit(X, [2.0, 4.0]), path, input_example=X)
    >>> round(OnlinePredictor(str(path)).predict({"x": 5.0}).value, 6)
    10.0
"""

from __future__ import annotations

from mlops.serving.batch import BatchPredictor, FileScoringResult
from mlops.serving.online import OnlinePredictor, Prediction, PredictionBatch
from mlops.serving.router import Router, two_proportion_z_test
from mlops.serving.scaleout import predict_dask, spark_udf
from mlops.serving.sinks import ParquetSink, PredictionLogger, PredictionSink, RunTableSink

__all__ = [
    "BatchPredictor",
    "FileScoringResult",
    "OnlinePredictor",
    "ParquetSink",
    "Prediction",
    "PredictionBatch",
    "PredictionLogger",
    "PredictionSink",
    "Router",
    "RunTableSink",
    "predict_dask",
    "spark_udf",
    "two_proportion_z_test",
]
