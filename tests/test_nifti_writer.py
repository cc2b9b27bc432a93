"""The NIfTI writer: nibabel's bytes exactly, in gzip members that nibabel and SimpleITK read back."""

from __future__ import annotations

import gzip

import nibabel
import numpy as np
import pytest
import SimpleITK as sitk

from immunopet import nifti_writer
from immunopet.image import Image
from immunopet.nifti_writer import header_bytes, write_nifti_file


def _image(order: str) -> Image:
    rng = np.random.default_rng(7)
    array = rng.normal(size=(13, 11, 29)).astype(np.float32)
    array[:4] = 0.0  # runs of zeros, as outside the body
    affine = np.array([[0.0, 2.5, 0.0, -40.0], [-3.0, 0.0, 0.1, 12.0], [0.0, 0.0, 4.0, 7.5], [0, 0, 0, 1]])
    return Image(np.asarray(array, order=order), affine, "SUVbw")


def _nifti(image: Image) -> nibabel.Nifti1Image:
    img = image.to_nifti()
    img.header["descrip"] = b"immunopet SUVbw"
    img.header["scl_slope"], img.header["scl_inter"] = 1.0, 0.0
    return img


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("threads", [1, 2])
def test_gzip_members_decompress_to_nibabels_file(tmp_path, monkeypatch, order, threads):
    monkeypatch.setattr(nifti_writer, "BLOCK_BYTES", 3000)  # many members, some of a partial slab
    image = _image(order)
    reference = tmp_path / "nibabel.nii"
    _nifti(image).to_filename(reference)
    ours = tmp_path / "ours.nii.gz"
    write_nifti_file(_nifti(image), image.array, ours, compress=True, threads=threads)
    assert gzip.decompress(ours.read_bytes()) == reference.read_bytes()  # header and voxels, byte for byte

    back = nibabel.load(ours)
    np.testing.assert_array_equal(np.asarray(back.dataobj), image.array)
    assert back.header.binaryblock == nibabel.load(reference).header.binaryblock
    from_itk = sitk.ReadImage(str(ours))  # zlib's gzread over concatenated members
    np.testing.assert_array_equal(sitk.GetArrayFromImage(from_itk), image.array.transpose(2, 1, 0))
    assert np.allclose(from_itk.GetOrigin(), image.origin) and np.allclose(from_itk.GetSpacing(), image.spacing)


def test_plain_nii_is_nibabels_file(tmp_path):
    image = _image("F")
    _nifti(image).to_filename(tmp_path / "nibabel.nii")
    write_nifti_file(_nifti(image), image.array, tmp_path / "ours.nii", compress=False)
    assert (tmp_path / "ours.nii").read_bytes() == (tmp_path / "nibabel.nii").read_bytes()


def test_header_is_what_nibabel_writes(tmp_path):
    image = _image("C")
    _nifti(image).to_filename(tmp_path / "nibabel.nii")
    head = header_bytes(_nifti(image))
    assert len(head) == 352 and (tmp_path / "nibabel.nii").read_bytes()[:352] == head


def test_wrong_array_is_refused(tmp_path):
    image = _image("F")
    with pytest.raises(ValueError, match="float32"):
        write_nifti_file(_nifti(image), image.array.astype(np.float64), tmp_path / "x.nii.gz", compress=True)
