"""The search filter grammar: trees for valid filters, positioned errors for malformed ones, fuzzing."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlops.errors import InvalidInputError
from mlops.query import (
    And,
    Comparison,
    FilterSyntaxError,
    Not,
    Or,
    OrderKey,
    format_filter,
    format_order_key,
    parse_filter,
    parse_order_by,
)
from mlops.query.ast import ATTRIBUTES, NUMERIC_ATTRIBUTES, Node
from mlops.query.parser import MAX_COMPARISONS, MAX_DEPTH

C = Comparison


# ------------------------------------------------------------------------------------------ valid
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("metrics.auc > 0.8", C("metric", "auc", ">", 0.8)),
        ("metric.auc>=1", C("metric", "auc", ">=", 1.0)),
        ("metrics.loss < -1e-3", C("metric", "loss", "<", -0.001)),
        ("metrics.loss <= .5", C("metric", "loss", "<=", 0.5)),
        ("metrics.loss = +2E3", C("metric", "loss", "=", 2000.0)),
        ("metrics.x != inf", C("metric", "x", "!=", math.inf)),
        ("metrics.x = -Infinity", C("metric", "x", "=", -math.inf)),
        ("metrics.x = 1e999", C("metric", "x", "=", math.inf)),
        ("metrics.train/loss < 1", C("metric", "train/loss", "<", 1.0)),
        ("metrics.val-loss < 1", C("metric", "val-loss", "<", 1.0)),
        ("params.C = '0.1'", C("param", "C", "=", "0.1")),
        ('param.C = "0.1"', C("param", "C", "=", "0.1")),
        ("parameters.C != 'x'", C("param", "C", "!=", "x")),
        ("parameter.C < 'x'", C("param", "C", "<", "x")),
        ("tags.team = 'risk'", C("tag", "team", "=", "risk")),
        ("tag.team.name = 'a'", C("tag", "team.name", "=", "a")),
        ("tags.`team name` = 'a'", C("tag", "team name", "=", "a")),
        ("tags.\"team.name x\" = 'a'", C("tag", "team.name x", "=", "a")),
        ("tags.`a``b` = 'a'", C("tag", "a`b", "=", "a")),
        ("status = 'FINISHED'", C("attribute", "status", "=", "FINISHED")),
        ("attributes.status = 'FINISHED'", C("attribute", "status", "=", "FINISHED")),
        ("attribute.status = 'FINISHED'", C("attribute", "status", "=", "FINISHED")),
        ("attr.run_id = 'abc'", C("attribute", "run_id", "=", "abc")),
        ("run.user_id = 'me'", C("attribute", "user_id", "=", "me")),
        ("`Run name` = 'fit'", C("attribute", "run_name", "=", "fit")),
        ("\"Run name\" LIKE 'fit%'", C("attribute", "run_name", "LIKE", "fit%")),
        ("attributes.`Run name` ILIKE 'FIT%'", C("attribute", "run_name", "ILIKE", "FIT%")),
        ("created > 5", C("attribute", "start_time", ">", 5)),
        ("start_time > 1.5", C("attribute", "start_time", ">", 1.5)),
        ("end_time <= 99999999999999999999", C("attribute", "end_time", "<=", 1e20)),
        ("end_time IS NULL", C("attribute", "end_time", "IS NULL")),
        ("parent_run_id is not null", C("attribute", "parent_run_id", "IS NOT NULL")),
        ("experiment_id IN ('1', \"2\")", C("attribute", "experiment_id", "IN", ("1", "2"))),
        ("artifact_uri like 's3://%'", C("attribute", "artifact_uri", "LIKE", "s3://%")),
        ("run_id not in ('a')", C("attribute", "run_id", "NOT IN", ("a",))),
        ("metrics.a IN (1, 2.5)", C("metric", "a", "IN", (1.0, 2.5))),
        ("start_time IN (1, 2)", C("attribute", "start_time", "IN", (1, 2))),
        ("tags.t IS NULL", C("tag", "t", "IS NULL")),
        ("tags.t iS nOt NuLl", C("tag", "t", "IS NOT NULL")),
        ("params.p ILIKE '%A_'", C("param", "p", "ILIKE", "%A_")),
        # escapes: doubled quotes, backslash before a quote or a backslash; other backslashes stay
        ("tags.t = 'it''s'", C("tag", "t", "=", "it's")),
        ("tags.t = 'it\\'s'", C("tag", "t", "=", "it's")),
        ('tags.t = "say ""hi"""', C("tag", "t", "=", 'say "hi"')),
        ("tags.t = 'a\\\\b'", C("tag", "t", "=", "a\\b")),
        ("tags.t = 'C:\\temp'", C("tag", "t", "=", "C:\\temp")),
        ("tags.t = ''", C("tag", "t", "=", "")),
        ("tags.t = 'ünï 日本'", C("tag", "t", "=", "ünï 日本")),
        ("tags.`ключ` = 'x'", C("tag", "ключ", "=", "x")),
    ],
)
def test_valid_comparisons(text: str, expected: Comparison) -> None:
    assert parse_filter(text) == expected


