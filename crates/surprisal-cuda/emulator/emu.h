#pragma once
// Host emulation of the CUDA features the kernels use. Every thread of a cluster is a fiber
// (ucontext) of one OS thread, run round-robin; __syncthreads, warp shuffles and the cluster
// barrier are counting barriers at which a fiber yields until the last one arrives. Shared memory
// is a per-CTA arena; a distributed-shared-memory read takes another CTA's arena at the same
// offset. A barrier reached by only part of its group deadlocks, which is reported.
#include <ucontext.h>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>
#include <functional>
#include <cstdio>
#include <cstdlib>
#include <math.h>

struct uint4 { unsigned x, y, z, w; };
struct Dim3 { unsigned x = 0, y = 1, z = 1; };
inline Dim3 threadIdx, blockIdx, blockDim, gridDim;
#define __device__
#define __global__
#define __forceinline__ inline
#define __launch_bounds__(...)

struct Barrier { unsigned expected = 0, arrived = 0; unsigned long gen = 0; };
struct Warp { Barrier bar; uint64_t buf[32]; };
struct Cta {
    Barrier bar;
    std::vector<Warp> warps;
    std::vector<char> arena = std::vector<char>(1 << 16);
    size_t used = 0;
    std::map<std::string, size_t> names;
    std::vector<char> dyn;
};
struct Cluster { Barrier bar; std::vector<Cta*> ctas; };
struct Fiber {
    ucontext_t ctx;
    std::vector<char> stack;
    Dim3 tid, bid;
    Cta* cta;
    unsigned rank;
    bool done = false;
    Barrier* wait = nullptr;
    unsigned long wait_gen = 0;
    struct Copy { void* dst; const void* src; unsigned group; };
    std::vector<Copy> copies;  // cp.async copies not landed yet
    unsigned groups = 0;       // commit groups closed so far
};
inline Cta* emu_cta;
inline Cluster* emu_cluster;
inline unsigned emu_rank;
inline ucontext_t emu_sched;
inline Fiber* emu_self;

inline void emu_arrive_and_wait(Barrier& b) {
    if (++b.arrived == b.expected) {
        b.arrived = 0;
        b.gen++;
        return;
    }
    emu_self->wait = &b;
    emu_self->wait_gen = b.gen;
    swapcontext(&emu_self->ctx, &emu_sched);
}

inline void* emu_shared(const char* name, size_t bytes) {
    auto it = emu_cta->names.find(name);
    if (it != emu_cta->names.end()) return emu_cta->arena.data() + it->second;
    size_t off = (emu_cta->used + 15) & ~size_t(15);
    emu_cta->names[name] = off;
    emu_cta->used = off + bytes;
    if (emu_cta->used > emu_cta->arena.size()) { fprintf(stderr, "arena overflow\n"); abort(); }
    memset(emu_cta->arena.data() + off, 0xAB, bytes);  // poison
    return emu_cta->arena.data() + off;
}
inline void* emu_dyn() { return emu_cta->dyn.data(); }

inline void __syncthreads() { emu_arrive_and_wait(emu_cta->bar); }
template <class T> T __shfl_xor_sync(unsigned, T v, int o) {
    Warp& w = emu_cta->warps[threadIdx.x >> 5];
    unsigned lane = threadIdx.x & 31;
    uint64_t b = 0; memcpy(&b, &v, sizeof(T)); w.buf[lane] = b;
    emu_arrive_and_wait(w.bar);
    T r; uint64_t c = w.buf[lane ^ o]; memcpy(&r, &c, sizeof(T));
    emu_arrive_and_wait(w.bar);
    return r;
}
inline void cluster_sync() { emu_arrive_and_wait(emu_cluster->bar); }
// cp.async: a copy lands only when a wait covers its commit group (as late as the device may
// land it), so a read before the wait finds the poisoned arena.
inline void emu_copy_async(void* dst, const void* src) { emu_self->copies.push_back({dst, src, emu_self->groups}); }
inline void emu_copies_commit() { emu_self->groups++; }
inline void emu_copies_wait(int pending) {
    auto& cs = emu_self->copies;
    const unsigned n = pending < 0 ? 0 : pending > 3 ? 3 : (unsigned)pending;
    size_t kept = 0;
    for (auto& c : cs) {
        if (c.group + n < emu_self->groups) memcpy(c.dst, c.src, 16);
        else cs[kept++] = c;
    }
    cs.resize(kept);
}
inline float ld_cluster(const float* p, unsigned rank) {
    if (rank >= emu_cluster->ctas.size()) { fprintf(stderr, "bad rank %u\n", rank); abort(); }
    size_t off = (const char*)p - emu_cta->arena.data();
    if (off >= emu_cta->arena.size()) { fprintf(stderr, "ld_cluster outside shared memory\n"); abort(); }
    float r; memcpy(&r, emu_cluster->ctas[rank]->arena.data() + off, 4); return r;
}
inline unsigned cluster_rank() { return emu_rank; }
// mbarrier and bulk copy: the copy lands at once and completes the barrier's phase; the word
// counts completed phases. A wait for a phase that has not completed would hang on the device.
inline void mbar_init(unsigned long long* b, unsigned) { *b = 0; }
inline void mbar_fence_init() {}
inline void mbar_wait(unsigned long long* b, unsigned parity) {
    if ((unsigned)(*b & 1) == parity) { fprintf(stderr, "mbarrier wait for a phase that never completes (deadlock)\n"); abort(); }
}
inline void bulk_load(void* dst, const void* src, unsigned bytes, unsigned long long* b) {
    const char* d = (const char*)dst;
    if ((uintptr_t)dst % 16 || (uintptr_t)src % 16 || bytes % 16 || d < emu_cta->dyn.data() || d + bytes > emu_cta->dyn.data() + emu_cta->dyn.size() - 16) {
        fprintf(stderr, "bad bulk copy: %u bytes from %p to %p\n", bytes, src, dst); abort();
    }
    memcpy(dst, src, bytes);
    *b += 1;
}

