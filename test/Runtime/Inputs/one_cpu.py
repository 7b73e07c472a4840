"""Runs a command pinned to one of the CPUs this process may use:
one_cpu.py PROGRAM ARGS..."""
import os
import sys

os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
os.execvp(sys.argv[1], sys.argv[1:])
