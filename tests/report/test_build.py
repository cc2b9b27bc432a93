"""Scale rules of the report figures."""

from __future__ import annotations

import numpy as np
import pandas as pd

from immunopet.report.build import mip_scale
from immunopet.report.figio import nice_ceiling


def test_nice_ceiling():
    assert [nice_ceiling(v) for v in (8.99, 10.0, 10.7, 4.1, 2.3, 0.034, 0.0)] == [10, 10, 20, 5, 2.5, 0.05, 1.0]


def test_mip_scale_is_the_rounded_up_lesion_quartile(synthetic_measurements):
    lesions = synthetic_measurements.loc[synthetic_measurements["kind"] == "lesion", "suv_max"]
    q3 = np.percentile(lesions, 75)
    scale = mip_scale(synthetic_measurements)
    assert scale >= q3 and scale == nice_ceiling(q3)
    organs_only = pd.DataFrame({"kind": "organ", "suv_max": np.nan, "suv_mean": np.arange(1.0, 101.0)})
    assert mip_scale(organs_only) == nice_ceiling(np.percentile(np.arange(1.0, 101.0), 99))
