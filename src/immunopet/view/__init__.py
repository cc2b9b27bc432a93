"""``immunopet view``: the study in a browser (PET/CT fusion over the scan days, VOIs and their numbers).

A local web application (FastAPI + uvicorn, bound to 127.0.0.1, a random token in the URL) that
serves SUV NIfTI volumes to Niivue (docs/viewer.md). Public API:

- :func:`create_app` -> the ASGI application of one study; :func:`serve` runs it with uvicorn;
- :class:`ViewCatalog`: what the viewer may show (pseudonymous ids only), from the results store;
- :func:`scan_volumes`: the SUV, CT and VOI label NIfTI files of one scan (cached by input hash).
"""

from immunopet.lazy_exports import lazy_exports

_PUBLIC = {
    "app": "create_app",
    "server": "serve ViewerServer",
    "catalog": "ViewCatalog",
    "volumes": "scan_volumes ScanVolumes",
    "bundle": "niivue_module",
}

__getattr__, __dir__, __all__ = lazy_exports(__name__, _PUBLIC, globals())
