// Fused softmax cross-entropy over rows of logits (loss and gradient), class-index targets.
//
//   a = (1 − ε)·w[y],  b = ε/V,  W = Σ_c w_c,  k = reduction factor (1/Σ w[yᵢ] for the mean)
//   ℓ = mul0(a, log s − d_y) + b·(W·log s − Σ_{w_c>0} w_c·d_c)          d_c = z_c − max z
//   g_c = k·(a + b·W)·p_c − k·b·w_c − k·a·[c = y]                         p_c = e^{d_c}/s
//
// Row layout: the row is split into 16-byte packs counted from the 16-byte boundary at or below
// its first element (`off` elements before it); pack q covers columns q·VEC − off .. + VEC. The
// first and last packs may be partial: those lanes are read element-wise (never out of bounds)
// and padded with −inf. A cluster of C CTAs (C = 1 without clusters) owns one row; CTA r owns packs
// [r·per, min((r + 1)·per, npacks)).
//
// Per row: pass 1 reads the slice once (kept in shared memory by ce_rows_smem: 16-byte loads
// through registers, or a cp.async copy of the whole slice issued first and reduced in commit
// groups as they land; by ce_rows_pipelined: bulk copies issued rows ahead) and
// forms the online (max, Σ e^{z − max}) with no per-element tests; the CTAs of the cluster exchange
// their pairs through distributed shared memory. Only a row whose sum came out NaN or whose maximum
// is ±inf (a NaN or +inf logit, or nothing finite) is scanned again with the exact edge tests.
// Pass 2 writes the gradient with 16-byte stores: from shared memory (ce_rows_smem) or from a
// second read of the slice (ce_rows_online, for rows too long for the cluster's shared memory);
// unweighted, unsmoothed finite rows take a loop of one exponential and one FMA per element.
// Rank 0 writes the row loss (with smoothing, after a second exchange of Σ w_c·d_c).
//
// Stored exponentials (CeArgs::store_exp; unweighted, unsmoothed rows whose slice is in shared
// memory before pass 1; a kernel instance of their own), for each commit group of a thread's
// packs as it lands (the whole slice in ce_rows_pipelined): pass 1a takes the group's largest
// element (packed, NaN-propagating), pass 1b replaces each logit by e^{z − m_g} (m_g that
// maximum; the formats are in common.cuh) and sums them, and pass 2 writes
// g = e^{z − m_g}·k·a·e^{m_g − M}/s − k·a·[c = y] with no exponential. A group holding a NaN or
// +inf keeps its logits, for the careful pass and its own gradient rule.
//
// Edge policies (those of the CPU library): +inf logits share the mass (d = 0 there, −inf
// elsewhere, s = their count); a row of −inf only has no distribution (loss +inf where the target
// has mass, gradient 0); a NaN logit makes the row's loss and gradient NaN; an ignored row (or a
// mean over nothing, k = 0) has loss 0 and gradient 0; a target outside 0..V (not the ignore
// index) makes the row's loss and gradient NaN.

struct CeArgs {
    u64 logits;    // const U*, row stride `stride_in` elements
    u64 grad;      // U*, row stride `stride_out` (may equal `logits`: in place)
    u64 targets;   // const i64* [n]
    u64 weight;    // const float* [v] or 0
    u64 row_loss;  // float* [n]: ℓᵢ (unscaled)
    u64 scal;      // float* [2]: k, W (written by ce_prepare)
    i64 n, v, stride_in, stride_out, ignore_index;
    int has_ignore;
    float eps;
    int cluster;  // CTAs per row
    int per;      // packs per CTA
    int stages;   // ce_rows_pipelined: slices in shared memory per CTA (2..MAX_STAGES)
    int async_copy;  // ce_rows_smem: copy the slice with cp.async first (SRC_ASYNC)
    int store_exp;   // slices in shared memory before pass 1: store the exponentials (see ce_row)
    int copy_groups; // SRC_ASYNC: commit groups of the copy (1..4), each reduced as it lands
};

#define MAX_STAGES 4

#define MEAN 2

// One block: k (the reduction factor) and W = Σ_c w_c, deterministic.
extern "C" __global__ void __launch_bounds__(1024) ce_prepare(const CeArgs a, int reduction) {
    __shared__ double scratch[32];
    const i64* t = (const i64*)a.targets;
    const float* w = (const float*)a.weight;
    double den = 0.0, wt = 0.0;
    for (i64 i = threadIdx.x; i < a.n; i += blockDim.x) {
        const i64 y = t[i];
        if (a.has_ignore && y == a.ignore_index) continue;
        if (y < 0 || y >= a.v) den += (double)F_NAN;
        else den += w ? (double)w[y] : 1.0;
    }
    for (i64 c = threadIdx.x; c < a.v; c += blockDim.x) wt += w ? (double)w[c] : 1.0;
    den = block_sum(den, scratch);
    wt = block_sum(wt, scratch);
    if (threadIdx.x == 0) {
        float* s = (float*)a.scal;
        float k = 1.0f;
        if (reduction == MEAN) k = den == 0.0 ? 0.0f : (float)(1.0 / den);
        s[0] = k;
        s[1] = (float)wt;
    }
}

