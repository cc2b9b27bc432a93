"""Checking an ITK text transform file (``.tfm``) before ITK reads it.

ITK's text reader trusts the file: a ``Parameters:`` line holding a word or ``nan`` crashes the
whole process (segmentation fault, SimpleITK 2.x), a short one is read as a transform with too few
parameters, and a missing one as the identity. :func:`check_transform_text` therefore reads the
file first and refuses, with the line number, anything that is not a list of transforms of a known
3-D type each followed by exactly the parameters that type has (ITK Software Guide, Johnson et al.
2015, section "Transform file format"; ``itk::TxtTransformIOTemplate``).
"""

from __future__ import annotations

import math
from pathlib import Path

from immunopet.errors import RegistrationError

MAX_BYTES = 200 * 1024 * 1024  #: a B-spline of a whole-body grid stays far below this
_FIX = "delete it and run immunopet register STUDY_DIR again"
#: parameter count and allowed fixed-parameter counts of the linear 3-D types ITK writes
_LINEAR = {
    "Euler3DTransform": (6, {3, 4}),
    "VersorRigid3DTransform": (6, {3}),
    "Similarity3DTransform": (7, {3}),
    "ScaleVersor3DTransform": (9, {3}),
    "ScaleSkewVersor3DTransform": (15, {3}),
    "AffineTransform": (12, {3}),
    "TranslationTransform": (3, {0}),
}
_COMPOSITE = "CompositeTransform"
_BSPLINE = "BSplineTransform"


def _numbers(text: str, line: int, path: Path) -> list[float]:
    values = []
    for token in text.split():
        try:
            value = float(token)
        except ValueError:
            raise RegistrationError(f"line {line}: {token[:20]!r} is not a number", file=path, fix=_FIX) from None
        if not math.isfinite(value):
            raise RegistrationError(f"line {line}: parameter {token[:20]!r} is not finite", file=path, fix=_FIX)
        values.append(value)
    return values


def _kind(name: str, line: int, path: Path) -> str:
    base, _, suffix = name.partition("_")
    if suffix not in ("double_3_3", "float_3_3"):
        raise RegistrationError(f"line {line}: expected a 3-D transform, got {name[:60]!r}", file=path, fix=_FIX)
    if base not in _LINEAR and base not in (_COMPOSITE, _BSPLINE):
        raise RegistrationError(f"line {line}: transform type {name[:60]!r} is not one immunopet reads "
                                f"(rigid, similarity, affine, B-spline or a composite of them)", file=path, fix=_FIX)
    return base


def _expected(kind: str, fixed: list[float], line: int, path: Path) -> int:
    """Number of parameters a transform of ``kind`` with these fixed parameters must have."""
    if kind == _BSPLINE:
        if len(fixed) != 18 or any(v < 1 or v != int(v) for v in fixed[:3]):
            raise RegistrationError(f"line {line}: a 3-D B-spline needs 18 fixed parameters beginning with its "
                                    "grid size", file=path, fix=_FIX)
        return 3 * math.prod(int(v) for v in fixed[:3])
    count, fixed_counts = _LINEAR[kind]
    if len(fixed) not in fixed_counts:
        raise RegistrationError(f"line {line}: {kind} needs {' or '.join(map(str, sorted(fixed_counts)))} fixed "
                                f"parameters, found {len(fixed)}", file=path, fix=_FIX)
    return count


def check_transform_text(path: Path) -> None:
    """Raise :class:`RegistrationError` naming ``path`` unless it is a well-formed 3-D ITK text transform."""
    if path.stat().st_size > MAX_BYTES:
        raise RegistrationError(f"transform file larger than {MAX_BYTES // 2**20} MiB", file=path, fix=_FIX)
    try:
        lines = path.read_text(encoding="ascii").splitlines()
    except UnicodeDecodeError:
        raise RegistrationError("not an ITK text transform file (non-ASCII content)", file=path, fix=_FIX) from None
    if not lines or not lines[0].startswith("#Insight Transform File"):
        raise RegistrationError("not an ITK text transform file (no '#Insight Transform File' header)",
                                file=path, fix=_FIX)
    transforms: list[dict] = []
    for number, raw in enumerate(lines, start=1):
        text = raw.strip()
        if not text or text.startswith("#"):
            continue
        key, colon, value = text.partition(":")
        if not colon or key not in ("Transform", "Parameters", "FixedParameters"):
            raise RegistrationError(f"line {number}: unexpected {text[:40]!r}", file=path, fix=_FIX)
        if key == "Transform":
            transforms.append({"kind": _kind(value.strip(), number, path), "line": number})
            continue
        if not transforms or key in transforms[-1]:
            raise RegistrationError(f"line {number}: {key} without its own 'Transform:' line", file=path, fix=_FIX)
        transforms[-1][key] = _numbers(value, number, path)
    if not transforms:
        raise RegistrationError("the transform file holds no transform", file=path, fix=_FIX)
    for entry in transforms:
        _check_entry(entry, path)
    if transforms[0]["kind"] == _COMPOSITE and len(transforms) == 1:
        raise RegistrationError("the composite transform is empty", file=path, fix=_FIX)


def _check_entry(entry: dict, path: Path) -> None:
    line = entry["line"]
    if entry["kind"] == _COMPOSITE:
        if "Parameters" in entry or "FixedParameters" in entry:
            raise RegistrationError(f"line {line}: a composite transform has no parameters of its own",
                                    file=path, fix=_FIX)
        return
    if "Parameters" not in entry or "FixedParameters" not in entry:
        raise RegistrationError(f"line {line}: {entry['kind']} lacks its Parameters or FixedParameters line",
                                file=path, fix=_FIX)
    expected = _expected(entry["kind"], entry["FixedParameters"], line, path)
    if len(entry["Parameters"]) != expected:
        raise RegistrationError(f"line {line}: {entry['kind']} needs {expected} parameters, found "
                                f"{len(entry['Parameters'])}", file=path, fix=_FIX)