def test_boolean_structure_and_precedence() -> None:
    a, b, c = (C("metric", k, ">", 1.0) for k in "abc")
    assert parse_filter("metrics.a > 1 and metrics.b > 1 or metrics.c > 1") == Or((And((a, b)), c))
    assert parse_filter("metrics.a > 1 or metrics.b > 1 AND metrics.c > 1") == Or((a, And((b, c))))
    assert parse_filter("metrics.a > 1 And (metrics.b > 1 oR metrics.c > 1)") == And((a, Or((b, c))))
    assert parse_filter("metrics.a > 1 and metrics.b > 1 and metrics.c > 1") == And((a, b, c))
    assert parse_filter("metrics.a > 1 and (metrics.b > 1 and metrics.c > 1)") == And((a, And((b, c))))
    assert parse_filter("((metrics.a > 1))") == a
    assert parse_filter("not metrics.a > 1 and metrics.b > 1") == And((Not(a), b))
    assert parse_filter("NOT (metrics.a > 1 or metrics.b > 1)") == Not(Or((a, b)))
    assert parse_filter("not not metrics.a > 1") == Not(Not(a))
    assert parse_filter("metrics.a>1AND metrics.b>1") == And((a, b))


@pytest.mark.parametrize("text", ["", "   ", "\n\t "])
def test_empty_filter_means_no_filter(text: str) -> None:
    assert parse_filter(text) is None


def test_keys_named_like_keywords_need_a_prefix_or_quotes() -> None:
    assert parse_filter("tags.and = 'x' or tags.not = 'y'") == Or(
        (C("tag", "and", "=", "x"), C("tag", "not", "=", "y"))
    )


