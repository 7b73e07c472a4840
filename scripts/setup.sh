#!/usr/bin/env bash
# Set up Kiln on a fresh Debian 12 machine: install dependencies, configure,
# build into build/ (binaries in build/bin/), then run the main jobs on the
# shipped examples (graph pipeline; ONNX compile + run vs onnxruntime). Idempotent: re-running only rebuilds what changed.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

say() { printf '\n== %s\n' "$*"; }
sudo_if_needed() { if [ "$(id -u)" -ne 0 ]; then sudo "$@"; else "$@"; fi; }

APT_PACKAGES=(
  # LLVM/MLIR 22 toolchain (FileCheck and lit come with llvm-22-tools)
  llvm-22-dev libmlir-22-dev mlir-22-tools clang-22 lld-22 liblld-22-dev llvm-22-tools
  # ONNX frontend, artifact manifest
  protobuf-compiler libprotobuf-dev libonnx-dev libflatbuffers-dev flatbuffers-compiler
  # artifact checksums (xxHash, header-only use)
  libxxhash-dev
  # build tools, unit tests, BLAS for the matmul benchmark
  cmake ninja-build ccache libgtest-dev libopenblas-dev
  # the sanitizer runtime (the runtime's tests under ASan + UBSan) and libFuzzer
  libclang-rt-22-dev
  # test data and Python tooling (tests only)
  libonnx-testdata python3 python3-venv python3-numpy python3-onnx python3-torch
)

say "apt packages"
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  sudo_if_needed apt-get update
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
else
  echo "all ${#APT_PACKAGES[@]} packages present"
fi

say "python tooling (.venv, pinned in requirements.txt)"
if [ ! -x .venv/bin/python ]; then
  /usr/bin/python3 -m venv --system-site-packages .venv
fi
if ! .venv/bin/python -c 'import onnx, onnxruntime' 2>/dev/null ||
   [ requirements.txt -nt .venv/.installed ]; then
  .venv/bin/pip install -q --disable-pip-version-check -r requirements.txt
  touch .venv/.installed
fi
.venv/bin/python -c 'import onnx, onnxruntime, numpy; print("onnx", onnx.__version__, "onnxruntime", onnxruntime.__version__, "numpy", numpy.__version__)'

say "current torch exporter (.venv-exporter, pinned in requirements-exporter.txt)"
if [ ! -x .venv-exporter/bin/python ]; then
  /usr/bin/python3 -m venv .venv-exporter
fi
if ! .venv-exporter/bin/python -c 'import torch, onnxscript, transformers' 2>/dev/null ||
   [ requirements-exporter.txt -nt .venv-exporter/.installed ]; then
  .venv-exporter/bin/pip install -q --disable-pip-version-check -r requirements-exporter.txt
  touch .venv-exporter/.installed
fi
.venv-exporter/bin/python -c 'import torch, onnxscript, transformers; print("torch", torch.__version__, "onnxscript", onnxscript.__version__, "transformers", transformers.__version__)' 2>&1 | grep -v "^W"

say "configure (CMake + Ninja, clang-22, lld)"
if [ ! -f build/build.ninja ]; then
  cmake -G Ninja -S . -B build \
    -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH=/usr/lib/llvm-22 \
    -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
    -DLLVM_ENABLE_LLD=ON
fi

say "build"
start=$(date +%s)
ninja -C build
echo "build took $(( $(date +%s) - start ))s"

say "main job: graph pipeline on the shipped example (test/examples/llama_block.mlir)"
build/bin/kiln-opt test/examples/llama_block.mlir \
  '--kiln-graph-pipeline=input-shapes=hidden=1x16x64,cos=16x16,sin=16x16' -o build/llama_block.opt.mlir
grep -c 'kiln\.' build/llama_block.opt.mlir | xargs printf 'kiln ops after the graph pipeline: %s\n'
echo "wrote build/llama_block.opt.mlir"
say "main job: compile and run an ONNX MLP block on the CPU, compare with onnxruntime"
.venv/bin/python test/examples/mlp_example.py build/bin/kiln build/example
echo
echo "setup done. Run scripts/test.sh for the test suite."
