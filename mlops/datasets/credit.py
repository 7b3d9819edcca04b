"""The "Default of Credit Card Clients" data (Taiwan, 2005): 30,000 clients, 23 features, one target.

Source and licence (CC BY 4.0, attribution required): see :data:`CREDIT_ATTRIBUTION` and
``mlops/datasets/data/README.md``. The file is read from the package (no network) and its SHA-256 is
checked before use.
"""

from __future__ import annotations

import hashlib
from importlib import resources
from typing import TYPE_CHECKING, Literal, overload

from mlops.errors import IntegrityError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["CREDIT_ATTRIBUTION", "load_credit_default"]

CREDIT_ATTRIBUTION = (
    "Yeh, I-C. (2016). Default of Credit Card Clients [Dataset]. UCI Machine Learning Repository. "
    "https://doi.org/10.24432/C55S3H. Original paper: Yeh, I. C., & Lien, C. H. (2009). The comparisons "
    "of data mining techniques for the predictive accuracy of probability of default of credit card "
    "clients. Expert Systems with Applications, 36(2), 2473-2480. Licensed under CC BY 4.0; converted "
    "from the original spreadsheet to CSV (gzip)."
)
_FILE = "credit_default_taiwan.csv.gz"
_SHA256 = "27795e7ee11c60e64c511c7f28d5b06970c01393e9e0abd5cfe3df43f198cc83"

_MONTHS = ("sep", "aug", "jul", "jun", "may", "apr")  # PAY_0/BILL_AMT1/PAY_AMT1 are September 2005
_RENAME = {
    "ID": "id",
    "LIMIT_BAL": "limit_balance",
    "SEX": "sex",
    "EDUCATION": "education",
    "MARRIAGE": "marriage",
    "AGE": "age",
    "default payment next month": "default",
    **{f"PAY_{0 if i == 0 else i + 1}": f"pay_status_{m}" for i, m in enumerate(_MONTHS)},
    **{f"BILL_AMT{i + 1}": f"bill_amount_{m}" for i, m in enumerate(_MONTHS)},
    **{f"PAY_AMT{i + 1}": f"pay_amount_{m}" for i, m in enumerate(_MONTHS)},
}
# Codes as documented by UCI; codes that occur but are undocumented become "unknown".
_CODES = {
    "sex": {1: "male", 2: "female"},
    "education": {
        1: "graduate school",
        2: "university",
        3: "high school",
        4: "others",
        0: "unknown",
        5: "unknown",
        6: "unknown",
    },
    "marriage": {1: "married", 2: "single", 3: "others", 0: "unknown"},
}


def _read_raw() -> pd.DataFrame:
    import io

    import pandas as pd

    data = resources.files("mlops.datasets").joinpath("data").joinpath(_FILE).read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != _SHA256:
        raise IntegrityError(
            f"the packaged {_FILE} has SHA-256 {digest}, expected {_SHA256}; reinstall mlops"
        )
    return pd.read_csv(io.BytesIO(data), compression="gzip")


@overload
def load_credit_default(*, decode: bool = True, return_X_y: Literal[False] = False) -> pd.DataFrame: ...
@overload
def load_credit_default(
    *, decode: bool = True, return_X_y: Literal[True]
) -> tuple[pd.DataFrame, pd.Series]: ...
def load_credit_default(
    *, decode: bool = True, return_X_y: bool = False
) -> pd.DataFrame | tuple[pd.DataFrame, pd.Series]:
    """The credit-default data with readable column names.

    Columns: ``id``, ``limit_balance`` (NT$), ``sex``, ``education``, ``marriage``, ``age``,
    ``pay_status_<month>`` (repayment status: -1 paid duly, 1..9 months late; -2 and 0 occur but are
    undocumented), ``bill_amount_<month>``, ``pay_amount_<month>`` for September back to April 2005, and
    the target ``default`` (1 = defaulted in October 2005).

    Args:
        decode: turn ``sex``, ``education`` and ``marriage`` codes into labelled categoricals
            (undocumented codes become ``"unknown"``); False keeps the integer codes.
        return_X_y: return ``(features, target)`` with ``id`` dropped, like scikit-learn's loaders.

    Raises:
        IntegrityError: the packaged file does not match its recorded SHA-256.

    Example:
        >>> X, y = load_credit_default(return_X_y=True)
        >>> X["sex"].value_counts().to_dict()
        {'female': 18112, 'male': 11888}
    """
    import pandas as pd

    frame = _read_raw().rename(columns=_RENAME)
    if decode:
        for column, codes in _CODES.items():
            labels = list(dict.fromkeys(codes.values()))
            frame[column] = pd.Categorical(frame[column].map(codes), categories=labels)
    if return_X_y:
        return frame.drop(columns=["id", "default"]), frame["default"]
    return frame