// One block: out = k·Σ x (k from scal[0], or `kmul` when scal is 0; 0 when k = 0), deterministic.
extern "C" __global__ void __launch_bounds__(1024) reduce_sum(u64 x, i64 n, u64 scal, float kmul, u64 out) {
    __shared__ double scratch[32];
    const float* p = (const float*)x;
    double s = 0.0;
    for (i64 i = threadIdx.x; i < n; i += blockDim.x) s += (double)p[i];
    s = block_sum(s, scratch);
    if (threadIdx.x == 0) {
        const float k = scal ? ((const float*)scal)[0] : kmul;
        *(float*)out = k == 0.0f ? 0.0f : (float)(s * (double)k);
    }
}

// Pack q of a row starting at `row` (16-byte boundary `base` = row − off elements).
__device__ __forceinline__ Pack load_pack(const U* row, int off, int v, int q, bool stream) {
    Pack p;
    const int c0 = q * VEC - off;
    if (c0 >= 0 && c0 + VEC <= v) {
        const uint4* src = (const uint4*)(row + c0);  // 16-byte aligned by construction
        p.v = stream ? __ldcs(src) : *src;
    } else {
#pragma unroll
        for (int j = 0; j < VEC; j++) {
            const int c = c0 + j;
            p.e[j] = (c >= 0 && c < v) ? row[c] : (U)NEG_INF_BITS;
        }
    }
    return p;
}

// Pack q's columns (q·VEC − off + j, `off` the logits row's offset) into `row`: one 16-byte store
// when `aligned` (the destination row has the same offset) and the pack is full, else per element.
__device__ __forceinline__ void store_pack(U* row, int off, bool aligned, int v, int q, const Pack& p) {
    const int c0 = q * VEC - off;
    if (aligned && c0 >= 0 && c0 + VEC <= v) {
        __stcs((uint4*)(row + c0), p.v);
    } else {
#pragma unroll
        for (int j = 0; j < VEC; j++) {
            const int c = c0 + j;
            if (c >= 0 && c < v) row[c] = p.e[j];
        }
    }
}

// Online (max, Σ e^{z − max}) over one pack, the hot path: no per-element tests. A +inf or NaN
// logit leaves s NaN (or the max +inf), and a slice of −inf / NaN only leaves the max −inf: those
// rows are redone by `accumulate_careful`.
__device__ __forceinline__ void accumulate(const Pack& p, float& m, float& s) {
    float x[VEC];
    float mv = m;
#pragma unroll
    for (int j = 0; j < VEC; j++) {
        x[j] = widen(p.e[j]);
        mv = fmaxf(mv, x[j]);
    }
    if (mv > m) {
        s *= exp_(m - mv);
        m = mv;
    }
    if (m > -F_INF) {
#pragma unroll
        for (int j = 0; j < VEC; j++) s += exp_(x[j] - m);
    }
}

// The same with +inf and NaN counted apart and read as −inf (the exact edge policies).
__device__ __forceinline__ void accumulate_careful(const Pack& p, float& m, float& s, float& ninf, float& nan) {
    float x[VEC];
    float mv = -F_INF;
#pragma unroll
    for (int j = 0; j < VEC; j++) {
        float t = widen(p.e[j]);
        ninf += t == F_INF ? 1.0f : 0.0f;
        nan = t != t ? 1.0f : nan;
        t = t < F_INF ? t : -F_INF;
        x[j] = t;
        mv = fmaxf(mv, t);
    }
    if (mv > m) {
        s *= exp_(m - mv);
        m = mv;
    }
    if (m > -F_INF) {
#pragma unroll
        for (int j = 0; j < VEC; j++) s += exp_(x[j] - m);
    }
}

// (m, s) ⊕ (m2, s2), commutative and exact in its order of operations.
__device__ __forceinline__ void combine(float& m, float& s, float m2, float s2) {
    const float mm = fmaxf(m, m2);
    if (mm == -F_INF) {
        m = mm;
        s = 0.0f;
        return;
    }
    s = s * exp_(m - mm) + s2 * exp_(m2 - mm);
    m = mm;
}

// Block reduction of (m, s, ninf, nan) (fixed shuffle tree, then warp 0 over the warps); the
// result is valid in thread 0. Every thread calls it; `w4` holds 4·32 floats.
__device__ __forceinline__ void block_stats(float& m, float& s, float& ninf, float& nan, float* w4) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = (blockDim.x + 31) >> 5;
    for (int o = 16; o > 0; o >>= 1) {
        const float m2 = __shfl_xor_sync(0xffffffffu, m, o);
        const float s2 = __shfl_xor_sync(0xffffffffu, s, o);
        combine(m, s, m2, s2);
        ninf += __shfl_xor_sync(0xffffffffu, ninf, o);
        nan = fmaxf(nan, __shfl_xor_sync(0xffffffffu, nan, o));
    }
    __syncthreads();  // w4 may still be read by a previous call
    if (lane == 0) {
        w4[warp] = m;
        w4[32 + warp] = s;
        w4[64 + warp] = ninf;
        w4[96 + warp] = nan;
    }
    __syncthreads();
    if (warp == 0) {
        m = lane < nwarps ? w4[lane] : -F_INF;
        s = lane < nwarps ? w4[32 + lane] : 0.0f;
        ninf = lane < nwarps ? w4[64 + lane] : 0.0f;
        nan = lane < nwarps ? w4[96 + lane] : 0.0f;
        for (int o = 16; o > 0; o >>= 1) {
            const float m2 = __shfl_xor_sync(0xffffffffu, m, o);
            const float s2 = __shfl_xor_sync(0xffffffffu, s, o);
            combine(m, s, m2, s2);
            ninf += __shfl_xor_sync(0xffffffffu, ninf, o);
            nan = fmaxf(nan, __shfl_xor_sync(0xffffffffu, nan, o));
        }
    }
}

