#!/usr/bin/env python3
"""Regenerates the safetensors and .npz fixtures read by Tests/PointwiseTests/Formats/
SafeTensorsTests.swift and NPZTests.swift.

Run with NumPy 2.x, safetensors 0.8 and PyTorch installed (PyTorch for bfloat16, which NumPy
lacks):  python3 scripts/make_format_fixtures.py

Every file is tiny and deterministic. Element i (in C order) of each "ramp" array is

    float16, bfloat16, float32, float64:  i * 0.5 - 3      (exact in every float type here)
    int8, int16, int32, int64:            i - 3
    uint8:                                255 - i
    bool:                                 i % 3 == 0

and the Swift tests compute the same formulas independently. The "edges" arrays hold each type's
extremes, spelled out in the tests. Files under npz/hostile/ are hand-assembled ZIP archives
that a reader must reject; each one's comment below says what is wrong with it.
"""
import io
import struct
import zlib
from pathlib import Path

import numpy as np
import torch
from safetensors.numpy import save_file as save_numpy
from safetensors.torch import save_file as save_torch

FIXTURES = Path(__file__).resolve().parent.parent / "Tests" / "PointwiseTests" / "Fixtures"
SAFETENSORS = FIXTURES / "safetensors"
NPZ = FIXTURES / "npz"
HOSTILE = NPZ / "hostile"


def ramp(shape, dtype):
    """The documented ramp of `shape` in NumPy dtype `dtype` (any byte order)."""
    i = np.arange(int(np.prod(shape)), dtype=np.int64)
    kind = np.dtype(dtype).kind
    if kind == "f":
        values = i * 0.5 - 3
    elif kind == "i":
        values = i - 3
    elif kind == "u":
        values = 255 - i
    else:
        values = i % 3 == 0
    return values.reshape(shape).astype(dtype)


def torch_ramp(shape, dtype):
    """The float ramp as a torch tensor (bfloat16 goes through float32, exactly)."""
    return torch.from_numpy(ramp(shape, "<f4")).to(dtype)


# MARK: - safetensors


def safetensors_fixtures():
    SAFETENSORS.mkdir(parents=True, exist_ok=True)

    # One tensor per NumPy dtype, in assorted shapes, with a single metadata key (the reference
    # writer orders metadata keys by hash, so only one key keeps the file deterministic).
    save_numpy({
        "f32_4d": ramp((2, 3, 4, 5), "<f4"),
        "f16_2x3": ramp((2, 3), "<f2"),
        "f64_scalar": ramp((), "<f8"),
        "i64_5": ramp((5,), "<i8"),
        "i32_3x1": ramp((3, 1), "<i4"),
        "i16_2x2": ramp((2, 2), "<i2"),
        "i8_7": ramp((7,), "i1"),
        "u8_2x5": ramp((2, 5), "u1"),
        "bool_6": ramp((6,), "?"),
        "f32_0x3": ramp((0, 3), "<f4"),
    }, SAFETENSORS / "numpy.safetensors", metadata={"format": "np"})

    # bfloat16 needs PyTorch.
    save_torch({
        "bf16_2x2x2": torch_ramp((2, 2, 2), torch.bfloat16),
        "f32_3": torch_ramp((3,), torch.float32),
        "i64_scalar": torch.tensor(-3, dtype=torch.int64),
    }, SAFETENSORS / "torch.safetensors", metadata={"format": "pt"})

    # Each type's extremes: integer limits, float subnormals, signed zero, infinities.
    def limits(dtype):
        info = torch.iinfo(dtype)
        return torch.tensor([info.min, -1 if info.min < 0 else 1, 0, 1, info.max], dtype=dtype)

    save_torch({
        "i64": limits(torch.int64), "i32": limits(torch.int32), "i16": limits(torch.int16),
        "i8": limits(torch.int8), "u8": limits(torch.uint8),
        "bool": torch.tensor([True, False]),
        "f16": torch.tensor([2.0**-24, 65504.0, -0.0, float("inf"), float("-inf")], dtype=torch.float16),
        "bf16": torch.tensor([2.0**-133, 3.3895313892515355e38, -0.0, float("inf"), 1.0 + 2.0**-7],
                             dtype=torch.bfloat16),
        "f32": torch.tensor([2.0**-149, 3.4028234663852886e38, -0.0, float("-inf")], dtype=torch.float32),
        "f64": torch.tensor([0.1, 1e300, -5e-324, float("inf")], dtype=torch.float64),
    }, SAFETENSORS / "edges.safetensors")

    # Several metadata keys and names that need JSON escapes or are not ASCII.
    save_numpy({
        'quote"back\\slash': ramp((1,), "<f4"),
        "tab\tnewline\n": ramp((2,), "<f4"),
        "caf\u00e9 \u2603 \U0001F600": ramp((3,), "<f4"),
    }, SAFETENSORS / "metadata.safetensors", metadata={
        "format": "np", "empty": "", "unicode": "\u00e9\u2603\U0001F600", "escapes": '"\\/\b\f\n\r\t\x01\x1f',
    })

    save_numpy({}, SAFETENSORS / "empty.safetensors")
    save_numpy({"a": ramp((0,), "<f4"), "b": ramp((2, 0), "<i8")}, SAFETENSORS / "zero_size.safetensors")

    # Valid files whose dtypes Pointwise does not support.
    save_torch({
        "c": torch.zeros(1, dtype=torch.complex64),
        "u16": torch.zeros(2, dtype=torch.uint16),
        "f8": torch.zeros(2, dtype=torch.float8_e4m3fn),
    }, SAFETENSORS / "unsupported.safetensors")


