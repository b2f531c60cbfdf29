#!/usr/bin/env python3
"""Regenerates the .npy fixtures read by Tests/PointwiseTests/Formats/NPYTests.swift.

Run from anywhere with NumPy 2.x installed:  python3 scripts/make_npy_fixtures.py
Every file is tiny and deterministic; the Swift tests hard-code the same values.
"""
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent.parent / "Tests" / "PointwiseTests" / "Fixtures" / "npy"


def ramp(shape, dtype):
    """Values -3, -2.5, -2, ... in C order: exact in float16, float32 and float64."""
    count = int(np.prod(shape))
    return (np.arange(count, dtype=np.float64) * 0.5 - 3).reshape(shape).astype(dtype)


def save(name, array):
    np.save(OUT / name, array)


def write_version(name, array, version):
    with open(OUT / name, "wb") as f:
        np.lib.format.write_array(f, array, version=version)


def main():
    OUT.mkdir(parents=True, exist_ok=True)

    # Each float dtype in both byte orders and the four reference shapes: f4_le_2x3.npy, f2_be_scalar.npy, ...
    shapes = {"scalar": (), "5": (5,), "2x3": (2, 3), "1x3x4x5": (1, 3, 4, 5)}
    for code in ("f2", "f4", "f8"):
        for order, prefix in (("le", "<"), ("be", ">")):
            for label, shape in shapes.items():
                save(f"{code}_{order}_{label}.npy", ramp(shape, prefix + code))

    # More np.save outputs of little-endian float32 that NPY.encode must reproduce byte for byte:
    # a two-digit first axis (changes NumPy's growth padding) and an empty array.
    save("f4_le_12x1.npy", ramp((12, 1), "<f4"))
    save("f4_le_0x3.npy", np.zeros((0, 3), dtype="<f4"))

    # float16 edge cases: smallest and largest subnormal, -0.0, infinities, largest finite, NaN.
    special = [2.0**-24, -(2.0**-24), 1023 * 2.0**-24, 2.0**-14, -0.0, np.inf, -np.inf, 65504.0, np.nan]
    save("f2_le_special.npy", np.array(special, dtype="<f2"))
    save("f2_be_special.npy", np.array(special, dtype=">f2"))

    # float64 values that float32 must round: to nearest, to infinity, to -0.0.
    save("f8_le_rounding.npy", np.array([0.1, 1e300, -1e-300, 1.0 + 2.0**-30], dtype="<f8"))

    # Header format versions 2.0 and 3.0 (np.save only uses them for huge or non-Latin-1 headers).
    write_version("v2_f4_2x3.npy", ramp((2, 3), "<f4"), (2, 0))
    write_version("v3_f4_2x3.npy", ramp((2, 3), "<f4"), (3, 0))

    # Files the decoder must reject.
    save("fortran_f4_2x3.npy", np.asfortranarray(ramp((2, 3), "<f4")))
    save("i8_5.npy", np.arange(5, dtype="<i8"))
    save("bool_3.npy", np.array([True, False, True]))
    save("structured_2.npy", np.zeros(2, dtype=[("a", "<f4"), ("b", "<i4")]))

    for path in sorted(OUT.glob("*.npy")):
        print(f"{path.stat().st_size:5d}  {path.relative_to(OUT.parent.parent.parent.parent)}")


if __name__ == "__main__":
    main()
