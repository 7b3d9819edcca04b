"""The SQL compilation of search filters gives exactly the in-memory reference answers.

A few dozen runs with awkward data (NaN, ±inf, -0.0, missing keys, unicode, ``%``/``_``/backslashes/
quotes in strings, running runs, child runs, deleted runs, other experiments) are written to SQLite
and PostgreSQL; every filter, hand-written or generated, must select the same runs in the same order
as :func:`mlops.query.matches` + :func:`mlops.query.sort_runs` over the same runs as entities.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlops.entities import RUN_STATUSES, Run
from mlops.errors import InvalidInputError
from mlops.query import (
    And,
    Comparison,
    Node,
    Not,
    Or,
    OrderKey,
    format_filter,
    format_order_key,
    matches,
    parse_filter,
    sort_runs,
)
from mlops.query.ast import ATTRIBUTES, NUMERIC_ATTRIBUTES
from mlops.store.sql.models import Base
from mlops.store.sql.search import select_run_ids

METRIC_KEYS = ["m_a", "m_b", "m c", "ünï"]
PARAM_KEYS = ["p_a", "p_b", "p.x"]
TAG_KEYS = ["t_a", "t b", "mlops.note"]
NUMBERS = [0.0, -0.0, 1.0, 0.5, -1.5, 2.0, 3.0, 1e300, -1e-300, math.inf, -math.inf, math.nan]
STRINGS = [
    "",
    "a",
    "A",
    "b",
    "ab",
    "aB",
    "Ab",
    "a%b",
    "a_b",
    "axb",
    "a\\b",
    "a\\\\b",
    "it's",
    'x"y',
    "é",
    "É",
    "éa",
    "ß",
    "SS",
    "日本",
    "line\nbreak",
    "a*b",
    "[x]",
    "a?",
    "0.1",
    "10",
    "9",
    " a",
    "a ",
    "%",
    "_",
]
SEARCHED = ["1", "2"]


def _make_runs(n: int = 48, seed: int = 7) -> list[Run]:
    rnd = random.Random(seed)
    runs: list[Run] = []
    for i in range(n):
        run_id = f"r{i:03d}{rnd.choice('abcdef')}"
        status = rnd.choice(RUN_STATUSES)
        start = rnd.choice([1000, 2000, 3000]) + rnd.randrange(4)  # many ties on start_time
        runs.append(
            Run(
                run_id=run_id,
                experiment_id=rnd.choice(["1", "1", "2", "3"]),
                run_name=rnd.choice(STRINGS),
                status=status,
                start_time=start,
                end_time=None if status == "RUNNING" else start + rnd.randrange(50),
                lifecycle_stage=rnd.choice(["active", "active", "active", "deleted"]),
                artifact_uri=rnd.choice(["s3://b/x", "file:///tmp/a_b", "gs://b/%"]),
                user_id=rnd.choice(["alice", "Alice", "bob", ""]),
                parent_run_id=rnd.choice([None, None, runs[0].run_id if runs else None]),
                params={k: rnd.choice(STRINGS) for k in PARAM_KEYS if rnd.random() < 0.7},
                metrics={k: rnd.choice(NUMBERS) for k in METRIC_KEYS if rnd.random() < 0.7},
                tags={k: rnd.choice(STRINGS) for k in TAG_KEYS if rnd.random() < 0.7},
            )
        )
    return runs


RUNS = _make_runs()


def _insert(engine: sa.Engine, runs: Sequence[Run]) -> None:
    t = Base.metadata.tables
    with engine.begin() as conn:
        conn.execute(
            t["experiments"].insert(),
            [
                {
                    "experiment_id": e,
                    "name": f"exp{e}",
                    "artifact_location": "",
                    "lifecycle_stage": "active",
                    "creation_time": 0,
                    "last_update_time": 0,
                }
                for e in ("1", "2", "3")
            ],
        )
        conn.execute(
            t["runs"].insert(),
            [
                {
                    "run_id": r.run_id,
                    "experiment_id": r.experiment_id,
                    "run_name": r.run_name,
                    "status": r.status,
                    "start_time": r.start_time,
                    "end_time": r.end_time,
                    "lifecycle_stage": r.lifecycle_stage,
                    "artifact_uri": r.artifact_uri,
                    "user_id": r.user_id,
                    "parent_run_id": r.parent_run_id,
                    "heartbeat_time": None,
                }
                for r in runs
            ],
        )
        num = dict(conn.execute(sa.select(t["runs"].c.run_id, t["runs"].c.run_num)).all())
        for table, attr in (("params", "params"), ("tags", "tags")):
            rows = [
                {"run_num": num[r.run_id], "key": k, "value": v}
                for r in runs
                for k, v in getattr(r, attr).items()
            ]
            conn.execute(t[table].insert(), rows)
        metric_rows = [
            {
                "run_num": num[r.run_id],
                "key": k,
                "step": 0,
                "timestamp": 0,
                "value": None if math.isnan(v) else v,
                "is_nan": math.isnan(v),
            }
            for r in runs
            for k, v in r.metrics.items()
        ]
        conn.execute(t["latest_metrics"].insert(), metric_rows)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[sa.Engine]:
    url = (
        f"sqlite:///{tmp_path / 'search.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("pg_url")
    )
    eng = sa.create_engine(url)
    Base.metadata.create_all(eng)
    if request.param == "postgresql":
        _use_a_linguistic_collation(eng)
    _insert(eng, RUNS)
    yield eng
    eng.dispose()


def _use_a_linguistic_collation(engine: sa.Engine) -> None:
    """Give the string columns an ICU collation (``'a' < 'B'``), as a database made in a non-C locale
    would have: ordering must still be by code point, as in Python."""
    with engine.begin() as conn:
        if conn.exec_driver_sql("SELECT 1 FROM pg_collation WHERE collname = 'und-x-icu'").first() is None:
            pytest.skip("PostgreSQL without ICU collations")
        for table, column in [
            ("runs", "run_name"),
            ("runs", "status"),
            ("runs", "user_id"),
            ("runs", "artifact_uri"),
            ("runs", "parent_run_id"),
            ("params", "value"),
            ("tags", "value"),
        ]:
            conn.exec_driver_sql(f'ALTER TABLE {table} ALTER COLUMN {column} TYPE text COLLATE "und-x-icu"')
        assert conn.exec_driver_sql("SELECT 'a' < 'B' COLLATE \"und-x-icu\"").scalar() is True


def _sql_ids(
    engine: sa.Engine,
    filter_string: str,
    order_by: Sequence[str] = (),
    view: str = "active",
    max_results: int | None = None,
) -> list[str]:
    stmt = select_run_ids(
        engine.dialect.name, SEARCHED, filter_string, view=view, order_by=order_by, max_results=max_results
    )
    with engine.connect() as conn:
        return list(conn.execute(stmt).scalars())


def _expected_ids(
    filter_string: str, order_by: Sequence[str] = (), view: str = "active", max_results: int | None = None
) -> list[str]:
    node = parse_filter(filter_string)
    chosen = [
        r
        for r in RUNS
        if r.experiment_id in SEARCHED and (view == "all" or r.lifecycle_stage == view) and matches(node, r)
    ]
    return [r.run_id for r in sort_runs(chosen, order_by)][:max_results]


HANDWRITTEN = [
    "",
    "metrics.m_a > 0.5",
    "metrics.m_a >= 0",
    "metrics.m_a < 0",
    "metrics.m_a <= 0",
    "metrics.m_a = 0",
    "metrics.m_a = -0.0",
    "metrics.m_a != 1",
    "metrics.m_a = inf",
    "metrics.m_a > 1e299",
    "metrics.m_a < -inf",
    "metrics.m_a <= -inf",
    "metrics.m_a != inf",
    "metrics.m_a IN (0, 1, inf)",
    "metrics.m_a NOT IN (0, 1, inf)",
    "metrics.m_a IS NULL",
    "metrics.m_a IS NOT NULL",
    "not metrics.m_a > 0.5",
    "metrics.`m c` > 0 or metrics.ünï < 0",
    "metrics.m_a > 0.5 or metrics.m_b > 0.5",  # a missing key on one branch must not drop the other
    "metrics.m_a > 0.5 and params.p_a = 'a'",
    "params.p_a = 'a'",
    "params.p_a != 'a'",
    "params.p_a < 'b'",
    "params.p_a >= 'é'",
    "params.p_a > 'Z'",
    "params.p_a < '9'",
    "params.p_a > ''",
    "params.p_a = 'it''s'",
    "params.p_a = 'x\"y'",
    "params.p_a = 'a\\\\b'",
    "params.p_a = 'a\\\\\\\\b'",
    "params.`p.x` IN ('a', 'b', 'É')",
    "params.`p.x` NOT IN ('a', 'b', 'É')",
    "params.p_a LIKE 'a%'",
    "params.p_a LIKE 'A%'",
    "params.p_a ILIKE 'a%'",
    "params.p_a ILIKE 'É%'",
    "params.p_a ILIKE 'ss'",
    "params.p_a LIKE '%\\\\%'",
    "params.p_a LIKE 'a\\\\b'",
    "params.p_a LIKE '%b'",
    "params.p_a LIKE '_'",
    "params.p_a LIKE '__'",
    "params.p_a LIKE '%'",
    "params.p_a LIKE 'a*b'",
    "params.p_a LIKE '[x]'",
    "params.p_a LIKE 'a?'",
    "params.p_a LIKE '%_%'",
    "params.p_a LIKE 'line%'",
    "params.p_a LIKE 'line_break'",
    "params.p_a LIKE '%\n%'",
    "params.p_a LIKE 'a%b'",
    "params.p_a LIKE '日_'",
    "params.p_a ILIKE '_B'",
    "tags.t_a = 'a' or tags.`t b` = 'b'",
    "tags.`mlops.note` IS NULL",
    "tags.mlops.note IS NOT NULL",
    "not (tags.t_a = 'a' and tags.`t b` IS NULL)",
    "status = 'FINISHED'",
    "attributes.status IN ('FAILED', 'KILLED')",
    "status != 'RUNNING'",
    "run_id = 'r000a'",
    "run_id LIKE 'r00%'",
    "attr.run_id > 'r020'",
    "`Run name` ILIKE 'A%'",
    "run_name = ''",
    "run_name < 'b'",
    "start_time > 2000",
    "created <= 2001.5",
    "start_time IN (1000, 2001)",
    "start_time = 2e3",
    "end_time IS NULL",
    "end_time > 2010",
    "end_time != 2010",
    "end_time NOT IN (1000)",
    "not end_time > 2010",
    "user_id = 'alice'",
    "user_id ILIKE 'ALICE'",
    "artifact_uri LIKE 'gs://b/\\%'",
    "artifact_uri LIKE '%a_b'",
    "experiment_id = '2'",
    "parent_run_id IS NOT NULL",
    "parent_run_id IS NULL and status = 'RUNNING'",
    "run_name IS NULL",
    "run_name IS NOT NULL",
    "(metrics.m_a > 0 or params.p_b LIKE '%a%') and (tags.t_a IS NULL or not metrics.m_b <= 1)",
]
ORDERS: list[list[str]] = [
    [],
    ["metrics.m_a"],
    ["metrics.m_a DESC"],
    ["params.p_a"],
    ["params.p_a DESC", "metrics.`m c`"],
    ["tags.`t b` DESC"],
    ["end_time"],
    ["end_time DESC"],
    ["run_name DESC"],
    ["start_time ASC"],
    ["status", "metrics.m_b DESC"],
    ["parent_run_id DESC", "`Run name`"],
]


def test_handwritten_filters_match_the_reference(engine: sa.Engine) -> None:
    mismatches = [f for f in HANDWRITTEN if _sql_ids(engine, f) != _expected_ids(f)]
    assert mismatches == []
    nonempty = sum(bool(_expected_ids(f)) for f in HANDWRITTEN)
    assert nonempty > len(HANDWRITTEN) * 0.6  # the data makes most filters select something


def test_order_by_matches_the_reference(engine: sa.Engine) -> None:
    for order in ORDERS:
        for view in ("active", "deleted", "all"):
            assert _sql_ids(engine, "", order, view) == _expected_ids("", order, view), (order, view)
    filt = "metrics.m_a > 0.5 and params.p_a != 'a'"
    assert _sql_ids(engine, filt, ["metrics.m_b DESC"], max_results=3) == _expected_ids(
        filt, ["metrics.m_b DESC"], max_results=3
    )


def test_missing_keys_nan_and_or_semantics(engine: sa.Engine) -> None:
    ids = set(_sql_ids(engine, "", view="all"))
    lacking_a = {r.run_id for r in RUNS if "m_a" not in r.metrics} & ids
    nan_a = {r.run_id for r in RUNS if math.isnan(r.metrics.get("m_a", 0.0))} & ids
    assert lacking_a and nan_a
    assert not lacking_a & set(_sql_ids(engine, "metrics.m_a != 12345", view="all"))
    assert nan_a <= set(_sql_ids(engine, "metrics.m_a != 12345", view="all"))
    for op in ("=", "<", "<=", ">", ">="):
        assert not nan_a & set(_sql_ids(engine, f"metrics.m_a {op} 0.5", view="all"))
    assert set(_sql_ids(engine, "metrics.m_a IS NULL", view="all")) == lacking_a
    either = set(_sql_ids(engine, "metrics.m_a > 0.5 or tags.t_a = 'a'", view="all"))
    assert {r.run_id for r in RUNS if r.tags.get("t_a") == "a"} & ids <= either


def test_experiments_view_and_limits(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        assert conn.execute(select_run_ids(engine.dialect.name, [], "")).all() == []
        all3 = conn.execute(select_run_ids(engine.dialect.name, ["3"], "", view="all")).scalars().all()
    assert set(all3) == {r.run_id for r in RUNS if r.experiment_id == "3"}
    assert _sql_ids(engine, "", max_results=0) == []
    with pytest.raises(InvalidInputError):
        select_run_ids("sqlite", ["1"], "", view="gone")
    with pytest.raises(InvalidInputError):
        select_run_ids("sqlite", ["1"], "", max_results=-1)
    with pytest.raises(InvalidInputError, match="list of ids"):
        select_run_ids("sqlite", "12", "")
    with pytest.raises(InvalidInputError, match="character"):
        select_run_ids("sqlite", ["1"], "metrics.a >")
    with pytest.raises(InvalidInputError, match="order_by"):
        select_run_ids("sqlite", ["1"], "", order_by=["metrics.a sideways"])


def test_values_are_bound_parameters_never_inlined() -> None:
    stmt = select_run_ids(
        "postgresql", ["1"], "tags.t = 'x''); drop table runs; --'", order_by=["params.`a'b`"]
    )
    sql = str(stmt)
    assert "drop table" not in sql
    assert "a'b" not in sql


def test_largest_filter_runs(engine: sa.Engine) -> None:
    from mlops.query.parser import MAX_COMPARISONS, MAX_DEPTH

    wide = " or ".join(f"metrics.m_a = {i}" for i in range(MAX_COMPARISONS - 1)) + " or params.p_a = 'a'"
    deep = "(" * (MAX_DEPTH - 1) + "not " * 0 + "params.p_a = 'a'" + ")" * (MAX_DEPTH - 1)
    nots = "not " * (MAX_DEPTH - 1) + "params.p_a = 'a'"
    for f in (wide, deep, nots):
        assert _sql_ids(engine, f) == _expected_ids(f)


# ------------------------------------------------------------------------------------------ generated
def _string_values() -> st.SearchStrategy[str]:
    chars = st.sampled_from(list("aAbBé É%_\\'\"*?[x日\n"))
    return st.one_of(st.sampled_from(STRINGS), st.lists(chars, max_size=4).map("".join))


@st.composite
def _comparisons(draw: st.DrawFn) -> Comparison:
    kind = draw(st.sampled_from(["metric", "param", "tag", "attribute"]))
    key = draw(
        st.sampled_from(
            {"metric": METRIC_KEYS, "param": PARAM_KEYS, "tag": TAG_KEYS, "attribute": list(ATTRIBUTES)}[kind]
        )
    )
    numeric = kind == "metric" or key in NUMERIC_ATTRIBUTES
    if kind == "metric":
        values: st.SearchStrategy[Any] = st.sampled_from([v for v in NUMBERS if not math.isnan(v)])
    elif numeric:
        values = st.one_of(st.sampled_from([1000, 2000, 2001, 3003]), st.floats(999, 3100))
    elif key == "run_id":
        values = st.sampled_from([r.run_id for r in RUNS] + ["r0", "r02", "zz"])
    elif key == "status":
        values = st.sampled_from([*RUN_STATUSES, "finished"])
    else:
        values = _string_values()
    form = draw(st.sampled_from(["cmp", "cmp", "cmp", "in", "null"]))
    if form == "null":
        return Comparison(kind, key, draw(st.sampled_from(["IS NULL", "IS NOT NULL"])))  # type: ignore[arg-type]
    if form == "in":
        op = draw(st.sampled_from(["IN", "NOT IN"]))
        return Comparison(kind, key, op, tuple(draw(st.lists(values, min_size=1, max_size=3))))  # type: ignore[arg-type]
    ops = ["=", "!=", "<", "<=", ">", ">="] + ([] if numeric else ["LIKE", "ILIKE", "LIKE", "ILIKE"])
    value = draw(values)
    if kind == "metric":
        value = float(value)
    return Comparison(kind, key, draw(st.sampled_from(ops)), value)  # type: ignore[arg-type]


_filters: st.SearchStrategy[Node] = st.recursive(
    _comparisons(),
    lambda inner: st.one_of(
        st.lists(inner, min_size=2, max_size=3).map(lambda cs: And(tuple(cs))),
        st.lists(inner, min_size=2, max_size=3).map(lambda cs: Or(tuple(cs))),
        inner.map(Not),
    ),
    max_leaves=5,
)
_order_keys = st.one_of(
    st.builds(OrderKey, st.just("metric"), st.sampled_from(METRIC_KEYS), st.booleans()),
    st.builds(OrderKey, st.just("param"), st.sampled_from(PARAM_KEYS), st.booleans()),
    st.builds(OrderKey, st.just("tag"), st.sampled_from(TAG_KEYS), st.booleans()),
    st.builds(OrderKey, st.just("attribute"), st.sampled_from(ATTRIBUTES), st.booleans()),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(node=_filters, order=st.lists(_order_keys, max_size=2), view=st.sampled_from(["active", "all"]))
def test_generated_filters_match_the_reference(
    engine: sa.Engine, node: Node, order: list[OrderKey], view: str
) -> None:
    text = format_filter(node)
    order_by = [format_order_key(k) for k in order]
    assert _sql_ids(engine, text, order_by, view) == _expected_ids(text, order_by, view), (text, order_by)