# ------------------------------------------------------------------------------------------ errors
@pytest.mark.parametrize(
    ("text", "position", "fragment"),
    [
        ("tags.t = 'abc", 9, "unterminated quote"),
        ('tags.t = "abc', 9, "unterminated quote"),
        ("tags.`abc = 'x'", 5, "unterminated quote"),
        ("(metrics.a > 1", 0, "unbalanced '('"),
        ("((metrics.a > 1) and metrics.b > 1", 0, "unbalanced '('"),
        ("metrics.a > 1)", 13, "unbalanced ')'"),
        ("metrics.a IN (1, 2", 13, "unbalanced '('"),
        ("foo.a > 1", 0, "unknown prefix 'foo'"),
        ("Metrics.a > 1", 0, "unknown prefix 'Metrics'"),
        ("TAGS.a = 'x'", 0, "unknown prefix 'TAGS'"),
        ("auc > 1", 0, "unknown attribute 'auc'"),
        ("Status = 'x'", 0, "unknown attribute 'Status'"),
        ("attributes.nope = 'x'", 0, "unknown attribute 'nope'"),
        ("metrics.a > 1 and tags.b = 'x' and", 34, "found the end"),
        ("metrics.a >", 11, "found the end"),
        ("metrics.a > 1 or", 16, "found the end"),
        ("metrics.a", 9, "expected an operator"),
        ("metrics.a 1", 10, "expected an operator"),
        ("metrics.a = = 1", 12, "expected a number"),
        ("and metrics.a > 1", 0, "keyword AND"),
        ("status = 'A' garbage", 13, "unexpected 'garbage'"),
        ("metrics.a > 1 metrics.b > 1", 14, "expected AND or OR"),
        ("metrics.a = 'x'", 12, "compares to numbers"),
        ("start_time = '5'", 13, "compares to numbers"),
        ("params.a = 1", 11, "quote the value"),
        ("tags.a = inf", 9, "quote the value"),
        ("status IN ('a', 1)", 16, "quote the value"),
        ("metrics.a = nan", 12, "NaN is not a value"),
        ("metrics.a = -NaN", 12, "NaN is not a value"),
        ("metrics.a LIKE 'x'", 10, "LIKE needs a string key"),
        ("end_time ilike 'x'", 9, "ILIKE needs a string key"),
        ("metrics.a IN ()", 14, "empty list"),
        ("metrics.a IN 1", 13, "expected '('"),
        ("metrics.a IN (1 2)", 16, "expected ',' or ')'"),
        ("metrics.a NOT 1", 14, "expected IN after NOT"),
        ("metrics.a IS 1", 13, "expected NULL after IS"),
        ("metrics.a IS NOT 1", 17, "expected NULL after IS NOT"),
        ("tags. = 'x'", 5, "expected a key after 'tags.'"),
        ("tags.`` = 'x'", 0, "empty key"),
        ("'status' = 'x'", 0, "found a string"),
        ("tags.a = `x`", 9, "expected a quoted string"),
        ("metrics.a ! 1", 10, "'!' must be followed by '='"),
        ("metrics.a == 1", 11, "expected a number"),
        ("metrics.a > 1 ; drop table runs", 14, "unexpected character ';'"),
        ("tags.a = 'x\x00'", 11, "NUL"),
        ("metrics.a > 1 and ()", 19, "expected a key"),
        ("tags.t = 'x' or (", 17, "found the end"),
    ],
)
def test_errors_point_at_the_position(text: str, position: int, fragment: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        parse_filter(text)
    err = info.value
    assert isinstance(err, FilterSyntaxError)
    assert err.position == position, str(err)
    assert fragment in str(err)
    lines = str(err).splitlines()
    assert f"character {position}" in lines[0]
    assert lines[-1].index("^") - 2 == position  # the caret sits under the offending character


def test_syntax_errors_pickle() -> None:
    import pickle

    with pytest.raises(FilterSyntaxError) as info:
        parse_filter("metrics.a >")
    copy = pickle.loads(pickle.dumps(info.value))
    assert (str(copy), copy.position, copy.text) == (str(info.value), 11, "metrics.a >")


def test_long_filters_show_a_window_with_the_caret() -> None:
    text = "tags.a = 'x' and " * 20 + "tags.b = 1" + " and tags.a = 'x'" * 20
    with pytest.raises(FilterSyntaxError) as info:
        parse_filter(text)
    assert info.value.position == text.index("= 1") + 2
    excerpt, caret = str(info.value).splitlines()[-2:]
    assert excerpt.strip().startswith("...") and excerpt.endswith("...")
    assert excerpt[caret.index("^")] == "1"


def test_limits_on_nesting_and_size() -> None:
    deep = "(" * (MAX_DEPTH + 5) + "metrics.a > 1" + ")" * (MAX_DEPTH + 5)
    with pytest.raises(FilterSyntaxError, match="nested too deeply"):
        parse_filter(deep)
    with pytest.raises(FilterSyntaxError, match="nested too deeply"):
        parse_filter("not " * 1000 + "metrics.a > 1")
    many = " or ".join(f"metrics.a = {i}" for i in range(MAX_COMPARISONS + 1))
    with pytest.raises(FilterSyntaxError, match="comparisons"):
        parse_filter(many)
    assert parse_filter("(" * (MAX_DEPTH - 1) + "metrics.a > 1" + ")" * (MAX_DEPTH - 1)) is not None


def test_non_string_filter_is_invalid_input() -> None:
    with pytest.raises(InvalidInputError):
        parse_filter(None)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------ order by
def test_order_by() -> None:
    assert parse_order_by(["metrics.auc DESC", "start_time", "params.C asc", "`Run name` desc"]) == [
        OrderKey("metric", "auc", True),
        OrderKey("attribute", "start_time", False),
        OrderKey("param", "C", False),
        OrderKey("attribute", "run_name", True),
    ]
    assert parse_order_by(["tags.`team name` DESC", "created", 'tags."a.b"']) == [
        OrderKey("tag", "team name", True),
        OrderKey("attribute", "start_time", False),
        OrderKey("tag", "a.b", False),
    ]
    assert parse_order_by([]) == []


@pytest.mark.parametrize(
    ("clause", "position", "fragment"),
    [
        ("", 0, "empty clause"),
        ("metrics.auc DESCENDING", 12, "expected ASC, DESC"),
        ("metrics.auc DESC ASC", 17, "expected ASC, DESC"),
        ("foo.bar", 0, "unknown prefix"),
        ("nope", 0, "unknown attribute"),
        ("metrics.`auc DESC", 8, "unterminated quote"),
        ("metrics.auc, params.C", 11, "unexpected ','"),
    ],
)
def test_order_by_errors(clause: str, position: int, fragment: str) -> None:
    with pytest.raises(FilterSyntaxError) as info:
        parse_order_by(["start_time", clause])
    assert info.value.position == position
    assert fragment in str(info.value)
    assert "order_by clause" in str(info.value)


def test_order_by_wants_a_list_of_strings() -> None:
    with pytest.raises(InvalidInputError):
        parse_order_by("metrics.auc")
    with pytest.raises(InvalidInputError):
        parse_order_by([1])  # type: ignore[list-item,unused-ignore]


# ------------------------------------------------------------------------------------------ fuzzing
_GRAMMAR_BITS = st.sampled_from(
    [
        "metrics.",
        "params.",
        "tags.",
        "attributes.",
        "status",
        "start_time",
        "end_time",
        "`Run name`",
        "a",
        "x.y",
        " and ",
        " or ",
        " not ",
        " in ",
        " not in ",
        " is ",
        " null",
        " like ",
        " ilike ",
        "=",
        "!=",
        "<",
        "<=",
        ">",
        ">=",
        "(",
        ")",
        ",",
        "'",
        '"',
        "`",
        "\\",
        "''",
        "1",
        "-1.5e3",
        ".5",
        "inf",
        "nan",
        "'a%'",
        " ",
        "\x00",
        "é",
        "!",
        ";",
        "-",
        "+",
        ".",
        "e",
        "E",
    ]
)


@settings(max_examples=1500, deadline=None)
@given(st.one_of(st.text(), st.lists(_GRAMMAR_BITS, max_size=25).map("".join)))
def test_arbitrary_text_raises_only_invalid_input(text: str) -> None:
    try:
        node = parse_filter(text)
    except InvalidInputError as err:
        assert isinstance(err, FilterSyntaxError)
        assert 0 <= err.position <= len(text)
        return
    assert parse_filter(format_filter(node)) == node


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.text(), st.lists(_GRAMMAR_BITS, max_size=6).map("".join)), max_size=3))
def test_arbitrary_order_by_raises_only_invalid_input(clauses: list[str]) -> None:
    try:
        parse_order_by(clauses)
    except FilterSyntaxError as err:
        assert 0 <= err.position <= len(err.text)