// Thread 0: the cluster's (m, s, ninf, nan) from `pub[0..4]` of every CTA, in rank order (every CTA
// gets the same values), into row[0..4]. Call after the cluster barrier.
__device__ __forceinline__ void combine_cluster(const float* pub, float* row, int C) {
    float M = -F_INF, S = 0.0f, NI = 0.0f, NN = 0.0f;
    for (int r = 0; r < C; r++) {
#if SURPRISAL_HAS_CLUSTER
        const bool remote = C > 1;
        const float mr = remote ? ld_cluster(&pub[0], r) : pub[0];
        const float sr = remote ? ld_cluster(&pub[1], r) : pub[1];
        const float ir = remote ? ld_cluster(&pub[2], r) : pub[2];
        const float nr = remote ? ld_cluster(&pub[3], r) : pub[3];
#else
        const float mr = pub[0], sr = pub[1], ir = pub[2], nr = pub[3];
#endif
        combine(M, S, mr, sr);
        NI += ir;
        NN = fmaxf(NN, nr);
    }
    row[0] = M;
    row[1] = S;
    row[2] = NI;
    row[3] = NN;
}

// Fills this CTA's slice of the gradient row with one value (bits).
__device__ __forceinline__ void fill_slice(U* grow, int off, bool galigned, int v, int qlo, int qhi, U bits) {
    Pack p;
#pragma unroll
    for (int j = 0; j < VEC; j++) p.e[j] = bits;
    for (int q = qlo + (int)threadIdx.x; q < qhi; q += blockDim.x) store_pack(grow, off, galigned, v, q, p);
}

// Rounds VEC gradients into a pack (two at a time with one conversion on sm_80 and later).
__device__ __forceinline__ void pack_out(Pack& o, const float* g) {
#if SURPRISAL_DTYPE != 0 && defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
#pragma unroll
    for (int i = 0; i < VEC / 2; i++) {
        // The first source goes to the upper half: element 2i + 1.
#if SURPRISAL_DTYPE == 1
        asm("cvt.rn.bf16x2.f32 %0, %1, %2;" : "=r"(o.w[i]) : "f"(g[2 * i + 1]), "f"(g[2 * i]));
#else
        asm("cvt.rn.f16x2.f32 %0, %1, %2;" : "=r"(o.w[i]) : "f"(g[2 * i + 1]), "f"(g[2 * i]));
#endif
    }
#else
#pragma unroll
    for (int j = 0; j < VEC; j++) o.e[j] = narrow(g[j]);
#endif
}

// Rounds VEC stored values (exp_stored) into a pack: f32 bits, or f16 (two at a time with
// one conversion on sm_80 and later).
__device__ __forceinline__ void e_pack(Pack& o, const float* e) {
#if SURPRISAL_DTYPE == 0
#pragma unroll
    for (int j = 0; j < VEC; j++) o.w[j] = __float_as_uint(e[j]);
#elif defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
#pragma unroll
    for (int i = 0; i < VEC / 2; i++) asm("cvt.rn.f16x2.f32 %0, %1, %2;" : "=r"(o.w[i]) : "f"(e[2 * i + 1]), "f"(e[2 * i]));
#else
#pragma unroll
    for (int j = 0; j < VEC; j++) o.e[j] = float_to_half(e[j]);
#endif
}

#define MODE_FINITE 0
#define MODE_INF 1
#define MODE_NODIST 2
#define MODE_NAN 3
#define UNROLL 4      // packs in flight per thread
#define MAX_GROUPS 4  // commit groups of the cp.async copy (copies_wait leaves up to 3 in flight)

// What pass 2 needs (the same in every CTA of the row's cluster).
struct RowCoef {
    float M;      // the shift (row maximum; unused when +inf logits share the mass)
    float inv_s;  // 1/s
    float coef;   // k·(a + b·W)
    float ka;     // k·a
    float kb;     // k·b
    int y;        // the label column
    bool inf;     // +inf logits present: d = 0 there, −inf elsewhere
    bool smooth;  // b > 0: accumulate Σ w_c·d_c
};

// Writes pack q of the gradient row from its VEC values g (pass2_fast, pass2_stored), less k·a in
// the label's column (in pack qy).
__device__ __forceinline__ void write_grad_pack(U* grow, int off, bool galigned, int v, int q, int qy,
                                                const RowCoef& r, float* g) {
    if (q == qy) {
        const int c0 = q * VEC - off;
#pragma unroll
        for (int j = 0; j < VEC; j++) g[j] -= c0 + j == r.y ? r.ka : 0.0f;
    }
    Pack o;
    pack_out(o, g);
    store_pack(grow, off, galigned, v, q, o);
}

