"""The tokenizer of the search filter grammar, and the error that points at a position.

The tokenizer knows nothing about meaning: it splits text into words (``metrics.auc``, ``and``),
quoted pieces (``'a'``, ``"a"``, ```a```), numbers, operators and punctuation, each with its
character offset, so that every later error can show where it happened.

Escapes inside any quoted piece: the quote character doubled (``'it''s'``) stands for one quote, and
a backslash escapes a backslash or a quote character (``\\\\``, ``\\'``, ``\\"``, ``\\```). Any other
backslash is kept as is (``'C:\\temp'`` is the string ``C:\\temp``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from mlops.errors import InvalidInputError

__all__ = ["FilterSyntaxError", "Token", "TokenKind", "is_key_char", "tokenize"]

TokenKind = Literal["word", "quoted", "number", "op", "lparen", "rparen", "comma", "eof"]

#: Characters of an unquoted word (a keyword, an attribute name, or a prefix).
_WORD_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_WORD_CHARS = _WORD_START | frozenset("0123456789")
#: ASCII characters of an unquoted key after ``prefix.`` (``metrics.train/loss``, ``tags.team.name``).
KEY_CHARS = _WORD_CHARS | frozenset(".-/")


def is_key_char(c: str) -> bool:
    """True for a character allowed in an unquoted key: ASCII letters, digits, ``_ . - /``, or any
    non-ASCII letter or digit (``metrics.ünï``)."""
    return c in KEY_CHARS or (not c.isascii() and c.isalnum())


_DIGITS = frozenset("0123456789")
_QUOTES = frozenset("'\"`")
_ESCAPABLE = frozenset("\\'\"`")
_SPACE = frozenset(" \t\r\n\f\v")
_SPECIAL_NUMBERS = frozenset({"inf", "infinity", "nan"})


class FilterSyntaxError(InvalidInputError):
    """A malformed filter or order clause; the message shows the text with a caret at ``position``.

    Attributes:
        text: the text that was parsed.
        position: character offset (0-based) of the problem in ``text``.
        reason: the short description, without the excerpt.
    """

    def __init__(self, reason: str, text: str, position: int, *, what: str = "filter") -> None:
        self.text = text
        self.position = position
        self.reason = reason
        self.what = what
        super().__init__(f"Invalid {what} at character {position}: {reason}\n{_excerpt(text, position)}")

    def __reduce__(self) -> tuple[Any, ...]:
        # Picklable despite the custom __init__: BaseException.__setstate__ restores `what` and `args`.
        return (type(self), (self.reason, self.text, self.position), {"what": self.what, "args": self.args})


def _excerpt(text: str, position: int, width: int = 100) -> str:
    """Two lines: the text (control characters shown as spaces so the caret aligns) and a caret."""
    start = 0
    if len(text) > width:
        start = max(0, min(position - width // 2, len(text) - width))
    shown = text[start : start + width]
    prefix = "..." if start > 0 else ""
    suffix = "..." if start + width < len(text) else ""
    shown = "".join(c if c.isprintable() else " " for c in shown)
    caret = " " * (len(prefix) + position - start) + "^"
    return f"  {prefix}{shown}{suffix}\n  {caret}"


@dataclass(frozen=True)
class Token:
    """One token: its kind, its source text, its offset, and (for words and quoted pieces) its value.

    For a ``word`` holding a dot, ``prefix`` is the part before the first dot and ``value`` the rest
    (the key); ``prefix.`` followed directly by a quoted piece gives one word token whose key is the
    unquoted piece. For other words ``prefix`` is ``None`` and ``value`` is the word. For a ``quoted``
    token ``value`` is the unescaped content and ``quote`` the quote character.
    """

    kind: TokenKind
    text: str
    pos: int
    value: str = ""
    prefix: str | None = None
    quote: str = ""

    @property
    def end(self) -> int:
        """Offset just past the token."""
        return self.pos + len(self.text)


def tokenize(text: str, *, what: str = "filter") -> list[Token]:
    """Split ``text`` into tokens, ending with an ``eof`` token.

    Raises:
        FilterSyntaxError: an unterminated quote, a NUL or an unexpected character.

    Example:
        >>> [t.kind for t in tokenize("metrics.auc >= 0.5")]
        ['word', 'op', 'number', 'eof']
    """
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in _SPACE:
            i += 1
        elif c == "\x00":
            raise FilterSyntaxError("NUL characters are not allowed", text, i, what=what)
        elif c in _WORD_START:
            tok = _read_word(text, i, what)
            tokens.append(tok)
            i = tok.end
        elif c in _QUOTES:
            value, end = read_quoted(text, i, what)
            tokens.append(Token("quoted", text[i:end], i, value=value, quote=c))
            i = end
        elif (
            c in _DIGITS
            or (c == "." and text[i + 1 : i + 2] in _DIGITS and i + 1 < n)
            or (c in "+-" and _number_follows(text, i + 1))
        ):
            end = _scan_number(text, i)
            tokens.append(Token("number", text[i:end], i, value=text[i:end]))
            i = end
        elif c in "+-" and _special_number_follows(text, i + 1):
            end = i + 1
            while end < n and text[end] in _WORD_CHARS:
                end += 1
            tokens.append(Token("number", text[i:end], i, value=text[i:end]))
            i = end
        elif c in "<>!=":
            two = text[i : i + 2]
            if two in ("<=", ">=", "!="):
                tokens.append(Token("op", two, i, value=two))
                i += 2
            elif c == "!":
                raise FilterSyntaxError("'!' must be followed by '=' ('!=')", text, i, what=what)
            else:
                tokens.append(Token("op", c, i, value=c))
                i += 1
        elif c == "(":
            tokens.append(Token("lparen", c, i))
            i += 1
        elif c == ")":
            tokens.append(Token("rparen", c, i))
            i += 1
        elif c == ",":
            tokens.append(Token("comma", c, i))
            i += 1
        else:
            raise FilterSyntaxError(f"unexpected character {c!r}", text, i, what=what)
    tokens.append(Token("eof", "", n))
    return tokens


def _number_follows(text: str, i: int) -> bool:
    """True if a digit, or ``.`` then a digit, starts at ``i``."""
    if i < len(text) and text[i] in _DIGITS:
        return True
    return text[i : i + 1] == "." and i + 1 < len(text) and text[i + 1] in _DIGITS


def _special_number_follows(text: str, i: int) -> bool:
    """True if ``inf``/``infinity``/``nan`` (any case) starts at ``i`` as a whole word."""
    end = i
    while end < len(text) and text[end] in _WORD_CHARS:
        end += 1
    return text[i:end].lower() in _SPECIAL_NUMBERS


def _scan_number(text: str, i: int) -> int:
    """End offset of the number starting at ``i``: ``[+-]digits[.digits][e[+-]digits]``."""
    n = len(text)
    if text[i] in "+-":
        i += 1
    while i < n and text[i] in _DIGITS:
        i += 1
    if i < n and text[i] == ".":
        i += 1
        while i < n and text[i] in _DIGITS:
            i += 1
    if i < n and text[i] in "eE":
        j = i + 1
        if j < n and text[j] in "+-":
            j += 1
        if j < n and text[j] in _DIGITS:
            while j < n and text[j] in _DIGITS:
                j += 1
            i = j
    return i


def _read_word(text: str, start: int, what: str) -> Token:
    i, n = start, len(text)
    while i < n and text[i] in _WORD_CHARS:
        i += 1
    if i >= n or text[i] != ".":
        return Token("word", text[start:i], start, value=text[start:i])
    prefix = text[start:i]
    i += 1  # the dot
    if i < n and text[i] in _QUOTES:
        key, end = read_quoted(text, i, what)
        return Token("word", text[start:end], start, value=key, prefix=prefix, quote=text[i])
    key_start = i
    while i < n and is_key_char(text[i]):
        i += 1
    if i == key_start:
        raise FilterSyntaxError(f"expected a key after '{prefix}.'", text, i, what=what)
    return Token("word", text[start:i], start, value=text[key_start:i], prefix=prefix)


def read_quoted(text: str, start: int, what: str = "filter") -> tuple[str, int]:
    """Unescape the quoted piece starting at ``start``; return its value and the offset past it.

    Raises:
        FilterSyntaxError: no closing quote (the position is the opening quote).
    """
    quote = text[start]
    out: list[str] = []
    i, n = start + 1, len(text)
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n and text[i + 1] in _ESCAPABLE:
            out.append(text[i + 1])
            i += 2
        elif c == quote:
            if i + 1 < n and text[i + 1] == quote:
                out.append(quote)
                i += 2
            else:
                return "".join(out), i + 1
        elif c == "\x00":
            raise FilterSyntaxError("NUL characters are not allowed", text, i, what=what)
        else:
            out.append(c)
            i += 1
    raise FilterSyntaxError(f"unterminated quote {quote}", text, start, what=what)
