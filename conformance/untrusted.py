"""Text that an engine or a user's file supplies (messages, exception names, skip and known-failure reasons,
engine names and versions), made safe for each output it reaches.

:func:`text` makes any value report data, fit for the JSON: a string whose ``str()`` cannot fail, without
lone surrogates (which no UTF-8 file can hold), at most :data:`MAX_CHARS` long. Each rendering then escapes it
for its medium: :func:`terminal` makes control characters visible (an ANSI escape cannot repaint the screen, a
newline cannot forge a line), and :func:`markdown` (or :func:`code`) also keeps it in its table cell and inert:
no HTML, no image, link or emphasis.
"""

from __future__ import annotations

import math
import re
import unicodedata

#: the longest string the report keeps of one message, reason or name
MAX_CHARS = 2000
CUT = "…"
#: Unicode categories shown escaped: control and format characters (ANSI escapes, NUL, newlines, bidirectional
#: overrides), lone surrogates and line or paragraph separators
INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
SURROGATE = re.compile("[\ud800-\udfff]")
#: Markdown's inline syntax, HTML included: each character as it must be written to mean itself
MARKDOWN_ESCAPES = {
    **{character: "\\" + character for character in "\\`*_[]|~"},
    "<": "&lt;",
    ">": "&gt;",
    "&": "&amp;",
}
#: what would start a block (heading, list item) where the text begins a line or a list item's content
BLOCK_START = re.compile(r"^(?:[#+-]|\d{1,9}(?=[.)](?: |$)))")
#: what a code span may hold as it is
CODE_SAFE = re.compile(r"[A-Za-z0-9_.:+/@=,-]+")


def text(value: object, limit: int | None = MAX_CHARS) -> str:
    """``value`` as report data: its ``str()`` (a placeholder naming the type when that raises), each lone
    surrogate replaced by U+FFFD, and cut to ``limit`` characters (the cut marked by ``…``; None: uncut)."""
    try:
        string = str(value)
    except Exception as error:  # an engine's __str__ may raise anything
        string = f"<unprintable {type(value).__name__}: str() raised {type(error).__name__}>"
    string = SURROGATE.sub("\ufffd", string)
    return string if limit is None or len(string) <= limit else string[: limit - len(CUT)] + CUT


def exception(error: BaseException) -> str:
    """``"TypeError: the message's first line"``, whatever the exception's ``__str__`` does."""
    first_line = next(iter(text(error).strip().splitlines()), "")
    return text(f"{text(type(error).__name__)}: {first_line}", 200)


def terminal(value: str) -> str:
    """``value`` with every control or format character (ESC, NUL, newline, tab, bidirectional overrides)
    written as its Python escape (``\\x1b``, ``\\n``, ``\\u202e``)."""
    return "".join(
        character.encode("unicode_escape").decode("ascii")
        if unicodedata.category(character) in INVISIBLE
        else character
        for character in value
    )


def lines(value: str) -> str:
    """Multi-line ``value`` (a traceback, captured output) with line breaks kept and every other control or
    format character visible, as :func:`terminal` writes it."""
    return "\n".join(terminal(line) for line in text(value, None).split("\n"))


def markdown(value: str) -> str:
    """``value`` as Markdown text that reads as itself: in one table cell or list item (control characters
    visible as in :func:`terminal`, pipes escaped), with no HTML, image, link, emphasis or code span."""
    escaped = "".join(MARKDOWN_ESCAPES.get(character, character) for character in terminal(value))
    return BLOCK_START.sub(lambda match: match[0] + "\\" if match[0].isdigit() else "\\" + match[0], escaped)


def code(value: str) -> str:
    """A code span of ``value`` when it is a plain name (a spec ID, ``cuda:0``, ``package.module:attribute``),
    else ``value`` as Markdown text (a code span cannot escape a backtick or a pipe)."""
    return f"`{value}`" if CODE_SAFE.fullmatch(value) else markdown(value)


def data(value: object) -> object:
    """``value`` (an entry of ``Backend.describe()``) as valid JSON data: None, booleans, 64-bit integers and
    finite floats as they are, lists item by item, anything else (NaN, objects) as :func:`text`."""
    if value is None or isinstance(value, bool) or (isinstance(value, int) and abs(value) < 2**63):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    if isinstance(value, list | tuple):
        return [data(item) for item in value]
    return text(value)
