#!/usr/bin/env python3
"""Regenerates the PyTorch checkpoint and pickle fixtures read by
Tests/PointwiseTests/Formats/{Pickle,TorchCheckpoint,TorchCheckpointHostile}Tests.swift.

Run with a Python that has torch 2.x and NumPy:  python scripts/make_torch_fixtures.py
Writes Tests/PointwiseTests/Fixtures/torch/:

  state_dict.pth            the reference state_dict, zip format (torch >= 1.6 default)
  state_dict_legacy.pth     the same, legacy format (_use_new_zipfile_serialization=False)
  state_dict_p4.pth         the same, zip format, pickle protocol 4 (FRAME, STACK_GLOBAL, MEMOIZE)
  state_dict_p1_legacy.pth  the same, legacy format, pickle protocol 1 (INT booleans, no PROTO)
  state_dict_deflated.pth   state_dict.pth re-zipped with deflate under the root folder "archive/"
  expected/<name>.npy       every tensor of the state_dict as float32, the values the tests expect
  wrapped.pth               {"state_dict": <state_dict>, "epoch": 3, "arch": "tiny"}
  nested.pth                {"model": {...}, "ema": {...}, "layers": [t, t], "step": 5}
  pickle/values_p<N>.pkl    plain Python values pickled with protocol N (0-5), for the unpickler
  hostile/*                 files the reader must refuse, each with a known error

The values are deterministic; the legacy files' storage keys are memory addresses and change from run
to run. Everything is tiny (under 100 KB in all).
"""
import io
import os
import pickle
import pickletools
import shutil
import struct
import zipfile
from collections import OrderedDict
from pathlib import Path

import numpy as np
import torch

OUT = Path(__file__).resolve().parent.parent / "Tests" / "PointwiseTests" / "Fixtures" / "torch"


# MARK: - The reference state_dict

class Tiny(torch.nn.Module):
    """A 1x1 convolution and a batch norm: conv.weight/bias and bn.weight/bias/running_*/num_batches_tracked."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 1)
        self.bn = torch.nn.BatchNorm2d(4)


def ramp(count, scale=0.25, start=-1.0):
    """start, start + scale, ... : exact in float16, bfloat16 and float32."""
    return torch.arange(count, dtype=torch.float64) * scale + start


def state_dict():
    """The tensors every format fixture holds, in this order. Values are exact in every dtype used."""
    model = Tiny()
    with torch.no_grad():
        model.conv.weight.copy_(ramp(12).reshape(4, 3, 1, 1))
        model.conv.bias.copy_(torch.tensor([0.5, -0.5, 1.5, -1.5]))
        model.bn.weight.copy_(torch.tensor([1.0, 2.0, 0.5, 0.25]))
        model.bn.bias.copy_(torch.tensor([0.0, 0.125, -0.125, 4.0]))
        model.bn.running_mean.copy_(torch.tensor([0.1, 0.2, 0.3, 0.4]))
        model.bn.running_var.copy_(torch.tensor([1.0, 1.5, 2.0, 2.5]))
        model.bn.num_batches_tracked.fill_(7)
    # keep_vars=True keeps the nn.Parameters, so the pickle uses _rebuild_parameter as well.
    sd = model.state_dict(keep_vars=True)
    sd["half"] = ramp(6, 0.5).reshape(2, 3).to(torch.float16)
    sd["bf16"] = torch.tensor([1.0, -2.5, 3.0e10]).to(torch.bfloat16)
    sd["mask"] = torch.tensor([True, False, True, True, False])
    # Non-contiguous: the transpose of a 2x3 matrix, strides (1, 3).
    sd["transposed"] = torch.arange(6, dtype=torch.float32).reshape(2, 3).t()
    # Two views of one storage of 10 elements, at offsets 2 and 5.
    base = torch.arange(10, dtype=torch.float32) * 10
    sd["shared_a"] = base[2:5]
    sd["shared_b"] = base[5:9].view(2, 2)
    # A column of a matrix: offset 1, stride (3,), inside a shared storage.
    sd["column"] = torch.arange(12, dtype=torch.int32).reshape(4, 3)[:, 1]
    sd["scalar"] = torch.tensor(3.5)
    sd["double"] = torch.tensor([[0.1, -1e300]], dtype=torch.float64)
    sd["empty"] = torch.zeros(0, 3)
    return sd


def write_expected(sd):
    folder = OUT / "expected"
    folder.mkdir(parents=True, exist_ok=True)
    for name, tensor in sd.items():
        np.save(folder / f"{name}.npy", tensor.detach().to(torch.float32).numpy().copy(order="C"))


# MARK: - Zip rewriting

def rezip(source, destination, compression, root=None):
    """Copies a zip checkpoint record by record, optionally compressing and renaming the root folder."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(destination, "w", compression) as new:
        for info in old.infolist():
            name = info.filename
            if root is not None:
                name = root + name[name.index("/"):]
            new.writestr(name, old.read(info.filename))


