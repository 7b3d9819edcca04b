"""The TrackingStore contract, run against every implementation (see ``_metadata_stores.py``)."""

from __future__ import annotations

import math
import threading
import uuid
from collections.abc import Mapping

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlops.entities import DatasetInput, Metric, Param
from mlops.errors import AlreadyExistsError, InvalidInputError, NotFoundError
from mlops.store import TrackingStore
from mlops.store.tracking import RUN_TABLE_ATTRIBUTES, RunTable, SparseColumn
from mlops.tracking.frames import runs_to_frame, table_to_frame


def _run(store: TrackingStore, name: str = "exp") -> tuple[str, str]:
    exp = store.get_experiment_by_name(name)
    exp_id = exp.experiment_id if exp else store.create_experiment(name, "memory://artifacts")
    run = store.create_run(exp_id, run_name="r", start_time=1000, user_id="ann")
    return exp_id, run.run_id


# ---------------------------------------------------------------------- experiments
def test_create_and_get_experiment(tracking_store: TrackingStore) -> None:
    exp_id = tracking_store.create_experiment("churn", "memory://x", tags={"team": "risk"})
    exp = tracking_store.get_experiment(exp_id)
    assert (exp.name, exp.artifact_location, exp.lifecycle_stage) == ("churn", "memory://x", "active")
    assert dict(exp.tags) == {"team": "risk"}
    assert exp.creation_time > 0
    assert tracking_store.get_experiment_by_name("churn") == exp
    assert tracking_store.get_experiment_by_name("nope") is None


def test_experiment_name_is_unique_even_when_deleted(tracking_store: TrackingStore) -> None:
    exp_id = tracking_store.create_experiment("a", "memory://a")
    with pytest.raises(AlreadyExistsError, match="'a'"):
        tracking_store.create_experiment("a", "memory://b")
    tracking_store.update_experiment(exp_id, lifecycle_stage="deleted")
    with pytest.raises(AlreadyExistsError):
        tracking_store.create_experiment("a", "memory://b")


def test_unknown_experiment(tracking_store: TrackingStore) -> None:
    with pytest.raises(NotFoundError):
        tracking_store.get_experiment("0" * 32)
    with pytest.raises(NotFoundError):
        tracking_store.update_experiment("0" * 32, name="x")
    with pytest.raises(NotFoundError):
        tracking_store.create_run("0" * 32, run_name="r", start_time=1)


def test_search_experiments_views(tracking_store: TrackingStore) -> None:
    a = tracking_store.create_experiment("a", "memory://a")
    b = tracking_store.create_experiment("b", "memory://b")
    tracking_store.update_experiment(b, lifecycle_stage="deleted")
    assert [e.experiment_id for e in tracking_store.search_experiments()] == [a]
    assert [e.experiment_id for e in tracking_store.search_experiments("deleted")] == [b]
    assert {e.experiment_id for e in tracking_store.search_experiments("all")} == {a, b}
    with pytest.raises(InvalidInputError):
        tracking_store.search_experiments("bogus")  # type: ignore[arg-type]


def test_rename_tag_delete_restore(tracking_store: TrackingStore) -> None:
    a = tracking_store.create_experiment("a", "memory://a", tags={"x": "1", "y": "2"})
    tracking_store.create_experiment("taken", "memory://t")
    with pytest.raises(AlreadyExistsError):
        tracking_store.update_experiment(a, name="taken")
    exp = tracking_store.update_experiment(a, name="renamed", tags={"x": None, "z": "3"})
    assert exp.name == "renamed" and dict(exp.tags) == {"y": "2", "z": "3"}
    assert tracking_store.update_experiment(a, lifecycle_stage="deleted").lifecycle_stage == "deleted"
    assert tracking_store.update_experiment(a, lifecycle_stage="active").lifecycle_stage == "active"
    with pytest.raises(InvalidInputError):
        tracking_store.update_experiment(a, lifecycle_stage="gone")


