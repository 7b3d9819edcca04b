"""Score a Spark or Dask DataFrame with the same model and rules as :class:`BatchPredictor`.

Both load and verify the model once, on the driver/client, and ship the loaded predictor to the
workers with the task (Spark broadcasts it; Dask puts it in the graph once), so workers need neither
the registry nor the artifact store, only ``mlops`` and the model's libraries.

* :func:`spark_udf`: a pandas UDF (``pip install 'mlops[spark]'``) over the signature's columns.
* :func:`predict_dask`: ``map_partitions`` over a Dask DataFrame (``pip install 'mlops[dask]'``).

Example:
    >>> spark_udf.__module__
    'mlops.serving.scaleout'
"""

from __future__ import annotations

from typing import Any

from mlops.errors import InvalidInputError, MissingDependencyError
from mlops.serving._plan import Output
from mlops.serving.batch import BatchPredictor

__all__ = ["predict_dask", "spark_udf"]


def spark_udf(spark: Any, model_uri: str, *, output: Output = "predict", **load_options: Any) -> Any:
    """A PySpark pandas UDF that scores rows with the model at ``model_uri``.

    Call it on the signature's columns, in the signature's order, or on one ``struct`` of named
    columns. With ``output="predict"`` it returns a ``double`` column of predictions (class labels
    must be numeric); with ``"predict_proba"`` an ``array<double>`` of class probabilities.

    Args:
        spark: the ``SparkSession``.
        model_uri: any model URI; an alias or stage is resolved once, now.
        output: ``"predict"`` or ``"predict_proba"``.
        **load_options: passed to :func:`mlops.load_model`.

    Raises:
        MissingDependencyError: PySpark is not installed.
        InvalidInputError: ``output="both"`` (a UDF returns one column).

    Example:
        >>> spark_udf(None, "models:/m/1", output="both")
        Traceback (most recent call last):
        mlops.errors.InvalidInputError: spark_udf returns one column: output must be 'predict' or ...
    """
    if output not in ("predict", "predict_proba"):
        raise InvalidInputError("spark_udf returns one column: output must be 'predict' or 'predict_proba'")
    try:
        from pyspark.sql.functions import pandas_udf
    except ImportError as e:
        raise MissingDependencyError(f"spark_udf needs PySpark: pip install 'mlops[spark]' ({e})") from e
    import pandas as pd
    from pyspark import cloudpickle

    predictor = BatchPredictor(model_uri, output=output, **load_options)
    # cloudpickle, not pickle: the compiled signature checks are closures
    shipped = spark.sparkContext.broadcast(cloudpickle.dumps(predictor))
    names = list(predictor.plan.names)
    return_type = "double" if output == "predict" else "array<double>"

    def score(*columns: Any) -> Any:
        model = _unpickled(shipped)
        if len(columns) == 1 and isinstance(columns[0], pd.DataFrame):
            frame = columns[0]
        elif names and len(columns) == len(names):
            frame = pd.DataFrame(dict(zip(names, columns, strict=True)))
        else:
            raise InvalidInputError(
                f"call the UDF on the model's {len(names)} input columns {names} in order, or on one struct"
            )
        result = model.predict(frame)
        if output == "predict":
            return pd.Series(result["prediction"].to_numpy(dtype="float64"))
        return pd.Series(list(result.to_numpy(dtype="float64")))

    from pyspark.rdd import PythonEvalType

    # a scalar pandas UDF over any number of columns: varargs have no type hint Spark can read
    return pandas_udf(score, returnType=return_type, functionType=PythonEvalType.SQL_SCALAR_PANDAS_UDF)


_WORKER_MODELS: dict[int, BatchPredictor] = {}


def _unpickled(shipped: Any) -> BatchPredictor:
    """The broadcast predictor, unpickled once per worker process."""
    import pickle

    key = id(shipped)
    model = _WORKER_MODELS.get(key)
    if model is None:
        model = _WORKER_MODELS[key] = pickle.loads(shipped.value)
    return model


def predict_dask(ddf: Any, model_uri: str, *, output: Output = "predict", **load_options: Any) -> Any:
    """Predictions for a Dask DataFrame, partition by partition (lazy: call ``.compute()``).

    The result has the columns of :meth:`BatchPredictor.predict` on the input's index; columns that are
    not model inputs are ignored.

    Args:
        ddf: a ``dask.dataframe.DataFrame`` holding the signature's columns.
        model_uri: any model URI; an alias or stage is resolved once, now.
        output: ``"predict"``, ``"predict_proba"`` or ``"both"``.
        **load_options: passed to :func:`mlops.load_model`.

    Raises:
        MissingDependencyError: Dask is not installed.

    Example:
        >>> predict_dask.__doc__ is not None
        True
    """
    try:
        import dask
    except ImportError as e:
        raise MissingDependencyError(f"predict_dask needs Dask: pip install 'mlops[dask]' ({e})") from e
    import pandas as pd

    predictor = BatchPredictor(model_uri, output=output, **load_options)
    sample = predictor.predict(pd.DataFrame(predictor.plan.probe_records()))
    meta = sample.iloc[:0]
    shipped = dask.delayed(predictor, pure=True)
    return ddf.map_partitions(_score_partition, shipped, meta=meta)


def _score_partition(partition: Any, predictor: BatchPredictor) -> Any:
    if len(partition) == 0:
        import pandas as pd

        sample = predictor.predict(pd.DataFrame(predictor.plan.probe_records()))
        return sample.iloc[:0].set_axis(partition.index[:0])
    return predictor.predict(partition)
