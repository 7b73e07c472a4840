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
                   "Inputs", "README.md"]

llvm_config.with_system_environment(["HOME", "TMP", "TEMP"])
llvm_config.use_default_substitutions()
llvm_config.add_tool_substitutions(
    ["kiln-opt"], [config.kiln_tools_dir, config.llvm_tools_dir])
config.substitutions.append(("%kiln_src_root", config.kiln_src_root))
