// Storage types, 16-byte packs, deterministic block reductions and the cluster primitives shared
// by the kernels. The host prepends `#define SURPRISAL_DTYPE 0|1|2` (f32, bf16, f16).
//
// Values are read as raw bits (U) and widened to f32 exactly; results are rounded to nearest even
// on the way back. All arithmetic is f32, except the reductions over rows / blocks (f64).

typedef unsigned long long u64;
typedef long long i64;

// IEEE half precision with the PTX conversions (exact widening; round to nearest even, overflow
// to ±inf): the f16 storage type, and the stored exponentials of the 16-bit types.
__device__ __forceinline__ float half_to_float(unsigned short b) {
    float r;
    asm("cvt.f32.f16 %0, %1;" : "=f"(r) : "h"(b));
    return r;
}
__device__ __forceinline__ unsigned short float_to_half(float x) {
    unsigned short h;
    asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(x));
    return h;
}

#if SURPRISAL_DTYPE == 0
typedef unsigned int U;
#define NEG_INF_BITS 0xff800000u
#define NEG_INF_WORD 0xff800000u  // a 32-bit word of −inf elements
#define NAN_BITS 0x7fc00000u
__device__ __forceinline__ float widen(U b) { return __uint_as_float(b); }
__device__ __forceinline__ U narrow(float x) { return __float_as_uint(x); }
#elif SURPRISAL_DTYPE == 1
// bf16 by bit manipulation (NVRTC 13.0 ships no cuda_bf16.h): the upper half of an f32,
// rounded to nearest even, NaN kept quiet.
typedef unsigned short U;
#define NEG_INF_BITS ((unsigned short)0xff80u)
#define NEG_INF_WORD 0xff80ff80u
#define NAN_BITS ((unsigned short)0x7fc0u)
__device__ __forceinline__ float widen(U b) { return __uint_as_float(((unsigned int)b) << 16); }
__device__ __forceinline__ U narrow(float x) {
    const unsigned int b = __float_as_uint(x);
    if ((b & 0x7fffffffu) > 0x7f800000u) return (U)((b >> 16) | 0x40u);
    return (U)((b + 0x7fffu + ((b >> 16) & 1u)) >> 16);
}
#elif SURPRISAL_DTYPE == 2
// f16.
typedef unsigned short U;
#define NEG_INF_BITS ((unsigned short)0xfc00u)
#define NEG_INF_WORD 0xfc00fc00u
#define NAN_BITS ((unsigned short)0x7e00u)
__device__ __forceinline__ float widen(U b) { return half_to_float(b); }
__device__ __forceinline__ U narrow(float x) { return float_to_half(x); }
#else
#error "SURPRISAL_DTYPE must be 0 (f32), 1 (bf16) or 2 (f16)"
#endif

// Elements per 16-byte pack.
#define VEC ((int)(16 / sizeof(U)))

union Pack {
    uint4 v;
    U e[16 / sizeof(U)];
    unsigned int w[4];
};

#define F_INF __int_as_float(0x7f800000)
#define F_NAN __int_as_float(0x7fc00000)
#define LOG2E 1.4426950408889634f

// e^{d} = 2^{d·log2 e} with the hardware exp2 (ex2.approx: within 2 ulp over the whole
// range, the instruction exp2f itself uses; .ftz only flushes results below 2^−126, i.e.
// probabilities < 1e−38, to 0). Not __expf (which loses accuracy for large |d|). e^{−inf} = 0.
__device__ __forceinline__ float exp2_(float t) {
#if defined(__CUDA_ARCH__)
    float r;
    asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(r) : "f"(t));
    return r;
#else
    return exp2f(t);
#endif
}
__device__ __forceinline__ float exp_(float d) { return exp2_(d * LOG2E); }

