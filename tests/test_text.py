"""Text from users is shown as text: checked against CommonMark's escape rule and against
the rewriting patterns of Streamlit's page, and through Streamlit itself (AppTest)."""

from __future__ import annotations

import json
import re
import string

import pytest

from explorer.text import WORD_JOINER, plain

# (case id, value, what a reader must see). The value is what a visitor controls (URL
# value, file name, file content); the text is the value itself on one line.
CASES = [
    ("phishing-link", "[Session expired - log in again](https://evil.example/login)",
     "[Session expired - log in again](https://evil.example/login)"),
    ("image", "![img](http://evil.example/pixel.png)", "![img](http://evil.example/pixel.png)"),
    ("bold", "**bold** and __strong__ and *em*", "**bold** and __strong__ and *em*"),
    ("colour", ":red[x] :blue-background[y] :red-badge[z]", ":red[x] :blue-background[y] :red-badge[z]"),
    ("latex", "$x^2$ and $$\\int f$$", "$x^2$ and $$\\int f$$"),
    ("material-icon", ":material/home: :material_home:", ":material/home: :material_home:"),
    ("emoji-and-logo", ":smile: :+1: :streamlit:", ":smile: :+1: :streamlit:"),
    ("help-directive", ":help[click me]", ":help[click me]"),
    ("html", "<img src=x onerror=alert(1)><b>hi</b>", "<img src=x onerror=alert(1)><b>hi</b>"),
    ("entity", "&lt;script&gt; &amp; &#x41;", "&lt;script&gt; &amp; &#x41;"),
    ("heading", "# Title", "# Title"),
    ("lists", "- item\n1. first\n+ plus", "- item 1. first + plus"),
    ("quote-and-rule", "> quoted\n---", "> quoted ---"),
    ("code", "`code` and ```fence```", "`code` and ```fence```"),
    ("indented-code", "    four spaces", "four spaces"),
    ("table", "| a | b |\n|---|---|", "| a | b | |---|---|"),
    ("bare-urls", "see https://evil.example and www.evil.example or WWW.Evil.example",
     "see https://evil.example and www.evil.example or WWW.Evil.example"),
    ("email", "write to admin@evil.example", "write to admin@evil.example"),
    ("arrows", "a -> b <- c <-> d -- e >= f <= g ~= h", "a -> b <- c <-> d -- e >= f <= g ~= h"),
    ("footnote-and-strike", "x[^1] ~~gone~~ [^1]: note", "x[^1] ~~gone~~ [^1]: note"),
    ("backslashes", "C:\\path\\*not*", "C:\\path\\*not*"),
    ("newlines-and-tabs", "line one\n\nline\ttwo\r\nthree  \n", "line one line two three"),
    ("unicode", "é 中文 🙂 👨‍👩‍👧 مرحبا", "é 中文 🙂 👨‍👩‍👧 مرحبا"),
    ("bidi-override", "scan\u202egnp.exe", "scan\ufffdgnp.exe"),
    ("control-characters", "a\x00b\x1b[31mc", "a\ufffdb\ufffd[31mc"),
    ("lone-surrogate", "name\udcff.png", "name\ufffd.png"),
    ("bytes", b"\xff**x**", "\ufffd**x**"),
    ("number", 0.25, "0.25"),
    ("none", None, "None"),
    ("list", ["a", "[b](c)"], "['a', '[b](c)']"),
    ("100-kB", "A" * 100_000, "A" * 200 + "… (100,000 characters)"),
    ("100-kB-of-links", "[x](http://e.example) " * 5000,
     ("[x](http://e.example) " * 10)[:200].rstrip() + "… (110,000 characters)"),
]

ASCII_PUNCTUATION = set(string.punctuation)


def commonmark_text(markdown: str) -> str:
    """What CommonMark shows for ``markdown``, if it can only be plain text.

    CommonMark, section 2.4: a backslash before an ASCII punctuation character makes
    that character literal. So a one-line string in which *every* ASCII punctuation
    character is escaped has no markup at all; this checks that and returns the text.
    """
    assert "\n" not in markdown and "\r" not in markdown
    assert not markdown.startswith(" ") and not markdown.endswith(" ")
    shown = []
    chars = iter(markdown)
    for char in chars:
        if char == "\\":
            escaped = next(chars, None)
            assert escaped in ASCII_PUNCTUATION, f"backslash before {escaped!r} is literal"
            shown.append(escaped)
        else:
            assert char not in ASCII_PUNCTUATION, f"unescaped {char!r} in {markdown[:80]!r}"
            shown.append(char)
    return "".join(shown)


