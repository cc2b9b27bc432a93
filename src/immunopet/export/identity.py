"""Who and when the exported objects are about: deterministic UIDs and the patient/study header.

- Tracking identifiers: ``PATIENT/VOI`` (e.g. ``P01/L1``) and a UID derived from the study name,
  the patient id and the VOI id only, so one lesion carries the same tracking UID on every day.
- New series and SOP instance UIDs are derived from what the object's content depends on (the
  scan's input and parameter hashes in the results store, the software version, the privacy
  mode): exporting unchanged results again gives the same UIDs (a PACS keeps one copy), changed
  results give new ones.
- The source PET header is reduced to a whitelist (patient, study, series, geometry). Without
  ``--include-identifiers`` the patient is named by the pseudonymous ``patient_id``, the birth date,
  accession number and physician are left empty, every UID of the source is replaced by one derived
  from it (``2.25.`` + a hash; the same original always gives the same replacement), and dates and
  times become the time since injection counted from 2000-01-01 00:00 (the injection), so the
  order and spacing of the scan days survive and nothing calendar-based does.

Every derived UID is ``2.25.`` followed by the integer of a name-based (version 5, SHA-1) UUID of
the listed strings (RFC 4122; ISO/IEC 9834-8 for the ``2.25`` root), see ``docs/export.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import uuid

from pydicom.dataset import Dataset

#: The day the injection is moved to in pseudonymous objects.
PSEUDO_EPOCH = datetime(2000, 1, 1)

#: Attributes of each PET slice a SEG/SR needs (patient, study, series, image geometry).
PATIENT_KEYWORDS = ("PatientName", "PatientID", "PatientBirthDate", "PatientSex")
STUDY_KEYWORDS = ("StudyInstanceUID", "StudyDate", "StudyTime", "StudyID", "AccessionNumber", "ReferringPhysicianName")
IMAGE_KEYWORDS = (
    "SOPClassUID", "SOPInstanceUID", "Modality", "SeriesInstanceUID", "SeriesNumber", "InstanceNumber",
    "FrameOfReferenceUID", "ImagePositionPatient", "ImageOrientationPatient", "PixelSpacing", "SliceThickness",
    "SamplesPerPixel", "PhotometricInterpretation", "Rows", "Columns", "BitsAllocated",
)
UID_KEYWORDS = ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "FrameOfReferenceUID")
#: De-identification Method (LO, 64 characters at most); docs/export.md says what exactly is done.
DEIDENTIFICATION_METHOD = "immunopet export: pseudonymous ids; UIDs and dates replaced"


def derived_uid(*parts: object) -> str:
    """A ``2.25.`` UID that depends only on ``parts`` (deterministic)."""
    name = "|".join(["immunopet", *[str(p) for p in parts]])
    return f"2.25.{uuid.uuid5(uuid.NAMESPACE_URL, name).int}"


def tracking(study: str, patient_id: str, voi_id: str) -> tuple[str, str]:
    """(tracking identifier, tracking UID) of one VOI of one patient, the same on every scan day."""
    return f"{patient_id}/{voi_id}", derived_uid("tracking", study, patient_id, voi_id)


def ratio_tracking(study: str, patient_id: str, voi_id: str, reference: str) -> tuple[str, str]:
    """Tracking identifier and UID of the ratio ``voi_id`` / ``reference`` of one patient."""
    return f"{patient_id}/{voi_id}:{reference}", derived_uid("ratio", study, patient_id, voi_id, reference)


@dataclass(frozen=True)
class Privacy:
    """How the header of one scan's objects is filled.

    Attributes
    ----------
    include_identifiers
        Copy the source's identifiers (names, UIDs, dates) as they are.
    study, patient_id, scan_id
        The study name and the pseudonymous ids.
    hours_pi
        Hours from injection to the start of the PET acquisition (pseudonymous dates).
    """

    include_identifiers: bool
    study: str
    patient_id: str
    scan_id: str
    hours_pi: float | None

    def uid(self, original: str) -> str:
        return str(original) if self.include_identifiers else derived_uid("pseudonym", self.study, original)

    def moment(self, real: datetime | None = None) -> datetime:
        """The date-time written as the objects' content/series/study date and time."""
        if self.include_identifiers:
            return real or datetime.now().replace(microsecond=0)
        hours = self.hours_pi if self.hours_pi is not None else 0.0
        return PSEUDO_EPOCH + timedelta(seconds=round(hours * 3600.0))


