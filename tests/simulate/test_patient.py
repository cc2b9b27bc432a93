"""Per-scan ground truth of one patient: label statistics of the noise-free activity map."""

from __future__ import annotations

import numpy as np


def test_truth_rows_equal_a_direct_computation():
    from immunopet.simulate.patient import _truth_rows

    rng = np.random.default_rng(0)
    labels = rng.integers(0, 4, (20, 18, 16)).astype(np.uint8)
    labels[2:6, 2:6, 2:6] = 101
    suv = rng.random(labels.shape).astype(np.float32)
    names = {1: ("liver", "organ", "liver"), 3: ("spleen", "organ", "spleen"), 101: ("L1", "lesion", "lung"),
             102: ("L2", "lesion", "bone")}
    rows = {r["voi_id"]: r for r in _truth_rows(labels, 2.0 * suv, suv, names, 0.064)}
    assert set(rows) == {"liver", "spleen", "L1"}  # an absent label gives no row
    for voi_id, label in (("liver", 1), ("spleen", 3), ("L1", 101)):
        inside = labels == label
        assert rows[voi_id]["n_voxels"] == inside.sum()
        assert np.isclose(rows[voi_id]["volume_ml"], inside.sum() * 0.064)
        assert np.isclose(rows[voi_id]["true_suv_mean"], suv[inside].mean())
        assert np.isclose(rows[voi_id]["true_mean_bqml"], 2.0 * suv[inside].mean())
        assert rows[voi_id]["true_suv_max"] == suv[inside].max()
