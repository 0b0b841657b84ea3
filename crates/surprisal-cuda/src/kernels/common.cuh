// Storage types, 16-byte packs, deterministic block reductions and the cluster primitives shared
// by the kernels. The host prepends `#define SURPRISAL_DTYPE 0|1|2` (f32, bf16, f16).
//
// Values are read as raw bits (U) and widened to f32 exactly; results are rounded to nearest even
// on the way back. All arithmetic is f32, except the reductions over rows / blocks (f64).

typedef unsigned long long u64;
typedef long long i64;

#if SURPRISAL_DTYPE == 0
typedef unsigned int U;
#define NEG_INF_BITS 0xff800000u
#define NAN_BITS 0x7fc00000u
__device__ __forceinline__ float widen(U b) { return __uint_as_float(b); }
__device__ __forceinline__ U narrow(float x) { return __float_as_uint(x); }
#elif SURPRISAL_DTYPE == 1
// bf16 by bit manipulation (NVRTC 13.0 ships no cuda_bf16.h): the upper half of an f32,
// rounded to nearest even, NaN kept quiet.
typedef unsigned short U;
#define NEG_INF_BITS ((unsigned short)0xff80u)
#define NAN_BITS ((unsigned short)0x7fc0u)
__device__ __forceinline__ float widen(U b) { return __uint_as_float(((unsigned int)b) << 16); }
__device__ __forceinline__ U narrow(float x) {
    const unsigned int b = __float_as_uint(x);
    if ((b & 0x7fffffffu) > 0x7f800000u) return (U)((b >> 16) | 0x40u);
    return (U)((b + 0x7fffu + ((b >> 16) & 1u)) >> 16);
}
#elif SURPRISAL_DTYPE == 2
// f16 with the PTX conversions (exact widening; round to nearest even, overflow to ±inf).
typedef unsigned short U;
#define NEG_INF_BITS ((unsigned short)0xfc00u)
#define NAN_BITS ((unsigned short)0x7e00u)
__device__ __forceinline__ float widen(U b) {
    float r;
    asm("cvt.f32.f16 %0, %1;" : "=f"(r) : "h"(b));
    return r;
}
__device__ __forceinline__ U narrow(float x) {
    U h;
    asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(x));
    return h;
}
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
__device__ __forceinline__ float exp_(float d) {
#if defined(__CUDA_ARCH__)
    float r;
    asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(r) : "f"(d * LOG2E));
    return r;
#else
    return exp2f(d * LOG2E);
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
// the copy completes at copies_wait_all); elsewhere a plain copy.
__device__ __forceinline__ void copy16_async(void* dst, const void* src) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16;" ::"r"((unsigned)__cvta_generic_to_shared(dst)),
                 "l"((u64)src)
                 : "memory");
#else
    *(uint4*)dst = *(const uint4*)src;
#endif
}
// Waits for this thread's copy16_async copies (then a block barrier makes them visible to all).
__device__ __forceinline__ void copies_wait_all() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
    asm volatile("cp.async.commit_group;\n\tcp.async.wait_group 0;" ::: "memory");
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
