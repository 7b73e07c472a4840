# -*- Python -*-
# Runs every *Tests binary in the unit build folder as GoogleTest.
import lit.formats

config.name = "kiln-unit"
config.test_format = lit.formats.GoogleTest(".", "Tests")
config.test_source_root = config.kiln_unit_dir
config.test_exec_root = config.kiln_unit_dir