def test_purge_experiment_frees_the_name(tracking_store: TrackingStore) -> None:
    exp_id, run_id = _run(tracking_store, "p")
    tracking_store.log_batch(run_id, metrics=[Metric("m", 1.0, 1, 0)], params=[Param("a", "b")])
    with pytest.raises(InvalidInputError, match="delete it before"):
        tracking_store.purge_experiment(exp_id)
    tracking_store.update_experiment(exp_id, lifecycle_stage="deleted")
    tracking_store.purge_experiment(exp_id)
    with pytest.raises(NotFoundError):
        tracking_store.get_experiment(exp_id)
    with pytest.raises(NotFoundError):
        tracking_store.get_run(run_id)
    assert tracking_store.create_experiment("p", "memory://p") != exp_id


# ---------------------------------------------------------------------- runs
def test_create_run_defaults(tracking_store: TrackingStore) -> None:
    exp_id = tracking_store.create_experiment("e", "memory://root")
    run = tracking_store.create_run(exp_id, run_name="first", start_time=123, user_id="bob", tags={"t": "1"})
    assert run.status == "RUNNING" and run.lifecycle_stage == "active" and run.end_time is None
    assert (run.run_name, run.start_time, run.user_id, dict(run.tags)) == ("first", 123, "bob", {"t": "1"})
    assert run.artifact_uri == f"memory://root/{run.run_id}/artifacts"
    assert tracking_store.get_run(run.run_id) == run


def test_nested_run_and_unknown_parent(tracking_store: TrackingStore) -> None:
    exp_id, parent = _run(tracking_store)
    child = tracking_store.create_run(exp_id, run_name="c", start_time=1, parent_run_id=parent)
    assert child.parent_run_id == parent
    with pytest.raises(NotFoundError):
        tracking_store.create_run(exp_id, run_name="c", start_time=1, parent_run_id="f" * 32)


def test_no_runs_in_deleted_experiment(tracking_store: TrackingStore) -> None:
    exp_id = tracking_store.create_experiment("d", "memory://d")
    tracking_store.update_experiment(exp_id, lifecycle_stage="deleted")
    with pytest.raises(InvalidInputError, match="deleted"):
        tracking_store.create_run(exp_id, run_name="r", start_time=1)


def test_update_run(tracking_store: TrackingStore) -> None:
    _, run_id = _run(tracking_store)
    run = tracking_store.update_run(
        run_id, status="FINISHED", end_time=2000, run_name="done", heartbeat_time=5
    )
    assert (run.status, run.end_time, run.run_name, run.heartbeat_time) == ("FINISHED", 2000, "done", 5)
    assert run.is_terminal
    with pytest.raises(InvalidInputError):
        tracking_store.update_run(run_id, status="DONE")
    with pytest.raises(NotFoundError):
        tracking_store.update_run("f" * 32, status="FAILED")


def test_end_run_writes_the_last_points_and_ends_the_run(tracking_store: TrackingStore) -> None:
    _, run_id = _run(tracking_store)
    tracking_store.log_batch(run_id, metrics=[Metric("m", 1.0, 1, 0)])
    ended = tracking_store.end_run(
        run_id, status="FAILED", end_time=2000, metrics=[Metric("m", 2.0, 2, 1), Metric("n", math.nan, 2, 0)]
    )
    assert (ended.status, ended.end_time) == ("FAILED", 2000)
    assert ended.metrics["m"] == 2.0 and math.isnan(ended.metrics["n"])
    assert [p.value for p in tracking_store.get_metric_history(run_id, "m")] == [1.0, 2.0]
    assert tracking_store.get_run(run_id) == ended
    # an ended run takes no more points: nothing is written and the run stays as it was
    with pytest.raises(InvalidInputError, match="FAILED"):
        tracking_store.end_run(run_id, status="FINISHED", end_time=3000, metrics=[Metric("m", 3.0, 3, 2)])
    assert tracking_store.get_run(run_id) == ended
    # without points it only sets the status (ending twice is allowed, as with update_run)
    assert tracking_store.end_run(run_id, status="KILLED", end_time=4000).status == "KILLED"
    with pytest.raises(NotFoundError):
        tracking_store.end_run("f" * 32, status="FINISHED", end_time=1)
    with pytest.raises(NotFoundError):
        tracking_store.end_run("f" * 32, status="FINISHED", end_time=1, metrics=[Metric("m", 1.0, 1, 0)])
    with pytest.raises(InvalidInputError):
        tracking_store.end_run(run_id, status="DONE", end_time=1)


