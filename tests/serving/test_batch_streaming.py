"""predict_file's streaming: pieces within chunks, no whole row groups, the read-ahead thread's failures."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import mlops.serving.batch as batch_module
from conftest import FEATURES, credit_frame
from mlops.models import save_model
from mlops.serving import BatchPredictor
from mlops.serving._files import ChunkReader, Location

READ_AHEAD = "mlops-read-ahead"


@pytest.fixture
def batch_sizes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """``(batch_size asked, rows got)`` for every batch pyarrow's Parquet reader hands out."""
    seen: list[tuple[int, int]] = []
    original = pq.ParquetFile.iter_batches

    def spy(self: pq.ParquetFile, batch_size: int = 65_536, **kwargs: Any) -> Iterator[Any]:
        for b in original(self, batch_size=batch_size, **kwargs):
            seen.append((batch_size, b.num_rows))
            yield b

    monkeypatch.setattr(pq.ParquetFile, "iter_batches", spy)
    return seen


def _one_row_group(frame: pd.DataFrame, path: Path) -> Path:
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=len(frame))
    assert pq.ParquetFile(path).metadata.num_row_groups == 1
    return path


def _read_ahead_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == READ_AHEAD]


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_pieces_never_straddle_a_chunk(tmp_path: Path, fmt: str) -> None:
    data = credit_frame(10_000, seed=11)
    path = tmp_path / f"in.{fmt}"
    _one_row_group(data, path) if fmt == "parquet" else data.to_csv(path, index=False)
    reader = ChunkReader(Location.open(str(path), None), fmt, 3_000, ["ID", *FEATURES])  # type: ignore[arg-type]
    try:
        sizes = [t.num_rows for t in reader.pieces(1_024)]
    finally:
        reader.close()
    assert sizes == [1_024, 1_024, 952] * 3 + [1_000]
    reader = ChunkReader(Location.open(str(path), None), fmt, 3_000, ["ID", *FEATURES])  # type: ignore[arg-type]
    try:
        chunks = list(reader)
    finally:
        reader.close()
    assert [t.num_rows for t in chunks] == [3_000, 3_000, 3_000, 1_000]
    np.testing.assert_array_equal(pa.concat_tables(chunks).column("ID").to_numpy(), data["ID"])


