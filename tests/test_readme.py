"""The README's five-minute tour and Python example run as written (in a temporary folder)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from immunopet.cli import main

README = Path(__file__).resolve().parents[1] / "README.md"


def _block(language: str, after: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(after)
    match = re.search(rf"```{language}\n(.*?)```", text[start:], flags=re.S)
    assert match, f"no ```{language} block after {after!r} in README.md"
    return match.group(1)


def _tour_commands() -> list[str]:
    lines = _block("sh", "## A five-minute tour").replace("\\\n", " ").splitlines()
    commands = [line.split("#", 1)[0].strip() for line in lines]
    return [c for c in commands if c.startswith("immunopet ")]


@pytest.mark.slow
def test_tour_and_python_example(tmp_path, monkeypatch, shared_data):
    monkeypatch.chdir(tmp_path)
    commands = _tour_commands()
    assert len(commands) >= 10
    for command in commands:
        argv = shlex.split(command.replace("../shared/data", str(shared_data)))[1:]
        assert main(["--quiet", *argv]) == 0, f"README command failed: {command}"
    assert Path("p01_d7_suv.nii.gz").is_file() and Path("my-study/report/report.html").is_file()
    namespace: dict = {}
    exec(compile(_block("python", "From Python"), "README.md", "exec"), namespace)  # noqa: S102
    table = namespace["table"]
    assert list(table["voi_id"]) == ["blood_pool"] and table["suv_mean"].iloc[0] > 0
    # the override scales the body-weight SUV factor by weight, nothing else
    pet, weighed = namespace["pet"], namespace["weighed"]
    weight = pet.audit()["inputs"]["weight_kg"]["value"]
    assert weighed.suv_factor("bw") == pytest.approx(pet.suv_factor("bw") * 71.5 / weight)
