"""read_series_header on damaged attribute values: never an exception, a value or ``None`` instead."""

from __future__ import annotations

from functools import lru_cache
from io import BytesIO

import pydicom
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian

from immunopet.dicom.discover import SeriesInfo
from immunopet.intake.headers import read_series_header

#: Attribute -> (VR, a valid placeholder of the value's full length, the sequence it is in or None).
FIELDS = {
    "SeriesNumber": ("IS", "000000000012", None),
    "PatientSize": ("DS", "1.7171717171717", None),
    "PatientWeight": ("DS", "72.727272727272", None),
    "PatientSex": ("CS", "MM", None),
    "PatientName": ("PN", "Doe^Jane^Q^^", None),
    "PatientBirthDate": ("DA", "19500607", None),
    "ImageType": ("CS", "ORIGINAL\\PRIMARY", None),
    "CorrectedImage": ("CS", "ATTN\\DECY\\NORM", None),
    "AcquisitionDate": ("DA", "20200303", None),
    "AcquisitionTime": ("TM", "121314.151617", None),
    "Radiopharmaceutical": ("LO", "89Zr-atezolizumab", "RadiopharmaceuticalInformationSequence"),
    "RadionuclideHalfLife": ("DS", "282276.00000001", "RadiopharmaceuticalInformationSequence"),
    "RadiopharmaceuticalStartTime": ("TM", "080910.111213", "RadiopharmaceuticalInformationSequence"),
    "RadiopharmaceuticalStartDateTime": ("DT", "20200302070605.040302",
                                         "RadiopharmaceuticalInformationSequence"),
}


@lru_cache(maxsize=1)
def _clean_pet() -> bytes:
    """One PET file whose FIELDS hold their placeholders."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.128"
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID = "1.2.3.4"
    ds.Modality, ds.SeriesInstanceUID, ds.PatientID = "PT", "1.2.3", "MRN1"
    drug = Dataset()
    for keyword, (_, placeholder, sequence) in FIELDS.items():
        setattr(drug if sequence else ds, keyword, placeholder)
    ds.RadiopharmaceuticalInformationSequence = [drug]
    out = BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return out.getvalue()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.sampled_from(sorted(FIELDS)), st.binary(min_size=1, max_size=26), min_size=1))
def test_damaged_values_never_raise(tmp_path, damage):
    data = _clean_pet()
    for keyword, raw in damage.items():
        placeholder = FIELDS[keyword][1].encode()
        value = (raw + b" " * len(placeholder))[:len(placeholder)]  # same length: the file stays parseable
        assert data.count(placeholder) == 1
        data = data.replace(placeholder, value)
    path = tmp_path / "pet.dcm"
    path.write_bytes(data)
    info = SeriesInfo("PT", "MRN1", "1.2", "1.2.3", None, None, "", 1, [path])
    header = read_series_header(info)
    assert header.series_number is None or isinstance(header.series_number, int)
    assert header.height_cm is None or 50.0 < header.height_cm < 260.0
    assert header.sex in (None, "M", "F", "O")
    assert header.half_life_s is None or isinstance(header.half_life_s, float)
    assert all(isinstance(v, str) for v in header.image_type + tuple(header.corrected))
    assert header.injection is None or header.injection_source
    assert isinstance(header.patient_name, str) and isinstance(header.radiopharmaceutical, str)


def test_the_undamaged_file_reads_every_field(tmp_path):
    path = tmp_path / "pet.dcm"
    path.write_bytes(_clean_pet())
    header = read_series_header(SeriesInfo("PT", "MRN1", "1.2", "1.2.3", None, None, "", 1, [path]))
    assert header.series_number == 12 and header.height_cm == 171.7 and header.sex is None
    assert header.image_type == ("ORIGINAL", "PRIMARY") and header.corrected == {"ATTN", "DECY", "NORM"}
    assert header.half_life_s == 282276.00000001
    assert header.injection_source.startswith("RadiopharmaceuticalStartDateTime") and header.problem is None
    assert header.patient_name == "Doe^Jane^Q^^" and header.birth_date == "19500607"
    assert pydicom.dcmread(path).PatientWeight == 72.727272727272
