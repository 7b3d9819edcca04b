"""How to call one loaded model fast, decided once when it is loaded.

Three ways to feed a scikit-learn model, chosen per model (``ScoringPlan.mode``):

* ``"array"``: the model was fitted on an array (no ``feature_names_in_``) and every input column is
  numeric or boolean. Records and frames become one ``float64`` array in the signature's order.
* ``"names"``: the model was fitted on a DataFrame of numeric columns and only checks the names. The
  online path calls a shallow copy of it without ``feature_names_in_`` on an array (no per-call
  DataFrame, no feature-name warning); batch frames go to the model itself.
* ``"frame"``: everything else (string or category columns, a ``ColumnTransformer`` that selects
  columns by name, a python-function model, no signature): a DataFrame every time.

``"names"`` is kept only when the array path gives exactly the frame path's output on probe rows
(the stored input example, else a row of zeros) with warnings treated as errors; otherwise the plan
falls back to ``"frame"``.
"""

from __future__ import annotations

import copy
import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from mlops.errors import InvalidInputError
from mlops.models import LoadedModel

__all__ = ["Output", "ScoringPlan", "check_output"]

Output = Literal["predict", "predict_proba", "both"]
_OUTPUTS = ("predict", "predict_proba", "both")
_NULLABLE_NUMERIC = frozenset(
    {
        *(f"Int{b}" for b in (8, 16, 32, 64)),
        *(f"UInt{b}" for b in (8, 16, 32, 64)),
        "Float32",
        "Float64",
        "boolean",
    }
)


def check_output(output: Any, model: LoadedModel | None = None) -> Output:
    """Validate an ``output=`` option (and that the model has ``predict_proba`` when asked)."""
    if output not in _OUTPUTS:
        raise InvalidInputError(f"output must be one of {list(_OUTPUTS)}, not {output!r}")
    if model is not None and output != "predict" and not model.has_predict_proba:
        raise InvalidInputError(
            f"output={output!r} needs predict_proba, which {type(model.raw).__name__} does not have"
        )
    result: Output = output
    return result