_keys = st.text(
    st.characters(exclude_characters="\x00", categories=("L", "M", "N", "P", "S", "Z", "Cc", "Cf", "Co")),
    min_size=1,
    max_size=8,
)
_strings = st.text(
    st.characters(exclude_characters="\x00", categories=("L", "M", "N", "P", "S", "Z", "Cc", "Cf", "Co")),
    max_size=8,
)
_floats = st.floats(allow_nan=False)
_times = st.one_of(st.integers(-(2**63) + 1, 2**63 - 1), _floats)
_STRING_OPS = ["=", "!=", "<", "<=", ">", ">=", "LIKE", "ILIKE"]
_NUMBER_OPS = ["=", "!=", "<", "<=", ">", ">="]


@st.composite
def comparisons(draw: st.DrawFn) -> Comparison:
    kind = draw(st.sampled_from(["metric", "param", "tag", "attribute"]))
    key = draw(st.sampled_from(ATTRIBUTES)) if kind == "attribute" else draw(_keys)
    numeric = kind == "metric" or (kind == "attribute" and key in NUMERIC_ATTRIBUTES)  # not params.end_time
    values = _floats if kind == "metric" else _times if numeric else _strings
    form = draw(st.sampled_from(["cmp", "in", "null"]))
    if form == "null":
        return C(kind, key, draw(st.sampled_from(["IS NULL", "IS NOT NULL"])))  # type: ignore[arg-type]
    if form == "in":
        items = tuple(draw(st.lists(values, min_size=1, max_size=4)))
        return C(kind, key, draw(st.sampled_from(["IN", "NOT IN"])), items)  # type: ignore[arg-type]
    op = draw(st.sampled_from(_NUMBER_OPS if numeric else _STRING_OPS))
    return C(kind, key, op, draw(values))  # type: ignore[arg-type]


filters: st.SearchStrategy[Node] = st.recursive(
    comparisons(),
    lambda inner: st.one_of(
        st.lists(inner, min_size=2, max_size=3).map(lambda cs: And(tuple(cs))),
        st.lists(inner, min_size=2, max_size=3).map(lambda cs: Or(tuple(cs))),
        inner.map(Not),
    ),
    max_leaves=8,
)


@settings(max_examples=500, deadline=None)
@given(filters)
def test_generated_filters_round_trip(node: Node) -> None:
    text = format_filter(node)
    assert parse_filter(text) == node, text


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.builds(OrderKey, st.sampled_from(["metric", "param", "tag"]), _keys, st.booleans()), max_size=3
    )
)
def test_generated_order_keys_round_trip(keys: list[OrderKey]) -> None:
    assert parse_order_by([format_order_key(k) for k in keys]) == keys