def edit_zip(source, destination, edit):
    """Rewrites a zip checkpoint (stored) after `edit(records)` changes the dict of name -> bytes."""
    with zipfile.ZipFile(source) as old:
        records = {info.filename: old.read(info.filename) for info in old.infolist()}
    edit(records)
    with zipfile.ZipFile(destination, "w", zipfile.ZIP_STORED) as new:
        for name, data in records.items():
            new.writestr(name, data)


def record(records, suffix):
    return next(name for name in records if name.endswith(suffix))


# MARK: - Plain pickles

def plain_values(protocol):
    """Python values that exercise every opcode family the unpickler implements."""
    shared = [1, 2]
    values = {
        "int": 7, "negative": -300, "two_bytes": 40000, "min_int32": -2**31, "large": 2**62,
        "huge": 2**100, "negative_huge": -2**70,
        "float": 1.5, "negative_float": -0.1,
        "text": "h\u00e9llo \u2713", "empty_text": "",
        "true": True, "false": False, "none": None,
        "list": [1, 2, 3], "tuple": (1, "a", 2.0), "tuple1": (9,), "tuple0": (),
        "nested": {"a": [1, (2, 3)], "b": {}},
        "many": list(range(1100)),  # more than pickle's batch of 1000 APPENDS
        "shared": shared, "shared_again": shared,
        "ordered": OrderedDict([("x", 1), ("y", 2)]),
        3: "int key",
    }
    if protocol >= 3:
        values["bytes"] = b"\x00\x01abc"
    return values


# MARK: - Hostile files

class Reduce:
    """An object whose unpickling calls `function(*arguments)`: what an attacker's pickle does."""

    def __init__(self, function, arguments):
        self.function, self.arguments = function, arguments

    def __reduce__(self):
        return (self.function, self.arguments)


def legacy_header():
    """The three small pickles a legacy checkpoint starts with."""
    sys_info = {"protocol_version": 1001, "little_endian": True,
                "type_sizes": {"short": 2, "int": 4, "long": 4}}
    return (pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2) + pickle.dumps(1001, protocol=2)
            + pickle.dumps(sys_info, protocol=2))