// Pass 2, the common case (finite row, no class weights, no smoothing): g = k·(a·p − a·[c = y]) − k·b
// with b = 0 here; one exponential, one FMA and half a conversion per element.
template <bool SMEM>
__device__ __forceinline__ void pass2_fast(const U* zrow, U* grow, int off, bool galigned, int v, int qlo, int qhi,
                                           const uint4* slice, const RowCoef& r) {
    const float ci = r.coef * r.inv_s;
    const int qy = (r.y + off) / VEC;
    for (int q0 = qlo + (int)threadIdx.x; q0 < qhi; q0 += UNROLL * (int)blockDim.x) {
        Pack p[UNROLL];
#pragma unroll
        for (int u = 0; u < UNROLL; u++) {
            const int q = q0 + u * (int)blockDim.x;
            if (q < qhi) {
                if (SMEM) p[u].v = slice[q - qlo];
                else p[u] = load_pack(zrow, off, v, q, false);
            }
        }
#pragma unroll
        for (int u = 0; u < UNROLL; u++) {
            const int q = q0 + u * (int)blockDim.x;
            if (q < qhi) {
                float g[VEC];
#pragma unroll
                for (int j = 0; j < VEC; j++) g[j] = fmaf(ci, exp_(widen(p[u].e[j]) - r.M), -r.kb);
                write_grad_pack(grow, off, galigned, v, q, qy, r, g);
            }
        }
    }
}

// Calls f(q, pack q) for this thread's packs of a slice in shared memory, q = qlo + threadIdx.x +
// i·blockDim.x below qhi (from `q` when given): UNROLL at a time with no bounds tests (their
// loads issued together), then the rest one by one. The passes that use it visit the same packs
// in every thread.
template <class F>
__device__ __forceinline__ void each_own_pack(const uint4* slice, int qlo, int qhi, F f, int q = -1) {
    const int step = (int)blockDim.x;
    if (q < 0) q = qlo + (int)threadIdx.x;
    for (; q + (UNROLL - 1) * step < qhi; q += UNROLL * step) {
        Pack p[UNROLL];
#pragma unroll
        for (int u = 0; u < UNROLL; u++) p[u].v = slice[q + u * step - qlo];
#pragma unroll
        for (int u = 0; u < UNROLL; u++) f(q + u * step, p[u]);
    }
    for (; q < qhi; q += step) {
        Pack p;
        p.v = slice[q - qlo];
        f(q, p);
    }
}

// The end of commit group g of `groups` of this thread's packs, from its first pack q: UNROLL
// packs (blockDim.x apart) for all but the last group, which takes the rest of the slice.
__device__ __forceinline__ int group_end(int q, int qhi, int groups, int g) {
    const int end = q + UNROLL * (int)blockDim.x;
    return g == groups - 1 || end > qhi ? qhi : end;
}

// The cp.async copy of this thread's packs of its slice (those every pass visits, so the thread's
// own waits order them: no block barrier), in `groups` commit groups: group g < groups − 1 holds
// its packs i·blockDim.x + threadIdx.x with g·UNROLL ≤ i < (g + 1)·UNROLL, the last one the rest.
// Partial edge packs are read element-wise at once.
__device__ __forceinline__ void copy_own_packs(uint4* slice, const U* zrow, int off, int v, int qlo, int qhi,
                                               int groups) {
    int q = qlo + (int)threadIdx.x;
    for (int g = 0; g < groups; g++) {
        for (const int qend = group_end(q, qhi, groups, g); q < qend; q += (int)blockDim.x) {
            const int c0 = q * VEC - off;
            if (c0 >= 0 && c0 + VEC <= v) copy16_async(&slice[q - qlo], zrow + c0);
            else slice[q - qlo] = load_pack(zrow, off, v, q, true).v;
        }
        copies_commit();
    }
}

// Calls f(q, pack q) for this thread's packs of commit group g of `groups` (copy_own_packs'
// partition), in order.
template <class F>
__device__ __forceinline__ void each_group_pack(const uint4* slice, int qlo, int qhi, int groups, int g, F f) {
    const int q = qlo + (int)threadIdx.x + g * UNROLL * (int)blockDim.x;
    each_own_pack(slice, qlo, group_end(q, qhi, groups, g), f, q);
}

// Pass 2, every case: class weights, smoothing (returns this thread's Σ_{w_c>0} w_c·d_c), +inf.
template <bool SMEM>
__device__ __forceinline__ float pass2_general(const U* zrow, U* grow, int off, bool galigned, int v, int qlo, int qhi,
                                               const uint4* slice, const float* w, const RowCoef& r) {
    float D = 0.0f;
    for (int q0 = qlo + (int)threadIdx.x; q0 < qhi; q0 += UNROLL * (int)blockDim.x) {
        Pack p[UNROLL];
#pragma unroll
        for (int u = 0; u < UNROLL; u++) {
            const int q = q0 + u * (int)blockDim.x;
            if (q < qhi) {
                if (SMEM) p[u].v = slice[q - qlo];
                else p[u] = load_pack(zrow, off, v, q, false);
            }
        }
#pragma unroll
        for (int u = 0; u < UNROLL; u++) {
            const int q = q0 + u * (int)blockDim.x;
            if (q < qhi) {
                float g[VEC];
#pragma unroll
                for (int j = 0; j < VEC; j++) {
                    const int c = q * VEC - off + j;
                    const bool valid = c >= 0 && c < v;
                    const float z = widen(p[u].e[j]);
                    const float d = r.inf ? (z == F_INF ? 0.0f : -F_INF) : z - r.M;
                    const float wc = w ? (valid ? w[c] : 0.0f) : 1.0f;
                    float gc = r.coef * (exp_(d) * r.inv_s) - r.kb * wc;
                    if (c == r.y) gc -= r.ka;
                    g[j] = gc;
                    if (r.smooth && valid && wc > 0.0f) D += wc * d;
                }
                Pack o;
                pack_out(o, g);
                store_pack(grow, off, galigned, v, q, o);
            }
        }
    }
    return D;
}

