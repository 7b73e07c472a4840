#!/usr/bin/env bash
# Build a fuzzer (libFuzzer + AddressSanitizer, clang-22) in build-fuzz/ and
# run it:
#   scripts/fuzz.sh [SECONDS] [JOBS] [import|artifact|inputs]   (300 s, 2 jobs, import)
# import: the ONNX loader and importer, seeded with the ONNX conformance
# models. artifact: the .kiln reader and runtime checks, seeded with
# artifacts build/bin/kiln compiles from the test inputs (run setup first).
# inputs: kiln run's .npy reader and the ONNX .pb tensor decoder, seeded with
# the ONNX test cases' input_*.pb and small .npy files of every dtype.
# Crashing inputs are written to build-fuzz/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-300}
jobs=${2:-2}
target=${3:-import}
if [ ! -f build-fuzz/build.ninja ]; then
  cmake -G Ninja -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_PREFIX_PATH=/usr/lib/llvm-22 \
    -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 -DLLVM_ENABLE_LLD=ON \
    -DKILN_ENABLE_FUZZERS=ON \
    -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link,address -fno-omit-frame-pointer"
fi
ninja -C build-fuzz "kiln-fuzz-$target"
corpus=build-fuzz/corpus-$target
mkdir -p "$corpus" build-fuzz/artifacts
if [ -z "$(ls -A "$corpus")" ]; then
  i=0
  if [ "$target" = import ]; then
    for m in /usr/share/libonnx-testdata/data/*/*/model.onnx; do
      cp "$m" "$corpus/seed$((i++)).onnx"
    done
  elif [ "$target" = inputs ]; then
    for p in /usr/share/libonnx-testdata/data/node/test_{add,cast_FLOAT_to_STRING,gather_0,where_example}/test_data_set_0/input_0.pb; do
      cp "$p" "$corpus/seed$((i++)).pb"
    done
    .venv/bin/python -c "
import numpy as np, sys
for k, a in enumerate([np.zeros((2, 3), np.float32), np.arange(4, dtype=np.int64), np.array(['ab', 'c']),
                       np.array([True, False]), np.zeros((), np.float16)]):
    np.save(sys.argv[1] + '/npy%d.npy' % k, a)" "$corpus"
  else
    for m in test/Runtime/Inputs/{gelu,strings,string-casts}.mlir test/Targets/Inputs/two-kernels.mlir; do
      build/bin/kiln compile "$m" --target=cpu,cuda:sm_90 -o "$corpus/seed$((i++)).kiln"
    done
  fi
fi
# ONNX 1.12 leaks a little in its schema registry; leaks are not what we hunt.
# Run inside build-fuzz/: with -jobs libFuzzer writes fuzz-N.log to the cwd.
cd build-fuzz
ASAN_OPTIONS=detect_leaks=0 "bin/kiln-fuzz-$target" \
  -max_total_time="$seconds" -jobs="$jobs" -workers="$jobs" -timeout=10 \
  -rss_limit_mb=4096 -artifact_prefix=artifacts/ "corpus-$target"