def test_end_run_without_read_back_still_writes_and_ends(tracking_store: TrackingStore) -> None:
    _, run_id = _run(tracking_store)
    ended = tracking_store.end_run(
        run_id, status="FINISHED", end_time=2000, metrics=[Metric("m", 2.0, 2, 1)], read_back=False
    )
    run = tracking_store.get_run(run_id)
    assert ended is None or ended == run  # a store may skip the read; it never returns anything else
    assert (run.status, run.end_time, run.metrics) == ("FINISHED", 2000, {"m": 2.0})
    with pytest.raises(NotFoundError):
        tracking_store.end_run("f" * 32, status="FINISHED", end_time=1, read_back=False)


def test_purge_run(tracking_store: TrackingStore) -> None:
    _, run_id = _run(tracking_store)
    tracking_store.log_batch(run_id, metrics=[Metric("m", 1.0, 1, 0)])
    tracking_store.purge_run(run_id)
    with pytest.raises(NotFoundError):
        tracking_store.get_run(run_id)
    with pytest.raises(NotFoundError):
        tracking_store.purge_run(run_id)


# ---------------------------------------------------------------------- run data
def test_log_batch_and_latest_metric(tracking_store: TrackingStore) -> None:
    _, run_id = _run(tracking_store)
    tracking_store.log_batch(
        run_id,
        metrics=[Metric("loss", 0.5, 10, 0), Metric("loss", 0.3, 20, 2), Metric("loss", 0.9, 30, 1)],
        params=[Param("C", "0.1"), Param("C", "0.1")],
        tags={"team": "risk"},
    )
    run = tracking_store.get_run(run_id)
    assert dict(run.params) == {"C": "0.1"}
    assert dict(run.metrics) == {"loss": 0.3}  # highest step wins, not the last logged
    assert dict(run.tags) == {"team": "risk"}
    tracking_store.log_batch(run_id, metrics=[Metric("loss", 0.1, 5, 2)])  # same step, older timestamp
    assert tracking_store.get_run(run_id).metrics["loss"] == 0.3
    tracking_store.log_batch(run_id, metrics=[Metric("loss", 0.2, 20, 2)])  # same step and time: later wins
    assert tracking_store.get_run(run_id).metrics["loss"] == 0.2
    history = tracking_store.get_metric_history(run_id, "loss")
    assert [(m.step, m.timestamp, m.value) for m in history] == [
        (0, 10, 0.5),
        (1, 30, 0.9),
        (2, 5, 0.1),
        (2, 20, 0.3),
        (2, 20, 0.2),
    ]


def test_params_are_write_once(tracking_store: TrackingStore) -> None:
    _, run_id = _run(tracking_store)
    tracking_store.log_batch(run_id, params=[Param("C", "1")])
    tracking_store.log_batch(run_id, params=[Param("C", "1")])  # same value again is fine
    with pytest.raises(InvalidInputError, match=r"'1'.*'2'"):
        tracking_store.log_batch(run_id, params=[Param("C", "2")])
    with pytest.raises(InvalidInputError, match="twice"):
        tracking_store.log_batch(run_id, params=[Param("D", "1"), Param("D", "2")])


def test_failed_batch_writes_nothing(tracking_store: TrackingStore) -> None:
    _, run_id = _run(tracking_store)
    tracking_store.log_batch(run_id, params=[Param("C", "1")])
    with pytest.raises(InvalidInputError):
        tracking_store.log_batch(
            run_id,
            params=[Param("new", "x"), Param("C", "2")],
            metrics=[Metric("m", 1.0, 1, 0)],
            tags={"t": "v"},
        )
    run = tracking_store.get_run(run_id)
    assert dict(run.params) == {"C": "1"} and not run.metrics and not run.tags
    assert tracking_store.get_metric_history(run_id, "m") == []


def test_tags_set_and_delete(tracking_store: TrackingStore) -> None:
    _, run_id = _run(tracking_store)
    tracking_store.log_batch(run_id, tags={"a": "1", "b": "2"})
    tracking_store.log_batch(run_id, tags={"a": "3", "b": None})
    assert dict(tracking_store.get_run(run_id).tags) == {"a": "3"}


