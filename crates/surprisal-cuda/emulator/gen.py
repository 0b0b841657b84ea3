"""Turns the CUDA sources of ../src/kernels into host C++ for the thread emulator (emu.h).

    python3 gen.py DTYPE CLUSTER > kernels.cpp      DTYPE 0 f32, 1 bf16, 2 f16; CLUSTER 1 (sm_90 code) or 0

Shared-memory declarations become per-CTA arena allocations, the dynamic slice the CTA's dynamic
arena, the f16 conversions C++ _Float16, and the sm_90 cluster primitives (inline PTX) the
emulator's versions; code under `#if defined(__CUDA_ARCH__)` (other inline PTX) takes its
portable branch.
"""

import os
import re
import sys

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "kernels")
dtype, cluster = int(sys.argv[1]), int(sys.argv[2])
common = open(os.path.join(root, "common.cuh")).read()
i = common.index("#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900")
common = common[:i] + ("#define SURPRISAL_HAS_CLUSTER %d\n" % cluster)
for asm, host in [
    ('asm("cvt.f32.f16 %0, %1;" : "=f"(r) : "h"(b));', "r = emu_h2f(b);"),
    ('asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(x));', "h = emu_f2h(x);"),
]:
    assert common.count(asm) == 1, asm  # the f16 conversions, outside any __CUDA_ARCH__ test
    common = common.replace(asm, host)


def replace_function(src, name, body):
    """The definition of `name` (up to its closing brace at column 0) becomes `body`."""
    start = src.index("__device__ __forceinline__ void %s(" % name)
    end = src.index("\n}\n", start) + 3
    assert src.count("void %s(" % name) == 1, name
    return src[:start] + body + "\n" + src[end:]


# cp.async: copies deferred until a wait covers their commit group (emu.h).
for name, body in [
    ("copy16_async", "inline void copy16_async(void* dst, const void* src) { emu_copy_async(dst, src); }"),
    ("copies_commit", "inline void copies_commit() { emu_copies_commit(); }"),
    ("copies_wait", "inline void copies_wait(int pending) { emu_copies_wait(pending); }"),
]:
    common = replace_function(common, name, body)
src = common + open(os.path.join(root, "cross_entropy.cu")).read() + open(os.path.join(root, "bce.cu")).read()
src = src.replace("extern __shared__ uint4 ce_dyn[];", "#define ce_dyn ((uint4*)emu_dyn())")


def shared(m):
    ty, rest = m.group(1), m.group(2)
    out = []
    for d in rest.split(","):
        name, n = re.match(r"(\w+)\[(\w+)\]", d.strip()).groups()
        out.append(f'{ty}* {name} = ({ty}*)emu_shared("{name}", sizeof({ty}) * {n});')
    return " ".join(out)


src = re.sub(r"__shared__ (\w+) ([^;]+);", shared, src)
assert "__shared__" not in src
print('#include "emu.h"')
print("#define SURPRISAL_DTYPE %d" % dtype)
print(src)