// Pass 2 from the stored exponentials (this thread's packs; unweighted, unsmoothed rows), one
// commit group at a time: g = e_value·f − k·a·[c = y] with f = k·a·e^{m_g − M}·2^−E/s (m_g the
// group's shift, mg[g]), one multiplication (two for bf16) and half a conversion per element.
// `ci` = k·a/s, 0 where the finite entries have no mass (+inf in the row). A group that kept its
// logits (bit g of `kept`: it holds a +inf, the row has no NaN here) gives its +inf entries
// k·a/n_inf (`cinf`) and the others 0. The label's entry k·a·(p_y − 1) suffers no cancellation
// from the stored value's rounding: where the label holds its group's maximum it is stored
// exactly, and elsewhere p_y ≤ 1/2.
__device__ __forceinline__ void pass2_stored(U* grow, int off, bool galigned, int v, int qlo, int qhi,
                                             const uint4* slice, const RowCoef& r, float ci, float cinf,
                                             const float* mg, unsigned kept, int groups) {
    const int qy = (r.y + off) / VEC;
#pragma unroll
    for (int gi = 0; gi < MAX_GROUPS; gi++) {
        if (gi >= groups) break;
        if (kept >> gi & 1u) {
            each_group_pack(slice, qlo, qhi, groups, gi, [&](int q, const Pack& p) {
                float g[VEC];
#pragma unroll
                for (int j = 0; j < VEC; j++) g[j] = widen(p.e[j]) == F_INF ? cinf : 0.0f;
                write_grad_pack(grow, off, galigned, v, q, qy, r, g);
            });
            continue;
        }
        const float f = ci == 0.0f ? 0.0f : ci * exp_(mg[gi] - r.M) * E_UNSCALE;
        each_group_pack(slice, qlo, qhi, groups, gi, [&](int q, const Pack& p) {
            float g[VEC];
#pragma unroll
            for (int j = 0; j < VEC; j++) g[j] = e_value(p.e[j]) * f;
            write_grad_pack(grow, off, galigned, v, q, qy, r, g);
        });
    }
}

// Where pass 1 takes the slice from: global memory, kept in shared memory (one read); global
// memory, read again in pass 2 (two reads); already in shared memory (the pipelined kernel's
// bulk copy); or copied whole into shared memory first (cp.async: every load of the slice in
// flight at once, none through registers).
#define SRC_SMEM 0
#define SRC_TWICE 1
#define SRC_RESIDENT 2
#define SRC_ASYNC 3  // as SRC_SMEM, the slice copied to shared memory first with cp.async

// Waits for commit group g of `groups` of this thread's copy (SRC_ASYNC; the other sources have
// their slice in shared memory already).
template <int SRC>
__device__ __forceinline__ void group_landed(int groups, int g) {
    if (SRC == SRC_ASYNC) copies_wait(groups - 1 - g);
}

// The per-CTA shared state of one row (published to the cluster: pub, pub2).
struct CeShared {
    float pub[8];   // m, s, ninf, nan, z_y, D
    float pub2[8];  // the careful pass's m, s, ninf, nan
    float row[8];   // the combined row statistics: M, S, ninf, nan, z_y, D
    float w4[128];
    double scratch[32];
};

// Whether a call's rows store their exponentials (ce_row's EX): asked for, where the slice is in
// shared memory before pass 1, with no class weights and no label smoothing (the same for every
// row of the call).
__device__ __forceinline__ bool ce_stores_exp(const CeArgs& a) {
    return a.store_exp && !a.weight && !(a.eps / (float)a.v > 0.0f);
}

