"""Re-keying a simulation's truth to init's ids renames the tables' ids and the fraction maps' files."""

from __future__ import annotations

import pandas as pd

from immunopet.simulate.pacs_truth import rekey_truth


def test_ids_in_tables_and_fraction_file_names_follow_the_maps_even_when_two_ids_swap(tmp_path):
    truth = tmp_path / "truth"
    (truth / "fractions").mkdir(parents=True)
    pd.DataFrame({"scan_id": ["P01_D2", "P02_D2"], "patient_id": ["P01", "P02"]}).to_csv(truth / "truth.csv", index=False)
    for scan, text in (("P01_D2", "first"), ("P02_D2", "second")):
        for kind in ("fraction", "index"):
            (truth / "fractions" / f"{scan}_lesion_{kind}.nii.gz").write_text(f"{text} {kind}")
    rekey_truth(truth, {"P01_D2": "P02_D2", "P02_D2": "P01_D2"}, {"P01": "P02", "P02": "P01"})
    table = pd.read_csv(truth / "truth.csv")
    assert list(table["scan_id"]) == ["P02_D2", "P01_D2"] and list(table["patient_id"]) == ["P02", "P01"]
    assert (truth / "fractions" / "P02_D2_lesion_fraction.nii.gz").read_text() == "first fraction"
    assert (truth / "fractions" / "P01_D2_lesion_index.nii.gz").read_text() == "second index"
    assert sorted(p.name for p in (truth / "fractions").iterdir()) == [
        "P01_D2_lesion_fraction.nii.gz", "P01_D2_lesion_index.nii.gz",
        "P02_D2_lesion_fraction.nii.gz", "P02_D2_lesion_index.nii.gz"]
