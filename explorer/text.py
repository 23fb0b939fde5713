"""Text from users, shown as text: nothing a visitor types or uploads is read as markdown.

Streamlit renders the body of ``st.error``, ``st.warning``, ``st.caption``, ``st.markdown``
(and labels) as GitHub-flavoured markdown with its own additions. A value from the URL, an
upload's file name or text from a file, put into such a body as it is, can show a link
inside the page's own message box (``[Session expired](https://...)``), make every viewer's
browser fetch an address (``![x](http://...)``), or restyle the page (``**``, ``:red[...]``,
``$...$``, headings, lists). :func:`plain` turns any value into text those renderers show
character for character.

How
---
Markdown syntax: every ASCII punctuation character is backslash-escaped. CommonMark (and
so GFM, remark-math and remark-directive, which Streamlit's page uses) reads a backslash
before ASCII punctuation as "this character, literally", so no emphasis, link, image,
code, HTML, heading, list, table, math or directive can start. Line breaks and runs of
white space become one space (a single line: no block structure, no indented code).

Text-level rewriting: Streamlit also rewrites parsed text, where escapes are already gone:
emoji and icon shortcodes (``:smile:``, ``:material/home:``, ``:streamlit:``), literal
autolinks (``https://...``, ``www.example.org``, ``name@example.org``) and arrows
(`` -> ``). For those a WORD JOINER (U+2060, invisible, zero width) is put after every
``:`` and ``@``, inside ``www.`` and inside the arrow pairs, which breaks each pattern
without changing what is seen.

Length: at most ``limit`` characters of the value are kept; a longer value ends with an
ellipsis and its full length, e.g. ``abc… (100,000 characters)``.
"""

from __future__ import annotations

import re
import string
import unicodedata
from typing import Any

from solver.validation import check_int

__all__ = ["plain", "WORD_JOINER"]

#: Invisible, zero-width, no line break: put inside patterns that Streamlit rewrites.
WORD_JOINER = "\u2060"

_PUNCTUATION = frozenset(string.punctuation)
# Bidirectional controls can make a file name read backwards ("gnp.exe"); shown as U+FFFD.
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_WWW = re.compile(r"(www)(\.)", re.IGNORECASE)
# Streamlit's typographic rewriting (-> <- <-> -- >= <= ~=), each pair between spaces.
_ARROW = re.compile(r"(?:(?<=\s)|^)(<->|->|<-|--|>=|<=|~=)(?=\s|$)")


def plain(value: Any, *, limit: int = 200) -> str:
    r"""``value`` as text that Streamlit's markdown shows literally, at most ``limit`` long.

    Parameters
    ----------
    value : Any
        A string, bytes (decoded as UTF-8, undecodable bytes shown as U+FFFD) or any
        object (its ``str``).
    limit : int, keyword-only, default 200
        Most characters of the value kept (1 to 100,000). Longer values are cut and end
        with ``… (N characters)``, N the value's full length.

    Returns
    -------
    str
        Markdown whose rendering is the value's text on one line: white space runs as
        one space, control and bidirectional-control characters as U+FFFD, nothing else
        changed except invisible word joiners (see the module's notes).

    Raises
    ------
    ValueError
        If ``limit`` is not an integer in [1, 100000].

    Examples
    --------
    >>> plain("**bold** [link](#x)")
    '\\*\\*bold\\*\\* \\[link\\]\\(\\#x\\)'
    >>> plain("x" * 1000, limit=3)
    'xxx… \\(1\\,000 characters\\)'
    """
    limit = check_int("limit", limit, low=1, high=100_000)
    text = _as_text(value, limit)
    length = len(text)
    # Only a head of the value is looked at: the rest would be cut anyway, and a
    # 100 MB value costs no more than a short one. Collapsing white space can only
    # shorten the head, so 4 * limit characters (plus a margin) always suffice.
    head = _one_line(text[: 4 * limit + 64])
    if len(head) > limit or length > 4 * limit + 64:
        head = f"{head[:limit].rstrip()}… ({length:,} characters)"
    return _escape(head)


def _as_text(value: Any, limit: int) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value[: 4 * (4 * limit + 64)])  # at most 4 bytes a character
        return data.decode("utf-8", errors="replace")
    try:
        return str(value)
    except Exception:  # a value whose __str__ fails is still shown, by its type
        return f"<{type(value).__name__}>"


def _one_line(text: str) -> str:
    """White space runs -> one space; control, bidi and lone-surrogate characters -> U+FFFD."""
    text = " ".join(text.split())
    return "".join(
        "\ufffd" if char in _BIDI or unicodedata.category(char) in ("Cc", "Cs") else char
        for char in text
    )


def _escape(text: str) -> str:
    text = _ARROW.sub(lambda m: m.group(1)[0] + WORD_JOINER + m.group(1)[1:], text)
    text = _WWW.sub(lambda m: m.group(1) + WORD_JOINER + m.group(2), text)
    out = []
    for char in text:
        if char in _PUNCTUATION:
            out.append("\\" + char)
            if char in ":@":
                out.append(WORD_JOINER)
        else:
            out.append(char)
    return "".join(out)
