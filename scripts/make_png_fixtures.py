#!/usr/bin/env python3
"""Regenerates the PNG fixtures read by Tests/PointwiseTests/Formats/PNGTests.swift and the
resize fixtures read by Tests/PointwiseTests/Pictures/ImagePreprocessingTests.swift.

Needs NumPy, Pillow and pypng:  pip install numpy pillow pypng;  python3 scripts/make_png_fixtures.py

Tests/PointwiseTests/Fixtures/png/ gets, for every color type and bit depth PNG allows, small files
both plain and Adam7-interlaced, odd sizes (1x1, 7x5, 33x17), palettes with and without tRNS, and
files split over many IDAT chunks with ancillary chunks between them. Most are written by the
small encoder below, which cycles the five filter types row by row so the decoder meets every
filter on every kind of row (a pass's first row included); a few come from pypng's and Pillow's own
encoders. Each file is checked by decoding it with pypng before it is kept.

Next to each NAME.png, NAME.npy holds the samples a decoder must produce, shape [H, W, C], as
float16 for 8-bit results (exact up to 2048) and float32 for 16-bit ones: gray at 1/2/4 bits
scaled to 8 bits (v * 255 / (2^depth - 1)), palettes expanded to RGB, or RGBA when there is a tRNS
chunk, tRNS ignored for gray and RGB. manifest.json lists every file with its expected bit depth.

Tests/PointwiseTests/Fixtures/resize/ gets two small pictures and Pillow's
Image.resize(size, Image.BILINEAR) of each to several sizes, as NAME_WxH.npy (uint8 values as float16).
"""
import io
import json
import struct
import zlib
from pathlib import Path

import numpy as np
import png  # pypng
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent / "Tests" / "PointwiseTests" / "Fixtures"
PNG_DIR = ROOT / "png"
RESIZE_DIR = ROOT / "resize"

COLOR_TYPES = {"gray": (0, 1), "rgb": (2, 3), "palette": (3, 1), "graya": (4, 2), "rgba": (6, 4)}
DEPTHS = {"gray": (1, 2, 4, 8, 16), "rgb": (8, 16), "palette": (1, 2, 4, 8), "graya": (8, 16), "rgba": (8, 16)}
ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]

rng = np.random.default_rng(20240607)


# MARK: - Sample data

def raw_samples(kind, depth, width, height):
    """Smooth ramps with 30% noise: every filter has something to predict, files stay small."""
    channels = COLOR_TYPES[kind][1]
    top = 2 ** depth - 1
    y, x, c = np.mgrid[0:height, 0:width, 0:channels]
    if depth == 16:
        ramp = (x * 1999 + y * 4001 + c * 20011) % 65536
    else:
        ramp = (x * 5 + y * 11 + c * 80) % (top + 1)
    noise = rng.integers(0, top + 1, size=ramp.shape)
    return np.where(rng.random(ramp.shape) < 0.3, noise, ramp).astype(np.uint16)


def random_palette(entries):
    return rng.integers(0, 256, size=(entries, 3)).astype(np.uint8)