# MARK: - npz


def npz_arrays():
    """Every dtype NumPy and Pointwise share, both byte orders, scalar, empty and 4-D shapes."""
    return {
        "f4_4d": ramp((2, 3, 4, 5), "<f4"),
        "f2_2x3": ramp((2, 3), "<f2"),
        "f8_scalar": ramp((), "<f8"),
        "i8_5": ramp((5,), "<i8"),
        "i4_3x1": ramp((3, 1), "<i4"),
        "i2_2x2": ramp((2, 2), "<i2"),
        "i1_7": ramp((7,), "i1"),
        "u1_2x5": ramp((2, 5), "u1"),
        "b1_6": ramp((6,), "?"),
        "f4_0x3": ramp((0, 3), "<f4"),
        "be_f2_3": ramp((3,), ">f2"),
        "be_f4_2x2": ramp((2, 2), ">f4"),
        "be_f8_3": ramp((3,), ">f8"),
        "be_i2_3": ramp((3,), ">i2"),
        "be_i4_3": ramp((3,), ">i4"),
        "be_i8_3": ramp((3,), ">i8"),
    }


def npz_fixtures():
    NPZ.mkdir(parents=True, exist_ok=True)
    np.savez(NPZ / "stored.npz", **npz_arrays())
    np.savez_compressed(NPZ / "compressed.npz", **npz_arrays())
    np.savez(NPZ / "positional.npz", ramp((2,), "<f4"), ramp((3,), "<i8"))
    np.savez(NPZ / "empty.npz")
    np.savez(NPZ / "complex.npz", z=np.zeros(2, dtype=np.complex64))


# MARK: - hostile npz


def local_header(name, data, method=0, flags=0, crc=None, sizes=None, zip64=None):
    """A local file header followed by `data`; `sizes` = (compressed, uncompressed)."""
    crc = zlib.crc32(data) if crc is None else crc
    compressed, uncompressed = sizes or (len(data), len(data))
    extra = b""
    if zip64 is not None:
        extra = struct.pack("<HH", 1, 8 * len(zip64)) + b"".join(struct.pack("<Q", v) for v in zip64)
        compressed = uncompressed = 0xFFFFFFFF
    header = struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, flags, method, 0, 0x21, crc,
                         compressed, uncompressed, len(name), len(extra))
    return header + name + extra + data


def central_entry(name, offset, size, method=0, flags=0, crc=0, sizes=None, zip64=None):
    """A central directory entry; saturated fields take their values from `zip64`."""
    compressed, uncompressed = sizes or (size, size)
    extra = b""
    if zip64 is not None:
        extra = struct.pack("<HH", 1, 8 * len(zip64)) + b"".join(struct.pack("<Q", v) for v in zip64)
        compressed = uncompressed = 0xFFFFFFFF
    return struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 0x0300 | 45, 45, flags, method, 0, 0x21, crc,
                       compressed, uncompressed, len(name), len(extra), 0, 0, 0, 0o100644 << 16,
                       offset) + name + extra


def end_record(count, directory_size, directory_offset, disk=0):
    return struct.pack("<IHHHHIIH", 0x06054B50, disk, disk, count, count, directory_size, directory_offset, 0)


def archive(members, end=None):
    """Assembles `(name, local, central_kwargs)` members; `end` overrides the EOCD fields."""
    body, directory = b"", b""
    for name, local, kwargs in members:
        directory += central_entry(name, len(body), **kwargs)
        body += local
    fields = dict(count=len(members), directory_size=len(directory), directory_offset=len(body))
    fields.update(end or {})
    return body + directory + end_record(**fields)


def deflate(data):
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


def npy(array):
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def stored(name, data, **kwargs):
    """A valid stored member, with `kwargs` overriding what the central directory says."""
    central = dict(size=len(data), crc=zlib.crc32(data))
    central.update(kwargs)
    return name, local_header(name, data), central


