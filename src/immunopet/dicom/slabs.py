"""A series converted a slab of slices at a time, so the float32 volume is never held whole.

``immunopet convert`` learns everything but the voxel values from the headers
(:func:`~immunopet.dicom.volume.read_headers`, :func:`~immunopet.dicom.pet.conversion`): grid,
rescale checks, pixel budget, SUV inputs and factors. :func:`converted_slabs` then makes each
output slice from its stored values by the float32 operations of the whole-volume path, in the
same order (:func:`~immunopet.dicom.volume.rescale_into`, then each factor of
:func:`~immunopet.dicom.pet.slice_factors`), so the values are bit for bit those of
:func:`~immunopet.dicom.volume.read_volume` followed by :func:`~immunopet.dicom.pet.convert_in_place`,
and the same checks fail with the same messages. NIfTI stores the first index fastest, so a
``(n, J, I)`` C-order slab of consecutive slices is a contiguous piece of the file: the writer
(:func:`~immunopet.dicom.export.write_nifti_slabs`) compresses one slab while the next is read.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence

import numpy as np

from immunopet.dicom.export import non_finite_output_error
from immunopet.dicom.pet import slice_factors
from immunopet.dicom.pixels import stored_slices
from immunopet.dicom.volume import Volume, malformed_as_error, non_finite_slice_error, rescale_into
from immunopet.nifti_writer import BLOCK_BYTES


def converted_slabs(volume: Volume, factors: Sequence[np.ndarray],
                    out: str | os.PathLike[str]) -> Iterator[np.ndarray]:
    """The output voxels of ``volume`` as float32 C-order slabs ``(n, J, I)`` of about BLOCK_BYTES, in k order.

    Each slice is rescaled, checked finite (else the :func:`~immunopet.dicom.volume.read_volume`
    error naming its file), multiplied by ``factors`` (:func:`~immunopet.dicom.pet.conversion`;
    none for CT) and checked again. A non-finite output value stops the slabs; the remaining
    slices are still converted, so that a later rescale error is the one reported, as it is
    when the whole volume is read first, and the error (naming ``out``) counts every bad voxel.
    Each file's pixel data are read once and dropped after use (:func:`stored_slices`).
    """
    ni, nj, nk = volume.grid.shape
    step = max(1, BLOCK_BYTES // (ni * nj * 4))
    bad = 0
    slab = np.empty((0, nj, ni), dtype=np.float32)
    with malformed_as_error(volume.image.meta.get("source")):
        for k, (frame, stored) in enumerate(stored_slices(volume.frames)):
            if k % step == 0:
                slab = np.empty((min(step, nk - k), nj, ni), dtype=np.float32)  # a new one: the last is in flight
            piece = slab[k % step]
            rescale_into(stored, frame, piece)
            if not np.isfinite(piece).all():
                raise non_finite_slice_error(frame)
            for factor in slice_factors(factors, k):
                piece *= factor
            finite = np.isfinite(piece)
            if not finite.all():
                bad += int(finite.size - np.count_nonzero(finite))
            if not bad and (k % step == len(slab) - 1):
                yield slab
    if bad:
        raise non_finite_output_error(bad, out)