def _copy(element):  # noqa: ANN001, ANN202 - a new element: the caller's header stays as it was
    """A copy of a header element, not validated again (it was when the header was read; the
    stand-ins of a whole-body series are thousands of elements)."""
    from pydicom import config
    from pydicom.dataelem import DataElement
    from pydicom.multival import MultiValue

    value = element.value
    if isinstance(value, MultiValue):
        value = list(value)
    return DataElement(element.tag, element.VR, value, validation_mode=config.IGNORE)


def source_stand_ins(headers: list[Dataset], privacy: Privacy) -> list[Dataset]:
    """Header-only copies of the PET slices holding the whitelist, made pseudonymous unless asked.

    Patient and study attributes are taken from the first slice (one series is one patient and
    study); the image attributes from each slice.
    """
    common = Dataset()
    first = headers[0]
    for keyword in (*PATIENT_KEYWORDS, *STUDY_KEYWORDS):
        if keyword in first:
            common.add(_copy(first[keyword]))
    for keyword in ("StudyDate", "StudyTime", "AccessionNumber", "ReferringPhysicianName", "StudyID",
                    "PatientBirthDate", "PatientSex"):
        if keyword not in common:
            setattr(common, keyword, "")
    if not privacy.include_identifiers:
        moment = privacy.moment()
        common.PatientName = f"{privacy.patient_id}^"  # one-component name: family name only
        common.PatientID = privacy.patient_id
        common.PatientBirthDate = ""
        common.AccessionNumber = ""
        common.ReferringPhysicianName = ""
        common.StudyID = privacy.scan_id[:16]
        common.StudyDate, common.StudyTime = moment.strftime("%Y%m%d"), moment.strftime("%H%M%S")
        common.StudyInstanceUID = privacy.uid(first.StudyInstanceUID)
    from pydicom import config
    from pydicom.datadict import tag_for_keyword
    from pydicom.dataelem import DataElement

    replaced: dict[str, DataElement] = {}
    out = []
    shared = list(common)  # the same (copied, never changed) elements in every stand-in
    pseudonymous = not privacy.include_identifiers
    image_tags = [(tag_for_keyword(k), pseudonymous and k in UID_KEYWORDS) for k in IMAGE_KEYWORDS]
    for header in headers:
        ds = Dataset()
        for element in shared:
            ds.add(element)
        for tag, replace in image_tags:
            if tag in header:
                if replace:
                    original = str(header[tag].value)
                    if original not in replaced:  # a derived UID, valid by construction: not validated again
                        replaced[original] = DataElement(tag, "UI", privacy.uid(original), validation_mode=config.IGNORE)
                    ds.add(replaced[original])
                else:
                    ds.add(_copy(header[tag]))
        out.append(ds)
    return out


def stamp(ds: Dataset, privacy: Privacy) -> None:
    """Set every date, time and date-time of an object to the privacy mode's moment (pseudonymous
    mode only: highdicom stamps the wall clock in a few places) and mark the identity removed."""
    if privacy.include_identifiers:
        return
    moment = privacy.moment()
    values = {"DA": moment.strftime("%Y%m%d"), "TM": moment.strftime("%H%M%S"), "DT": moment.strftime("%Y%m%d%H%M%S")}

    def visit(dataset: Dataset) -> None:  # the objects are built in memory: no element waits to be decoded
        for element in dataset.elements():
            if element.VR == "SQ":
                for item in element.value:
                    visit(item)
            elif element.VR in values and element.value not in (None, ""):
                dataset[element.tag].value = values[element.VR]

    visit(ds)
    ds.PatientIdentityRemoved = "YES"
    ds.DeidentificationMethod = DEIDENTIFICATION_METHOD