@pytest.mark.parametrize("state", ["FINISHED", "FAILED", "KILLED", "deleted"])
def test_ended_or_deleted_run_refuses_data(tracking_store: TrackingStore, state: str) -> None:
    _, run_id = _run(tracking_store)
    if state == "deleted":
        tracking_store.update_run(run_id, lifecycle_stage="deleted")
    else:
        tracking_store.update_run(run_id, status=state, end_time=5)
    with pytest.raises(InvalidInputError, match=state):
        tracking_store.log_batch(run_id, metrics=[Metric("m", 1.0, 1, 0)])
    with pytest.raises(InvalidInputError, match=state):
        tracking_store.log_batch(run_id, params=[Param("p", "1")])
    tracking_store.log_batch(run_id, tags={"note": "tags are still allowed"})


def test_unknown_run(tracking_store: TrackingStore) -> None:
    for call in (
        lambda: tracking_store.get_run("f" * 32),
        lambda: tracking_store.log_batch("f" * 32, metrics=[Metric("m", 1.0, 1, 0)]),
        lambda: tracking_store.log_batch("f" * 32),
        lambda: tracking_store.get_metric_history("f" * 32, "m"),
        lambda: tracking_store.log_inputs("f" * 32, [DatasetInput("d", "abc")]),
    ):
        with pytest.raises(NotFoundError):
            call()


def test_large_batch_without_chunking(tracking_store: TrackingStore) -> None:
    _, run_id = _run(tracking_store)
    points = [Metric(f"k{i % 7}", float(i), i, i) for i in range(12_000)]
    params = [Param(f"p{i}", str(i)) for i in range(1_200)]
    tracking_store.log_batch(run_id, metrics=points, params=params)
    run = tracking_store.get_run(run_id)
    assert len(run.params) == 1_200
    assert run.metrics["k0"] == 11_998.0
    assert len(tracking_store.get_metric_history(run_id, "k3")) == len(range(3, 12_000, 7))


def test_longest_allowed_values_fit(tracking_store: TrackingStore) -> None:
    _, run_id = _run(tracking_store)
    param, tag = "p" * 8_000, "t" * 65_535
    tracking_store.log_batch(run_id, params=[Param("long", param)], tags={"long": tag})
    run = tracking_store.get_run(run_id)
    assert run.params["long"] == param and run.tags["long"] == tag


def test_special_floats_round_trip(tracking_store: TrackingStore) -> None:
    _, run_id = _run(tracking_store)
    values = [math.nan, math.inf, -math.inf, 0.0, 5e-324, 1.7976931348623157e308, -1.5]
    tracking_store.log_batch(run_id, metrics=[Metric("v", v, 1, i) for i, v in enumerate(values)])
    got = [m.value for m in tracking_store.get_metric_history(run_id, "v")]
    assert math.isnan(got[0]) and got[1:] == values[1:]
    tracking_store.log_batch(run_id, metrics=[Metric("n", math.nan, 1, 0)])
    assert math.isnan(tracking_store.get_run(run_id).metrics["n"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=1, max_size=20))
def test_any_float_round_trips(tracking_store: TrackingStore, values: list[float]) -> None:
    _, run_id = _run(tracking_store, "floats")
    tracking_store.log_batch(run_id, metrics=[Metric("x", v, 1, i) for i, v in enumerate(values)])
    got = [m.value for m in tracking_store.get_metric_history(run_id, "x")]
    assert len(got) == len(values)
    for want, have in zip(values, got, strict=True):
        assert (math.isnan(want) and math.isnan(have)) or want == have


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=60),
    value=st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=200),
)
def test_unicode_names_round_trip(tracking_store: TrackingStore, name: str, value: str) -> None:
    exp = tracking_store.get_experiment_by_name(name)
    exp_id = exp.experiment_id if exp else tracking_store.create_experiment(name, "memory://u")
    assert tracking_store.get_experiment(exp_id).name == name
    run = tracking_store.create_run(exp_id, run_name=name, start_time=1, tags={name: value})
    tracking_store.log_batch(run.run_id, params=[Param(name, value)], metrics=[Metric(name, 1.5, 1, 0)])
    got = tracking_store.get_run(run.run_id)
    assert got.run_name == name and got.params[name] == value and got.tags[name] == value
    assert got.metrics[name] == 1.5