class ScoringPlan:
    """A loaded model plus the fastest safe way to call it (see the module docstring).

    Args:
        model: the loaded model.
        output: ``"predict"``, ``"predict_proba"`` or ``"both"``.
    """

    def __init__(self, model: LoadedModel, output: Output = "predict") -> None:
        self.model = model
        self.output = check_output(output, model)
        sig = model.signature
        self.signature = sig
        self.tensor = sig is not None and sig.inputs.is_tensor
        self.columns = sig.inputs.columns or () if sig is not None else ()
        self.names: tuple[str, ...] = tuple(c.name for c in self.columns)
        self.dtypes: tuple[str, ...] = tuple(c.dtype for c in self.columns)
        classes = getattr(model.raw, "classes_", None)
        self.classes: list[Any] | None = None if classes is None else list(classes)
        self.fast: Any = model.raw
        self.mode: Literal["array", "names", "frame"] = self._choose_mode()

    # ------------------------------------------------------------------ mode
    def _choose_mode(self) -> Literal["array", "names", "frame"]:
        if self.tensor:
            return "array"
        if self.signature is None or not self.columns or self.model.manifest.flavor != "sklearn":
            return "frame"
        if not all(_numeric(d) for d in self.dtypes) or _selects_by_name(self.model.raw):
            return "frame"
        names = getattr(self.model.raw, "feature_names_in_", None)
        if names is None:
            return "array"
        if [str(n) for n in names] != list(self.names):
            return "frame"
        stripped = _without_feature_names(self.model.raw)
        if stripped is None or not self._agrees(stripped):
            return "frame"
        self.fast = stripped
        return "names"

    def probe_records(self) -> list[dict[str, Any]]:
        """Rows to check the fast path with: the input example's first rows, else a row of zeros."""
        import pandas as pd

        example = None
        try:
            example = self.model.input_example
        except Exception:  # an unreadable example only costs the probe
            example = None
        if isinstance(example, pd.DataFrame) and list(example.columns) == list(self.names) and len(example):
            return [{k: _py(v) for k, v in row.items()} for row in example.head(5).to_dict(orient="records")]
        return [{c.name: (False if c.dtype in ("bool", "boolean") else 0) for c in self.columns}]

    def _agrees(self, stripped: Any) -> bool:
        import numpy as np

        sig = self.signature
        assert sig is not None
        try:
            records = self.probe_records()
            frame = sig.validate(_records_frame(records, self.names))
            array = np.concatenate([sig.record_to_array(r) for r in records])
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                for method in ("predict", "predict_proba"):
                    if not callable(getattr(self.model.raw, method, None)):
                        continue
                    want = np.asarray(getattr(self.model.raw, method)(frame))
                    got = np.asarray(getattr(stripped, method)(array))
                    if want.shape != got.shape or want.dtype != got.dtype:
                        return False
                    if want.dtype.kind == "f":  # BLAS may round the last bit differently per memory layout
                        if not np.allclose(want, got, rtol=1e-9, atol=1e-12, equal_nan=True):
                            return False
                    elif not np.array_equal(want, got):
                        return False
        except Exception:
            return False
        return True

    # ------------------------------------------------------------------ inputs
    def record_input(self, record: Any) -> Any:
        """One record (a dict; a sequence for an array model) checked and ready for :meth:`call`.

        Raises:
            InvalidInputError: the record does not match the signature.
        """
        sig = self.signature
        if self.tensor:
            assert sig is not None
            if isinstance(record, Mapping):
                raise InvalidInputError("this model takes an array row (a list of values), not a dict record")
            return sig.validate([record])
        if not isinstance(record, Mapping):
            raise InvalidInputError(
                f"a record is a dict of column values, not {type(record).__name__}"
                + (f"; expected keys {list(self.names)}" if self.names else "")
            )
        if sig is None:
            import pandas as pd

            return pd.DataFrame([dict(record)])
        if self.mode == "frame":
            return sig.record_to_frame(record)
        return sig.record_to_array(record)

    def records_input(self, records: Sequence[Any]) -> Any:
        """Many records checked with the same rules as :meth:`record_input`, as one model input."""
        import numpy as np
        import pandas as pd

        if not records:
            raise InvalidInputError("no records to score")
        if self.tensor or (self.signature is not None and self.mode != "frame"):
            return np.concatenate([self.record_input(r) for r in records])
        if self.signature is None:
            return pd.DataFrame([dict(r) for r in records])
        return pd.concat([self.record_input(r) for r in records], ignore_index=True)

    def frame_input(self, frame: Any, *, fast: bool) -> Any:
        """A DataFrame (extra columns ignored) checked against the signature, as the model's input.

        With ``fast=True`` the result is meant for :attr:`fast` (an array in ``"names"`` mode).

        Raises:
            InvalidInputError: missing columns or values the signature does not allow.
        """
        import numpy as np
        import pandas as pd

        sig = self.signature
        if sig is None:
            return frame
        if self.tensor:
            return sig.validate(frame)
        if not isinstance(frame, pd.DataFrame):
            raise InvalidInputError(
                f"expected a DataFrame with columns {list(self.names)}, not {type(frame).__name__}"
            )
        cols = [str(c) for c in frame.columns]
        if cols != list(self.names):
            missing = [n for n in self.names if n not in cols]
            if missing:
                sig.validate(frame.iloc[:0])  # the signature's own message for missing columns
            frame = frame.set_axis(cols, axis=1)[list(self.names)]
        if tuple(str(d) for d in frame.dtypes) != self.dtypes:  # identity casts need no validation
            frame = sig.validate(frame)
        if self.mode == "array" or (fast and self.mode == "names"):
            return frame.to_numpy(dtype=np.float64, na_value=np.nan)
        return frame

    # ------------------------------------------------------------------ calling
    def call(self, X: Any, *, fast: bool) -> tuple[Any, Any]:
        """``(predictions, probabilities)`` for a prepared input; the one not asked for is None."""
        est = self.fast if fast else self.model.raw
        pred = proba = None
        if self.mode == "frame" or self.model.manifest.flavor != "sklearn":
            if self.output != "predict_proba":
                pred = self.model.predict(X, validate=False)
            if self.output != "predict":
                proba = self.model.predict_proba(X, validate=False)
            return pred, proba
        if self.output != "predict_proba":
            pred = est.predict(X)
        if self.output != "predict":
            proba = est.predict_proba(X)
        return pred, proba

    def proba_columns(self, n: int) -> list[str]:
        """Column names for probability outputs: ``proba_<class>``."""
        labels = self.classes if self.classes is not None and len(self.classes) == n else list(range(n))
        return [f"proba_{_py(c)}" for c in labels]


def _numeric(dtype_name: str) -> bool:
    """True for numeric and boolean dtypes (numpy's and pandas' nullable ones)."""
    import numpy as np

    if dtype_name in _NULLABLE_NUMERIC:
        return True
    try:
        return np.dtype(dtype_name).kind in "biuf"
    except TypeError:
        return False


def _records_frame(records: Sequence[Mapping[str, Any]], names: Sequence[str]) -> Any:
    import pandas as pd

    return pd.DataFrame([dict(r) for r in records], columns=list(names))


def _py(value: Any) -> Any:
    """A numpy scalar as the Python scalar (NaN kept)."""
    if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
        return value.item()
    if isinstance(value, float) and math.isnan(value):
        return value
    return value


def _selects_by_name(model: Any) -> bool:
    """True when a ColumnTransformer anywhere in ``model`` picks columns by name or by a callable."""
    from sklearn.compose import ColumnTransformer

    try:
        params = model.get_params(deep=True)
    except Exception:
        return True
    for est in [model, *params.values()]:
        if isinstance(est, ColumnTransformer):
            for _, _, cols in est.transformers:
                if callable(cols) or isinstance(cols, str):
                    return True
                if isinstance(cols, (list, tuple)) and any(isinstance(c, str) for c in cols):
                    return True
    return False


def _without_feature_names(model: Any) -> Any:
    """A shallow copy of ``model`` that has no ``feature_names_in_`` (None when that is not possible)."""
    from sklearn.pipeline import Pipeline

    if isinstance(model, Pipeline):
        if not model.steps:
            return None
        name, first = model.steps[0]
        inner = _without_feature_names(first) if first not in (None, "passthrough") else None
        if inner is None:
            return None
        clone = copy.copy(model)
        clone.steps = [(name, inner), *model.steps[1:]]
        return clone
    if "feature_names_in_" not in getattr(model, "__dict__", {}):
        return None
    clone = copy.copy(model)
    del clone.__dict__["feature_names_in_"]
    return clone
