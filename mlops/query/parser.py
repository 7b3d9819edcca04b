"""A recursive-descent parser for search filters and order clauses (see ``docs/search.md``).

Example:
    >>> parse_filter("metrics.auc > 0.8 and params.C = '0.1'")
    And(children=(Comparison(kind='metric', key='auc', op='>', value=0.8), \
Comparison(kind='param', key='C', op='=', value='0.1')))
    >>> parse_order_by(["metrics.auc DESC"])
    [OrderKey(kind='metric', key='auc', descending=True)]
"""

from __future__ import annotations

from collections.abc import Sequence

from mlops.errors import InvalidInputError
from mlops.query._tokens import FilterSyntaxError, Token, tokenize
from mlops.query.ast import (
    ATTRIBUTES,
    NUMERIC_ATTRIBUTES,
    And,
    Comparison,
    Kind,
    Node,
    Not,
    Op,
    Or,
    OrderKey,
    Value,
)

__all__ = ["MAX_COMPARISONS", "MAX_DEPTH", "MAX_LIST_VALUES", "parse_filter", "parse_order_by"]

#: Prefixes (case-sensitive) and the kind of key they name.
PREFIXES: dict[str, Kind] = {
    "metric": "metric",
    "metrics": "metric",
    "param": "param",
    "params": "param",
    "parameter": "param",
    "parameters": "param",
    "tag": "tag",
    "tags": "tag",
    "attribute": "attribute",
    "attributes": "attribute",
    "attr": "attribute",
    "run": "attribute",
}
#: Alternative attribute names (case-sensitive) and the attribute they stand for.
ATTRIBUTE_ALIASES: dict[str, str] = {"Run name": "run_name", "created": "start_time"}
_KEYWORDS = frozenset({"and", "or", "not", "in", "is", "null", "like", "ilike"})
_COMPARE_OPS: frozenset[str] = frozenset({"=", "!=", "<", "<=", ">", ">="})

#: Nesting limit for parentheses and ``NOT`` (keeps recursion and the database's expression depth bounded).
MAX_DEPTH = 32
#: Most comparisons in one filter (each becomes a subquery; databases limit expression size).
MAX_COMPARISONS = 200
#: Most values in all ``IN`` lists of one filter together (each is a bound parameter).
MAX_LIST_VALUES = 10_000
_INT64_MAX = 2**63 - 1


def parse_filter(text: str) -> Node | None:
    """Parse a filter string into its syntax tree; ``None`` for an empty or blank filter.

    Raises:
        InvalidInputError: the filter is malformed (a :class:`FilterSyntaxError` whose message shows the
            character offset and the text with a caret under it), or ``text`` is not a string.

    Example:
        >>> parse_filter("tags.team = 'risk' OR status = 'FAILED'")
        Or(children=(Comparison(kind='tag', key='team', op='=', value='risk'), \
Comparison(kind='attribute', key='status', op='=', value='FAILED')))
        >>> parse_filter("   ") is None
        True
    """
    if not isinstance(text, str):
        raise InvalidInputError(f"a filter must be a string, not {type(text).__name__}")
    parser = _Parser(text, "filter")
    if parser.peek().kind == "eof":
        return None
    node = parser.or_expr(0)
    tok = parser.peek()
    if tok.kind != "eof":
        hint = (
            "unbalanced ')'" if tok.kind == "rparen" else f"unexpected {_describe(tok)}; expected AND or OR"
        )
        raise parser.error(hint, tok.pos)
    return node


def parse_order_by(clauses: Sequence[str]) -> list[OrderKey]:
    """Parse order clauses such as ``"metrics.auc DESC"``, ``"start_time"``, ``"params.`C` ASC"``.

    Each clause is a key (as in a filter: a prefixed key or an attribute) optionally followed by
    ``ASC`` (the default) or ``DESC``, case-insensitive.

    Raises:
        InvalidInputError: a clause is malformed; the message shows the clause and the position.

    Example:
        >>> parse_order_by(["params.C", "`Run name` desc"])
        [OrderKey(kind='param', key='C', descending=False), OrderKey(kind='attribute', \
key='run_name', descending=True)]
    """
    if isinstance(clauses, str) or not isinstance(clauses, Sequence):
        raise InvalidInputError(f"order_by must be a list of strings, not {type(clauses).__name__}")
    keys: list[OrderKey] = []
    for clause in clauses:
        if not isinstance(clause, str):
            raise InvalidInputError(f"an order_by clause must be a string, not {type(clause).__name__}")
        parser = _Parser(clause, "order_by clause")
        if parser.peek().kind == "eof":
            raise parser.error("empty clause; expected a key such as metrics.auc", 0)
        kind, key, _tok = parser.identifier()
        descending = False
        tok = parser.peek()
        if tok.kind == "word" and tok.prefix is None and tok.value.lower() in ("asc", "desc"):
            descending = tok.value.lower() == "desc"
            parser.next()
            tok = parser.peek()
        if tok.kind != "eof":
            raise parser.error(f"unexpected {_describe(tok)}; expected ASC, DESC or the end", tok.pos)
        keys.append(OrderKey(kind, key, descending))
    return keys