def test_log_inputs_is_idempotent_and_ordered(tracking_store: TrackingStore) -> None:
    _, run_id = _run(tracking_store)
    train = DatasetInput("credit", "d1", source="file:///c.csv", schema='{"a": "int64"}', num_rows=10)
    test = DatasetInput("credit", "d1", context="evaluation")
    tracking_store.log_inputs(run_id, [train])
    tracking_store.log_inputs(run_id, [train, test])
    assert tracking_store.get_run(run_id).inputs == (train, test)


def test_threads_share_one_store(tracking_store: TrackingStore) -> None:
    _, run_id = _run(tracking_store)
    errors: list[BaseException] = []

    def work(t: int) -> None:
        try:
            for i in range(20):
                tracking_store.log_batch(run_id, metrics=[Metric(f"t{t}", float(i), i, i)])
                tracking_store.log_batch(run_id, params=[Param(f"p{t}", "same")])
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    run = tracking_store.get_run(run_id)
    assert all(run.metrics[f"t{t}"] == 19.0 for t in range(6))
    assert all(len(tracking_store.get_metric_history(run_id, f"t{t}")) == 20 for t in range(6))


def test_search_runs_refuses_bad_arguments(tracking_store: TrackingStore) -> None:
    exp_id, _ = _run(tracking_store)
    with pytest.raises(InvalidInputError, match="experiment_ids"):
        tracking_store.search_runs(exp_id)  # type: ignore[arg-type]  # a string, not a list of ids
    with pytest.raises(InvalidInputError, match="view"):
        tracking_store.search_runs([exp_id], view="gone")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="max_results"):
        tracking_store.search_runs([exp_id], max_results=-1)
    assert len(tracking_store.search_runs([exp_id])) == 1


# ---------------------------------------------------------------------- search in columnar form
_FLOATS = [0.5, -0.0, 0.0, 1.0, -2.5, 0.1 + 0.2, 1 / 3, 1e300, 5e-324, math.inf, -math.inf, math.nan]
_STRINGS = ["", "a", "b", "B", "é", "10", "9", "it's"]
_SEARCHES = st.tuples(
    st.sampled_from(
        [
            "",
            "metrics.m > 0",
            "metrics.m != 1.0",
            "params.a = 'a' or tags.t IS NULL",
            "not params.`b c` IS NULL",
            "status = 'FINISHED'",
            "metrics.`n.x` IS NOT NULL and params.a >= 'a'",
            "params.a = 'no such value'",
        ]
    ),
    st.lists(
        st.sampled_from(
            ["metrics.m DESC", "metrics.m", "params.a", "tags.t DESC", "end_time", "run_name DESC"]
        ),
        max_size=2,
    ),
    st.sampled_from(["active", "deleted", "all"]),
    st.sampled_from([None, 0, 1, 3]),
)


def _canonical_table(table: RunTable) -> tuple[object, ...]:
    """A comparable form: values as sorted ``(run_id, key, value)``; a metric as ``float.hex``."""

    def triples(keyed: Mapping[str, SparseColumn]) -> list[tuple[str, str, object]]:
        found = []
        for key, column in keyed.items():
            assert len(column.rows) == len(column.values) > 0
            found += [
                (run_ids[row], key, value) for row, value in zip(column.rows, column.values, strict=True)
            ]
        assert len({(run_id, key) for run_id, key, _ in found}) == len(found)
        return sorted(found)

    def number(v: float | None) -> str:
        return "nan" if v is None or math.isnan(v) else float(v).hex()  # NaN may be given as None

    run_ids = list(table.columns["run_id"])
    metrics = [(r, k, number(v)) for r, k, v in triples(table.metrics)]  # type: ignore[arg-type]
    return (
        {k: list(v) for k, v in table.columns.items()},
        triples(table.params),
        metrics,
        triples(table.tags),
    )


def _assert_table_matches_runs(store: TrackingStore, exp_id: str, search: tuple[object, ...]) -> None:
    filter_string, order_by, view, max_results = search
    kwargs = {"view": view, "order_by": order_by, "max_results": max_results}
    table = store.search_run_table([exp_id], filter_string, **kwargs)  # type: ignore[arg-type]
    runs = store.search_runs([exp_id], filter_string, **kwargs)  # type: ignore[arg-type]
    assert list(table.columns) == list(RUN_TABLE_ATTRIBUTES)
    assert _canonical_table(table) == _canonical_table(RunTable.from_runs(runs))
    pd.testing.assert_frame_equal(table_to_frame(table), runs_to_frame(runs), check_exact=True)


