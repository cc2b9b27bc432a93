"""The coronal snapshot a registration keeps for the report's checkerboard figure."""

from __future__ import annotations

import numpy as np
import SimpleITK as sitk
from hypothesis import given, settings
from hypothesis import strategies as st

from immunopet.register.snapshot import coronal_snapshot, read_snapshot, snapshot_path, write_snapshot
from immunopet.report.fig_registration import checkerboard, registration_figure


def _error(planes, name):
    valid = np.isfinite(planes[name])
    return float(np.mean(np.abs(planes[name][valid] - planes["fixed"][valid])))


def test_the_registered_plane_matches_the_measured_scan_and_the_unregistered_one_does_not(pair, registered):
    planes = coronal_snapshot(pair.moved_ct, pair.reference_ct, registered.transform, modality="CT")
    assert planes["fixed"].shape == planes["before"].shape == planes["after"].shape
    assert planes["fixed"].shape == (pair.moved_ct.shape[0], pair.moved_ct.shape[2])
    np.testing.assert_allclose(planes["spacing_mm"], [pair.moved_ct.spacing[0], pair.moved_ct.spacing[2]])
    assert _error(planes, "after") < 0.5 * _error(planes, "before")
    identity = coronal_snapshot(pair.moved_ct, pair.moved_ct, sitk.Transform(3, sitk.sitkIdentity), modality="CT")
    np.testing.assert_allclose(identity["after"], identity["fixed"], atol=1e-3)  # same image, same grid: exact


def test_a_feet_first_or_mirrored_scan_gives_the_same_planes(pair, registered):
    """The planes are taken in patient orientation: the same CT stored with its first and last axes
    reversed (a feet-first, mirrored array of the same voxels in the same place) gives the same snapshot."""
    from immunopet.image import Image

    ct = pair.moved_ct
    affine = ct.affine.copy()
    for axis in (0, 2):
        affine[:3, 3] += affine[:3, axis] * (ct.shape[axis] - 1)
        affine[:3, axis] *= -1
    flipped = Image(np.ascontiguousarray(np.asarray(ct.array)[::-1, :, ::-1]), affine, ct.units, ct.meta)
    straight = coronal_snapshot(ct, pair.reference_ct, registered.transform, modality="CT")
    reversed_ = coronal_snapshot(flipped, pair.reference_ct, registered.transform, modality="CT")
    for name in ("fixed", "before", "after"):
        np.testing.assert_allclose(reversed_[name], straight[name], atol=1e-3, equal_nan=True, err_msg=name)


def test_written_snapshot_reads_back_and_a_damaged_one_is_none(pair, registered, tmp_path):
    planes = coronal_snapshot(pair.moved_ct, pair.reference_ct, registered.transform, modality="CT")
    path = write_snapshot(planes, snapshot_path(tmp_path / "P01_D2.tfm"))
    assert path.name == "P01_D2.snapshot.npz" and not list(tmp_path.glob(".*partial*"))
    back = read_snapshot(path)
    for name in ("fixed", "before", "after"):
        np.testing.assert_allclose(back[name], planes[name], rtol=1e-3, atol=0.5)  # float16: display only
    path.write_bytes(b"not an npz")
    assert read_snapshot(path) is None
    assert read_snapshot(tmp_path / "missing.npz") is None
    fig = registration_figure("P01_D2", "P01_D7", back | {"after": back["after"]}, modality="CT")
    assert [ax.get_title() for ax in fig.axes[:3]][2].endswith("registered")


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 40), st.integers(1, 40), st.integers(1, 12))
def test_checkerboard_alternates_tiles(n_i, n_k, tiles):
    a, b = np.zeros((n_i, n_k)), np.ones((n_i, n_k))
    board = checkerboard(a, b, tiles=tiles)
    size = max(1, -(-max(n_i, n_k) // tiles))
    i, k = np.indices((n_i, n_k))
    np.testing.assert_array_equal(board, ((i // size + k // size) % 2).astype(float))
    assert board[0, 0] == 0.0  # the first tile is the measured scan's


@settings(max_examples=60, deadline=None)
@given(st.one_of(st.binary(max_size=600), st.binary(max_size=600).map(lambda b: b"PK\x03\x04" + b),
                 st.binary(max_size=600).map(lambda b: b"\x93NUMPY" + b)), st.booleans())
def test_any_damaged_snapshot_file_is_none_never_an_error(tmp_path_factory, data, as_npz):
    """Random bytes (also behind a zip or .npy signature), or an npz whose planes disagree or lack a
    key: no figure, no crash."""
    import io

    path = tmp_path_factory.mktemp("snap") / "P01_D2.snapshot.npz"
    if as_npz:
        buffer = io.BytesIO()
        shape = (len(data) % 5 + 1, 3)
        arrays = {"fixed": np.zeros(shape), "before": np.zeros((shape[0] + 1, 3)), "spacing_mm": np.ones(2)}
        if data[:1] == b"a":
            arrays["after"] = np.zeros(shape)
        np.savez(buffer, **arrays)
        data = buffer.getvalue()
    path.write_bytes(data)
    assert read_snapshot(path) is None