// Row r_i, this CTA's slice (rank `rank` of the row's cluster). `slice` holds the slice's packs
// (SRC_SMEM, SRC_ASYNC: written here; SRC_RESIDENT: already there; SRC_TWICE: unused). EX: the
// row stores its exponentials (ce_stores_exp; SRC_ASYNC or SRC_RESIDENT: a kernel instance of
// its own, whose registers hold the group shifts). Every thread of every CTA of the cluster calls
// it for the same row; it returns with the cluster's shared state free for the next row.
template <int SRC, bool EX>
__device__ __forceinline__ void ce_row(const CeArgs& a, i64 r_i, unsigned rank, uint4* slice, CeShared& sh) {
    constexpr bool SMEM = SRC != SRC_TWICE;
    float* pub = sh.pub;
    float* pub2 = sh.pub2;
    float* row = sh.row;
    float* w4 = sh.w4;
    double* scratch = sh.scratch;
    const int C = a.cluster;
    const int v = (int)a.v;  // < 2^30 (checked by the host), so in-row indices fit an int
    const U* zrow = (const U*)a.logits + r_i * a.stride_in;
    U* grow = (U*)a.grad + r_i * a.stride_out;
    const int off = (int)(((u64)zrow & 15u) / sizeof(U));
    // Packs are laid out by the logits row's alignment; the gradient row takes 16-byte stores only
    // when it has the same misalignment (columns are always those of the input packs).
    const bool galigned = (int)(((u64)grow & 15u) / sizeof(U)) == off;
    const int npacks = (v + off + VEC - 1) / VEC;
    const int qlo = (int)rank * a.per;
    const int qhi = qlo + a.per < npacks ? qlo + a.per : npacks;  // qlo ≥ qhi: empty slice
    const float* w = (const float*)a.weight;
    const float* scal = (const float*)a.scal;
    float* row_loss = (float*)a.row_loss;
    const float k = scal[0];
    const float W = scal[1];
    const i64 y64 = ((const i64*)a.targets)[r_i];
    const bool lead = rank == 0 && threadIdx.x == 0;

    // Rows that need no read (the decision is the same in every CTA of the cluster, so no CTA
    // leaves while another could still address its shared memory).
    if ((a.has_ignore && y64 == a.ignore_index) || k == 0.0f) {
        fill_slice(grow, off, galigned, v, qlo, qhi, (U)0);
        if (lead) row_loss[r_i] = 0.0f;
        return;
    }
    if (y64 < 0 || y64 >= (i64)v) {
        fill_slice(grow, off, galigned, v, qlo, qhi, (U)NAN_BITS);
        if (lead) row_loss[r_i] = F_NAN;
        return;
    }
    const int y = (int)y64;
    const int qy = (y + off) / VEC;  // the label's pack
    const float wy = w ? w[y] : 1.0f;
    const float ca = (1.0f - a.eps) * wy;  // a
    const float cb = a.eps / (float)v;     // b
    const bool smooth = cb > 0.0f;
    constexpr bool ex = EX && (SRC == SRC_ASYNC || SRC == SRC_RESIDENT);

    // The cp.async copy's commit groups (1..MAX_GROUPS, Plan::copy_groups; one group, the whole
    // slice, for the other sources).
    const int groups = SRC == SRC_ASYNC ? a.copy_groups : 1;
    if (SRC == SRC_ASYNC) copy_own_packs(slice, zrow, off, v, qlo, qhi, groups);
    float m = -F_INF, s = 0.0f, ninf = 0.0f, nan = 0.0f;
    // With stored exponentials, per commit group g of this thread's packs: its largest logit m_g
    // (its shift), or bit g of `kept` where it holds a NaN or +inf logit and keeps its logits.
    float mg[MAX_GROUPS];
    unsigned kept = 0;
    if (ex) {
        // The label's pack: this thread's pack i_y, in commit group g_y, when it owns it (−1 if not).
        const int iy = qy >= qlo && qy < qhi && (qy - qlo) % (int)blockDim.x == (int)threadIdx.x
                           ? (qy - qlo) / (int)blockDim.x
                           : -1;
        const int gy = iy < 0 ? -1 : iy / UNROLL < groups ? iy / UNROLL : groups - 1;
#pragma unroll
        for (int gi = 0; gi < MAX_GROUPS; gi++) {
            if (gi >= groups) break;
            group_landed<SRC>(groups, gi);
            // The owner of the label's pack publishes z_y before it is overwritten.
            if (gi == gy) pub[4] = widen(((const U*)slice)[(y + off) - qlo * VEC]);
            // Pass 1a: the group's largest element, NaN if any is NaN (packed comparisons).
            unsigned pm = NEG_INF_WORD;
            each_group_pack(slice, qlo, qhi, groups, gi, [&](int, const Pack& p) {
#pragma unroll
                for (int i = 0; i < 4; i++) pm = max_nan_word(pm, p.w[i]);
            });
            const float mt = word_max(pm);
            if (!(mt == mt && mt != F_INF)) {  // not every element finite or −inf
                kept |= 1u << gi;
                continue;
            }
            // Pass 1b: e^{z − m_g} (scaled, common.cuh) in place of z, and Σ e^{z − m_g} (a group
            // of −inf only stores zeros).
            const float shift = mt == -F_INF ? 0.0f : mt;
            float st = 0.0f;
            each_group_pack(slice, qlo, qhi, groups, gi, [&](int q, const Pack& p) {
                float e[VEC];
#pragma unroll
                for (int j = 0; j < VEC; j++) {
                    e[j] = exp_stored(widen(p.e[j]) - shift);
                    st += e_square(e[j]);
                }
                Pack o;
                e_pack(o, e);
                slice[q - qlo] = o.v;
            });
            mg[gi] = mt;
            combine(m, s, mt, st * E_UNSCALE);
        }
        // A thread with a group that kept its logits publishes (+inf, NaN), which sends the row
        // to the careful pass below.
        if (kept) m = F_INF, s = F_NAN;
    }
    // Pass 1: read the slice once (into shared memory), online max and Σ e^{z − max}.
    for (int gi = 0; !ex && (SRC == SRC_ASYNC || SRC == SRC_RESIDENT) && gi < groups; gi++) {
        group_landed<SRC>(groups, gi);  // each group as soon as it has landed
        each_group_pack(slice, qlo, qhi, groups, gi, [&](int, const Pack& p) { accumulate(p, m, s); });
    }
    constexpr bool loads = SRC == SRC_SMEM || SRC == SRC_TWICE;  // pass 1 reads global memory
    for (int q0 = qlo + (int)threadIdx.x; loads && q0 < qhi; q0 += UNROLL * (int)blockDim.x) {
        Pack p[UNROLL];
#pragma unroll
        for (int u = 0; u < UNROLL; u++) {
            const int q = q0 + u * (int)blockDim.x;
            if (q < qhi) p[u] = load_pack(zrow, off, v, q, SRC == SRC_SMEM);
        }
#pragma unroll
        for (int u = 0; u < UNROLL; u++) {
            const int q = q0 + u * (int)blockDim.x;
            if (q < qhi) {
                if (SRC == SRC_SMEM) slice[q - qlo] = p[u].v;
                accumulate(p[u], m, s);
            }
        }
    }
    block_stats(m, s, ninf, nan, w4);  // also orders the shared-memory slice before the z_y read
    if (threadIdx.x == 0) {
        pub[0] = m;
        pub[1] = s;
        pub[2] = 0.0f;
        pub[3] = 0.0f;
        // The label logit, read by the CTA that owns it before any gradient is written (stored
        // exponentials: published by its pack's thread in pass 1a).
        if (!ex)
            pub[4] = qy >= qlo && qy < qhi ? (SMEM ? widen(((const U*)slice)[(y + off) - qlo * VEC]) : widen(zrow[y])) : 0.0f;
    }
    __syncthreads();
#if SURPRISAL_HAS_CLUSTER
    if (C > 1) cluster_sync();
#endif
    if (threadIdx.x == 0) {
        combine_cluster(pub, row, C);
        float zy = pub[4];
#if SURPRISAL_HAS_CLUSTER
        const unsigned owner = (unsigned)(qy / a.per);
        if (C > 1) zy = ld_cluster(&pub[4], owner);
#endif
        row[4] = zy;
    }
    __syncthreads();

    // A NaN or +inf somewhere (s NaN or max +inf), or nothing above −inf: the careful pass decides
    // which edge policy applies (same decision in every CTA: the combined values are identical).
    int mode = MODE_FINITE;
    if (!(row[1] == row[1]) || row[0] == F_INF || row[0] == -F_INF) {
        m = -F_INF, s = 0.0f, ninf = 0.0f, nan = 0.0f;
        // Stored exponentials: the stored groups hold no NaN or +inf, and what the careful pass
        // finds there matters only through the counts (the row has a NaN or +inf somewhere, or
        // every stored group is −inf only), so it reads the groups that kept their logits alone.
#pragma unroll
        for (int gi = 0; ex && gi < MAX_GROUPS && gi < groups; gi++)
            if (kept >> gi & 1u)
                each_group_pack(slice, qlo, qhi, groups, gi,
                                [&](int, const Pack& p) { accumulate_careful(p, m, s, ninf, nan); });
        for (int q = qlo + (int)threadIdx.x; !ex && q < qhi; q += blockDim.x) {
            Pack p;
            if (SMEM) p.v = slice[q - qlo];
            else p = load_pack(zrow, off, v, q, false);
            accumulate_careful(p, m, s, ninf, nan);
        }
        block_stats(m, s, ninf, nan, w4);
        if (threadIdx.x == 0) {
            pub2[0] = m;
            pub2[1] = s;
            pub2[2] = ninf;
            pub2[3] = nan;
        }
        __syncthreads();
#if SURPRISAL_HAS_CLUSTER
        if (C > 1) cluster_sync();
#endif
        if (threadIdx.x == 0) combine_cluster(pub2, row, C);
        __syncthreads();
        mode = row[3] != 0.0f ? MODE_NAN : row[2] > 0.0f ? MODE_INF : row[0] == -F_INF ? MODE_NODIST : MODE_FINITE;
    }
    const float M = row[0];
    const float S = mode == MODE_INF ? row[2] : row[1];

    float D = 0.0f;
    if (mode == MODE_NAN || mode == MODE_NODIST) {
        fill_slice(grow, off, galigned, v, qlo, qhi, mode == MODE_NAN ? (U)NAN_BITS : (U)0);
    } else {
        // Pass 2: the gradient, from shared memory (SMEM) or a second read of the slice.
        RowCoef r;
        r.M = M;
        r.inv_s = 1.0f / S;
        r.coef = (ca + cb * W) * k;
        r.ka = k * ca;
        r.kb = k * cb;
        r.y = y;
        r.inf = mode == MODE_INF;
        r.smooth = smooth;
        if (ex)
            pass2_stored(grow, off, galigned, v, qlo, qhi, slice, r, mode == MODE_FINITE ? r.coef * r.inv_s : 0.0f,
                         mode == MODE_INF ? r.coef * r.inv_s : 0.0f, mg, kept, groups);
        else if (mode == MODE_FINITE && !w && !smooth) pass2_fast<SMEM>(zrow, grow, off, galigned, v, qlo, qhi, slice, r);
        else D = pass2_general<SMEM>(zrow, grow, off, galigned, v, qlo, qhi, slice, w, r);
    }

    // Σ_{w_c>0} w_c·d_c over the row (label smoothing only), then the row loss.
    const bool need_d = smooth && (mode == MODE_FINITE || mode == MODE_INF);
    if (need_d) {
        const double dsum = block_sum((double)D, scratch);
        if (threadIdx.x == 0) pub[5] = (float)dsum;
        __syncthreads();
#if SURPRISAL_HAS_CLUSTER
        if (C > 1) cluster_sync();
#endif
        if (lead) {
            float total = 0.0f;
            for (int r = 0; r < C; r++) {
#if SURPRISAL_HAS_CLUSTER
                total += C > 1 ? ld_cluster(&pub[5], r) : pub[5];
#else
                total += pub[5];
#endif
            }
            row[5] = total;
        }
    }
    if (lead) {
        float loss;
        if (mode == MODE_NAN) {
            loss = F_NAN;
        } else if (mode == MODE_NODIST) {
            loss = (ca > 0.0f || (smooth && W > 0.0f)) ? F_INF : 0.0f;
        } else {
            const float log_s = logf(S);
            const float zy = row[4];
            const float dy = mode == MODE_FINITE ? zy - M : (zy == F_INF ? 0.0f : -F_INF);
            loss = mul0(ca, log_s - dy);
            if (smooth) loss += cb * (W * log_s - row[5]);
        }
        row_loss[r_i] = loss;
    }
#if SURPRISAL_HAS_CLUSTER
    // No CTA leaves while another may still read its shared memory.
    if (C > 1) cluster_sync();
#endif
}