def _describe(tok: Token) -> str:
    return "end of text" if tok.kind == "eof" else repr(tok.text)


class _Parser:
    def __init__(self, text: str, what: str) -> None:
        self.text = text
        self.what = what
        self.tokens = tokenize(text, what=what)
        self.i = 0
        self.comparisons = 0
        self.list_values = 0

    # ------------------------------------------------------------ helpers
    def peek(self) -> Token:
        return self.tokens[self.i]

    def next(self) -> Token:
        tok = self.tokens[self.i]
        if tok.kind != "eof":
            self.i += 1
        return tok

    def error(self, reason: str, pos: int) -> FilterSyntaxError:
        return FilterSyntaxError(reason, self.text, pos, what=self.what)

    def is_keyword(self, tok: Token, *words: str) -> bool:
        return tok.kind == "word" and tok.prefix is None and tok.value.lower() in words

    def expect_keyword(self, word: str, after: str) -> Token:
        tok = self.next()
        if not self.is_keyword(tok, word):
            raise self.error(f"expected {word.upper()} after {after}, found {_describe(tok)}", tok.pos)
        return tok

    # ------------------------------------------------------------ boolean structure
    def or_expr(self, depth: int) -> Node:
        children = [self.and_expr(depth)]
        while self.is_keyword(self.peek(), "or"):
            self.next()
            children.append(self.and_expr(depth))
        return children[0] if len(children) == 1 else Or(tuple(children))

    def and_expr(self, depth: int) -> Node:
        children = [self.not_expr(depth)]
        while self.is_keyword(self.peek(), "and"):
            self.next()
            children.append(self.not_expr(depth))
        return children[0] if len(children) == 1 else And(tuple(children))

    def not_expr(self, depth: int) -> Node:
        tok = self.peek()
        if depth >= MAX_DEPTH:
            raise self.error(f"nested too deeply (more than {MAX_DEPTH} levels of parentheses/NOT)", tok.pos)
        if self.is_keyword(tok, "not"):
            self.next()
            return Not(self.not_expr(depth + 1))
        if tok.kind == "lparen":
            self.next()
            node = self.or_expr(depth + 1)
            close = self.next()
            if close.kind != "rparen":
                if close.kind == "eof":
                    raise self.error("unbalanced '(': no matching ')'", tok.pos)
                raise self.error(f"expected ')' or AND/OR, found {_describe(close)}", close.pos)
            return node
        return self.comparison()

    # ------------------------------------------------------------ comparisons
    def identifier(self) -> tuple[Kind, str, Token]:
        """Read a key; return its kind, its (alias-resolved) key and its token."""
        tok = self.next()
        if tok.kind == "word" and tok.prefix is not None:
            kind = PREFIXES.get(tok.prefix)
            if kind is None:
                raise self.error(
                    f"unknown prefix {tok.prefix!r}; expected metrics., params., tags. or attributes.",
                    tok.pos,
                )
            key = tok.value
        elif tok.kind == "word" or (tok.kind == "quoted" and tok.quote in '`"'):
            if tok.kind == "word" and tok.value.lower() in _KEYWORDS:
                raise self.error(f"expected a key, found the keyword {tok.text.upper()}", tok.pos)
            kind, key = "attribute", tok.value
        elif tok.kind == "quoted":
            raise self.error(
                "expected a key, found a string; quote keys with backquotes (`key`) or double quotes", tok.pos
            )
        elif tok.kind == "eof":
            raise self.error("expected a key (such as metrics.auc), found the end of the text", tok.pos)
        else:
            raise self.error(f"expected a key (such as metrics.auc), found {_describe(tok)}", tok.pos)
        if not key:
            raise self.error("empty key", tok.pos)
        if kind == "attribute":
            key = ATTRIBUTE_ALIASES.get(key, key)
            if key not in ATTRIBUTES:
                raise self.error(
                    f"unknown attribute {key!r}; expected one of {', '.join(ATTRIBUTES)} "
                    "(or a prefixed key such as metrics.auc)",
                    tok.pos,
                )
        return kind, key, tok

    def comparison(self) -> Comparison:
        kind, key, key_tok = self.identifier()
        self.comparisons += 1
        if self.comparisons > MAX_COMPARISONS:
            raise self.error(f"more than {MAX_COMPARISONS} comparisons in one filter", key_tok.pos)
        numeric = kind == "metric" or (kind == "attribute" and key in NUMERIC_ATTRIBUTES)
        tok = self.next()
        op: Op
        value: Value
        if tok.kind == "op":
            op = tok.value  # type: ignore[assignment]  # the tokenizer only makes known operators
            value = self.scalar(kind, key, numeric)
        elif self.is_keyword(tok, "like", "ilike"):
            if numeric:
                raise self.error(
                    f"{tok.text.upper()} needs a string key; {_name(kind, key)} is numeric", tok.pos
                )
            op = "LIKE" if tok.value.lower() == "like" else "ILIKE"
            value = self.scalar(kind, key, numeric)
        elif self.is_keyword(tok, "in"):
            op, value = "IN", self.value_list(kind, key, numeric)
        elif self.is_keyword(tok, "not"):
            self.expect_keyword("in", "NOT")
            op, value = "NOT IN", self.value_list(kind, key, numeric)
        elif self.is_keyword(tok, "is"):
            if self.is_keyword(self.peek(), "not"):
                self.next()
                op = "IS NOT NULL"
            else:
                op = "IS NULL"
            self.expect_keyword("null", "IS" if op == "IS NULL" else "IS NOT")
            value = None
        else:
            raise self.error(
                f"expected an operator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN, IS) after "
                f"{_name(kind, key)}, found {_describe(tok)}",
                tok.pos,
            )
        return Comparison(kind, key, op, value)

    def value_list(self, kind: Kind, key: str, numeric: bool) -> tuple[str, ...] | tuple[int | float, ...]:
        open_tok = self.next()
        if open_tok.kind != "lparen":
            raise self.error(
                f"expected '(' to start a list of values, found {_describe(open_tok)}", open_tok.pos
            )
        if self.peek().kind == "rparen":
            raise self.error("empty list of values", self.peek().pos)
        values: list[str | int | float] = []
        while True:
            values.append(self.scalar(kind, key, numeric))
            self.list_values += 1
            if self.list_values > MAX_LIST_VALUES:
                raise self.error(f"more than {MAX_LIST_VALUES} values in IN lists", self.peek().pos)
            tok = self.next()
            if tok.kind == "rparen":
                break
            if tok.kind != "comma":
                if tok.kind == "eof":
                    raise self.error("unbalanced '(': the list of values has no ')'", open_tok.pos)
                raise self.error(
                    f"expected ',' or ')' in the list of values, found {_describe(tok)}", tok.pos
                )
        return tuple(values)  # type: ignore[return-value]  # all numbers or all strings: scalar() checks

    def scalar(self, kind: Kind, key: str, numeric: bool) -> str | int | float:
        tok = self.next()
        special = (
            tok.kind == "word" and tok.prefix is None and tok.value.lower() in ("inf", "infinity", "nan")
        )
        if tok.kind == "number" or special:
            if not numeric:
                raise self.error(
                    f"{_name(kind, key)} compares to strings: quote the value ('{tok.text}')", tok.pos
                )
            return self.number(tok, as_float=kind == "metric")
        if tok.kind == "quoted" and tok.quote != "`":
            if numeric:
                raise self.error(
                    f"{_name(kind, key)} compares to numbers, found the string {tok.text}", tok.pos
                )
            return tok.value
        expected = "a number" if numeric else "a quoted string"
        if tok.kind == "eof":
            raise self.error(f"expected {expected} after the operator, found the end of the text", tok.pos)
        raise self.error(f"expected {expected}, found {_describe(tok)}", tok.pos)

    def number(self, tok: Token, *, as_float: bool) -> int | float:
        text = tok.text
        if text.lstrip("+-").lower() == "nan":
            raise self.error(
                "NaN is not a value to compare with: NaN equals nothing (use != or IS NULL)", tok.pos
            )
        if as_float or any(c in text for c in ".eEiI") or len(text) > 40:  # 40: no huge int()
            return float(text)
        value = int(text)
        return value if -_INT64_MAX <= value <= _INT64_MAX else float(text)


def _name(kind: Kind, key: str) -> str:
    return f"attribute {key!r}" if kind == "attribute" else f"{kind} {key!r}"
