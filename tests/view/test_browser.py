"""The viewer in a real browser: Debian's chromium driven by Playwright (no browser download)."""

from __future__ import annotations

import io
import shutil

import numpy as np
import pytest

pytestmark = pytest.mark.browser

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
    "--disable-quic",
]
READY = "window.immunopetViewer && window.immunopetViewer.state.ready"
CROSSHAIR_MM = "Array.from(window.immunopetViewer.nv.frac2mm(window.immunopetViewer.nv.scene.crosshairPos)).slice(0, 3)"


@pytest.fixture(scope="module")
def page(viewer):
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("chromium not found: run `make system-deps` (Debian package chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        tab = browser.new_page(viewport={"width": 1400, "height": 900})
        tab.problems = []
        tab.on("console", lambda m: m.type == "error" and tab.problems.append(m.text))
        tab.on("pageerror", lambda e: tab.problems.append(str(e)))
        tab.goto(viewer.url)
        tab.wait_for_function(READY, timeout=120_000)
        yield tab
        browser.close()


def test_page_loads_without_console_errors_and_draws(page):
    assert page.problems == []
    assert page.locator("#patients tbody tr").count() == 5
    png = page.locator("#gl").screenshot()
    from matplotlib import image as mpimg

    pixels = mpimg.imread(io.BytesIO(png), format="png")[..., :3]
    lit = (pixels.max(axis=2) > 0.1).mean()
    assert lit > 0.05 and pixels.std() > 0.05  # a drawn PET/CT, not a blank canvas


def test_clicking_a_lesion_moves_the_crosshair_to_its_hottest_voxel(page, viewed_study):
    from immunopet.study import load_results

    state = page.evaluate("window.immunopetViewer.state.meta")
    lesion = next(r for r in state["vois"] if r["kind"] == "lesion")
    page.click(f"#vois tbody tr[data-voi='{lesion['voi_id']}']")
    crosshair = np.array(page.evaluate(CROSSHAIR_MM))
    spacing = np.array(state["spacing_mm"])
    assert np.all(np.abs(crosshair - np.array(lesion["hottest"]["ras_mm"])) <= spacing + 1e-3)
    measured = load_results(viewed_study).measurements
    stored = measured[(measured["scan_id"] == state["scan_id"]) & (measured["voi_id"] == lesion["voi_id"])]
    suv_max = float(stored["suv_max"].iloc[0])
    page.wait_for_function("document.querySelector('#cursor-suv').textContent !== '–'")
    assert float(page.inner_text("#cursor-suv")) == pytest.approx(suv_max, abs=5e-4)  # shown with 3 decimals
    assert f"SUVmax {suv_max:.3f}" in page.inner_text("#voi-values")


def _truth_pose(study, scan_id: str) -> np.ndarray:
    """The simulator's rigid phantom -> scan matrix of ``scan_id`` (truth/poses.csv), 4 x 4."""
    import pandas as pd

    row = pd.read_csv(study / "truth" / "poses.csv").set_index("scan_id").loc[scan_id]
    matrix = np.eye(4)
    matrix[:3] = [[row[f"m{i}{j}"] for j in range(4)] for i in range(3)]
    return matrix


def test_changing_the_day_keeps_the_crosshair_on_the_same_anatomical_point(page, viewed_study):
    state = page.evaluate("window.immunopetViewer.state")
    scans = [s["scan_id"] for s in state["scans"]]
    before_lps = np.array(state["point"])
    target = scans[1]
    page.click(f"#days button[data-scan='{target}']")
    page.wait_for_function(f"{READY} && window.immunopetViewer.state.scan === '{target}'", timeout=60_000)
    after_ras = np.array(page.evaluate(CROSSHAIR_MM))
    after_lps = after_ras * [-1, -1, 1]
    # where that point of the body lies on the other day, by the simulator's true (rigid) poses
    source, other = _truth_pose(viewed_study, state["scan"]), _truth_pose(viewed_study, target)
    expected = (other @ np.linalg.inv(source) @ np.append(before_lps, 1.0))[:3]
    spacing = np.array(page.evaluate("window.immunopetViewer.state.meta.spacing_mm"))
    moved = np.abs(expected - before_lps)
    assert np.linalg.norm(moved) > 4.0, "the simulated patient should have moved between these days"
    assert np.all(np.abs(after_lps - expected) <= 2 * spacing)
    assert page.inner_text("#mapping") == "crosshair kept by registration"
    assert page.problems == []