// The stored exponentials (pass 1 of the one-read kernel replaces each logit in shared memory by
// e = e^{z − m}, m the largest logit of its commit group of the thread's packs, so that pass 2
// needs no exponential),
// as 16-byte packs of the storage type's width, scaled by 2^E (the scale folded into the
// exponent, exact; the largest entry, z = m, is stored exactly):
//   f32   e itself (E = 0);
//   f16   an f16 of e·2^15 (E = 15): 11 significant bits down to e = 2^−29, an absolute error
//         under 2^−40 below (the f16 gradient's own resolution is coarser);
//   bf16  an f16 of √e·2^15, squared on reading (E = 30): 10 significant bits down to e = 2^−58,
//         an absolute error under 2^−68 below, 0 under 2^−80 (the range bf16 gradients keep).
#if SURPRISAL_DTYPE == 0
#define E_UNSCALE 1.0f
__device__ __forceinline__ float exp_stored(float d) { return exp_(d); }
__device__ __forceinline__ float e_square(float x) { return x; }
__device__ __forceinline__ float e_value(U b) { return __uint_as_float(b); }
#elif SURPRISAL_DTYPE == 1
#define E_UNSCALE 9.3132257461547852e-10f  // 2^−30
__device__ __forceinline__ float exp_stored(float d) { return exp2_(fmaf(d, 0.5f * LOG2E, 15.0f)); }
__device__ __forceinline__ float e_square(float x) { return x * x; }
__device__ __forceinline__ float e_value(U b) { return e_square(half_to_float(b)); }
#else
#define E_UNSCALE 3.0517578125e-05f  // 2^−15
__device__ __forceinline__ float exp_stored(float d) { return exp2_(fmaf(d, LOG2E, 15.0f)); }
__device__ __forceinline__ float e_square(float x) { return x; }
__device__ __forceinline__ float e_value(U b) { return half_to_float(b); }
#endif
// exp_stored(z − m) is the value stored (rounded by e_pack); e_square of it, and e_value of the
// stored one, are e^{z − m}·2^E.

// The larger of each storage element of two 32-bit words (two 16-bit elements or one f32), NaN
// where either is NaN (max.NaN on sm_80 and later: half a comparison per 16-bit element).
__device__ __forceinline__ unsigned max_nan_word(unsigned a, unsigned b) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800 && SURPRISAL_DTYPE == 0
    float r;
    asm("max.NaN.f32 %0, %1, %2;" : "=f"(r) : "f"(__uint_as_float(a)), "f"(__uint_as_float(b)));
    return __float_as_uint(r);
#elif defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800 && SURPRISAL_DTYPE == 1
    unsigned r;
    asm("max.NaN.bf16x2 %0, %1, %2;" : "=r"(r) : "r"(a), "r"(b));
    return r;
#elif defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800 && SURPRISAL_DTYPE == 2
    unsigned r;
    asm("max.NaN.f16x2 %0, %1, %2;" : "=r"(r) : "r"(a), "r"(b));
    return r;
#else
    unsigned r = 0;
    for (int h = 0; h < (int)(4 / sizeof(U)); h++) {
        const int sh = 16 * h;
        const U ea = (U)(a >> sh), eb = (U)(b >> sh);
        const float fa = widen(ea), fb = widen(eb);
        const U pick = fa != fa ? ea : fb != fb ? eb : fa >= fb ? ea : eb;
        r |= (unsigned)pick << sh;
    }
    return r;
#endif
}
// The largest element of a word of max_nan_word results (NaN if any is NaN), as f32.
__device__ __forceinline__ float word_max(unsigned w) {
#if SURPRISAL_DTYPE == 0
    return __uint_as_float(w);
#else
    const float lo = widen((U)w), hi = widen((U)(w >> 16));
    return lo != lo || hi != hi ? F_NAN : fmaxf(lo, hi);
#endif
}

// a·b with 0·anything = 0 (a zero coefficient hides an infinite surprisal).
__device__ __forceinline__ float mul0(float a, float b) { return a == 0.0f ? 0.0f : a * b; }

// Sum over the block, f64, fixed tree (deterministic); the result is valid in thread 0.
// `scratch` holds at least 32 doubles. Every thread of the block must call it.
__device__ __forceinline__ double block_sum(double x, double* scratch) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const int nwarps = (blockDim.x + 31) >> 5;
    for (int o = 16; o > 0; o >>= 1) x += __shfl_xor_sync(0xffffffffu, x, o);
    __syncthreads();  // scratch may still be read by a previous call
    if (lane == 0) scratch[warp] = x;
    __syncthreads();
    double r = 0.0;
    if (warp == 0) {
        r = lane < nwarps ? scratch[lane] : 0.0;
        for (int o = 16; o > 0; o >>= 1) r += __shfl_xor_sync(0xffffffffu, r, o);
    }
    return r;
}

