"""Outside text never becomes markup or terminal control sequences."""

from hypothesis import given, strategies as st
from rich.console import Console

from immunopet.safe_text import safe_markup, safe_text


def test_control_characters_are_shown_not_sent():
    assert safe_text("a\x1b[31mred\x07") == "a\\x1b[31mred\\x07"


def test_markup_is_escaped():
    console = Console(record=True, width=200)
    console.print(f"name: {safe_markup('[/x] [link=http://evil]click[/link]')}")
    assert "[/x] [link=http://evil]click[/link]" in console.export_text()


@given(st.text())
def test_any_text_prints_without_markup_errors_or_escape_sequences(value):
    console = Console(record=True, width=10_000, force_terminal=True)
    console.print(safe_markup(value, max_length=100_000), end="", soft_wrap=True)
    printed = console.export_text(styles=False)
    assert "\x1b" not in printed
    assert "\x1b" not in safe_text(value)


@given(st.text(alphabet=st.characters(categories=("L", "N", "P", "S", "Zs"))))
def test_printable_text_with_brackets_prints_as_itself(value):
    console = Console(record=True, width=10_000)
    # as commands use it: inside markup (a trailing backslash is doubled so it cannot escape the next tag)
    console.print(f"[b]{safe_markup(value, max_length=100_000)}[/b]", end="", soft_wrap=True, highlight=False,
                  emoji=False)
    assert console.export_text() == value
