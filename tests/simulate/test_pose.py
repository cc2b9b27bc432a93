"""Patients who move: the pose maps phantom to scan frame and back, the simulator's VOIs and lesion
positions follow it, and a retest series has the same truth with new noise."""

from __future__ import annotations

import numpy as np
import pandas as pd

from immunopet.image import Image
from immunopet.simulate import default_params
from immunopet.simulate.anatomy import body_of
from immunopet.simulate.pose import draw_pose


def test_pose_round_trip_and_limits():
    body = body_of(175.0, 25.0, "M")
    motion = default_params()["motion"]
    for k in range(20):
        pose = draw_pose(np.random.default_rng(k), motion, body)
        assert all(abs(a) <= 5.0 for a in pose.rotation_deg)
        assert abs(pose.translation_mm[0]) <= 20.0 and abs(pose.translation_mm[2]) <= 40.0
        points = np.array([[0.0, 0.0, -500.0], [60.0, -40.0, -300.0], [-90.0, 50.0, -700.0]])
        back = np.stack(pose.to_phantom(*pose.to_scan(points).T), axis=1)
        np.testing.assert_allclose(back, points, atol=1e-2)
        rigid = pose.rigid_matrix()
        assert np.allclose(rigid[:3, :3] @ rigid[:3, :3].T, np.eye(3))
        moved = pose.to_scan(points) - (points @ rigid[:3, :3].T + rigid[:3, 3])
        assert np.abs(moved).max() <= motion["deformation_mm"] * motion["deformation_bumps"] + 1e-6


def test_poses_differ_between_days_and_vois_follow_them(quick_study):
    poses = pd.read_csv(quick_study / "truth" / "poses.csv")
    scans = pd.read_csv(quick_study / "scans.csv")
    assert set(poses["scan_id"]) == set(scans["scan_id"])
    assert poses.groupby("patient_id")["rot_z_deg"].nunique().min() == scans.groupby("patient_id").size().min()
    vois = pd.read_csv(quick_study / "vois.csv")
    positions = pd.read_csv(quick_study / "truth" / "lesion_positions.csv")
    for scan in scans.itertuples():
        labels = Image.from_nifti(quick_study / f"masks/{scan.scan_id}_labels.nii.gz", dtype=None)
        for row in vois[(vois.scan_id == scan.scan_id) & (vois.source == "sphere")].itertuples():
            ijk = tuple(np.rint(labels.world_to_index(np.array([row.x_mm, row.y_mm, row.z_mm]))).astype(int))
            assert labels.array[ijk] == {"blood_pool": 6, "bone_marrow": 11}[row.voi_id], (scan.scan_id, row.voi_id)
        mine = positions[positions.scan_id == scan.scan_id]
        lesion_rows = vois[(vois.scan_id == scan.scan_id) & (vois.kind == "lesion")].set_index("voi_id")
        for lesion in mine.itertuples():  # the stated centre lies within the lesion's extent on this grid
            voxels = np.argwhere(labels.array == int(lesion_rows.loc[lesion.voi_id, "label"]))
            world = labels.affine[:3, :3] @ voxels.T + labels.affine[:3, 3:4]
            nearest = np.min(np.linalg.norm(world.T - [lesion.x_mm, lesion.y_mm, lesion.z_mm], axis=1))
            assert nearest <= lesion.diameter_mm / 2 + 8.0, (scan.scan_id, lesion.voi_id)
    slices = scans.assign(n=[len(list((quick_study / p).glob("*.dcm"))) for p in scans["pet"]])
    assert slices.groupby("patient_id")["n"].nunique().max() > 1  # the axial field of view differs by day


def test_retest_series_has_the_same_truth_and_new_noise(tmp_path, read_pet):
    from immunopet.simulate import simulate_study

    study = simulate_study(tmp_path / "retest", patients=1, quick=True, seed=3, days=(7,), retest=True)
    scans = pd.read_csv(study / "scans.csv")
    assert list(scans.columns[-1:]) == ["retest_of"] and len(scans) == 2
    original, retest = scans.iloc[0], scans.iloc[1]
    assert retest.retest_of == original.scan_id and pd.isna(original.retest_of) and retest.ct == original.ct
    first, ds1 = read_pet(study / original.pet)
    second, ds2 = read_pet(study / retest.pet)
    assert ds1.StudyInstanceUID == ds2.StudyInstanceUID and ds1.SeriesInstanceUID != ds2.SeriesInstanceUID
    assert ds1.FrameOfReferenceUID == ds2.FrameOfReferenceUID
    assert first.shape == second.shape and not np.array_equal(first, second)
    body = first > 0.05 * first.max()
    assert np.corrcoef(first[body], second[body])[0, 1] > 0.5  # the same truth underneath
    truth = pd.read_csv(study / "truth" / "truth.csv")
    a = truth[truth.scan_id == original.scan_id].drop(columns="scan_id").reset_index(drop=True)
    b = truth[truth.scan_id == retest.scan_id].drop(columns="scan_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)
    vois = pd.read_csv(study / "vois.csv")
    assert (vois.scan_id == retest.scan_id).sum() == (vois.scan_id == original.scan_id).sum()
