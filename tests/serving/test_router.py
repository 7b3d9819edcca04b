"""Router: sticky routing stable across processes, weights, shadow isolation, outcomes and z-test."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest
from sklearn.dummy import DummyClassifier

from conftest import FEATURES, credit_frame
from mlops.errors import InvalidInputError, NotFoundError
from mlops.models import save_model
from mlops.serving import Router, two_proportion_z_test


@pytest.fixture(scope="module")
def variants(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("router")
    X = credit_frame(10)[FEATURES]
    paths = {}
    for name, label in (("a", 0), ("b", 1)):
        save_model(
            DummyClassifier(strategy="constant", constant=label).fit(X, [0, 1] * 5),
            root / name,
            input_example=X,
        )
        paths[name] = str(root / name)
    save_model(
        DummyClassifier(strategy="constant", constant=1).fit(X[["AGE"]], [0, 1] * 5),
        root / "other",
        input_example=X[["AGE"]],
    )
    paths["other"] = str(root / "other")
    return paths


def _record(i: int) -> dict[str, object]:
    return {"customer": f"cust-{i}", "LIMIT_BAL": 1e5, "AGE": 30 + i % 40, "PAY_0": 0, "BILL_AMT1": 5e4}


def _binomial_ok(count: int, n: int, p: float, sigmas: float = 4.5) -> bool:
    return abs(count - n * p) <= sigmas * math.sqrt(n * p * (1 - p))


_CHILD = """
import json, sys
from mlops.serving import Router
a, b = sys.argv[1], sys.argv[2]
router = Router({a: 0.3, b: 0.7}, sticky_key="customer", seed=7)
print(json.dumps([router.route({"customer": f"cust-{i}"}) for i in range(500)]))
router.close()
"""


def test_sticky_routing_is_the_same_in_another_process(variants: dict[str, str]) -> None:
    a, b = variants["a"], variants["b"]
    with Router({a: 0.3, b: 0.7}, sticky_key="customer", seed=7) as router:
        here = [router.route({"customer": f"cust-{i}"}) for i in range(500)]
        assert here == [router.route({"customer": f"cust-{i}"}) for i in range(500)]
        for i in range(50):  # predict goes where route says, and the key is not a model input
            p = router.predict(_record(i))
            assert p.variant == here[i] and p.value == (0 if here[i] == a else 1)
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, a, b],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env={"PYTHONHASHSEED": "123", **__import__("os").environ},
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == here
    with Router({a: 0.3, b: 0.7}, sticky_key="customer", seed=8) as other_seed:
        assert [other_seed.route({"customer": f"cust-{i}"}) for i in range(500)] != here


def test_weights_are_respected(variants: dict[str, str]) -> None:
    a, b = variants["a"], variants["b"]
    n = 20_000
    with Router({a: 1, b: 3}, seed=0) as random_router:
        assert random_router.weights == (0.25, 0.75)
        draws = [random_router.route({}) for _ in range(n)]
        assert _binomial_ok(draws.count(a), n, 0.25)
    with Router({a: 1, b: 3}, seed=0) as again:
        assert [again.route({}) for _ in range(n)] == draws  # seeded
    with Router({a: 0.1, b: 0.9}, sticky_key="customer", seed=3) as sticky:
        counts = sum(sticky.route({"customer": i}) == a for i in range(n))
        assert _binomial_ok(counts, n, 0.1)
    with Router({a: 0.0, b: 1.0}) as only_b:
        assert {only_b.route({}) for _ in range(200)} == {b}


def test_shadow_scores_without_affecting_responses(variants: dict[str, str]) -> None:
    a, b, other = variants["a"], variants["b"], variants["other"]
    with Router({a: 1.0}, shadow=b, sticky_key="customer") as router:
        for i in range(30):
            assert router.predict(_record(i)).value == 0
        assert router.wait_for_shadow()
        summary = router.summary()
        assert summary.loc[b, "role"] == "shadow" and summary.loc[b, "requests"] == 30
        assert summary.loc[b, "agreement"] == 0.0 and summary.loc[a, "requests"] == 30
    with Router({a: 1.0}, shadow=other, sticky_key="customer") as failing:  # shadow rejects every record
        for i in range(10):
            assert failing.predict(_record(i)).value == 0
        assert failing.wait_for_shadow()
        row = failing.summary().loc[other]
        assert row["errors"] == 10 and row["requests"] == 0


def test_outcomes_and_z_test(variants: dict[str, str]) -> None:
    a, b = variants["a"], variants["b"]
    with Router({a: 0.5, b: 0.5}, sticky_key="customer", seed=1) as router:
        for i in range(400):
            p = router.predict(_record(i))
            rate = 0.3 if p.variant == a else 0.6
            assert router.record_outcome(p.request_id, (i * 7919) % 100 < rate * 100) == p.variant
        with pytest.raises(NotFoundError):
            router.record_outcome(p.request_id, 1)  # used already
        with pytest.raises(InvalidInputError):
            router.record_outcome("x", 2)
        summary = router.summary()
    control, variant = summary.loc[a], summary.loc[b]
    assert control["requests"] + variant["requests"] == 400
    _, z, pval = two_proportion_z_test(
        control["outcome_rate"] * control["outcomes"],
        int(control["outcomes"]),
        variant["outcome_rate"] * variant["outcomes"],
        int(variant["outcomes"]),
    )
    assert variant["p_value"] == pytest.approx(pval) and variant["z"] == pytest.approx(z) and z > 3
    assert variant["p_value"] < 0.001 and math.isnan(control["p_value"])
    assert variant["mean_prediction"] == 1.0 and control["mean_prediction"] == 0.0


def test_bad_router_options(variants: dict[str, str]) -> None:
    with pytest.raises(InvalidInputError):
        Router({variants["a"]: -1})
    with pytest.raises(InvalidInputError):
        Router({variants["a"]: 0})
    with (
        Router({variants["a"]: 1}, sticky_key="customer") as router,
        pytest.raises(InvalidInputError, match="customer"),
    ):
        router.route({"id": 1})