// 16 bytes from global to shared memory without registers (cp.async, sm_80 and later: L2 only,
// the copy lands in shared memory once a copies_wait covers its commit group); elsewhere a plain
// copy.
__device__ __forceinline__ void copy16_async(void* dst, const void* src) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16;" ::"r"((unsigned)__cvta_generic_to_shared(dst)),
                 "l"((u64)src)
                 : "memory");
#else
    *(uint4*)dst = *(const uint4*)src;
#endif
}
// Closes this thread's current commit group of copy16_async copies.
__device__ __forceinline__ void copies_commit() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
    asm volatile("cp.async.commit_group;" ::: "memory");
#endif
}
// Waits until at most `pending` (0..3; more waits as for 3) of this thread's most recent commit
// groups are still in flight: the older ones have landed and this thread may read them (a block
// barrier would make them visible to the other threads).
__device__ __forceinline__ void copies_wait(int pending) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
    switch (pending) {
        case 0: asm volatile("cp.async.wait_group 0;" ::: "memory"); break;
        case 1: asm volatile("cp.async.wait_group 1;" ::: "memory"); break;
        case 2: asm volatile("cp.async.wait_group 2;" ::: "memory"); break;
        default: asm volatile("cp.async.wait_group 3;" ::: "memory"); break;
    }
#endif
}

#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
#define SURPRISAL_HAS_CLUSTER 1
// All threads of all CTAs of the cluster: release this CTA's shared-memory writes, acquire the
// others'.
__device__ __forceinline__ void cluster_sync() {
    asm volatile("barrier.cluster.arrive.release.aligned;\n\tbarrier.cluster.wait.acquire.aligned;" ::: "memory");
}
// The f32 at the same shared-memory offset as `p` in the CTA of rank `rank` of this cluster.
__device__ __forceinline__ float ld_cluster(const float* p, unsigned rank) {
    unsigned local = (unsigned)__cvta_generic_to_shared(p);
    unsigned remote;
    asm volatile("mapa.shared::cluster.u32 %0, %1, %2;" : "=r"(remote) : "r"(local), "r"(rank));
    float v;
    asm volatile("ld.shared::cluster.f32 %0, [%1];" : "=f"(v) : "r"(remote) : "memory");
    return v;
}
// mbarrier and bulk copy (the pipelined kernel): a barrier of one arrival whose phase completes
// once the bytes announced by that arrival have landed.
__device__ __forceinline__ void mbar_init(u64* bar, unsigned count) {
    asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;" ::"r"((unsigned)__cvta_generic_to_shared(bar)), "r"(count)
                 : "memory");
}
// Makes the initialisations visible to the bulk-copy unit (before the first copy).
__device__ __forceinline__ void mbar_fence_init() { asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory"); }
// Waits until the phase of parity `parity` of `bar` has completed.
__device__ __forceinline__ void mbar_wait(u64* bar, unsigned parity) {
    const unsigned addr = (unsigned)__cvta_generic_to_shared(bar);
    unsigned done;
    do {
        asm volatile(
            "{\n\t.reg .pred p;\n\tmbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\n\tselp.u32 %0, 1, 0, p;\n\t}"
            : "=r"(done)
            : "r"(addr), "r"(parity)
            : "memory");
    } while (!done);
}
// Thread 0: arrives on `bar` announcing `bytes`, and copies them (a multiple of 16, 16-byte aligned
// ends) from global memory to this CTA's shared memory, completing them on `bar`. Evict-first in
// L2: every byte is read once.
__device__ __forceinline__ void bulk_load(void* dst, const void* src, unsigned bytes, u64* bar) {
    const unsigned b = (unsigned)__cvta_generic_to_shared(bar);
    asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" ::"r"(b), "r"(bytes) : "memory");
    if (bytes == 0) return;
    u64 policy;
    asm volatile("createpolicy.fractional.L2::evict_first.b64 %0, 1.0;" : "=l"(policy));
    asm volatile(
        "cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes.L2::cache_hint [%0], [%1], %2, [%3], %4;" ::"r"(
            (unsigned)__cvta_generic_to_shared(dst)),
        "l"((u64)src), "r"(bytes), "r"(b), "l"(policy)
        : "memory");
}
__device__ __forceinline__ unsigned cluster_rank() {
    unsigned r;
    asm volatile("mov.u32 %0, %%cluster_ctarank;" : "=r"(r));
    return r;
}
#else
#define SURPRISAL_HAS_CLUSTER 0
#endif
