"""Model signatures: what a model takes and returns, inferred once and enforced at predict time.

A :class:`Signature` has an input schema and (optionally) an output schema. A schema is either a list
of named columns (:class:`ColumnSpec`: name, pandas dtype, nullability) for tabular models, or one
:class:`TensorSpec` (dtype and shape, ``-1`` for the batch axis) for array models.

Rules applied by :meth:`Signature.validate` (see ``docs/models.md``):

* a missing column or an unknown column is an :class:`~mlops.errors.InvalidInputError` naming it;
* columns come back in the signature's order;
* lossless casts are applied (``int32`` → ``int64``, ``int`` → ``float64`` when every value is exactly
  representable, ``float32`` → ``float64``, ``int64`` → ``Int64``, ``bool`` → ``boolean``, any string
  dtype → the expected string dtype); anything lossy (``float`` → ``int``, ``float64`` → ``float32``,
  ``bool`` → number, missing values into a non-nullable integer column) is an error naming the column;
* nullable integer (``Int64``) and boolean (``boolean``) columns keep their dtype.

The per-column checks are compiled once per signature and cached, so an online predictor pays only
for the checks themselves; :meth:`Signature.record_to_array` validates one ``dict`` record without
building a DataFrame.

Example:
    >>> import pandas as pd
    >>> sig = infer_signature(pd.DataFrame({"age": [31, 45], "income": [5.0, 7.5]}))
    >>> sig.input_names
    ('age', 'income')
    >>> sig.validate(pd.DataFrame({"income": [1.0], "age": [20]})).columns.tolist()
    ['age', 'income']
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from mlops.errors import InvalidInputError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

__all__ = ["ColumnSpec", "Schema", "Signature", "TensorSpec", "infer_schema", "infer_signature"]

_STRINGS = frozenset({"object", "str", "string"})
_NULLABLE_TO_NUMPY = {
    **{f"Int{b}": f"int{b}" for b in (8, 16, 32, 64)},
    **{f"UInt{b}": f"uint{b}" for b in (8, 16, 32, 64)},
    "Float32": "float32",
    "Float64": "float64",
    "boolean": "bool",
}
_EXACT_FLOAT = {"float16": 2**11, "float32": 2**24, "float64": 2**53}  # largest exactly representable int


@dataclass(frozen=True)
class ColumnSpec:
    """One named input or output column.

    Args:
        name: the column name (always a string).
        dtype: the pandas dtype name (``int64``, ``float64``, ``Int64``, ``boolean``, ``str``,
            ``object``, ``category``, ``datetime64[ns]``, ...).
        nullable: whether missing values were seen (informational for float and string columns).

    Example:
        >>> ColumnSpec("age", "Int64", nullable=True).to_dict()
        {'name': 'age', 'dtype': 'Int64', 'nullable': True}
    """

    name: str
    dtype: str
    nullable: bool = False

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"name": self.name, "dtype": self.dtype, "nullable": self.nullable}


@dataclass(frozen=True)
class TensorSpec:
    """An array input or output: numpy dtype name and shape with ``-1`` for any size (the batch axis).

    Example:
        >>> TensorSpec("float64", (-1, 4)).to_dict()
        {'dtype': 'float64', 'shape': [-1, 4]}
    """

    dtype: str
    shape: tuple[int, ...]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"dtype": self.dtype, "shape": list(self.shape)}


@dataclass(frozen=True)
class Schema:
    """Either ``columns`` (tabular) or ``tensor`` (array); exactly one is set.

    Example:
        >>> Schema(columns=(ColumnSpec("x", "float64"),)).is_tensor
        False
    """

    columns: tuple[ColumnSpec, ...] | None = None
    tensor: TensorSpec | None = None

    def __post_init__(self) -> None:
        if (self.columns is None) == (self.tensor is None):
            raise InvalidInputError("a schema has either columns or a tensor spec, not both or neither")
        if self.columns is not None:
            names = [c.name for c in self.columns]
            dupes = sorted({n for n in names if names.count(n) > 1})
            if dupes:
                raise InvalidInputError(f"a schema's column names must be unique; repeated: {dupes}")

    @property
    def is_tensor(self) -> bool:
        """True for an array schema."""
        return self.tensor is not None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (``{"type": "columns", ...}`` or ``{"type": "tensor", ...}``)."""
        if self.tensor is not None:
            return {"type": "tensor", **self.tensor.to_dict()}
        return {"type": "columns", "columns": [c.to_dict() for c in self.columns or ()]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Schema:
        """Rebuild a schema from :meth:`to_dict` output.

        Raises:
            InvalidInputError: the dict is not a schema.

        Example:
            >>> Schema.from_dict({"type": "tensor", "dtype": "float64", "shape": [-1, 2]}).tensor.shape
            (-1, 2)
        """
        try:
            if data["type"] == "tensor":
                return cls(tensor=TensorSpec(str(data["dtype"]), tuple(int(d) for d in data["shape"])))
            if data["type"] == "columns":
                return cls(
                    columns=tuple(
                        ColumnSpec(str(c["name"]), str(c["dtype"]), bool(c.get("nullable", False)))
                        for c in data["columns"]
                    )
                )
        except (KeyError, TypeError, ValueError) as e:
            raise InvalidInputError(f"not a valid schema: {data!r} ({e})") from e
        raise InvalidInputError(f"unknown schema type {data.get('type')!r}; expected 'columns' or 'tensor'")


@dataclass(frozen=True)
class Signature:
    """What a model takes (``inputs``) and returns (``outputs``, optional).

    Use :func:`infer_signature` to build one from data. :meth:`validate` checks and converts a batch;
    :meth:`record_to_array` and :meth:`record_to_frame` check one ``dict`` record (for online serving).

    Example:
        >>> import numpy as np
        >>> sig = infer_signature(np.zeros((3, 2)), np.zeros(3))
        >>> sig.to_dict()["inputs"]
        {'type': 'tensor', 'dtype': 'float64', 'shape': [-1, 2]}
    """

    inputs: Schema
    outputs: Schema | None = None

    # ------------------------------------------------------------------ (de)serialization
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (stored in the model manifest)."""
        return {"inputs": self.inputs.to_dict(), "outputs": self.outputs.to_dict() if self.outputs else None}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Signature:
        """Rebuild a signature from :meth:`to_dict` output.

        Example:
            >>> import numpy as np
            >>> sig = infer_signature(np.zeros((2, 3)))
            >>> Signature.from_dict(sig.to_dict()) == sig
            True
        """
        outputs = data.get("outputs")
        return cls(Schema.from_dict(data["inputs"]), Schema.from_dict(outputs) if outputs else None)

    @property
    def input_names(self) -> tuple[str, ...]:
        """Input column names in order (empty for a tensor signature)."""
        return tuple(c.name for c in self.inputs.columns or ())

    # ------------------------------------------------------------------ batch validation
    @cached_property
    def _column_checks(self) -> dict[str, Callable[[Any], Any]]:
        """One compiled check per input column: it takes a Series and returns it cast (or raises)."""
        return {c.name: _column_check(c) for c in self.inputs.columns or ()}

    def validate(self, data: Any) -> Any:
        """Check ``data`` against the input schema; return it cast and in the signature's column order.

        A column signature takes a DataFrame, a dict of columns or a dict record (one row); a tensor
        signature takes an array-like. The per-column checks are compiled on first use and reused.

        Raises:
            InvalidInputError: a missing or unknown column, a wrong shape, or a dtype that cannot be cast
                without loss; the message names the column.

        Example:
            >>> import pandas as pd
            >>> sig = infer_signature(pd.DataFrame({"n": pd.array([1, None], dtype="Int64")}))
            >>> sig.validate(pd.DataFrame({"n": [3, 4]}))["n"].dtype
            Int64Dtype()
        """
        if self.inputs.tensor is not None:
            return _validate_tensor(self.inputs.tensor, data)
        import pandas as pd

        if isinstance(data, Mapping):
            scalar = all(not _is_listlike(v) for v in data.values())
            data = pd.DataFrame({k: [v] for k, v in data.items()} if scalar else dict(data))
        elif isinstance(data, pd.Series):
            data = data.to_frame()
        if not isinstance(data, pd.DataFrame):
            raise InvalidInputError(
                f"this model takes a DataFrame (or a dict) with columns {list(self.input_names)}, "
                f"not {type(data).__name__}"
            )
        checks = self._column_checks
        given = [str(c) for c in data.columns]
        _check_names(self.input_names, given)
        if given != list(data.columns):
            data = data.set_axis(given, axis=1)
        out = {name: checks[name](data[name]) for name in self.input_names}
        return pd.DataFrame(out, index=data.index, copy=False)

    # ------------------------------------------------------------------ one record (online serving)
    @cached_property
    def _record_plan(self) -> tuple[tuple[str, ...], tuple[Callable[[str, Any], Any], ...], Any]:
        import numpy as np

        columns = self.inputs.columns
        if columns is None:
            raise InvalidInputError("record_to_array needs a column signature; this model takes an array")
        numeric = all(_kind(c.dtype) in "biuf" for c in columns)
        return (
            tuple(c.name for c in columns),
            tuple(_scalar_check(c) for c in columns),
            np.dtype("float64") if numeric else np.dtype(object),
        )

    def record_to_array(self, record: Mapping[str, Any]) -> np.ndarray:
        """Validate one record (``{column: scalar}``) and return it as a ``(1, n_columns)`` array.

        The array is ``float64`` when every input column is numeric or boolean (missing values as NaN),
        else ``object``; values are in the signature's column order. No DataFrame is built, so this is
        the cheap path for a model that accepts arrays. Type checks are per Python value (an ``int``
        for an integer column, a number for a float column, ``None`` only where nullable).

        Raises:
            InvalidInputError: a missing or unknown key, or a value of the wrong type; names the column.

        Example:
            >>> import pandas as pd
            >>> sig = infer_signature(pd.DataFrame({"a": [1, 2], "b": [0.5, 1.5]}))
            >>> sig.record_to_array({"b": 2.5, "a": 3})
            array([[3. , 2.5]])
        """
        import numpy as np

        names, checks, dtype = self._record_plan
        if len(record) != len(names) or any(n not in record for n in names):
            _check_names(names, [str(k) for k in record])
        values = [check(name, record[name]) for name, check in zip(names, checks, strict=True)]
        return np.array([values], dtype=dtype)

    def record_to_frame(self, record: Mapping[str, Any]) -> pd.DataFrame:
        """Validate one record and return a one-row DataFrame with the signature's dtypes.

        Example:
            >>> import pandas as pd
            >>> sig = infer_signature(pd.DataFrame({"a": [1, 2], "s": ["x", "y"]}))
            >>> sig.record_to_frame({"a": 1, "s": "z"}).dtypes.astype(str).tolist()
            ['int64', 'str']
        """
        import pandas as pd

        names, checks, _ = self._record_plan
        if len(record) != len(names) or any(n not in record for n in names):
            _check_names(names, [str(k) for k in record])
        columns = {}
        for spec, check in zip(self.inputs.columns or (), checks, strict=True):
            value = check(spec.name, record[spec.name])
            try:
                columns[spec.name] = pd.Series([value], dtype=spec.dtype)
            except (TypeError, ValueError, OverflowError) as e:
                why = f"column {spec.name!r} ({spec.dtype}) cannot hold {value!r}: {e}"
                raise InvalidInputError(why) from e
        return pd.DataFrame(columns)


# ====================================================================== inference
def _is_listlike(value: Any) -> bool:
    return hasattr(value, "__len__") and not isinstance(value, (str, bytes))


def infer_schema(data: Any) -> Schema:
    """The schema of a DataFrame, Series, dict of columns, array or list.

    Raises:
        InvalidInputError: ``data`` is ``None`` or a scalar.

    Example:
        >>> import pandas as pd
        >>> infer_schema(pd.DataFrame({"ok": pd.array([True, None], dtype="boolean")})).to_dict()
        {'type': 'columns', 'columns': [{'name': 'ok', 'dtype': 'boolean', 'nullable': True}]}
    """
    import numpy as np
    import pandas as pd

    if data is None:
        raise InvalidInputError("cannot infer a schema from None")
    if isinstance(data, Mapping):
        scalar = all(not _is_listlike(v) for v in data.values())
        data = pd.DataFrame({k: [v] for k, v in data.items()} if scalar else dict(data))
    if isinstance(data, pd.Series):
        data = data.to_frame(name=str(data.name) if data.name is not None else "output")
    if isinstance(data, pd.DataFrame):
        nulls = data.isna().any()
        return Schema(
            columns=tuple(
                ColumnSpec(str(name), str(dtype), bool(nulls.iloc[i]))
                for i, (name, dtype) in enumerate(data.dtypes.items())
            )
        )
    if hasattr(data, "toarray") and hasattr(data, "shape"):  # scipy.sparse
        return Schema(tensor=TensorSpec(str(data.dtype), (-1, *data.shape[1:])))
    array = np.asarray(data)
    if array.ndim == 0:
        raise InvalidInputError(f"cannot infer a schema from a scalar ({type(data).__name__})")
    return Schema(tensor=TensorSpec(_array_dtype_name(array.dtype), (-1, *array.shape[1:])))


def infer_signature(model_input: Any, model_output: Any = None) -> Signature:
    """A signature from example input (a training frame works too) and, optionally, model output.

    Example:
        >>> import numpy as np, pandas as pd
        >>> sig = infer_signature(pd.DataFrame({"x": [1.0]}), np.array([0]))
        >>> sig.outputs.to_dict()
        {'type': 'tensor', 'dtype': 'int64', 'shape': [-1]}
    """
    outputs = infer_schema(model_output) if model_output is not None else None
    return Signature(infer_schema(model_input), outputs)


def _array_dtype_name(dtype: Any) -> str:
    return "str" if dtype.kind in "US" else str(dtype)


# ====================================================================== compiled checks
def _kind(dtype_name: str) -> str:
    """A one-letter kind: numpy's (``b i u f M m O``), ``S`` for strings, ``c`` for category."""
    import numpy as np
    import pandas as pd

    if dtype_name in _STRINGS:
        return "S"
    if dtype_name == "category":
        return "c"
    base = _NULLABLE_TO_NUMPY.get(dtype_name)
    if base is not None:
        return np.dtype(base).kind
    try:
        kind: str = pd.api.types.pandas_dtype(dtype_name).kind
    except TypeError:
        return "?"
    return "S" if kind in "OUS" else kind


def _numpy_base(dtype_name: str) -> str:
    return _NULLABLE_TO_NUMPY.get(dtype_name, dtype_name)


def _numeric_cast_ok(actual: str, expected: str) -> bool | None:
    """True: always lossless; None: lossless only if the values fit (checked per batch); False: lossy."""
    import numpy as np

    a, e = np.dtype(_numpy_base(actual)), np.dtype(_numpy_base(expected))
    if a.kind == "b" or e.kind == "b":
        return a.kind == e.kind
    if e.kind == "f" and a.kind in "iu":
        if np.can_cast(a, e, casting="safe") and a.itemsize * 8 < np.finfo(e).nmant + 1:
            return True
        return None  # e.g. int64 -> float64: fine while |x| <= 2**53
    return bool(np.can_cast(a, e, casting="safe"))


def _column_check(spec: ColumnSpec) -> Callable[[Any], Any]:
    """Compile the check for one column; dtype decisions are memoized per incoming dtype."""
    decisions: dict[str, Callable[[Any], Any]] = {}

    def check(series: Any) -> Any:
        actual = str(series.dtype)
        fn = decisions.get(actual)
        if fn is None:
            fn = decisions[actual] = _plan(spec, actual)
        return fn(series)

    return check


def _lossy(spec: ColumnSpec, actual: str, why: str = "") -> InvalidInputError:
    return InvalidInputError(
        f"column {spec.name!r} has dtype {actual} but the model's signature expects {spec.dtype}"
        f"{'; ' + why if why else ''}; convert it explicitly if the conversion is intended"
    )


def _plan(spec: ColumnSpec, actual: str) -> Callable[[Any], Any]:
    """How to turn a Series of dtype ``actual`` into ``spec.dtype``, or an error if lossy."""
    import numpy as np
    import pandas as pd

    expected = spec.dtype
    if actual == expected:
        return _identity
    ka, ke = _kind(actual), _kind(expected)
    if ka == "S" and actual == "object" and ke not in "Sc":
        return _object_plan(spec)
    if ke == "S":
        if ka != "S":
            raise _lossy(spec, actual, "only string columns convert to a string column")

        def to_string(series: Any) -> Any:
            inferred = pd.api.types.infer_dtype(series, skipna=True) if actual == "object" else "string"
            if inferred not in ("string", "empty"):
                raise _lossy(spec, actual, "it holds values that are not strings")
            return series.astype(expected)

        return to_string
    if ke == "c":
        if ka not in "Sc":
            raise _lossy(spec, actual)
        return lambda series: series.astype("category")
    if ke in "Mm":
        if ka != ke:
            raise _lossy(spec, actual)

        def to_time(series: Any) -> Any:
            try:
                return series.astype(expected)
            except (TypeError, ValueError) as e:
                raise _lossy(spec, actual, str(e)) from e

        return to_time
    if ke not in "biuf" or ka not in "biuf":
        raise _lossy(spec, actual)
    ok = _numeric_cast_ok(actual, expected)
    if ok is False:
        raise _lossy(spec, actual, "the conversion would lose information")
    target_nullable = expected in _NULLABLE_TO_NUMPY
    source_nullable = actual in _NULLABLE_TO_NUMPY
    limit = _EXACT_FLOAT.get(_numpy_base(expected)) if ok is None else None
    float_target = ke == "f" and not target_nullable

    def to_number(series: Any) -> Any:
        if source_nullable and not target_nullable and not float_target and series.isna().any():
            raise _lossy(spec, actual, "it has missing values, which this dtype cannot hold")
        if limit is not None:
            present = series.dropna()  # compared as integers: a float copy would round first
            if bool((present > limit).any()) or bool((present < -limit).any()):
                raise _lossy(spec, actual, f"some values exceed {limit} and would be rounded")
        if float_target and source_nullable:
            return pd.Series(series.to_numpy(dtype=expected, na_value=np.nan), index=series.index)
        return series.astype(expected)

    return to_number


def _object_plan(spec: ColumnSpec) -> Callable[[Any], Any]:
    """An ``object`` column meeting a numeric/bool/time column: judge it by the values it holds."""
    import pandas as pd

    inferred_dtype = {"integer": "int64", "floating": "float64", "boolean": "bool", "empty": spec.dtype}

    def check(series: Any) -> Any:
        inferred = pd.api.types.infer_dtype(series, skipna=True)
        base = inferred_dtype.get(inferred)
        if inferred == "mixed-integer-float":
            base = "float64"
        if base is None:
            raise _lossy(spec, "object", f"it holds {inferred} values")
        has_na = bool(series.isna().any())
        if base == spec.dtype and not has_na:
            return series.astype(spec.dtype)
        staged = series.astype(_nullable_of(base) if has_na else base)
        return _plan(spec, str(staged.dtype))(staged)

    return check


def _nullable_of(base: str) -> str:
    return {"int64": "Int64", "bool": "boolean", "float64": "float64"}.get(base, base)


def _identity(series: Any) -> Any:
    return series


def _check_names(expected: Sequence[str], given: Sequence[str]) -> None:
    missing = [n for n in expected if n not in set(given)]
    unknown = [n for n in given if n not in set(expected)]
    dupes = sorted({n for n in given if list(given).count(n) > 1})
    if missing or unknown or dupes:
        parts = []
        if missing:
            parts.append(f"missing column(s) {missing}")
        if unknown:
            parts.append(f"unknown column(s) {unknown}")
        if dupes:
            parts.append(f"repeated column(s) {dupes}")
        raise InvalidInputError(
            f"input does not match the model's signature: {'; '.join(parts)}; "
            f"expected exactly {list(expected)}"
        )


# ====================================================================== scalar checks (records)
def _scalar_check(spec: ColumnSpec) -> Callable[[str, Any], Any]:
    import numpy as np

    kind = _kind(spec.dtype)
    nullable = spec.dtype in _NULLABLE_TO_NUMPY or kind in "fSc" or spec.nullable
    base = _numpy_base(spec.dtype)
    limit = _EXACT_FLOAT.get(base) if kind == "f" else None

    def missing(name: str, value: Any) -> bool:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            if not nullable:
                raise InvalidInputError(f"column {name!r} ({spec.dtype}) cannot be missing")
            return True
        return False

    def wrong(name: str, value: Any) -> InvalidInputError:
        return InvalidInputError(
            f"column {name!r} expects {spec.dtype}, got {type(value).__name__} {value!r}"
        )

    if kind == "b":

        def check_bool(name: str, value: Any) -> Any:
            if missing(name, value):
                return math.nan
            if not isinstance(value, (bool, np.bool_)):
                raise wrong(name, value)
            return value

        return check_bool
    if kind in "iu":
        info = np.iinfo(base)

        def check_int(name: str, value: Any) -> Any:
            if missing(name, value):
                return math.nan
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
                raise wrong(name, value)
            if not info.min <= value <= info.max:
                raise InvalidInputError(f"column {name!r} ({spec.dtype}) cannot hold {value!r}")
            return value

        return check_int
    if kind == "f":

        def check_float(name: str, value: Any) -> Any:
            if missing(name, value):
                return math.nan
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
                raise wrong(name, value)
            if limit is not None and isinstance(value, (int, np.integer)) and abs(value) > limit:
                raise InvalidInputError(f"column {name!r} ({spec.dtype}) would round {value!r}")
            return value

        return check_float
    if kind in "Sc":

        def check_str(name: str, value: Any) -> Any:
            if missing(name, value):
                return None
            if not isinstance(value, str):
                raise wrong(name, value)
            return value

        return check_str

    def check_any(name: str, value: Any) -> Any:
        missing(name, value)
        return value

    return check_any


# ====================================================================== tensors
def _validate_tensor(spec: TensorSpec, data: Any) -> Any:
    import numpy as np

    # Only an imported pandas can have made a DataFrame: a model fed arrays never imports it here.
    pd = sys.modules.get("pandas")
    if pd is not None and isinstance(data, (pd.DataFrame, pd.Series)):
        data = data.to_numpy()
    sparse = hasattr(data, "toarray") and hasattr(data, "shape")
    array: Any = data if sparse else np.asarray(data)
    shape = tuple(array.shape)
    if len(shape) != len(spec.shape) or any(e not in (-1, a) for e, a in zip(spec.shape, shape, strict=True)):
        raise InvalidInputError(f"input has shape {shape} but the model's signature expects {spec.shape}")
    actual = _array_dtype_name(array.dtype)
    if actual == spec.dtype:
        return array
    if spec.dtype == "str" and array.dtype.kind == "O":
        if all(isinstance(x, str) for x in array.ravel()):
            return array
        raise InvalidInputError("input holds values that are not strings; the model's signature expects str")
    if spec.dtype == "object" and array.dtype.kind in "OUS":
        return array.astype(object)
    try:
        ka: str = np.dtype(actual).kind
        ke: str = np.dtype(spec.dtype).kind
    except TypeError:
        ka = ke = "?"
    if ka not in "biuf" or ke not in "biuf":
        raise InvalidInputError(f"input has dtype {actual} but the model's signature expects {spec.dtype}")
    ok = _numeric_cast_ok(actual, spec.dtype)
    if ok is None:
        limit = _EXACT_FLOAT[spec.dtype]
        values: Any = array.toarray() if sparse else array
        if values.size and (bool((values > limit).any()) or bool((values < -limit).any())):
            ok = False
    if ok is False:
        raise InvalidInputError(
            f"input has dtype {actual} and converting it to the signature's {spec.dtype} would lose "
            "information; convert it explicitly if that is intended"
        )
    return array.astype(spec.dtype)
