"""Rendering: autoescaped, self-contained, numbers formatted as documented."""

from __future__ import annotations

import base64
import re

import numpy as np
import pandas as pd

from immunopet.report.figio import new_figure, save_figure
from immunopet.report.html import Block, figure_entry, format_value, render_report, table_from_frame


def test_format_value():
    assert format_value(12.345) == "12.3"
    assert format_value(0.0345) == "0.0345"
    assert format_value(1234.6) == "1235"
    assert format_value(np.float32(2.0)) == "2.00"
    assert format_value(np.int64(3)) == "3"
    assert format_value(float("nan")) == "" and format_value(None) == ""
    assert format_value(-30.0) == "-30.0"


def test_render_escapes_and_embeds(tmp_path):
    fig = new_figure(2, 2)
    fig.add_subplot().plot([0, 1], [1, 0])
    saved = save_figure(fig, tmp_path, "line", caption="a <caption>")
    entry = figure_entry(saved, dpi=110)
    table = table_from_frame(pd.DataFrame({"patient_id": ["<script>alert(1)</script>"], "x": [1.5]}))
    html = render_report(
        study={"name": "S & T", "tracer": "89Zr"}, summary=[("Patients", "1")], patient_table=table,
        methods=["Method <b>text</b>."], qa={"headline": "ok", "status_class": "qa-ok", "blocks": []},
        results=[Block("Figures", figures=[entry])], patients=[], version="0", generated="now",
        include_identifiers=False, study_dir_name="s",
    )
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "S &amp; T" in html and "Method &lt;b&gt;text&lt;/b&gt;." in html
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    uri = re.search(r'src="data:image/png;base64,([^"]+)"', html).group(1)
    assert base64.b64decode(uri) == saved.png.read_bytes()
    assert entry.width == round(2 * 110 * 96 / 110)  # 2 inch figure shown at 96 px per inch


def test_public_api_resolves_lazily():
    import immunopet.report as report

    assert sorted(report.__all__) == sorted(n for names in report._PUBLIC.values() for n in names.split())
    for name in report.__all__:
        assert getattr(report, name) is not None
