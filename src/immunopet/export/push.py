"""Sending the written objects to a PACS: DICOMweb STOW-RS (dicomweb-client) or DIMSE C-STORE (pynetdicom).

Each object is sent on its own and its outcome recorded (accepted, or the server's reason), so a
partial failure is reported object by object and never passes silently; the files stay on disk.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Sent:
    """The outcome of sending one file."""

    file: str
    ok: bool
    detail: str


def _read(path: Path):
    import pydicom

    return pydicom.dcmread(str(path))


def _client(url: str):  # noqa: ANN202 - a dicomweb_client DICOMwebClient
    from dicomweb_client.api import DICOMwebClient

    client = DICOMwebClient(url=url.rstrip("/"))
    client.set_http_retry_params(retry=False)
    return client


def check_dicomweb_url(url: str) -> None:
    """Raise ``ValueError`` (saying why) if :func:`push_dicomweb` cannot use ``url``; nothing is sent."""
    _client(url)


def check_ae_title(title: str) -> None:
    """Raise ``ValueError`` (saying why) if ``title`` is no valid AE title (1-16 characters, no backslash)."""
    from pynetdicom.utils import set_ae

    set_ae(title, "AE title", allow_empty=False, allow_none=False)


def push_dicomweb(files: Sequence[Path], url: str) -> list[Sent]:
    """STOW-RS every file to the DICOMweb service at ``url`` (e.g. ``http://host:8042/dicom-web``).

    A ``url`` the client cannot use raises ``ValueError`` (:func:`check_dicomweb_url`).
    """
    client = _client(url)
    outcomes = []
    for file in files:
        try:
            answer = client.store_instances([_read(Path(file))])
            failed = answer.get("FailedSOPSequence") if answer is not None else None
            if failed:
                reason = failed[0].get("FailureReason", "?")
                outcomes.append(Sent(str(file), False, f"refused by the server (FailureReason {reason})"))
            else:
                outcomes.append(Sent(str(file), True, "stored"))
        except Exception as error:  # noqa: BLE001 - HTTP, connection and DICOM errors, reported per object
            outcomes.append(Sent(str(file), False, f"{error.__class__.__name__}: {str(error)[:300]}"))
    return outcomes


def push_dimse(files: Sequence[Path], *, host: str, port: int, called_aet: str, calling_aet: str = "IMMUNOPET",
               timeout: float = 30.0) -> list[Sent]:
    """C-STORE every file to the store SCP ``called_aet`` at ``host:port`` over one association.

    An invalid AE title raises ``ValueError`` (:func:`check_ae_title`); a host that cannot be found
    or reached fails every object, with the reason.
    """
    from pynetdicom import AE
    from pynetdicom.sop_class import Comprehensive3DSRStorage, SegmentationStorage

    datasets = [(str(f), _read(Path(f))) for f in files]
    ae = AE(ae_title=calling_aet)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = timeout
    for sop_class in (SegmentationStorage, Comprehensive3DSRStorage):
        ae.add_requested_context(sop_class, ["1.2.840.10008.1.2.1", "1.2.840.10008.1.2"])
    try:
        assoc = ae.associate(host, int(port), ae_title=called_aet)
    except OSError as error:  # the host name does not resolve, and the like
        return [Sent(f, False, f"cannot connect to {host}:{port} ({error.__class__.__name__}: {error})")
                for f, _ in datasets]
    if not assoc.is_established:
        return [Sent(f, False, f"no association with {called_aet} at {host}:{port} (rejected, aborted or unreachable)")
                for f, _ in datasets]
    outcomes = []
    try:
        for file, ds in datasets:
            try:
                status = assoc.send_c_store(ds)
            except Exception as error:  # noqa: BLE001 - reported per object
                outcomes.append(Sent(file, False, f"{error.__class__.__name__}: {error}"))
                continue
            code = getattr(status, "Status", None)
            if code is None:
                outcomes.append(Sent(file, False, "no answer (connection lost or timed out)"))
            elif code == 0x0000 or 0xB000 <= code <= 0xBFFF:
                outcomes.append(Sent(file, True, "stored" if code == 0 else f"stored with warning 0x{code:04X}"))
            else:
                outcomes.append(Sent(file, False, f"refused, status 0x{code:04X}"))
    finally:
        if assoc.is_established:
            assoc.release()
    return outcomes