// The dynamic shared memory: the row slices.
extern __shared__ uint4 ce_dyn[];

// One row per cluster (the kernel's shared state `sh` declared once by the kernel).
template <int SRC, bool EX>
__device__ __forceinline__ void ce_rows(const CeArgs& a, CeShared& sh) {
    const i64 r_i = (i64)(blockIdx.x / (unsigned)a.cluster);
    const unsigned rank = blockIdx.x % (unsigned)a.cluster;
    if (r_i >= a.n) return;  // the whole cluster takes this branch (never with an exact grid)
    ce_row<SRC, EX>(a, r_i, rank, ce_dyn, sh);  // SRC_SMEM, SRC_ASYNC: this CTA's packs in ce_dyn
}

// 256 threads, at most 85 registers (no spills with UNROLL 4): three CTAs of ≤ 64 KiB slices fit
// on one SM (228 KiB of shared memory, 64 Ki registers), 48 KiB of loads in flight per SM.
extern "C" __global__ void __launch_bounds__(256, 3) ce_rows_smem(const CeArgs a) {
    __shared__ CeShared sh[1];
    if (a.async_copy && ce_stores_exp(a)) ce_rows<SRC_ASYNC, true>(a, sh[0]);
    else if (a.async_copy) ce_rows<SRC_ASYNC, false>(a, sh[0]);
    else ce_rows<SRC_SMEM, false>(a, sh[0]);
}
extern "C" __global__ void __launch_bounds__(256) ce_rows_online(const CeArgs a) {
    __shared__ CeShared sh[1];
    ce_rows<SRC_TWICE, false>(a, sh[0]);
}

