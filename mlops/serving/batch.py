"""``BatchPredictor``: score a DataFrame, or stream a CSV/Parquet file from any fsspec location.

``predict_file`` reads the input in chunks of ``chunk_rows`` rows (``pyarrow.parquet.ParquetFile.
iter_batches`` or the streaming ``pyarrow.csv.open_csv`` reader), checks each chunk against the model's
signature, scores it, and writes the predictions beside the columns you keep. The output file appears
only when every chunk succeeded (see :mod:`mlops.serving._files`); an error names the first bad row.

Rows are numbered from 0: row 0 is the first data row (the CSV header is not a row), the same number
as the row's position in ``pandas.read_csv``/``read_parquet`` of the whole file.

With ``n_jobs > 1`` chunks are scored by a pool of threads (scikit-learn's predict spends its time in
NumPy/BLAS/OpenMP code that releases the GIL, while a process pool would pickle every chunk both
ways) while the calling thread reads and writes, in input order: the output is the same for every
``n_jobs``. Memory then holds up to ``n_jobs + 1`` chunks instead of one.

Example:
    >>> import pathlib, tempfile
    >>> import pandas as pd
    >>> from sklearn.linear_model import LogisticRegression
    >>> from mlops.models import save_model
    >>> X = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0]}); y = [0, 0, 1, 1]
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "m"
    >>> _ = save_model(LogisticRegression().fit(X, y), path, input_example=X)
    >>> BatchPredictor(str(path)).predict(pd.DataFrame({"a": [0.0, 3.0]}))["prediction"].tolist()
    [0, 1]
"""

from __future__ import annotations

import collections
import concurrent.futures as cf
import functools
import itertools
import os
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mlops.errors import InvalidInputError
from mlops.serving._files import ChunkReader, Location, atomic_output, file_format, is_conversion_error
from mlops.serving._plan import Output, ScoringPlan
from mlops.serving._source import ModelSource

__all__ = ["BatchPredictor", "FileScoringResult"]

_MIN_SPLIT_ROWS = 10_000  # below this, threads cost more than they save
_ARROW_NUMPY = {
    "float64": "double",
    "float32": "float",
    "int64": "int64",
    "int32": "int32",
    "int16": "int16",
    "int8": "int8",
    "uint64": "uint64",
    "uint32": "uint32",
    "uint16": "uint16",
    "uint8": "uint8",
    "bool": "bool",
}
_CSV_TYPES = {
    **{k: v for k, v in _ARROW_NUMPY.items()},
    **{f"Int{b}": f"int{b}" for b in (8, 16, 32, 64)},
    **{f"UInt{b}": f"uint{b}" for b in (8, 16, 32, 64)},
    "Float64": "double",
    "Float32": "float",
    "boolean": "bool",
    "str": "string",
    "string": "string",
}


@dataclass(frozen=True)
class FileScoringResult:
    """What :meth:`BatchPredictor.predict_file` did.

    Attributes:
        output_uri: where the predictions are.
        rows: rows scored.
        chunks: chunks read.
        seconds: wall time.
        model_version: the registry version scored with (None outside the registry).
    """

    output_uri: str
    rows: int
    chunks: int
    seconds: float
    model_version: int | None


