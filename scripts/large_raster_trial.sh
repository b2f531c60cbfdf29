#!/bin/bash
# The bounded-memory streaming trial: a [1, 13, 20322, 20322] float32 scene (21.5 GB) through a
# 13→8 convolution with bias as one run, as 4 shards merged, and copied with cp for comparison;
# wall time and peak resident memory of each, and whether the merged file is the single run's.
#
#   scripts/large_raster_trial.sh DIR [POINTWISE]
#
# DIR needs about 50 GB free (scene, output, parts). POINTWISE defaults to the release build. Run as
# root to drop the page cache before each run (cold runs); otherwise runs find what is cached.
set -euo pipefail
dir=${1:?usage: scripts/large_raster_trial.sh DIR [POINTWISE]}
pointwise=$(realpath "${2:-.build/release/pointwise}")
mkdir -p "$dir" && cd "$dir"
cold() { sync; [ -w /proc/sys/vm/drop_caches ] && echo 3 > /proc/sys/vm/drop_caches || true; }
run() { /usr/bin/time -f "  %e s wall, %U s user, %S s system, %M KB peak resident" "$@"; }

if [ ! -f scene.npy ]; then
    echo "writing scene.npy (21.5 GB of seeded normal values), w.npy, b.npy"
    python3 - <<'PY'
import numpy as np
shape = (1, 13, 20322, 20322)
rng = np.random.default_rng(0)
with open('scene.npy', 'wb') as f:
    np.lib.format.write_array_header_1_0(f, {'descr': '<f4', 'fortran_order': False, 'shape': shape})
    total, chunk = int(np.prod(shape)), 1 << 24
    for start in range(0, total, chunk):
        rng.standard_normal(min(chunk, total - start), dtype=np.float32).tofile(f)
np.save('w.npy', rng.standard_normal((8, 13)).astype(np.float32))
np.save('b.npy', rng.standard_normal(8).astype(np.float32))
PY
fi
job=(--input scene.npy --weight w.npy --bias b.npy --max-memory 256M --threads 2)
cold; echo "apply:"; run "$pointwise" apply "${job[@]}" --output single.npy
single=$(sha256sum single.npy | cut -d' ' -f1); rm -f single.npy
cold; echo "cp + sync of the scene:"; run sh -c 'cp scene.npy copy.npy && sync copy.npy'; rm -f copy.npy
for i in 0 1 2 3; do
    cold; echo "apply --shard $i/4:"; run "$pointwise" apply "${job[@]}" --shard "$i/4" --output "part$i"
done
cold; echo "merge:"; run "$pointwise" merge part3 part1 part0 part2 --output merged.npy
merged=$(sha256sum merged.npy | cut -d' ' -f1); rm -f merged.npy part0 part1 part2 part3
echo "single run sha256 $single"
echo "merged     sha256 $merged"
[ "$single" == "$merged" ] && echo "bit-identical" || { echo "DIFFERENT"; exit 1; }
