"""``init --pacs``: query a DICOMweb server (QIDO-RS) and retrieve its series (WADO-RS) into a folder.

Series are written to ``DEST/<StudyInstanceUID>/<SeriesInstanceUID>/<SOPInstanceUID>.dcm``, each file
through a temporary name and a rename; a series whose folder already holds as many files as the
server lists is not retrieved again, so re-running after the PACS received more scans fetches only
the new series. The folder is then read by the folder path of init like any export.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

from immunopet.errors import ImmunoPETError

log = logging.getLogger(__name__)

STUDY_UID, SERIES_UID, SOP_UID, N_INSTANCES, PATIENT_ID = "0020000D", "0020000E", "00080018", "00201209", "00100020"


def _value(item: dict, tag: str) -> str | None:
    values = item.get(tag, {}).get("Value") or []
    return str(values[0]) if values else None


def _client(url: str):
    from dicomweb_client.api import DICOMwebClient

    if not url.startswith(("http://", "https://")):
        raise ImmunoPETError(f"not a DICOMweb URL: {url!r}", attribute="--pacs",
                             fix="give the server's DICOMweb root, e.g. http://pacs:8042/dicom-web")
    return DICOMwebClient(url=url.rstrip("/"))


def _ask(what: str, url: str, call):
    import requests

    try:
        return call()
    except requests.exceptions.RequestException as error:
        raise ImmunoPETError(f"the DICOMweb server did not answer the {what}: {type(error).__name__}: {error}",
                             file=url, attribute="--pacs",
                             fix="check the URL (its DICOMweb root, e.g. .../dicom-web), the network and the "
                                 "server's access rights") from error


def retrieve_from_dicomweb(url: str, dest: str | os.PathLike[str], *, patients: Sequence[str] | None = None) -> Path:
    """Retrieve every series of the server (or of ``patients``, by PatientID) into ``dest``; returns ``dest``."""
    from rich.progress import Progress

    from immunopet.logging_setup import console, progress_enabled

    client = _client(url)
    out = Path(dest)
    filters = [{"PatientID": p} for p in patients] if patients else [{}]
    studies: dict[str, dict] = {}
    for search in filters:
        found = _ask("study query", url, lambda: client.search_for_studies(search_filters=search or None))
        studies.update({_value(s, STUDY_UID): s for s in found if _value(s, STUDY_UID)})
        if patients and not found:
            log.warning("the DICOMweb server has no study of PatientID %r", search["PatientID"])
    if not studies:
        raise ImmunoPETError("the DICOMweb server holds no matching study", file=url,
                             fix="check --patient IDs, or that the export was sent to this server")
    todo = []
    for study_uid in sorted(studies):
        for series in _ask("series query", url, lambda: client.search_for_series(study_instance_uid=study_uid)):
            series_uid = _value(series, SERIES_UID)
            if series_uid is None:
                continue
            folder = out / study_uid / series_uid
            expected = int(_value(series, N_INSTANCES) or 0)
            have = len([f for f in folder.glob("*.dcm")]) if folder.is_dir() else 0
            if expected and have >= expected:
                continue
            todo.append((study_uid, series_uid, folder))
    with Progress(console=console, disable=not progress_enabled(), transient=True) as progress:
        bar = progress.add_task(f"retrieving {len(todo)} series", total=len(todo))
        for study_uid, series_uid, folder in todo:
            folder.mkdir(parents=True, exist_ok=True)
            instances = _ask("retrieval", url, lambda: list(client.iter_series(study_uid, series_uid)))
            for ds in instances:
                target = folder / f"{ds.SOPInstanceUID}.dcm"
                temporary = folder / f".{ds.SOPInstanceUID}.part"
                ds.save_as(temporary, enforce_file_format=False)
                os.replace(temporary, target)
            progress.advance(bar)
    log.info("retrieved %d series from %s into %s", len(todo), url, out)
    return out
