"""Scale-out: the same model scores a PySpark DataFrame (local mode) and a Dask DataFrame (LocalCluster).

CI installs ``pip install pyspark 'dask[dataframe]' distributed`` and Java 17; a missing piece is a
failure under ``MLOPS_TEST_REQUIRE_SERVERS=1`` (see ``tests/_require.py``), a skip otherwise.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from _require import skip_or_fail

from conftest import FEATURES, credit_frame
from mlops.serving import BatchPredictor, predict_dask, spark_udf

pytestmark = pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning")


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        skip_or_fail("the Spark test needs pip install pyspark")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        skip_or_fail("the Spark test needs Java 17 (java on PATH or JAVA_HOME)")
    os.environ["PYSPARK_PYTHON"] = sys.executable  # workers need this interpreter's packages
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    session = (
        SparkSession.builder.master("local[2]")
        .appName("mlops-serving-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", "2")
        .getOrCreate()
    )
    try:
        yield session
    finally:
        session.stop()


@pytest.fixture(scope="session")
def dask_client() -> Iterator[Any]:
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        skip_or_fail("the Dask test needs pip install 'dask[dataframe]' distributed")
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None)
    client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def test_spark_udf_matches_batch_predictor(spark: Any, lr_dir: tuple[Path, Any]) -> None:
    from pyspark.sql import functions as F

    path, model = lr_dir
    data = credit_frame(1_000, seed=21)
    sdf = spark.createDataFrame(data).repartition(3)
    predict = spark_udf(spark, str(path))
    proba = spark_udf(spark, str(path), output="predict_proba")
    scored = (
        sdf.withColumn("prediction", predict(*FEATURES))
        .withColumn("proba", proba(F.struct(*FEATURES)))
        .select("ID", "prediction", "proba")
        .toPandas()
        .sort_values("ID")
    )
    np.testing.assert_array_equal(scored["prediction"].to_numpy(), model.predict(data[FEATURES]))
    np.testing.assert_allclose(
        np.stack(scored["proba"].to_numpy()), model.predict_proba(data[FEATURES]), rtol=1e-9
    )


def test_predict_dask_matches_batch_predictor(dask_client: Any, lr_dir: tuple[Path, Any]) -> None:
    import dask.dataframe as dd

    path, model = lr_dir
    data = credit_frame(3_000, seed=22)
    ddf = dd.from_pandas(data, npartitions=4)
    result = predict_dask(ddf, str(path), output="both").compute()
    expected = BatchPredictor(str(path), output="both").predict(data)
    assert list(result.columns) == ["prediction", "proba_0", "proba_1"]
    np.testing.assert_array_equal(result.loc[data.index, "prediction"], model.predict(data[FEATURES]))
    np.testing.assert_allclose(result.loc[data.index].to_numpy(), expected.to_numpy(), rtol=1e-12)
