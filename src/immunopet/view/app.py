"""The viewer's web application: one study, one random token, ids in URLs, never paths.

Routes (every one needs the token: ``?token=`` on the page URL, then the ``X-Viewer-Token`` header, the
same query parameter or the same-site cookie the page sets; anything else is answered 403):

- ``/`` the page; ``/static/{name}`` its script, style sheet and the Niivue module (a fixed list);
- ``/api/patients``; ``/api/patients/{patient_id}`` (scans and VOI values over days);
- ``/api/scans/{scan_id}`` (VOI table with hottest voxels), ``/api/scans/{scan_id}/{pet|ct|labels}.nii``,
  ``/api/scans/{scan_id}/mip.png``;
- ``/api/map/{from_scan}/{to_scan}?x=&y=&z=`` a point (LPS mm) of one scan in the frame of another
  scan of the same patient (:mod:`immunopet.view.alignment`).

Unknown ids, and any path with ``..`` or encoded separators, get 404; responses hold pseudonymous ids
and numbers only.
"""

from __future__ import annotations

import html
import math
import secrets
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response

from immunopet.view.bundle import WEB_DIR, niivue_module
from immunopet.view.catalog import ViewCatalog

STATIC = {
    "viewer.js": ("viewer.js", "text/javascript"),
    "viewer.css": ("viewer.css", "text/css"),
}
VOLUMES = {"pet.nii", "ct.nii", "labels.nii", "mip.png"}
COOKIE = "immunopet_view"
NO_STORE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}


def create_app(catalog: ViewCatalog, *, token: str | None = None) -> FastAPI:
    """The ASGI app serving ``catalog``'s study; ``app.state.token`` is the access token."""
    from immunopet import __version__
    from immunopet.view.alignment import map_point
    from immunopet.view.ct_reader import CTReader
    from immunopet.view.volumes import Prefetcher, scan_volumes

    app = FastAPI(title="immunopet view", version=__version__, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.token = token or secrets.token_urlsafe(24)
    app.state.catalog = catalog
    app.state.prefetch = Prefetcher(catalog.study)
    app.state.prefetch.warm_up()
    app.state.ct_reader = CTReader()
    app.state.ct_reader.warm_up()

    @app.middleware("http")
    async def require_token(request: Request, call_next):  # noqa: ANN202
        given = (request.headers.get("x-viewer-token") or request.query_params.get("token")
                 or request.cookies.get(COOKIE) or "")
        if not secrets.compare_digest(given.encode(), app.state.token.encode()):
            return Response("forbidden: open the URL printed by `immunopet view` (it carries the token)",
                            status_code=403, media_type="text/plain", headers=NO_STORE)
        if ".." in request.url.path or "%" in request.url.path or "\\" in request.url.path:
            return Response("not found", status_code=404, media_type="text/plain", headers=NO_STORE)
        response = await call_next(request)
        for key, value in NO_STORE.items():
            response.headers.setdefault(key, value)
        return response

    def scan_or_404(scan_id: str) -> Any:
        scan = catalog.scan(scan_id)
        if scan is None or scan.status != "done":
            raise HTTPException(404, "no such scan")
        return scan

    @app.get("/", response_class=HTMLResponse)
    def page() -> HTMLResponse:
        page_text = (WEB_DIR / "index.html").read_text(encoding="utf-8")
        response = HTMLResponse(page_text.replace("{{STUDY}}", html.escape(catalog.study.config.name, quote=True)))
        # the page's own requests (script, style sheet, images) carry the token as a same-site cookie
        response.set_cookie(COOKIE, app.state.token, httponly=True, samesite="strict", path="/")
        return response

    @app.get("/static/{name}")
    def static(name: str) -> Response:
        if name == "niivue.js":
            return Response(niivue_module(), media_type="text/javascript")
        if name not in STATIC:
            raise HTTPException(404, "not found")
        filename, media = STATIC[name]
        return FileResponse(WEB_DIR / filename, media_type=media)

    @app.get("/api/patients")
    def patients() -> JSONResponse:
        return JSONResponse({"study": catalog.study.config.name, "patients": catalog.patients()})

    @app.get("/api/patients/{patient_id}")
    def patient(patient_id: str) -> JSONResponse:
        if not catalog.has_patient(patient_id):
            raise HTTPException(404, "no such patient")
        scans = catalog.patient_scans(patient_id)
        # the page opens the last day first: build it on request, the other days in the background
        app.state.prefetch.patient([catalog.scan(s["scan_id"]) for s in reversed(scans[:-1])])
        return JSONResponse({"patient_id": patient_id, "scans": scans,
                             "over_days": catalog.patient_over_days(patient_id)})

    @app.get("/api/scans/{scan_id}")
    def scan(scan_id: str) -> JSONResponse:
        entry = scan_or_404(scan_id)
        volumes = scan_volumes(catalog.study, entry, ct_reader=app.state.ct_reader)
        hottest = {v["voi_id"]: v for v in volumes.meta["vois"]}
        rows = [{**row, "hottest": hottest.get(row["voi_id"])} for row in catalog.scan_measurements(scan_id)]
        meta = {k: v for k, v in volumes.meta.items() if k != "vois"}
        peak = f"SUVpeak ({catalog.study.config.suv_peak} peak, 1 mL sphere)"
        return JSONResponse({**meta, "patient_id": entry.patient_id, "vois": rows, "suv_peak_definition": peak,
                             "labels": [{"label": v["label"], "voi_id": v["voi_id"], "kind": v["kind"]}
                                        for v in volumes.meta["vois"]]})

    @app.get("/api/scans/{scan_id}/{name}")
    def volume(scan_id: str, name: str) -> Response:
        entry = scan_or_404(scan_id)
        if name not in VOLUMES:
            raise HTTPException(404, "not found")
        path = scan_volumes(catalog.study, entry, ct_reader=app.state.ct_reader).file(name)
        if path is None:
            raise HTTPException(404, "not available for this scan")
        media = "image/png" if name.endswith(".png") else "application/octet-stream"
        return FileResponse(path, media_type=media, filename=None)

    @app.get("/api/map/{from_scan}/{to_scan}")
    def mapped(from_scan: str, to_scan: str, x: float, y: float, z: float) -> JSONResponse:
        source, target = scan_or_404(from_scan), scan_or_404(to_scan)
        if not all(math.isfinite(v) for v in (x, y, z)):
            raise HTTPException(400, "x, y and z must be finite numbers (mm)")
        if source.patient_id != target.patient_id:
            raise HTTPException(404, "the scans are of different patients")
        point, how = map_point(catalog, source, target, (x, y, z))
        return JSONResponse({"lps_mm": list(point), "method": how})

    return app
