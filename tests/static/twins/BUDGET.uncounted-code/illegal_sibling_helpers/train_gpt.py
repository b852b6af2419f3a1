"""Imports a sibling module and compiles a C++ kernel that ship beside the script."""
import os
import subprocess

from ngram_tilt import NgramTiltState

KERNEL_SRC = os.path.join(os.path.dirname(__file__), "ngram", "fused_expert_kernel.cpp")


def build_kernel():
    subprocess.run(["g++", "-O3", "-shared", "-fPIC", KERNEL_SRC, "-o", "fused_expert.so"], check=True)
    return NgramTiltState(beta=2.0)
