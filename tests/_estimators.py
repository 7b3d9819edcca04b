"""A small fitted case for every estimator in ``sklearn.utils.all_estimators()``.

Shared by the model round-trip tests (``tests/models``) and the autolog tests (``tests/autolog``):
``case(name)`` says how to build, fit and query one estimator; ``fit`` fits it small and fast;
``outputs`` collects every output method's result; ``assert_same`` compares two of them.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.experimental import enable_halving_search_cv, enable_iterative_imputer  # noqa: F401
from sklearn.utils import all_estimators

# Estimators that skops 0.16 cannot serialize (UnsupportedTypeException): saved with pickle instead.
PICKLE_ONLY = {
    "Birch": "skops 0.16 does not support Birch's _CFNode/_CFSubcluster tree (UnsupportedTypeException)",
}

# Estimators whose float outputs depend on memory alignment (BLAS/SIMD paths): a pickle round trip
# differs in the last bits too. Their outputs are compared to 1e-12 relative; labels stay exact.
CLOSE_ONLY = {
    "LabelPropagation": "rbf affinities through BLAS: last-bit differences with the arrays' alignment",
    "LabelSpreading": "rbf affinities through BLAS: last-bit differences with the arrays' alignment",
}

ALL = sorted(all_estimators(), key=lambda item: item[0])
NAMES = [name for name, _ in ALL]
CLASSES = dict(ALL)

rng = np.random.RandomState(0)
X_NUM = rng.normal(size=(40, 4))
Y_CLF = (X_NUM[:, 0] + 0.5 * X_NUM[:, 1] > 0).astype(int)
Y_REG = X_NUM @ np.array([1.0, -2.0, 0.5, 0.0]) + 0.1 * rng.normal(size=40)
X_POS = np.abs(X_NUM)
X_COUNTS = rng.randint(0, 4, size=(40, 4))
Y_MULTI_REG = np.column_stack([Y_REG, -Y_REG + rng.normal(size=40)])
Y_MULTI_CLF = np.column_stack([Y_CLF, (X_NUM[:, 2] > 0).astype(int)])
TEXT = [f"word{i % 5} token{i % 3} common" for i in range(40)]
DICTS = [{"a": float(i), "b": float(i % 3), f"k{i % 4}": 1.0} for i in range(40)]


@dataclass
class Case:
    """How to build, fit and query one estimator."""

    make: Callable[[], Any]
    X: Any
    y: Any = None
    fit: Callable[[Any, Any, Any], Any] | None = None  # custom fit (e.g. label transformers fit on y)
    query: Any = None  # the input of the output methods (default: X)


def _clf() -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression()


def _reg() -> Any:
    from sklearn.linear_model import Ridge

    return Ridge()


def _fitted_clf() -> Any:
    return _clf().fit(X_NUM, Y_CLF)


def _pipeline() -> Any:
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    return Pipeline([("scale", StandardScaler()), ("clf", _clf())])


def _column_transformer() -> Any:
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    return ColumnTransformer([("num", StandardScaler(), [0, 1]), ("cat", OneHotEncoder(), [2])])


def _feature_union() -> Any:
    from sklearn.decomposition import PCA
    from sklearn.pipeline import FeatureUnion
    from sklearn.preprocessing import StandardScaler

    return FeatureUnion([("scale", StandardScaler()), ("pca", PCA(n_components=2))])


def _label_fit(est: Any, X: Any, y: Any) -> Any:
    return est.fit(X)


X_CAT = np.column_stack([X_NUM[:, :2], rng.randint(0, 3, size=40)])

# name -> Case for estimators that need constructor arguments or special input.
SPECIAL: dict[str, Callable[[], Case]] = {
    "ClassifierChain": lambda: Case(lambda: CLASSES["ClassifierChain"](_clf()), X_NUM, Y_MULTI_CLF),
    "ColumnTransformer": lambda: Case(_column_transformer, X_CAT, Y_CLF),
    "FeatureUnion": lambda: Case(_feature_union, X_NUM, Y_CLF),
    "FixedThresholdClassifier": lambda: Case(
        lambda: CLASSES["FixedThresholdClassifier"](_clf(), threshold=0.3), X_NUM, Y_CLF
    ),
    "FrozenEstimator": lambda: Case(lambda: CLASSES["FrozenEstimator"](_fitted_clf()), X_NUM, Y_CLF),
    "GridSearchCV": lambda: Case(
        lambda: CLASSES["GridSearchCV"](_clf(), {"C": [0.1, 1.0]}, cv=2), X_NUM, Y_CLF
    ),
    "HalvingGridSearchCV": lambda: Case(
        lambda: CLASSES["HalvingGridSearchCV"](_clf(), {"C": [0.1, 1.0]}, cv=2, random_state=0), X_NUM, Y_CLF
    ),
    "HalvingRandomSearchCV": lambda: Case(
        lambda: CLASSES["HalvingRandomSearchCV"](_clf(), {"C": [0.1, 1.0]}, cv=2, random_state=0),
        X_NUM,
        Y_CLF,
    ),
    "MultiOutputClassifier": lambda: Case(
        lambda: CLASSES["MultiOutputClassifier"](_clf()), X_NUM, Y_MULTI_CLF
    ),
    "MultiOutputRegressor": lambda: Case(lambda: CLASSES["MultiOutputRegressor"](_reg()), X_NUM, Y_MULTI_REG),
    "OneVsOneClassifier": lambda: Case(lambda: CLASSES["OneVsOneClassifier"](_clf()), X_NUM, Y_CLF),
    "OneVsRestClassifier": lambda: Case(lambda: CLASSES["OneVsRestClassifier"](_clf()), X_NUM, Y_CLF),
    "OutputCodeClassifier": lambda: Case(
        lambda: CLASSES["OutputCodeClassifier"](_clf(), random_state=0), X_NUM, Y_CLF
    ),
    "Pipeline": lambda: Case(_pipeline, X_NUM, Y_CLF),
    "RFE": lambda: Case(lambda: CLASSES["RFE"](_clf(), n_features_to_select=2), X_NUM, Y_CLF),
    "RFECV": lambda: Case(lambda: CLASSES["RFECV"](_clf(), cv=2), X_NUM, Y_CLF),
    "RandomizedSearchCV": lambda: Case(
        lambda: CLASSES["RandomizedSearchCV"](_clf(), {"C": [0.1, 1.0]}, n_iter=2, cv=2, random_state=0),
        X_NUM,
        Y_CLF,
    ),
    "RegressorChain": lambda: Case(lambda: CLASSES["RegressorChain"](_reg()), X_NUM, Y_MULTI_REG),
    "SelectFromModel": lambda: Case(lambda: CLASSES["SelectFromModel"](_clf()), X_NUM, Y_CLF),
    "SequentialFeatureSelector": lambda: Case(
        lambda: CLASSES["SequentialFeatureSelector"](_clf(), n_features_to_select=2, cv=2), X_NUM, Y_CLF
    ),
    "SparseCoder": lambda: Case(lambda: CLASSES["SparseCoder"](dictionary=np.eye(4)[:3]), X_NUM),
    "StackingClassifier": lambda: Case(
        lambda: CLASSES["StackingClassifier"]([("a", _clf()), ("b", CLASSES["GaussianNB"]())], cv=2),
        X_NUM,
        Y_CLF,
    ),
    "StackingRegressor": lambda: Case(
        lambda: CLASSES["StackingRegressor"]([("a", _reg()), ("b", CLASSES["LinearRegression"]())], cv=2),
        X_NUM,
        Y_REG,
    ),
    "TunedThresholdClassifierCV": lambda: Case(
        lambda: CLASSES["TunedThresholdClassifierCV"](_clf(), cv=2), X_NUM, Y_CLF
    ),
    "VotingClassifier": lambda: Case(
        lambda: CLASSES["VotingClassifier"]([("a", _clf()), ("b", CLASSES["GaussianNB"]())]), X_NUM, Y_CLF
    ),
    "VotingRegressor": lambda: Case(
        lambda: CLASSES["VotingRegressor"]([("a", _reg()), ("b", CLASSES["LinearRegression"]())]),
        X_NUM,
        Y_REG,
    ),
    # special input
    "CountVectorizer": lambda: Case(CLASSES["CountVectorizer"], TEXT),
    "TfidfVectorizer": lambda: Case(CLASSES["TfidfVectorizer"], TEXT),
    "HashingVectorizer": lambda: Case(lambda: CLASSES["HashingVectorizer"](n_features=32), TEXT),
    "DictVectorizer": lambda: Case(CLASSES["DictVectorizer"], DICTS),
    "FeatureHasher": lambda: Case(lambda: CLASSES["FeatureHasher"](n_features=16), DICTS),
    "LabelBinarizer": lambda: Case(CLASSES["LabelBinarizer"], Y_CLF, fit=_label_fit),
    "LabelEncoder": lambda: Case(CLASSES["LabelEncoder"], Y_CLF, fit=_label_fit),
    "MultiLabelBinarizer": lambda: Case(
        CLASSES["MultiLabelBinarizer"], [[1, 2], [3], [1, 3], [2]], fit=_label_fit
    ),
    "IsotonicRegression": lambda: Case(CLASSES["IsotonicRegression"], X_NUM[:, 0], Y_REG),
    "KernelCenterer": lambda: Case(CLASSES["KernelCenterer"], X_NUM @ X_NUM.T),
    "CategoricalNB": lambda: Case(CLASSES["CategoricalNB"], X_COUNTS, Y_CLF),
    "MultinomialNB": lambda: Case(CLASSES["MultinomialNB"], X_POS, Y_CLF),
    "ComplementNB": lambda: Case(CLASSES["ComplementNB"], X_POS, Y_CLF),
    "AdditiveChi2Sampler": lambda: Case(CLASSES["AdditiveChi2Sampler"], X_POS),
    "SkewedChi2Sampler": lambda: Case(lambda: CLASSES["SkewedChi2Sampler"](random_state=0), X_POS),
    "NMF": lambda: Case(lambda: CLASSES["NMF"](n_components=2, random_state=0, max_iter=500), X_POS),
    "MiniBatchNMF": lambda: Case(lambda: CLASSES["MiniBatchNMF"](n_components=2, random_state=0), X_POS),
    "LatentDirichletAllocation": lambda: Case(
        lambda: CLASSES["LatentDirichletAllocation"](n_components=2, random_state=0), X_POS
    ),
    "TfidfTransformer": lambda: Case(CLASSES["TfidfTransformer"], X_COUNTS),
    "PoissonRegressor": lambda: Case(CLASSES["PoissonRegressor"], X_NUM, np.abs(Y_REG)),
    "GammaRegressor": lambda: Case(CLASSES["GammaRegressor"], X_NUM, np.abs(Y_REG) + 0.1),
    "TweedieRegressor": lambda: Case(CLASSES["TweedieRegressor"], X_NUM, np.abs(Y_REG)),
    "MultiTaskLasso": lambda: Case(CLASSES["MultiTaskLasso"], X_NUM, Y_MULTI_REG),
    "MultiTaskLassoCV": lambda: Case(lambda: CLASSES["MultiTaskLassoCV"](cv=2), X_NUM, Y_MULTI_REG),
    "MultiTaskElasticNet": lambda: Case(CLASSES["MultiTaskElasticNet"], X_NUM, Y_MULTI_REG),
    "MultiTaskElasticNetCV": lambda: Case(lambda: CLASSES["MultiTaskElasticNetCV"](cv=2), X_NUM, Y_MULTI_REG),
    "CCA": lambda: Case(lambda: CLASSES["CCA"](n_components=1), X_NUM, Y_MULTI_REG),
    "PLSCanonical": lambda: Case(lambda: CLASSES["PLSCanonical"](n_components=1), X_NUM, Y_MULTI_REG),
    "GaussianRandomProjection": lambda: Case(
        lambda: CLASSES["GaussianRandomProjection"](n_components=2, random_state=0), X_NUM
    ),
    "SparseRandomProjection": lambda: Case(
        lambda: CLASSES["SparseRandomProjection"](n_components=2, random_state=0), X_NUM
    ),
    "LocalOutlierFactor": lambda: Case(lambda: CLASSES["LocalOutlierFactor"](novelty=True), X_NUM),
    "RadiusNeighborsClassifier": lambda: Case(
        lambda: CLASSES["RadiusNeighborsClassifier"](radius=10.0), X_NUM, Y_CLF
    ),
    "RadiusNeighborsRegressor": lambda: Case(
        lambda: CLASSES["RadiusNeighborsRegressor"](radius=10.0), X_NUM, Y_REG
    ),
    "SelfTrainingClassifier": lambda: Case(
        lambda: CLASSES["SelfTrainingClassifier"](_clf()), X_NUM, np.where(np.arange(40) % 4 == 0, -1, Y_CLF)
    ),
    "KBinsDiscretizer": lambda: Case(
        lambda: CLASSES["KBinsDiscretizer"](n_bins=3, quantile_method="averaged_inverted_cdf"), X_NUM
    ),
    "QuantileTransformer": lambda: Case(lambda: CLASSES["QuantileTransformer"](n_quantiles=20), X_NUM),
    "SpectralBiclustering": lambda: Case(
        lambda: CLASSES["SpectralBiclustering"](n_clusters=2, random_state=0), X_POS + 0.1
    ),
    "SpectralCoclustering": lambda: Case(
        lambda: CLASSES["SpectralCoclustering"](n_clusters=2, random_state=0), X_POS + 0.1
    ),
    "PLSSVD": lambda: Case(lambda: CLASSES["PLSSVD"](n_components=2), X_NUM, Y_MULTI_REG),
    "PatchExtractor": lambda: Case(
        lambda: CLASSES["PatchExtractor"](patch_size=(2, 2), max_patches=4, random_state=0), rng.rand(3, 5, 5)
    ),
    "TSNE": lambda: Case(lambda: CLASSES["TSNE"](perplexity=5, max_iter=250, random_state=0), X_NUM),
    # smaller settings only to keep the whole test fast
    "LogisticRegressionCV": lambda: Case(lambda: CLASSES["LogisticRegressionCV"](Cs=2, cv=2), X_NUM, Y_CLF),
    "HistGradientBoostingClassifier": lambda: Case(
        lambda: CLASSES["HistGradientBoostingClassifier"](max_iter=5), X_NUM, Y_CLF
    ),
    "HistGradientBoostingRegressor": lambda: Case(
        lambda: CLASSES["HistGradientBoostingRegressor"](max_iter=5), X_NUM, Y_REG
    ),
    "DictionaryLearning": lambda: Case(
        lambda: CLASSES["DictionaryLearning"](n_components=2, max_iter=10, random_state=0), X_NUM
    ),
    "ARDRegression": lambda: Case(lambda: CLASSES["ARDRegression"](max_iter=20), X_NUM, Y_REG),
}

# Estimators whose fit takes y: classifiers and regressors get Y_CLF / Y_REG, the rest Y_CLF.
_REGRESSOR_Y = Y_REG


def _default_case(name: str) -> Case:
    from sklearn.base import is_regressor

    cls = CLASSES[name]
    y = _REGRESSOR_Y if is_regressor(cls()) else Y_CLF
    return Case(cls, X_NUM, y)


def case(name: str) -> Case:
    return SPECIAL[name]() if name in SPECIAL else _default_case(name)


def _small(est: Any) -> Any:
    """Fewer trees and a fixed seed keep the test fast and deterministic."""
    params = est.get_params(deep=False)
    small = {}
    if "n_estimators" in params and isinstance(params["n_estimators"], int):
        small["n_estimators"] = 3
    if "random_state" in params and params["random_state"] is None:
        small["random_state"] = 0
    return est.set_params(**small) if small else est


def fit(case: Case) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # deprecations and convergence warnings of tiny fits
        est = _small(case.make())
        if case.fit is not None:
            return case.fit(est, case.X, case.y)
        if case.y is None:
            try:
                return est.fit(case.X)
            except TypeError:
                return est.fit(case.X, Y_CLF)
        return est.fit(case.X, case.y)


_METHODS = (
    "predict",
    "predict_proba",
    "decision_function",
    "transform",
    "score_samples",
    "mahalanobis",  # covariance estimators
    "kneighbors",  # nearest neighbors
)
_FITTED = ("labels_", "embedding_", "row_labels_", "column_labels_")


def outputs(est: Any, X: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for method in _METHODS:
            if hasattr(est, method):
                out[method] = getattr(est, method)(X)
    if not out:
        out = {attr: getattr(est, attr) for attr in _FITTED if hasattr(est, attr)}
    return out


def assert_same(expected: Any, actual: Any, where: str, close: bool = False) -> None:
    if hasattr(expected, "toarray"):
        expected, actual = expected.toarray(), actual.toarray()
    if isinstance(expected, (list, tuple)):
        assert len(expected) == len(actual), where
        for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
            assert_same(e, a, f"{where}[{i}]", close)
        return
    expected, actual = np.asarray(expected), np.asarray(actual)
    if close and expected.dtype.kind == "f":
        np.testing.assert_allclose(actual, expected, rtol=1e-12, atol=0, err_msg=where)
    else:
        np.testing.assert_array_equal(actual, expected, err_msg=where)