def write_hostile(sd_zip, sd_legacy):
    folder = OUT / "hostile"
    folder.mkdir(parents=True, exist_ok=True)

    def write(name, data):
        (folder / name).write_bytes(data)

    # Code execution attempts, in the object pickle of a legacy checkpoint.
    keys = pickle.dumps([], protocol=2)
    write("os_system.pth", legacy_header()
          + b"\x80\x02cos\nsystem\nq\x00X\x0b\x00\x00\x00echo pwned!q\x01\x85q\x02Rq\x03." + keys)
    # What pickle itself writes for a __reduce__ to os.system on Linux: GLOBAL 'posix system'.
    write("reduce_posix_system.pth", legacy_header()
          + pickle.dumps({"w": Reduce(os.system, ("echo pwned",))}, protocol=2) + keys)
    # builtins.eval through STACK_GLOBAL (protocol 4), in the data.pkl of a zip checkpoint.
    eval_pickle = pickle.dumps(Reduce(eval, ("__import__('os').system('echo pwned')",)), protocol=4)
    assert b"\x93" in eval_pickle  # STACK_GLOBAL
    edit_zip(sd_zip, folder / "eval_stack_global.pth",
             lambda records: records.__setitem__(record(records, "data.pkl"), eval_pickle))
    write("getattr.pth", legacy_header() + b"\x80\x02c__builtin__\ngetattr\n)R." + keys)
    write("popen.pth", legacy_header() + b"\x80\x02csubprocess\nPopen\nX\x02\x00\x00\x00ls\x85R." + keys)
    write("numpy_reconstruct.pth", legacy_header()
          + b"\x80\x02cnumpy.core.multiarray\n_reconstruct\n)R." + keys)

    legacy = Path(sd_legacy).read_bytes()
    # Truncated: inside the storage data, and inside the object pickle.
    write("truncated_storage.pth", legacy[: len(legacy) - 10])
    write("truncated_pickle.pth", legacy[:200])
    # A zip cut in half has no end of central directory record.
    zipped = Path(sd_zip).read_bytes()
    write("truncated_zip.pth", zipped[: len(zipped) // 2])

    # The element count before the first storage's bytes lies (one more than the pickle says).
    header_end = find_storage_data(legacy)
    (count,) = struct.unpack_from("<Q", legacy, header_end)
    write("lying_count.pth", legacy[:header_end] + struct.pack("<Q", count + 1) + legacy[header_end + 8:])
    # The same count, absurdly large.
    write("huge_count.pth", legacy[:header_end] + struct.pack("<Q", 2**63 - 1) + legacy[header_end + 8:])

    write("bad_magic.pth", b"\x80\x02\x8a\x0a" + bytes(10) + b"." + legacy[15:])
    write("not_a_checkpoint.pth", b"hello, this is text\n")

    # Zip checkpoints with a missing storage, a short storage, a lying size and a big-endian mark.
    def drop_storage(records):
        del records[record(records, "/data/0")]

    def short_storage(records):
        name = record(records, "/data/0")
        records[name] = records[name][:-4]

    def big_endian(records):
        records[record(records, "/byteorder")] = b"big"

    edit_zip(sd_zip, folder / "missing_storage.pth", drop_storage)
    edit_zip(sd_zip, folder / "short_storage.pth", short_storage)
    edit_zip(sd_zip, folder / "big_endian.pth", big_endian)

    # A tensor whose size reaches past its storage: 2 elements of a 1-element storage.
    out_of_bounds = {"w": torch.zeros(1)}
    torch.save(out_of_bounds, folder / "out_of_bounds.pth")

    def widen(records):
        name = record(records, "data.pkl")
        data = records[name]
        # The size tuple (1,) is "K\x01\x85"; make it (2,). Only the size tuple follows BINPERSID+offset.
        position = data.index(b"Q")  # BINPERSID
        size = data.index(b"K\x01\x85", position)
        records[name] = data[:size] + b"K\x02\x85" + data[size + 3:]

    edit_zip(folder / "out_of_bounds.pth", folder / "out_of_bounds.pth", widen)

    # A TorchScript archive (torch.jit.save), which is a zip with code/ and constants.pkl.
    traced = torch.jit.trace(torch.nn.Linear(1, 1), torch.zeros(1, 1))
    torch.jit.save(traced, folder / "torchscript.pt")


def find_storage_data(legacy):
    """The offset of the first storage's element count in a legacy checkpoint: after five pickles."""
    stream = io.BytesIO(legacy)
    for _ in range(5):
        for _ in pickletools.genops(stream):  # walks one pickle up to its STOP, running nothing
            pass
    return stream.tell()


# MARK: - Main

def main():
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    torch.manual_seed(0)

    sd = state_dict()
    write_expected(sd)
    sd_zip, sd_legacy = OUT / "state_dict.pth", OUT / "state_dict_legacy.pth"
    torch.save(sd, sd_zip)
    torch.save(sd, sd_legacy, _use_new_zipfile_serialization=False)
    torch.save(sd, OUT / "state_dict_p4.pth", pickle_protocol=4)
    torch.save(sd, OUT / "state_dict_p1_legacy.pth", pickle_protocol=1, _use_new_zipfile_serialization=False)
    rezip(sd_zip, OUT / "state_dict_deflated.pth", zipfile.ZIP_DEFLATED, root="archive")

    plain = OrderedDict((k, v.detach()) for k, v in sd.items() if k.startswith(("conv", "bn")))
    torch.save({"state_dict": plain, "epoch": 3, "arch": "tiny"}, OUT / "wrapped.pth")
    torch.save({"model": {"w": torch.ones(2)}, "ema": {"w": torch.full((2,), 2.0)},
                "layers": [torch.zeros(1), torch.full((1,), 5.0)], "step": 5}, OUT / "nested.pth")

    (OUT / "pickle").mkdir()
    for protocol in range(6):
        (OUT / "pickle" / f"values_p{protocol}.pkl").write_bytes(pickle.dumps(plain_values(protocol), protocol))

    write_hostile(sd_zip, sd_legacy)

    # Every good fixture must load in torch itself and match the expected values.
    for name in ("state_dict.pth", "state_dict_legacy.pth", "state_dict_p4.pth", "state_dict_p1_legacy.pth",
                 "state_dict_deflated.pth"):
        # torch's own weights-only unpickler knows neither FRAME (protocol 4) nor the text LONG of
        # protocol 1; these files are ours, so the full unpickler may read them.
        loaded = torch.load(OUT / name, weights_only="_p" not in name)
        assert list(loaded) == list(sd), name
        for key, tensor in sd.items():
            assert torch.equal(loaded[key], tensor.detach()), (name, key)

    total = sum(path.stat().st_size for path in OUT.rglob("*") if path.is_file())
    print(f"wrote {sum(1 for p in OUT.rglob('*') if p.is_file())} files, {total} bytes, to {OUT}")


if __name__ == "__main__":
    main()
