"""The Niivue browser module, installed from the npm registry (``make viewer``), never from a CDN.

``src/immunopet/view/web/package.json`` pins ``@niivue/niivue``; ``npm ci`` in that folder installs
it into ``web/node_modules`` (not part of the repository). Niivue's ``build/index.min.js`` holds its
self-contained ES module as a URL-encoded string (``export const esm = "..."``); the server decodes
it once and serves it as ``/static/niivue.js``, so the page needs no bundler and no network.
"""

from __future__ import annotations

import os
import re
import urllib.parse
from functools import lru_cache
from pathlib import Path

from immunopet.errors import ImmunoPETError

WEB_DIR = Path(__file__).resolve().parent / "web"
NIIVUE_MIN = Path("node_modules") / "@niivue" / "niivue" / "build" / "index.min.js"
INSTALL_HINT = "run `make viewer` (or `npm ci --prefix src/immunopet/view/web`); npm comes with Debian's `npm`"


class ViewerError(ImmunoPETError):
    """The viewer cannot start (Niivue not installed, port taken, study not run)."""


def niivue_path() -> Path:
    """Where the installed Niivue bundle is (``$IMMUNOPET_NIIVUE_DIR`` overrides the web folder)."""
    base = Path(os.environ.get("IMMUNOPET_NIIVUE_DIR", WEB_DIR))
    return base / NIIVUE_MIN


@lru_cache(maxsize=1)
def niivue_module() -> bytes:
    """Niivue's ES module source (decoded once per process)."""
    path = niivue_path()
    if not path.is_file():
        raise ViewerError("Niivue (npm package @niivue/niivue) is not installed", file=path, fix=INSTALL_HINT)
    text = path.read_text(encoding="utf-8")
    found = re.match(r'\s*export\s+const\s+esm\s*=\s*"(.*)"\s*;?\s*$', text, re.S)
    if found is None:
        raise ViewerError("unexpected layout of Niivue's build/index.min.js (not the pinned version?)",
                          file=path, fix=INSTALL_HINT)
    return urllib.parse.unquote(found.group(1)).encode("utf-8")
