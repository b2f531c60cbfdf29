#!/usr/bin/env bash
# Held-out calibration pictures for `pointwise compress --data-aware`: the 15 sample PNGs that the
# scikit-image 0.26.0 wheel ships in skimage/data/ (BSD-3-Clause package; each picture's source and
# licence is in the docstrings of skimage/data/_fetchers.py: public domain, CC0 or the project's own),
# without chelsea.png and coffee.png, which are the evaluation pictures. Nothing is committed to this
# repository; the pictures are checked against their SHA-256.
#
#   scripts/fetch_calibration_pictures.sh [DIR] [WHEEL]
#
# DIR defaults to ./calibration. Without WHEEL, `python3 -m pip download --no-deps` fetches the wheel
# for this Python (any platform's wheel holds the same pictures).
set -euo pipefail
dir=${1:-calibration}
wheel=${2:-}
if [[ -z "$wheel" ]]; then
    scratch=$(mktemp -d)
    trap 'rm -rf "$scratch"' EXIT
    python3 -m pip download --quiet --no-deps --only-binary=:all: --dest "$scratch" scikit-image==0.26.0 >&2
    wheel=$(ls "$scratch"/scikit_image-0.26.0-*.whl)
fi
mkdir -p "$dir"
python3 - "$wheel" "$dir" <<'PYTHON'
import hashlib, os, sys, zipfile

PICTURES = {
    "astronaut.png": "88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5",
    "motorcycle_left.png": "db18e9c4157617403c3537a6ba355dfeafe9a7eabb6b9b94cb33f6525dd49179",
    "motorcycle_right.png": "5fc913ae870e42a4b662314bc904d1786bcad8e2f0b9b67dba5a229406357797",
    "camera.png": "b0793d2adda0fa6ae899c03989482bff9a42d3d5690fc7e3648f2795d730c23a",
    "coins.png": "f8d773fc9cfa6f4d8e5942dc34d0a0788fcaed2a4fefbbed0aef5398d7ef4cba",
    "brick.png": "7966caf324f6ba843118d98f7a07746d22f6a343430add0233eca5f6eaaa8fcf",
    "grass.png": "b6b6022426b38936c43a4ac09635cd78af074e90f42ffa8227ac8b7452d39f89",
    "gravel.png": "c48615b451bf1e606fbd72c0aa9f8cc0f068ab7111ef7d93bb9b0f2586440c12",
    "color.png": "7d2df993de2b4fa2a78e04e5df8050f49a9c511aa75e59ab3bd56ac9c98aef7e",
    "ihc.png": "f8dd1aa387ddd1f49d8ad13b50921b237df8e9b262606d258770687b0ef93cef",
    "logo.png": "f2c57fe8af089f08b5ba523d95573c26e62904ac5967f4c8851b27d033690168",
    "horse.png": "c7fb60789fe394c485f842291ea3b21e50d140f39d6dcb5fb9917cc178225455",
    "moon.png": "78739619d11f7eb9c165bb5d2efd4772cee557812ec847532dbb1d92ef71f577",
    "page.png": "341a6f0a61557662b02734a9b6e56ec33a915b2c41886b97509dedf2a43b47a3",
    "text.png": "bd84aa3a6e3c9887850d45d606c96b2e59433fbef50338570b63c319e668e6d1",
}
wheel, directory = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as archive:
    for name, digest in PICTURES.items():
        data = archive.read("skimage/data/" + name)
        if hashlib.sha256(data).hexdigest() != digest:
            sys.exit(f"error: {wheel}: skimage/data/{name} is not the expected picture (SHA-256 differs)")
        with open(os.path.join(directory, name), "wb") as file:
            file.write(data)
print(f"{len(PICTURES)} pictures in {directory}/", file=sys.stderr)
PYTHON