def _log_search_runs(store: TrackingStore, exp_id: str, specs: list[dict[str, object]]) -> None:
    first: str | None = None
    for i, spec in enumerate(specs):
        parent = first if spec["child"] else None
        run = store.create_run(
            exp_id,
            run_name=f"r{i % 3}",
            start_time=1000 + int(spec["start"]),  # type: ignore[call-overload]
            user_id="ann" if i % 2 else "",
            tags=spec["tags"],  # type: ignore[arg-type]
            parent_run_id=parent,
        )
        first = first or run.run_id
        metrics = [Metric(k, v, 5, 0) for k, v in spec["metrics"].items()]  # type: ignore[attr-defined]
        params = [Param(k, v) for k, v in spec["params"].items()]  # type: ignore[attr-defined]
        store.log_batch(run.run_id, metrics=metrics, params=params)
        if spec["end"]:
            store.update_run(run.run_id, status="FINISHED", end_time=2000 + i)
        if spec["deleted"]:
            store.update_run(run.run_id, lifecycle_stage="deleted")


_RUN_SPECS = st.lists(
    st.fixed_dictionaries(
        {
            "start": st.integers(0, 3),  # ties: the order falls back to run_id
            "params": st.dictionaries(st.sampled_from(["a", "b c", "ü"]), st.sampled_from(_STRINGS)),
            "metrics": st.dictionaries(st.sampled_from(["m", "n.x", "z"]), st.sampled_from(_FLOATS)),
            "tags": st.dictionaries(st.sampled_from(["t", "mlops.note"]), st.sampled_from(_STRINGS)),
            "end": st.booleans(),
            "deleted": st.booleans(),
            "child": st.booleans(),
        }
    ),
    max_size=6,
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(specs=_RUN_SPECS, searches=st.lists(_SEARCHES, min_size=1, max_size=3))
def test_search_run_table_equals_search_runs(
    tracking_store: TrackingStore, specs: list[dict[str, object]], searches: list[tuple[object, ...]]
) -> None:
    """The columnar search holds the same runs, data and order as ``search_runs`` (and so the frame)."""
    exp_id = tracking_store.create_experiment(f"table-{uuid.uuid4().hex}", "memory://table")
    _log_search_runs(tracking_store, exp_id, specs)
    for search in searches:
        _assert_table_matches_runs(tracking_store, exp_id, search)


def test_search_run_table_edge_cases(tracking_store: TrackingStore) -> None:
    exp_id = tracking_store.create_experiment("table", "memory://table")
    specs: list[dict[str, object]] = [
        {"start": 0, "params": {}, "metrics": {}, "tags": {}, "end": False, "deleted": False, "child": False},
        {
            "start": 1,
            "params": {"a": "x", "b c": ""},
            "metrics": {"m": math.nan, "n.x": -math.inf, "z": -0.0},
            "tags": {"t": "é"},
            "end": True,
            "deleted": False,
            "child": True,
        },
        {
            "start": 1,
            "params": {"a": "y"},
            "metrics": {"m": math.inf},
            "tags": {},
            "end": True,
            "deleted": True,
            "child": False,
        },
    ]
    _log_search_runs(tracking_store, exp_id, specs)
    for view in ("active", "deleted", "all"):
        for max_results in (None, 0, 1):
            for filter_string in ("", "params.a = 'none'", "metrics.m != 0"):
                search = (filter_string, ["metrics.m DESC"], view, max_results)
                _assert_table_matches_runs(tracking_store, exp_id, search)
    empty = tracking_store.search_run_table([exp_id], "params.a = 'none'")
    assert empty.columns == {name: [] for name in RUN_TABLE_ATTRIBUTES}
    assert (empty.params, empty.metrics, empty.tags) == ({}, {}, {})
    with pytest.raises(InvalidInputError, match="at character"):
        tracking_store.search_run_table([exp_id], "metrics.m >")
    with pytest.raises(InvalidInputError, match="experiment_ids"):
        tracking_store.search_run_table(exp_id)  # type: ignore[arg-type]
