"""BatchPredictor: frames, chunked files on local disk, S3 and GCS, atomic failure, n_jobs."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from conftest import FEATURES, credit_frame
from mlops.errors import InvalidInputError
from mlops.serving import BatchPredictor


def test_predict_frame_matches_raw_and_ignores_extra_columns(lr_dir: tuple[Path, Any]) -> None:
    path, model = lr_dir
    data = credit_frame(1000, seed=3)
    out = BatchPredictor(str(path), output="both").predict(data)
    assert list(out.columns) == ["prediction", "proba_0", "proba_1"]
    assert out.index.equals(data.index)
    np.testing.assert_array_equal(out["prediction"], model.predict(data[FEATURES]))
    np.testing.assert_allclose(out[["proba_0", "proba_1"]], model.predict_proba(data[FEATURES]), rtol=1e-12)


def test_predict_frame_errors(lr_dir: tuple[Path, Any]) -> None:
    predictor = BatchPredictor(str(lr_dir[0]))
    with pytest.raises(InvalidInputError, match="AGE"):
        predictor.predict(credit_frame(5).drop(columns=["AGE"]))
    with pytest.raises(InvalidInputError, match="AGE"):
        predictor.predict(credit_frame(5).assign(AGE=1.5))
    with pytest.raises(InvalidInputError, match="n_jobs"):
        BatchPredictor(str(lr_dir[0]), n_jobs=0)
    with pytest.raises(InvalidInputError, match="output"):
        BatchPredictor(str(lr_dir[0]), output="proba")  # type: ignore[arg-type]


def test_n_jobs_gives_identical_results(lr_dir: tuple[Path, Any], tmp_path: Path) -> None:
    data = credit_frame(150_000, seed=4)  # more than one internal block
    one = BatchPredictor(str(lr_dir[0]), output="both", n_jobs=1)
    two = BatchPredictor(str(lr_dir[0]), output="both", n_jobs=2)
    pd.testing.assert_frame_equal(one.predict(data), two.predict(data), check_exact=True)
    data.to_parquet(tmp_path / "in.parquet")
    for predictor, name in ((one, "one.parquet"), (two, "two.parquet")):
        predictor.predict_file(str(tmp_path / "in.parquet"), str(tmp_path / name), chunk_rows=7_000)
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "one.parquet"), pd.read_parquet(tmp_path / "two.parquet"), check_exact=True
    )


@pytest.mark.parametrize(("src", "dst"), [("parquet", "parquet"), ("csv", "csv"), ("csv.gz", "parquet")])
def test_predict_file_local_in_chunks(lr_dir: tuple[Path, Any], tmp_path: Path, src: str, dst: str) -> None:
    path, model = lr_dir
    data = credit_frame(2_345, seed=5)
    source, target = tmp_path / f"in.{src}", tmp_path / f"out.{dst}"
    data.to_parquet(source) if src == "parquet" else data.to_csv(source, index=False)
    result = BatchPredictor(str(path), output="both", n_jobs=2).predict_file(
        str(source), str(target), chunk_rows=500, keep_columns=["ID"], progress=False
    )
    assert (result.rows, result.chunks) == (2_345, 5)
    out = pd.read_parquet(target) if dst == "parquet" else pd.read_csv(target)
    assert list(out.columns) == ["ID", "prediction", "proba_0", "proba_1"]
    np.testing.assert_array_equal(out["ID"], data["ID"])
    np.testing.assert_array_equal(out["prediction"], model.predict(data[FEATURES]))
    np.testing.assert_allclose(out["proba_1"], model.predict_proba(data[FEATURES])[:, 1], rtol=1e-9)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp file left


def test_bad_csv_value_deep_in_file_names_row_and_writes_nothing(
    lr_dir: tuple[Path, Any], tmp_path: Path
) -> None:
    data = credit_frame(3_000, seed=6).astype({"AGE": object})
    data.loc[2_345, "AGE"] = "forty"
    data.to_csv(tmp_path / "in.csv", index=False)
    (tmp_path / "out.parquet").write_bytes(b"previous output")
    with pytest.raises(InvalidInputError, match=r"row 2345 .*AGE"):
        BatchPredictor(str(lr_dir[0])).predict_file(
            str(tmp_path / "in.csv"), str(tmp_path / "out.parquet"), chunk_rows=400
        )
    assert (tmp_path / "out.parquet").read_bytes() == b"previous output"  # left as it was
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "out.parquet"]


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_bad_parquet_value_names_row(lr_dir: tuple[Path, Any], tmp_path: Path, n_jobs: int) -> None:
    data = credit_frame(3_000, seed=7)
    data["AGE"] = pd.array(data["AGE"], dtype="Int64")
    data.loc[2_801, "AGE"] = pd.NA  # a missing value in an int64 input: the signature forbids it
    data.to_parquet(tmp_path / "in.parquet")
    with pytest.raises(InvalidInputError, match=r"row 2801 \(0-based"):
        BatchPredictor(str(lr_dir[0]), n_jobs=n_jobs).predict_file(
            str(tmp_path / "in.parquet"), str(tmp_path / "out.csv"), chunk_rows=256
        )
    assert not (tmp_path / "out.csv").exists()


def test_predict_file_option_errors(lr_dir: tuple[Path, Any], tmp_path: Path) -> None:
    predictor = BatchPredictor(str(lr_dir[0]))
    credit_frame(10).to_parquet(tmp_path / "in.parquet")
    with pytest.raises(InvalidInputError, match="is the input"):
        predictor.predict_file(str(tmp_path / "in.parquet"), str(tmp_path / "in.parquet"))
    with pytest.raises(InvalidInputError, match="format"):
        predictor.predict_file(str(tmp_path / "in.parquet"), str(tmp_path / "out"), format="json")
    with pytest.raises(InvalidInputError, match="chunk_rows"):
        predictor.predict_file(str(tmp_path / "in.parquet"), str(tmp_path / "o.csv"), chunk_rows=0)
    with pytest.raises(InvalidInputError, match="NOPE"):
        predictor.predict_file(str(tmp_path / "in.parquet"), str(tmp_path / "o.csv"), keep_columns=["NOPE"])


@pytest.mark.parametrize("backend", ["s3", "gcs"])
def test_predict_file_on_object_stores(
    lr_dir: tuple[Path, Any], request: pytest.FixtureRequest, backend: str
) -> None:
    import fsspec

    bucket = request.getfixturevalue(f"{backend}_bucket")
    options = dict(request.getfixturevalue(f"{backend}_storage_options"))
    scheme = "s3" if backend == "s3" else "gs"
    root = f"{scheme}://{bucket}/serving-{uuid.uuid4().hex[:8]}"
    fs = fsspec.filesystem(scheme, **options, skip_instance_cache=True, use_listings_cache=False)
    data = credit_frame(1_500, seed=8)
    with fs.open(f"{root}/in.parquet", "wb") as f:
        data.to_parquet(f)
    path, model = lr_dir
    predictor = BatchPredictor(str(path))
    result = predictor.predict_file(
        f"{root}/in.parquet", f"{root}/out.csv", chunk_rows=400, keep_columns=["ID"], storage_options=options
    )
    assert result.rows == 1_500
    with fs.open(f"{root}/out.csv", "rb") as f:
        out = pd.read_csv(f)
    np.testing.assert_array_equal(out["prediction"], model.predict(data[FEATURES]))
    bad = data.astype({"AGE": object})
    bad.loc[1_234, "AGE"] = "x"
    with fs.open(f"{root}/bad.csv", "wb") as f:
        bad.to_csv(f, index=False)
    with pytest.raises(InvalidInputError, match="row 1234"):
        predictor.predict_file(
            f"{root}/bad.csv", f"{root}/bad-out.parquet", chunk_rows=300, storage_options=options
        )
    assert not fs.exists(f"{root}/bad-out.parquet")