// The pipelined kernel (sm_90; rows whose every slice is whole 16-byte packs: a 16-byte aligned
// logits pointer, row stride and V·sizeof(U)). Persistent: cluster g of G = gridDim.x / C takes
// rows g, g + G, g + 2G, …; each CTA keeps `stages` slices in shared memory, and thread 0 keeps
// the next stages − 1 rows' slices in flight with bulk copies (cp.async.bulk, completing on one
// mbarrier per stage) while the CTA reduces the current row and writes its gradient. The row
// itself is ce_row<SRC_RESIDENT, EX>: the same arithmetic as ce_rows_smem.
extern "C" __global__ void __launch_bounds__(512, 1) ce_rows_pipelined(const CeArgs a) {
#if SURPRISAL_HAS_CLUSTER
    uint4* slice = ce_dyn;  // stages × per packs
    __shared__ CeShared sh[1];
    __shared__ u64 full[MAX_STAGES];
    const int C = a.cluster, S = a.stages, per = a.per;
    const bool ex = ce_stores_exp(a);
    const unsigned rank = blockIdx.x % (unsigned)C;
    const i64 first = (i64)(blockIdx.x / (unsigned)C), step = (i64)(gridDim.x / (unsigned)C);
    const int npacks = (int)(a.v / VEC);
    const int qlo = (int)rank * per;
    const int qhi = qlo + per < npacks ? qlo + per : npacks;
    const unsigned bytes = qhi > qlo ? (unsigned)(qhi - qlo) * 16u : 0u;
    const U* base = (const U*)a.logits + (i64)qlo * VEC;
    if (threadIdx.x == 0) {
        for (int s = 0; s < S; s++) mbar_init(&full[s], 1);
        mbar_fence_init();
        for (int s = 0; s < S; s++) {
            const i64 r = first + s * step;
            if (r < a.n) bulk_load(slice + s * per, base + r * a.stride_in, bytes, &full[s]);
        }
    }
    __syncthreads();
    int it = 0;
    for (i64 r = first; r < a.n; r += step, it++) {
        const int s = it % S;
        mbar_wait(&full[s], (unsigned)(it / S) & 1u);
        if (ex) ce_row<SRC_RESIDENT, true>(a, r, rank, slice + s * per, sh[0]);
        else ce_row<SRC_RESIDENT, false>(a, r, rank, slice + s * per, sh[0]);
        __syncthreads();  // every thread is done with stage s
        const i64 next = r + S * step;
        if (threadIdx.x == 0 && next < a.n) bulk_load(slice + s * per, base + next * a.stride_in, bytes, &full[s]);
    }
#endif
}
