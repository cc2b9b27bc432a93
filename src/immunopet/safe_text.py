"""Text from outside (DICOM headers, table cells, file names) made safe to print.

Header and table text is data, never markup: Rich would read ``[/x]`` as a closing tag (and fail),
``[link=...]`` as a hyperlink, and control characters (ANSI escapes) would reach the terminal. Every
command prints outside text through :func:`safe_text` (plain terminal text) or :func:`safe_markup`
(text to embed in a Rich markup string).
"""

from __future__ import annotations

import re

from rich.markup import escape

#: C0 and C1 control characters except tab and newline (ESC starts ANSI sequences).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def safe_text(value: object, *, max_length: int = 2000) -> str:
    """``value`` as plain text: control characters shown as ``\\xNN``, cut at ``max_length``."""
    text = str(value)
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    if len(text) > max_length:
        text = text[: max_length - 1] + "…"
    return text


def safe_markup(value: object, *, max_length: int = 2000) -> str:
    """``value`` for a Rich markup string: controls removed (as :func:`safe_text`), brackets escaped."""
    return escape(safe_text(value, max_length=max_length))
