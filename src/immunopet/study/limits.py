"""Limits every store shares, checked by ``immunopet validate`` before anything is written.

One place for them, so that SQLite (which does not enforce ``VARCHAR`` lengths) and PostgreSQL
(which does) accept exactly the same studies, and the row models (:mod:`immunopet.study.rows`)
and the store's tables (:mod:`immunopet.study.schema`) cannot drift apart.
"""

from __future__ import annotations

import re

#: Characters of an id or short text column kept in the store (``VARCHAR(200)``).
TEXT_LENGTH = 200
#: Characters of an identifier that may become part of a file name (``mip_{patient_id}.png``).
ID_LENGTH = 64
#: Identifiers that become file names: letters, digits, ``-``, ``_`` and ``.``, not starting with
#: ``.`` or ``-`` (no hidden files, no options, no path separators, no ``..``).
ID_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9._-]*$"
ID_RULE = "letters, digits, '-', '_' and '.' only, starting with a letter, digit or '_'"
#: Bytes of one path component on common file systems (ext4, XFS, APFS, NTFS in UTF-16 units).
NAME_MAX_BYTES = 255

_ID = re.compile(ID_PATTERN)


def is_identifier(text: str) -> bool:
    """Whether ``text`` is a valid identifier (:data:`ID_PATTERN`, at most :data:`ID_LENGTH`)."""
    return len(text) <= ID_LENGTH and bool(_ID.match(text)) and ".." not in text
