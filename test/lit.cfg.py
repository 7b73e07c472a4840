# -*- Python -*-
# lit configuration for Kiln's FileCheck tests. The build writes
# build/test/lit.site.cfg.py, which sets the paths and loads this file.
import os

import lit.formats
from lit.llvm import llvm_config

config.name = "kiln"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.kiln_obj_root, "test")
config.excludes = ["CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py", "unit",
                   "Inputs", "import_suite.py", "conformance.py", "suites.py", "mlp_example.py", "README.md"]

# %python is the project's venv (onnx, onnxruntime from requirements.txt)
# when scripts/setup.sh made one. Registered before the default
# substitutions, which would map it to the interpreter running lit.
venv_python = os.path.join(config.kiln_src_root, ".venv", "bin", "python")
if os.path.exists(venv_python):
    config.substitutions.append(("%python", venv_python))
    config.available_features.add("onnx-pypi")
    import subprocess
    if subprocess.run([venv_python, "-c", "import torch"], capture_output=True).returncode == 0:
        config.available_features.add("torch")

# %exporter_python: the current torch exporter (torch.export + onnxscript,
# requirements-exporter.txt) for the opset 18+ models.
exporter_python = os.path.join(config.kiln_src_root, ".venv-exporter", "bin", "python")
if os.path.exists(exporter_python):
    import subprocess
    if subprocess.run([exporter_python, "-c", "import torch, onnxscript"],
                      capture_output=True).returncode == 0:
        config.substitutions.append(("%exporter_python", exporter_python))
        config.available_features.add("torch-export")
        if subprocess.run([exporter_python, "-c", "import transformers"],
                          capture_output=True).returncode == 0:
            config.available_features.add("transformers")

llvm_config.with_system_environment(["HOME", "TMP", "TEMP"])
llvm_config.use_default_substitutions()
llvm_config.add_tool_substitutions(
    ["kiln-opt", "kiln", "kiln-embed-example", "not", "count"],
    [config.kiln_tools_dir, config.llvm_tools_dir])
config.substitutions.append(("%kiln_src_root", config.kiln_src_root))
# The runtime's shared library, for tests that drive the C API (ctypes).
config.substitutions.append(
    ("%kiln_runtime_lib", os.path.join(config.kiln_obj_root, "lib", "libkiln_runtime.so")))

# Debian's ONNX backend conformance data (libonnx-testdata).
onnx_testdata = "/usr/share/libonnx-testdata/data"
if os.path.isdir(onnx_testdata):
    config.available_features.add("onnx-testdata")
    config.substitutions.append(("%onnx_testdata", onnx_testdata))

# mlir-runner (mlir-22-tools) executes lowered IR in the end-to-end lowering
# tests, printing through MLIR's runner utility libraries.
mlir_runner = os.path.join(config.llvm_tools_dir, "mlir-runner")
llvm_lib_dir = os.path.join(os.path.dirname(config.llvm_tools_dir), "lib")
runner_libs = [os.path.join(llvm_lib_dir, n) for n in
               ("libmlir_runner_utils.so", "libmlir_c_runner_utils.so")]
if os.path.exists(mlir_runner) and all(map(os.path.exists, runner_libs)):
    config.available_features.add("mlir-runner")
    config.substitutions.append(
        ("%mlir_runner", "%s -e main -entry-point-result=void -shared-libs=%s"
         % (mlir_runner, ",".join(runner_libs))))

# The CUDA toolkit's ptxas (not needed to build; used to check generated PTX).
import shutil
ptxas = shutil.which("ptxas") or "/usr/local/cuda/bin/ptxas"
if os.path.exists(ptxas):
    config.available_features.add("ptxas")
    config.substitutions.append(("%ptxas", ptxas))

# A CUDA driver with a GPU: the runtime's "cuda" device runs for real.
import ctypes
try:
    _cuda = ctypes.CDLL("libcuda.so.1")
    _count = ctypes.c_int(0)
    if _cuda.cuInit(0) == 0 and _cuda.cuDeviceGetCount(ctypes.byref(_count)) == 0 and _count.value:
        config.available_features.add("cuda-driver")
except OSError:
    pass

# The host can run x86-64-v3 code (AVX2 + FMA): the AVX2 kernels are tested.
try:
    with open("/proc/cpuinfo") as f:
        flags = f.read()
    if " avx2" in flags and " fma" in flags:
        config.available_features.add("x86_64-avx2")
except OSError:
    pass