class BatchPredictor:
    """Scores frames and files with one model, loaded (and verified) once.

    Args:
        model_uri: any model URI (``models:/credit@champion``, ``runs:/...``, a path or URL). An alias
            or stage is resolved once, when the predictor is made.
        output: ``"predict"`` (a ``prediction`` column), ``"predict_proba"`` (one ``proba_<class>``
            column per class) or ``"both"``.
        n_jobs: threads scoring at once (``-1``: one per CPU).
        **load_options: passed to :func:`mlops.load_model` (``allow_pickle``, ``trusted_types``,
            ``client``, ``registry_uri``, ``storage_options``, ``cache_dir``, ``manifest_sha256``).

    Columns that are not model inputs (ids, labels) are ignored, so a table with key columns can be
    scored as it is; missing columns and values the signature forbids are errors.

    Raises:
        InvalidInputError: a bad option, or ``output`` asks for probabilities the model cannot give.
        NotFoundError: no model at ``model_uri``.

    Example:
        >>> BatchPredictor("models:/credit@champion", n_jobs=0)
        Traceback (most recent call last):
        mlops.errors.InvalidInputError: n_jobs must be a positive integer or -1, not 0
    """

    def __init__(
        self, model_uri: str, *, output: Output = "predict", n_jobs: int = 1, **load_options: Any
    ) -> None:
        self.n_jobs = _check_n_jobs(n_jobs)
        self.source = ModelSource(model_uri, load_options)
        resolved = self.source.resolve()
        self.model_uri = model_uri
        self.model_version = resolved.version
        self.model = self.source.load(resolved)
        self.plan = ScoringPlan(self.model, output)
        self._pool: cf.ThreadPoolExecutor | None = None

    def __repr__(self) -> str:
        return f"BatchPredictor({self.model_uri!r}, output={self.plan.output!r}, n_jobs={self.n_jobs})"

    def __getstate__(self) -> dict[str, Any]:  # shipped to Dask/Spark workers without its thread pool
        state = dict(self.__dict__)
        state["_pool"] = None
        state["source"] = None
        return state

    def _executor(self) -> cf.ThreadPoolExecutor:
        if self._pool is None:
            self._pool = cf.ThreadPoolExecutor(self.n_jobs, thread_name_prefix="mlops-batch")
        return self._pool

    def close(self) -> None:
        """Stop the thread pool (the predictor still works; a new pool starts when needed)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    # ------------------------------------------------------------------ frames
    def predict(self, frame: Any) -> Any:
        """Predictions for a DataFrame, as a DataFrame on the same index.

        Columns: ``prediction`` and/or ``proba_<class>`` (see ``output``).

        Raises:
            InvalidInputError: missing columns, or values the signature does not allow.
        """

        X = self.plan.frame_input(frame, fast=True)
        n = len(X) if not hasattr(X, "shape") else X.shape[0]
        if self.n_jobs == 1 or n < _MIN_SPLIT_ROWS:
            pred, proba = self.plan.call(X, fast=True)
        else:  # one contiguous row range per thread; results concatenated in input order
            bounds = [round(n * k / self.n_jobs) for k in range(self.n_jobs + 1)]
            blocks = [X[a:b] for a, b in itertools.pairwise(bounds)]
            score = functools.partial(self.plan.call, fast=True)
            parts = list(self._executor().map(score, blocks))
            pred = None if parts[0][0] is None else _concat([p for p, _ in parts])
            proba = None if parts[0][1] is None else _concat([q for _, q in parts])
        index = getattr(frame, "index", None)
        return self._frame(pred, proba, index)

    def _frame(self, pred: Any, proba: Any, index: Any) -> Any:
        import pandas as pd

        return pd.DataFrame(self._columns(pred, proba), index=index, copy=False)

    def _columns(self, pred: Any, proba: Any) -> dict[str, Any]:
        import numpy as np

        columns: dict[str, Any] = {}
        if pred is not None:
            pred = np.asarray(pred)
            if pred.ndim == 1:
                columns["prediction"] = pred
            else:
                columns.update({f"prediction_{j}": pred[:, j] for j in range(pred.shape[1])})
        if proba is not None:
            proba = np.asarray(proba)
            names = self.plan.proba_columns(proba.shape[1])
            columns.update({name: proba[:, j] for j, name in enumerate(names)})
        return columns

    # ------------------------------------------------------------------ files
    def predict_file(
        self,
        input_uri: str,
        output_uri: str,
        *,
        chunk_rows: int = 100_000,
        keep_columns: Sequence[str] | None = None,
        format: str | None = None,
        progress: bool | None = None,
        storage_options: Mapping[str, Any] | None = None,
    ) -> FileScoringResult:
        """Stream ``input_uri`` (CSV or Parquet, any fsspec location) and write predictions to ``output_uri``.

        The output has the ``keep_columns`` of the input (e.g. an id), then the prediction columns; its
        format follows its name (``.csv``, ``.parquet``), else the input's. It is written atomically:
        after an error there is no output file (an existing one is left as it was).

        Args:
            input_uri: a path or URL (``s3://...``, ``gs://...``); ``.csv.gz`` and friends are read.
            output_uri: where to write; replaced when it exists.
            chunk_rows: rows per chunk: memory holds about one chunk (``n_jobs + 1`` with threads).
            keep_columns: input columns copied into the output, in this order.
            format: the input format, ``"csv"`` or ``"parquet"`` (default: from the name).
            progress: show a progress bar (tqdm); None: only when stderr is a terminal.
            storage_options: fsspec options for both locations (``endpoint_url``, credentials).

        Returns:
            Rows, chunks and time taken.

        Raises:
            InvalidInputError: a bad option, a missing column, or a value the signature does not
                allow; the message names the row (0-based, header not counted) and the column.
            NotFoundError: no input file.

        Example:
            >>> import pathlib, tempfile
            >>> import pandas as pd
            >>> from sklearn.linear_model import LinearRegression
            >>> from mlops.models import save_model
            >>> tmp = pathlib.Path(tempfile.mkdtemp())
            >>> X = pd.DataFrame({"x": [1.0, 2.0]})
            >>> _ = save_model(LinearRegression().fit(X, [2.0, 4.0]), tmp / "m", input_example=X)
            >>> pd.DataFrame({"id": [7, 8], "x": [3.0, 4.0]}).to_csv(tmp / "in.csv", index=False)
            >>> BatchPredictor(str(tmp / "m")).predict_file(
            ...     str(tmp / "in.csv"), str(tmp / "out.parquet"), keep_columns=["id"]).rows
            2
            >>> pd.read_parquet(tmp / "out.parquet").round(6).values.tolist()
            [[7.0, 6.0], [8.0, 8.0]]
        """
        started = time.perf_counter()
        if not isinstance(chunk_rows, int) or isinstance(chunk_rows, bool) or chunk_rows < 1:
            raise InvalidInputError(f"chunk_rows must be a positive integer, not {chunk_rows!r}")
        keep = list(keep_columns or ())
        if any(not isinstance(c, str) for c in keep):
            raise InvalidInputError(f"keep_columns must be column names (strings), not {keep_columns!r}")
        fmt = file_format(input_uri, format)
        try:
            out_fmt = file_format(output_uri, None)
        except InvalidInputError:
            out_fmt = fmt
        source, target = Location.open(input_uri, storage_options), Location.open(output_uri, storage_options)
        if source.same_file(target):
            raise InvalidInputError(f"the output {output_uri!r} is the input file; write somewhere else")
        names = list(self.plan.names)
        columns = None if not names else list(dict.fromkeys([*names, *keep]))
        csv_types = self._csv_types() if fmt == "csv" else None
        reader = ChunkReader(source, fmt, chunk_rows, columns, csv_types)
        bar = _progress_bar(progress, reader.total_rows)
        rows = chunks = 0
        try:
            with atomic_output(target) as f:
                writer: Any = None
                for table in self._scored_tables(reader, keep, input_uri):
                    if writer is None:
                        writer = _open_writer(f, out_fmt, table.schema)
                    writer.write_table(table)
                    rows += table.num_rows
                    chunks += 1
                    if bar is not None:
                        bar.update(table.num_rows)
                if writer is None:
                    writer = _open_writer(f, out_fmt, self._empty_table(keep, reader).schema)
                writer.close()
        finally:
            reader.close()
            if bar is not None:
                bar.close()
        return FileScoringResult(output_uri, rows, chunks, time.perf_counter() - started, self.model_version)

    def _scored_tables(self, reader: ChunkReader, keep: list[str], uri: str) -> Any:
        import pyarrow as pa

        def chunks() -> Any:
            start = 0
            it = iter(reader)
            while True:
                try:
                    table = next(it)
                except StopIteration:
                    return
                except pa.ArrowInvalid as e:
                    raise self._read_error(e, reader, uri, start) from e
                if not keep or all(c in table.column_names for c in keep):
                    yield start, table
                else:
                    missing = [c for c in keep if c not in table.column_names]
                    raise InvalidInputError(f"{uri!r} has no column(s) {missing} to keep")
                start += table.num_rows

        if self.n_jobs == 1:
            for start, table in chunks():
                yield self._score_table(table, start, keep, uri)
            return
        pool = self._executor()
        pending: collections.deque[cf.Future[Any]] = collections.deque()
        try:
            for start, table in chunks():
                pending.append(pool.submit(self._score_table, table, start, keep, uri))
                if len(pending) >= self.n_jobs:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()

    def _score_table(self, table: Any, start: int, keep: list[str], uri: str) -> Any:
        import pyarrow as pa

        try:
            X = self._table_input(table if self.plan.names or not keep else table.drop_columns(keep))
        except InvalidInputError as e:
            row, why = self._locate(table, start), str(e)
            where = f"row {row}" if row is not None else f"rows {start}-{start + table.num_rows - 1}"
            raise InvalidInputError(
                f"{uri!r}, {where} (0-based, header not counted): {why}; nothing was written"
            ) from e
        pred, proba = self.plan.call(X, fast=True)
        arrays = {c: table.column(c) for c in keep}
        for name, values in self._columns(pred, proba).items():
            arrays[name] = pa.array(values)
        return pa.table(arrays)

    def _table_input(self, table: Any) -> Any:
        """Arrow chunk → model input: straight to a float64 array when the types already match."""
        import numpy as np

        plan = self.plan
        if plan.mode in ("array", "names") and not plan.tensor and plan.names:
            arrow_types = [str(table.schema.field(n).type) for n in plan.names]
            exact = all(
                _ARROW_NUMPY.get(d) == a and (table.column(n).null_count == 0 or d.startswith("float"))
                for n, d, a in zip(plan.names, plan.dtypes, arrow_types, strict=True)
            )
            if exact:
                out = np.empty((table.num_rows, len(plan.names)), dtype=np.float64, order="F")
                for j, name in enumerate(plan.names):
                    column = table.column(name)
                    out[:, j] = (
                        column.to_numpy() if column.num_chunks == 1 else column.combine_chunks().to_numpy()
                    )
                return out
        frame = table.select(list(plan.names)).to_pandas() if plan.names else table.to_pandas()
        return plan.frame_input(frame, fast=True)

    def _locate(self, table: Any, start: int) -> int | None:
        """The first row of ``table`` that fails the signature (prefix bisection), as a file row."""

        def fails(n: int) -> bool:
            try:
                self._table_input(table.slice(0, n))
            except InvalidInputError:
                return True
            return False

        lo, hi = 0, table.num_rows
        if hi == 0 or not fails(hi):
            return None
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if fails(mid):
                hi = mid
            else:
                lo = mid
        return start + hi - 1

    def _read_error(self, error: Exception, reader: ChunkReader, uri: str, start: int) -> InvalidInputError:
        if is_conversion_error(error):
            found = reader.locate_csv_error()
            if found is not None:
                row, column = found
                expected = (
                    self.plan.dtypes[self.plan.names.index(column)] if column in self.plan.names else "?"
                )
                return InvalidInputError(
                    f"{uri!r}, row {row} (0-based, header not counted): column {column!r} holds a value "
                    f"that is not {expected} ({error}); nothing was written"
                )
        return InvalidInputError(
            f"{uri!r}: cannot read the rows from {start} on: {error}; nothing was written"
        )

    def _csv_types(self) -> dict[str, Any]:
        import pyarrow as pa

        types = {}
        for name, dtype in zip(self.plan.names, self.plan.dtypes, strict=True):
            arrow = _CSV_TYPES.get(dtype)
            if arrow is not None:
                types[name] = pa.type_for_alias(arrow)
        return types

    def _empty_table(self, keep: list[str], reader: ChunkReader) -> Any:
        import pandas as pd
        import pyarrow as pa

        record = self.plan.probe_records()[0]
        sample = self.predict(pd.DataFrame([record]))
        arrays = {c: pa.array([], type=pa.string()) for c in keep}
        for name in sample.columns:
            arrays[name] = pa.array(sample[name].to_numpy()[:0])
        return pa.table(arrays)


def _concat(parts: list[Any]) -> Any:
    import numpy as np

    return np.concatenate([np.asarray(p) for p in parts])


def _check_n_jobs(n_jobs: Any) -> int:
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or (n_jobs < 1 and n_jobs != -1):
        raise InvalidInputError(f"n_jobs must be a positive integer or -1, not {n_jobs!r}")
    return n_jobs if n_jobs > 0 else max(1, os.cpu_count() or 1)


def _open_writer(f: Any, fmt: str, schema: Any) -> Any:
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return pq.ParquetWriter(f, schema)
    import pyarrow.csv as pc

    return pc.CSVWriter(f, schema)


def _progress_bar(progress: bool | None, total: int | None) -> Any:
    if progress is None:
        progress = bool(getattr(sys.stderr, "isatty", lambda: False)())
    if not progress:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit="rows", unit_scale=True, desc="scoring", leave=False)