def test_a_big_row_group_is_read_piece_by_piece(
    lr_dir: tuple[Path, Any],
    tmp_path: Path,
    batch_sizes: list[tuple[int, int]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(batch_module, "_PIECE_ROWS", 4_096)
    path, model = lr_dir
    data = credit_frame(60_000, seed=12)
    source = _one_row_group(data, tmp_path / "in.parquet")  # one 60,000-row row group, chunks of 25,000
    result = BatchPredictor(str(path)).predict_file(
        str(source), str(tmp_path / "out.parquet"), chunk_rows=25_000, keep_columns=["ID"]
    )
    assert (result.rows, result.chunks) == (60_000, 3)
    assert {asked for asked, _ in batch_sizes} == {4_096}
    assert max(got for _, got in batch_sizes) <= 4_096
    out = pq.ParquetFile(tmp_path / "out.parquet")
    assert [out.metadata.row_group(i).num_rows for i in range(out.num_row_groups)] == [25_000, 25_000, 10_000]
    frame = out.read().to_pandas()
    np.testing.assert_array_equal(frame["ID"], data["ID"])
    np.testing.assert_array_equal(frame["prediction"], model.predict(data[FEATURES]))


def test_types_that_need_validation_are_read_chunk_by_chunk(
    lr_dir: tuple[Path, Any], tmp_path: Path, batch_sizes: list[tuple[int, int]]
) -> None:
    path, model = lr_dir
    data = credit_frame(30_000, seed=13).astype({"AGE": "int32"})  # the signature says int64: validated
    source = _one_row_group(data, tmp_path / "in.parquet")
    result = BatchPredictor(str(path)).predict_file(str(source), str(tmp_path / "out.csv"), chunk_rows=7_000)
    assert (result.rows, result.chunks) == (30_000, 5)
    assert {asked for asked, _ in batch_sizes} == {7_000}
    assert max(got for _, got in batch_sizes) <= 7_000
    out = pd.read_csv(tmp_path / "out.csv")
    np.testing.assert_array_equal(out["prediction"], model.predict(data[FEATURES].astype({"AGE": "int64"})))


def test_chunks_of_several_pieces_are_identical_for_every_n_jobs(
    lr_dir: tuple[Path, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(batch_module, "_PIECE_ROWS", 3_000)
    path, model = lr_dir
    data = credit_frame(50_000, seed=14)
    data.to_parquet(tmp_path / "in.parquet")
    outs = []
    for n_jobs in (1, 2):
        target = tmp_path / f"out-{n_jobs}.parquet"
        BatchPredictor(str(path), output="both", n_jobs=n_jobs).predict_file(
            str(tmp_path / "in.parquet"), str(target), chunk_rows=20_000, keep_columns=["ID"]
        )
        outs.append(pd.read_parquet(target))
    pd.testing.assert_frame_equal(outs[0], outs[1], check_exact=True)
    np.testing.assert_array_equal(outs[0]["prediction"], model.predict(data[FEATURES]))
    np.testing.assert_allclose(outs[0]["proba_1"], model.predict_proba(data[FEATURES])[:, 1], rtol=1e-9)


@pytest.mark.parametrize(("n_jobs", "out"), [(1, "out.parquet"), (2, "out.csv")])
def test_a_failure_in_the_read_ahead_thread_is_the_error_and_nothing_is_written(
    lr_dir: tuple[Path, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, n_jobs: int, out: str
) -> None:
    monkeypatch.setattr(batch_module, "_PIECE_ROWS", 1_000)
    original = ChunkReader.pieces
    failed_in: list[str] = []

    def failing(self: ChunkReader, piece_rows: int) -> Iterator[Any]:
        for i, table in enumerate(original(self, piece_rows)):
            if i == 3:
                failed_in.append(threading.current_thread().name)
                raise OSError("connection reset while reading")
            yield table

    monkeypatch.setattr(ChunkReader, "pieces", failing)
    credit_frame(20_000, seed=15).to_parquet(tmp_path / "in.parquet")
    (tmp_path / out).write_bytes(b"previous output")
    with pytest.raises(OSError, match="connection reset while reading"):
        BatchPredictor(str(lr_dir[0]), n_jobs=n_jobs).predict_file(
            str(tmp_path / "in.parquet"), str(tmp_path / out), chunk_rows=2_000, keep_columns=["ID"]
        )
    assert failed_in == [READ_AHEAD]  # it did fail in the background thread
    assert (tmp_path / out).read_bytes() == b"previous output"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["in.parquet", out])  # no temp file
    assert _read_ahead_threads() == []


def test_a_scoring_failure_stops_the_read_ahead_thread(
    lr_dir: tuple[Path, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(batch_module, "_PIECE_ROWS", 1_000)
    original_pieces, original_score = ChunkReader.pieces, BatchPredictor._score_piece
    read = 0

    def counting(self: ChunkReader, piece_rows: int) -> Iterator[Any]:
        nonlocal read
        for table in original_pieces(self, piece_rows):
            read += 1
            yield table

    def failing(self: BatchPredictor, piece: Any) -> Any:
        if read >= 2:
            raise RuntimeError("model blew up")
        return original_score(self, piece)

    monkeypatch.setattr(ChunkReader, "pieces", counting)
    monkeypatch.setattr(BatchPredictor, "_score_piece", failing)
    credit_frame(50_000, seed=16).to_parquet(tmp_path / "in.parquet")
    with pytest.raises(RuntimeError, match="model blew up"):
        BatchPredictor(str(lr_dir[0])).predict_file(
            str(tmp_path / "in.parquet"), str(tmp_path / "out.parquet")
        )
    assert read <= 4  # stopped at once: not the 50 pieces of the file
    assert not (tmp_path / "out.parquet").exists()
    assert _read_ahead_threads() == []


def test_fast_path_with_missing_floats_and_booleans(tmp_path: Path) -> None:
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    rng = np.random.default_rng(17)
    n = 5_000
    data = pd.DataFrame(
        {
            "ID": np.arange(n),
            "x": np.where(rng.random(n) < 0.1, np.nan, rng.normal(size=n)),
            "flag": rng.random(n) < 0.5,
            "k": rng.integers(0, 10, n),
        }
    )
    features = ["x", "flag", "k"]
    y = ((data["x"].fillna(0) > 0) ^ data["flag"]).astype(int)
    model = make_pipeline(SimpleImputer(), LogisticRegression()).fit(data[features], y)
    save_model(model, tmp_path / "m", input_example=data[features].head())
    predictor = BatchPredictor(str(tmp_path / "m"))
    assert predictor.plan.mode == "names"  # the fast path: Arrow → float64 array, no DataFrame
    data.to_parquet(tmp_path / "in.parquet")
    predictor.predict_file(str(tmp_path / "in.parquet"), str(tmp_path / "out.parquet"), chunk_rows=1_500)
    out = pd.read_parquet(tmp_path / "out.parquet")
    np.testing.assert_array_equal(out["prediction"], model.predict(data[features]))


def test_parquet_output_dictionary_encodes_labels_not_ids_or_probabilities(
    lr_dir: tuple[Path, Any], tmp_path: Path
) -> None:
    data = credit_frame(5_000, seed=18)
    data.to_parquet(tmp_path / "in.parquet")
    BatchPredictor(str(lr_dir[0]), output="both").predict_file(
        str(tmp_path / "in.parquet"), str(tmp_path / "out.parquet"), keep_columns=["ID"]
    )
    meta = pq.ParquetFile(tmp_path / "out.parquet").metadata.row_group(0)
    encodings = {meta.column(i).path_in_schema: meta.column(i).encodings for i in range(meta.num_columns)}
    assert "RLE_DICTIONARY" in encodings["prediction"]
    for column in ("ID", "proba_0", "proba_1"):
        assert "RLE_DICTIONARY" not in encodings[column], column


def test_a_remote_parquet_file_is_not_fetched_many_times_over(
    lr_dir: tuple[Path, Any],
    tmp_path: Path,
    s3_bucket: str,
    s3_storage_options: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import fsspec
    import s3fs

    options = {**s3_storage_options, "default_block_size": 5 << 20}  # gcsfs's default block size
    fs = fsspec.filesystem("s3", **options, skip_instance_cache=True, use_listings_cache=False)
    source = f"s3://{s3_bucket}/serving-fetch-{uuid.uuid4().hex[:8]}/in.parquet"
    data = credit_frame(300_000, seed=19)
    extra = [f"e{i}" for i in range(8)]  # kept too: 13 column streams read side by side
    data = data.assign(**{c: np.random.default_rng(i).normal(size=len(data)) for i, c in enumerate(extra)})
    with fs.open(source, "wb") as f:
        data.to_parquet(f, row_group_size=150_000)
    size = fs.size(source)
    assert size > 2 * (5 << 20)  # bigger than a few blocks, so the read pattern matters
    fetched: list[int] = []
    original = s3fs.core.S3File._fetch_range

    def spy(self: Any, start: int, end: int) -> Any:
        fetched.append(end - start)
        return original(self, start, end)

    monkeypatch.setattr(s3fs.core.S3File, "_fetch_range", spy)
    result = BatchPredictor(str(lr_dir[0])).predict_file(
        source, str(tmp_path / "out.parquet"), keep_columns=["ID", *extra], storage_options=options
    )
    assert result.rows == 300_000
    # measured: 4 MiB buffers fetch ~1.5x the file, 64 KiB buffers ~7x (43 requests instead of 9)
    assert sum(fetched) <= 3 * size, (len(fetched), sum(fetched), size)