inline float __uint_as_float(unsigned u) { float f; memcpy(&f, &u, 4); return f; }
inline unsigned __float_as_uint(float f) { unsigned u; memcpy(&u, &f, 4); return u; }
inline float __int_as_float(int u) { float f; memcpy(&f, &u, 4); return f; }
inline uint4 __ldcs(const uint4* p) { return *p; }
inline void __stcs(uint4* p, uint4 v) { *p = v; }
inline float emu_h2f(unsigned short b) { _Float16 h; memcpy(&h, &b, 2); return (float)h; }
inline unsigned short emu_f2h(float x) { _Float16 h = (_Float16)x; unsigned short b; memcpy(&b, &h, 2); return b; }
#include <math.h>

inline std::function<void()>* emu_body;
inline void emu_trampoline() {
    (*emu_body)();
    if (!emu_self->copies.empty()) { fprintf(stderr, "a thread exits with cp.async copies not waited for\n"); abort(); }
    emu_self->done = true;
}

// Runs `grid` CTAs of `block` threads, `cluster` at a time (all fibers of a cluster interleaved).
inline void emu_launch(unsigned grid, unsigned block, unsigned cluster, size_t dyn, const std::function<void()>& body) {
    std::function<void()> b = body;
    emu_body = &b;
    for (unsigned c0 = 0; c0 < grid; c0 += cluster) {
        Cluster cl;
        cl.bar.expected = cluster * block;
        std::vector<std::unique_ptr<Cta>> ctas;
        for (unsigned r = 0; r < cluster; r++) {
            auto c = std::make_unique<Cta>();
            c->bar.expected = block;
            c->warps.resize(block / 32);
            for (auto& w : c->warps) w.bar.expected = 32;
            c->dyn.assign(dyn + 16, (char)0xCD);
            cl.ctas.push_back(c.get());
            ctas.push_back(std::move(c));
        }
        std::vector<std::unique_ptr<Fiber>> fs;
        for (unsigned r = 0; r < cluster; r++)
            for (unsigned t = 0; t < block; t++) {
                auto f = std::make_unique<Fiber>();
                f->stack.resize(1 << 16);
                f->tid.x = t;
                f->bid.x = c0 + r;
                f->cta = cl.ctas[r];
                f->rank = r;
                getcontext(&f->ctx);
                f->ctx.uc_stack.ss_sp = f->stack.data();
                f->ctx.uc_stack.ss_size = f->stack.size();
                f->ctx.uc_link = &emu_sched;
                makecontext(&f->ctx, emu_trampoline, 0);
                fs.push_back(std::move(f));
            }
        blockDim.x = block;
        gridDim.x = grid;
        emu_cluster = &cl;
        for (size_t live = fs.size(); live > 0;) {
            bool progress = false;
            live = 0;
            for (auto& f : fs) {
                if (f->done) continue;
                live++;
                if (f->wait && f->wait->gen == f->wait_gen) continue;  // still blocked
                f->wait = nullptr;
                threadIdx = f->tid;
                blockIdx = f->bid;
                emu_cta = f->cta;
                emu_rank = f->rank;
                emu_self = f.get();
                swapcontext(&emu_sched, &f->ctx);
                progress = true;
            }
            if (live > 0 && !progress) {
                fprintf(stderr, "deadlock: a barrier is not reached by its whole group\n");
                abort();
            }
        }
    }
}