def forged(data, crc, **fields):
    """A member a.npy whose local header and central entry both carry `fields` (method, flags,
    sizes or zip64), true or not, and the CRC-32 `crc`."""
    return b"a.npy", local_header(b"a.npy", data, crc=crc, **fields), dict(size=len(data), crc=crc, **fields)


def hostile_fixtures():
    HOSTILE.mkdir(parents=True, exist_ok=True)
    member = npy(ramp((3,), "<f4"))
    zeros = npy(np.zeros(1 << 16, dtype="<f4"))  # 256 KiB of zeros, about 260 bytes deflated
    squeezed = deflate(zeros)
    longer = npy(ramp((1000,), "<f4"))  # compresses only a few-fold, so half its stream is plausible
    cut = deflate(longer)[:len(deflate(longer)) // 2]
    files = {
        # Plain text, not a ZIP archive.
        "not_zip.npz": b"this is not a zip archive\n" * 4,
        # A member that is not .npy.
        "not_npy.npz": archive([stored(b"readme.txt", b"hello")]),
        # Two members called a.npy.
        "duplicate.npz": archive([stored(b"a.npy", member), stored(b"a.npy", member)]),
        # The central directory records the wrong CRC-32.
        "crc_mismatch.npz": archive([stored(b"a.npy", member, crc=0x12345678)]),
        # The local header names b.npy, the central directory a.npy.
        "name_mismatch.npz": archive([(b"a.npy", local_header(b"b.npy", member),
                                       dict(size=len(member), crc=zlib.crc32(member)))]),
        # A member name that is not UTF-8.
        "bad_name.npz": archive([stored(b"\xff\xfe.npy", member)]),
        # Encrypted (general-purpose flag bit 0).
        "encrypted.npz": archive([stored(b"a.npy", member, flags=1)]),
        # bzip2 (method 12).
        "bzip2.npz": archive([stored(b"a.npy", member, method=12)]),
        # The end record puts the central directory past the end of the file.
        "directory_outside.npz": archive([stored(b"a.npy", member)], end=dict(directory_offset=1 << 20)),
        # The end record claims 60000 entries in a 51-byte central directory.
        "too_many_entries.npz": archive([stored(b"a.npy", member)], end=dict(count=60000)),
        # Part of a multi-disk archive.
        "spanned.npz": archive([stored(b"a.npy", member)], end=dict(disk=1)),
        # A zip bomb whose header lies: 256 KiB of zeros that claims to be 1000 bytes.
        "lying_size.npz": archive([forged(squeezed, zlib.crc32(zeros), method=8,
                                          sizes=(len(squeezed), 1000))]),
        # A deflated member that claims 2**40 bytes from about 260 (ZIP64 sizes).
        "huge_claim.npz": archive([forged(squeezed, zlib.crc32(zeros), method=8,
                                          zip64=[1 << 40, len(squeezed)])]),
        # A stored member that claims 2**60 bytes (ZIPFoundation 0.9.20 loops "reading" them).
        "stored_huge.npz": archive([forged(member, zlib.crc32(member), zip64=[1 << 60, 1 << 60])]),
        # A ZIP64 size near 2**64 with a data descriptor (traps ZIPFoundation 0.9.20's iterator).
        "zip64_overflow.npz": archive([forged(member, zlib.crc32(member), flags=8,
                                              zip64=[(1 << 64) - 16, len(member)])]),
        # A deflate stream cut short: it never reaches its end block (ZIPFoundation 0.9.20 spins).
        "unterminated.npz": archive([forged(cut, zlib.crc32(longer), method=8,
                                            sizes=(len(cut), len(longer)))]),
        # Garbage where the deflate data should be.
        "bad_deflate.npz": archive([forged(b"\xff" * 64, 0, method=8, sizes=(64, 1000))]),
    }
    # Two members whose bytes overlap: b.npy's whole record lies inside a.npy's stored data.
    inner = local_header(b"b.npy", member)
    outer = local_header(b"a.npy", inner)
    directory = (central_entry(b"a.npy", 0, len(inner), crc=zlib.crc32(inner))
                 + central_entry(b"b.npy", 30 + 5, len(member), crc=zlib.crc32(member)))
    files["overlap.npz"] = outer + directory + end_record(2, len(directory), len(outer))

    for name, data in files.items():
        (HOSTILE / name).write_bytes(data)


def main():
    safetensors_fixtures()
    npz_fixtures()
    hostile_fixtures()
    total = 0
    for path in sorted(FIXTURES.glob("*/**/*")):
        if path.is_file() and path.suffix in (".safetensors", ".npz"):
            total += path.stat().st_size
            print(f"{path.stat().st_size:6d}  {path.relative_to(FIXTURES)}")
    print(f"{total:6d}  total")


if __name__ == "__main__":
    main()