def expected_samples(kind, depth, raw, palette=None, trns=None):
    """What a decoder must produce from `raw` (indices for palette images)."""
    if kind == "palette":
        rgb = palette[raw[..., 0]].astype(np.uint16)
        if trns is None:
            return rgb
        alpha = np.full(len(palette), 255, dtype=np.uint16)
        alpha[: len(trns)] = trns
        return np.concatenate([rgb, alpha[raw[..., 0]][..., None]], axis=-1)
    if depth < 8:
        return raw * (255 // (2 ** depth - 1))
    return raw


# MARK: - A small encoder with every filter type

def pack_row(values, depth):
    if depth == 16:
        return values.astype(">u2").tobytes()
    if depth == 8:
        return values.astype(np.uint8).tobytes()
    out = bytearray((len(values) * depth + 7) // 8)
    for i, v in enumerate(values):
        bit = i * depth
        out[bit // 8] |= int(v) << (8 - depth - bit % 8)
    return bytes(out)


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def filter_row(kind, raw, prev, stride):
    out = bytearray(len(raw))
    for i in range(len(raw)):
        a = raw[i - stride] if i >= stride else 0
        b = prev[i]
        c = prev[i - stride] if i >= stride else 0
        pred = [0, a, b, (a + b) // 2, paeth(a, b, c)][kind]
        out[i] = (raw[i] - pred) % 256
    return bytes(out)


def chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def encode(kind, depth, raw, interlaced=False, palette=None, trns=None, idat_pieces=1,
           before_idat=(), after_idat=()):
    height, width, channels = raw.shape
    color_type = COLOR_TYPES[kind][0]
    stride = max(1, channels * depth // 8)
    stream = bytearray()
    row_counter = 0
    for x0, y0, dx, dy in (ADAM7 if interlaced else [(0, 0, 1, 1)]):
        sub = raw[y0::dy, x0::dx]
        if sub.size == 0:
            continue
        prev = bytes(len(pack_row(sub[0].ravel(), depth)))
        for row in sub:
            packed = pack_row(row.ravel(), depth)
            kind_ = row_counter % 5
            stream += bytes([kind_]) + filter_row(kind_, packed, prev, stride)
            prev = packed
            row_counter += 1
    compressed = zlib.compress(bytes(stream), 9)
    out = b"\x89PNG\r\n\x1a\n"
    out += chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0, int(interlaced)))
    for extra in before_idat:
        out += extra
    if palette is not None:
        out += chunk(b"PLTE", palette.tobytes())
    if trns is not None:
        out += chunk(b"tRNS", trns)
    step = -(-len(compressed) // idat_pieces)
    for start in range(0, len(compressed), step):
        out += chunk(b"IDAT", compressed[start:start + step])
    for extra in after_idat:
        out += extra
    return out + chunk(b"IEND", b"")


# MARK: - Checking and saving

def check_with_pypng(data, raw):
    width, height, rows, info = png.Reader(bytes=data).read()
    decoded = np.array([np.asarray(r, dtype=np.uint16) for r in rows]).reshape(raw.shape)
    assert (decoded == raw).all(), "pypng decodes the file differently"


manifest = []


def save(name, data, depth, expected, raw):
    check_with_pypng(data, raw)
    (PNG_DIR / f"{name}.png").write_bytes(data)
    bit_depth = 16 if depth == 16 else 8
    np.save(PNG_DIR / f"{name}.npy", expected.astype(np.float32 if bit_depth == 16 else np.float16))
    manifest.append({"file": f"{name}.png", "width": int(expected.shape[1]), "height": int(expected.shape[0]),
                     "channels": int(expected.shape[2]), "bitDepth": bit_depth})


def own(kind, depth, width, height, interlaced=False, trns_entries=None, suffix="", **options):
    raw = raw_samples(kind, depth, width, height)
    palette = trns = None
    if kind == "palette":
        palette = random_palette(2 ** depth if depth < 8 else 200)
        raw = raw % len(palette)
        if trns_entries is not None:
            trns = bytes(rng.integers(0, 256, size=trns_entries).astype(np.uint8))
    elif trns_entries is not None:
        # tRNS for gray/RGB: one 16-bit sample per channel; the decoder ignores it.
        trns = b"".join(struct.pack(">H", int(v)) for v in raw[0, 0])
    data = encode(kind, depth, raw, interlaced, palette, trns, **options)
    name = f"{kind}{depth}_{width}x{height}" + ("_adam7" if interlaced else "") + suffix
    alpha = np.frombuffer(trns, dtype=np.uint8) if kind == "palette" and trns is not None else None
    save(name, data, depth, expected_samples(kind, depth, raw, palette, alpha), raw)


def make_png_fixtures():
    PNG_DIR.mkdir(parents=True, exist_ok=True)
    for old in PNG_DIR.glob("*"):
        old.unlink()

    # Every color type and bit depth, plain and interlaced.
    for kind, depths in DEPTHS.items():
        for depth in depths:
            own(kind, depth, 13, 11)
            own(kind, depth, 13, 11, interlaced=True)

    # Odd sizes: 1x1 (six of the seven Adam7 passes empty), 7x5, 33x17.
    own("gray", 1, 1, 1)
    own("rgba", 16, 1, 1)
    own("palette", 8, 1, 1)
    own("rgb", 8, 1, 1, interlaced=True)
    own("gray", 2, 7, 5, interlaced=True)
    own("rgb", 8, 7, 5)
    own("graya", 8, 7, 5, interlaced=True)
    own("rgb", 8, 33, 17)
    own("rgba", 8, 33, 17, interlaced=True)
    own("gray", 4, 33, 17, interlaced=True)
    own("palette", 4, 33, 17, interlaced=True, trns_entries=5, suffix="_trns")

    # Transparency: palettes get alpha (entries past tRNS's end are opaque); gray/RGB ignore it.
    own("palette", 8, 13, 11, trns_entries=150, suffix="_trns")
    own("palette", 2, 13, 11, interlaced=True, trns_entries=4, suffix="_trns")
    own("gray", 8, 13, 11, trns_entries=1, suffix="_trns")
    own("rgb", 16, 13, 11, trns_entries=1, suffix="_trns")

    # Many IDAT chunks (one empty), ancillary chunks before and after them, a suggested palette in RGB.
    gamma = chunk(b"gAMA", struct.pack(">I", 45455))
    text = chunk(b"tEXt", b"Comment\x00made by make_png_fixtures.py")
    private = chunk(b"prVt", b"\x01\x02\x03")
    suggested = chunk(b"PLTE", bytes(range(30)))
    own("rgb", 8, 13, 11, suffix="_chunks", idat_pieces=7, before_idat=(gamma, text, private, suggested),
        after_idat=(text, private))

    # Independent encoders: pypng (interlacing, sub-byte depths) and Pillow (adaptive filters).
    for kind, depth, width, height, interlaced in [("rgb", 8, 33, 17, True), ("gray", 2, 7, 5, True),
                                                   ("gray", 16, 13, 11, False)]:
        raw = raw_samples(kind, depth, width, height)
        buffer = io.BytesIO()
        writer = png.Writer(width, height, greyscale=kind == "gray", bitdepth=depth, interlace=interlaced)
        writer.write(buffer, raw.reshape(height, -1))
        name = f"{kind}{depth}_{width}x{height}" + ("_adam7" if interlaced else "") + "_pypng"
        save(name, buffer.getvalue(), depth, expected_samples(kind, depth, raw), raw)

    palette = random_palette(16)
    indices = raw_samples("palette", 4, 13, 11) % 16
    alpha = rng.integers(0, 256, size=10).astype(np.uint8)
    buffer = io.BytesIO()
    rgba_palette = [tuple(p) + ((int(alpha[i]),) if i < 10 else ()) for i, p in enumerate(palette.tolist())]
    png.Writer(13, 11, palette=rgba_palette, bitdepth=4, interlace=True).write(buffer, indices.reshape(11, -1))
    save("palette4_13x11_adam7_trns_pypng", buffer.getvalue(), 4,
         expected_samples("palette", 4, indices, palette, alpha), indices)

    rgb = raw_samples("rgb", 8, 33, 17).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(rgb, "RGB").save(buffer, "PNG")
    save("rgb8_33x17_pillow", buffer.getvalue(), 8, rgb.astype(np.uint16), rgb)

    bits = (raw_samples("gray", 1, 13, 11)[..., 0] > 0)
    buffer = io.BytesIO()
    Image.fromarray(bits).save(buffer, "PNG")
    save("gray1_13x11_pillow", buffer.getvalue(), 1, bits[..., None].astype(np.uint16) * 255,
         bits[..., None].astype(np.uint16))

    (PNG_DIR / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")


# MARK: - Pillow's bilinear resize

def make_resize_fixtures():
    RESIZE_DIR.mkdir(parents=True, exist_ok=True)
    for old in RESIZE_DIR.glob("*"):
        old.unlink()
    y, x = np.mgrid[0:31, 0:45]
    smooth = np.stack([x * 5, y * 8, (x + y) * 3], axis=-1) % 256
    noisy = np.where(rng.random(smooth.shape) < 0.4, rng.integers(0, 256, size=smooth.shape), smooth)
    sources = {"rgb_45x31": Image.fromarray(noisy.astype(np.uint8), "RGB"),
               "gray_17x23": Image.fromarray(rng.integers(0, 256, size=(23, 17)).astype(np.uint8), "L")}
    sizes = {"rgb_45x31": [(20, 13), (45, 12), (97, 31), (64, 50), (7, 3), (1, 1), (30, 40)],
             "gray_17x23": [(9, 30), (5, 5), (17, 23)]}
    for name, picture in sources.items():
        picture.save(RESIZE_DIR / f"{name}.png")
        for width, height in sizes[name]:
            resized = np.asarray(picture.resize((width, height), Image.BILINEAR))
            np.save(RESIZE_DIR / f"{name}_{width}x{height}.npy", resized.astype(np.float16))


if __name__ == "__main__":
    make_png_fixtures()
    make_resize_fixtures()
    total = sum(f.stat().st_size for d in (PNG_DIR, RESIZE_DIR) for f in d.iterdir())
    print(f"{len(manifest)} PNG fixtures; {total} bytes in all")