# Patterns the page's markdown renderer (Streamlit 1.67 frontend, StreamlitMarkdown.tsx,
# remark-emoji and mdast-util-gfm-autolink-literal) applies to parsed text, after escapes
# are resolved; none may match what a reader is shown.
TEXT_REWRITES = {
    "material icon": re.compile(r":material_(\w+):"),
    "streamlit logo": re.compile(r":streamlit:"),
    "emoji": re.compile(r":\+1:|:-1:|:[\w-]+:"),
    "autolink http/www": re.compile(r"(https?://|www(?=\.))([-.\w]+)", re.IGNORECASE),
    "autolink email": re.compile(r"([-.\w+]+)@([-\w]+(?:\.[-\w]+)+)"),
    "typography": re.compile(r"(^|\s)(<->|->|<-|--|>=|<=|~=)(\s|$)"),
}
# Patterns applied to the markdown source before parsing.
SOURCE_REWRITES = {
    "material prefix": re.compile(r":material/"),
    "emoji detector": re.compile(r":(?!material/|streamlit:)[\w+-][\w_+-]*:"),
}


@pytest.mark.parametrize(("value", "expected"), [case[1:] for case in CASES],
                         ids=[case[0] for case in CASES])
def test_values_render_as_their_literal_text(value, expected):
    markdown = plain(value)
    shown = commonmark_text(markdown)
    for name, pattern in TEXT_REWRITES.items():
        assert not pattern.search(shown), f"{name} would rewrite {shown[:80]!r}"
    for name, pattern in SOURCE_REWRITES.items():
        assert not pattern.search(markdown), f"{name} would rewrite {markdown[:80]!r}"
    assert shown.replace(WORD_JOINER, "") == expected


def test_word_joiners_are_only_where_a_pattern_needs_breaking():
    assert WORD_JOINER not in plain("scan_01 (copy).png")
    assert plain("a:b").count(WORD_JOINER) == 1


def test_the_limit_is_kept_and_validated():
    assert commonmark_text(plain("abcdef", limit=3)) == "abc… (6 characters)"
    assert commonmark_text(plain("abc", limit=3)) == "abc"
    for bad in (0, -1, 2.5, True, "10", 100_001):
        with pytest.raises(ValueError, match="limit"):
            plain("x", limit=bad)


def test_an_object_whose_str_fails_is_shown_by_its_type():
    class Broken:
        def __str__(self):
            raise RuntimeError("no")

    assert commonmark_text(plain(Broken())) == "<Broken>"


@pytest.mark.slow
def test_a_huge_value_costs_no_more_than_a_short_one():
    import time

    def fastest(function) -> float:  # the least disturbed of five runs
        times = []
        for _ in range(5):
            start = time.perf_counter()
            function()
            times.append(time.perf_counter() - start)
        return min(times)

    big = "x" * 50_000_000
    # Against the machine's own pace: one scan of the value (a C-speed linear pass), timed
    # alongside; showing it must not read the whole value (measured about 80x faster).
    assert fastest(lambda: plain(big)) < fastest(lambda: big.find("y")) / 5
    assert commonmark_text(plain(big)).endswith("… (50,000,000 characters)")


@pytest.mark.slow
def test_streamlit_shows_the_escaped_values_unchanged():
    """Through a real Streamlit script run: every value reaches the page as escaped, one
    error box each, and nothing fails (e.g. a lone surrogate in the protobuf message)."""
    from streamlit.testing.v1 import AppTest

    values = [value.decode("utf-8", "replace") if isinstance(value, bytes) else value
              for _, value, _ in CASES]
    script = (
        "import json\nimport streamlit as st\nfrom explorer.text import plain\n"
        f"for value in json.loads({json.dumps(json.dumps(values))}):\n"
        "    st.error(plain(value))\n"
    )
    at = AppTest.from_string(script, default_timeout=30).run()
    assert not at.exception
    assert [box.value for box in at.error] == [plain(value) for value in values]
    for box, (_, _, expected) in zip(at.error, CASES):
        assert commonmark_text(box.value).replace(WORD_JOINER, "") == expected
