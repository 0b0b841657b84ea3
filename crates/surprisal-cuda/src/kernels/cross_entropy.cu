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
};

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

// Online (max, Σ e^{z − max}) over one pack; +inf and NaN are counted apart and read as −inf.
__device__ __forceinline__ void accumulate(const Pack& p, float& m, float& s, float& ninf, bool& nan) {
    float x[VEC];
    float mv = -F_INF;
#pragma unroll
    for (int j = 0; j < VEC; j++) {
        float t = widen(p.e[j]);
        ninf += t == F_INF ? 1.0f : 0.0f;
        nan |= t != t;
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

// Fills this CTA's slice of the gradient row with one value (bits).
__device__ __forceinline__ void fill_slice(U* grow, int off, bool galigned, int v, int qlo, int qhi, U bits) {
    Pack p;
#pragma unroll
    for (int j = 0; j < VEC; j++) p.e[j] = bits;
    for (int q = qlo + (int)threadIdx.x; q < qhi; q += blockDim.x) store_pack(grow, off, galigned, v, q, p);
}

#define MODE_FINITE 0
#define MODE_INF 1
#define MODE_NODIST 2
#define MODE_NAN 3
#define UNROLL 2  // packs in flight per thread (more spills registers under the 3-CTA bound)

template <bool SMEM>
__device__ __forceinline__ void ce_rows(const CeArgs& a) {
    extern __shared__ uint4 slice[];  // SMEM: this CTA's packs, in the input type
    __shared__ float pub[8];          // published to the cluster: m, s, ninf, nan, z_y, D
    __shared__ float row[8];          // the combined row statistics: M, S, ninf, nan, z_y, D
    __shared__ float wm[32], ws[32], wi[32], wn[32];
    __shared__ double scratch[32];

    const int C = a.cluster;
    const i64 r_i = (i64)(blockIdx.x / (unsigned)C);
    const unsigned rank = blockIdx.x % (unsigned)C;
    if (r_i >= a.n) return;  // the whole cluster takes this branch (never with an exact grid)
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

    // Pass 1: read the slice once (into shared memory), online max and Σ e^{z − max}.
    float m = -F_INF, s = 0.0f, ninf = 0.0f;
    bool nan = false;
    for (int q0 = qlo + (int)threadIdx.x; q0 < qhi; q0 += UNROLL * (int)blockDim.x) {
        Pack p[UNROLL];
#pragma unroll
        for (int u = 0; u < UNROLL; u++) {
            const int q = q0 + u * (int)blockDim.x;
            if (q < qhi) p[u] = load_pack(zrow, off, v, q, SMEM);
        }
#pragma unroll
        for (int u = 0; u < UNROLL; u++) {
            const int q = q0 + u * (int)blockDim.x;
            if (q < qhi) {
                if (SMEM) slice[q - qlo] = p[u].v;
                accumulate(p[u], m, s, ninf, nan);
            }
        }
    }
    // Block reduction (fixed shuffle tree, then warp 0 over the warps).
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = (blockDim.x + 31) >> 5;
    for (int o = 16; o > 0; o >>= 1) {
        const float m2 = __shfl_xor_sync(0xffffffffu, m, o);
        const float s2 = __shfl_xor_sync(0xffffffffu, s, o);
        combine(m, s, m2, s2);
        ninf += __shfl_xor_sync(0xffffffffu, ninf, o);
        nan |= __shfl_xor_sync(0xffffffffu, (int)nan, o) != 0;
    }
    if (lane == 0) {
        wm[warp] = m;
        ws[warp] = s;
        wi[warp] = ninf;
        wn[warp] = nan ? 1.0f : 0.0f;
    }
    __syncthreads();  // also orders the shared-memory slice before the z_y read below
    if (warp == 0) {
        m = lane < nwarps ? wm[lane] : -F_INF;
        s = lane < nwarps ? ws[lane] : 0.0f;
        ninf = lane < nwarps ? wi[lane] : 0.0f;
        float fn = lane < nwarps ? wn[lane] : 0.0f;
        for (int o = 16; o > 0; o >>= 1) {
            const float m2 = __shfl_xor_sync(0xffffffffu, m, o);
            const float s2 = __shfl_xor_sync(0xffffffffu, s, o);
            combine(m, s, m2, s2);
            ninf += __shfl_xor_sync(0xffffffffu, ninf, o);
            fn = fmaxf(fn, __shfl_xor_sync(0xffffffffu, fn, o));
        }
        if (lane == 0) {
            pub[0] = m;
            pub[1] = s;
            pub[2] = ninf;
            pub[3] = fn;
            // The label logit, read by the CTA that owns it before any gradient is written.
            const int qy = (y + off) / VEC;
            float zy = 0.0f;
            if (qy >= qlo && qy < qhi) {
                zy = SMEM ? widen(((const U*)slice)[(y + off) - qlo * VEC]) : widen(zrow[y]);
            }
            pub[4] = zy;
        }
    }
    __syncthreads();

    // Combine the cluster's statistics (every CTA the same values in the same order).
#if SURPRISAL_HAS_CLUSTER
    const unsigned owner = (unsigned)(((y + off) / VEC) / a.per);
    if (C > 1) cluster_sync();
#endif
    if (threadIdx.x == 0) {
        float M = -F_INF, S = 0.0f, NI = 0.0f, NN = 0.0f, ZY = pub[4];
        for (int r = 0; r < C; r++) {
#if SURPRISAL_HAS_CLUSTER
            const bool remote = C > 1;
            const float mr = remote ? ld_cluster(&pub[0], r) : pub[0];
            const float sr = remote ? ld_cluster(&pub[1], r) : pub[1];
            const float ir = remote ? ld_cluster(&pub[2], r) : pub[2];
            const float nr = remote ? ld_cluster(&pub[3], r) : pub[3];
            if (remote && (unsigned)r == owner) ZY = ld_cluster(&pub[4], r);
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
        row[4] = ZY;
    }
    __syncthreads();
    const float M = row[0], NI = row[2];
    const int mode = row[3] != 0.0f ? MODE_NAN : NI > 0.0f ? MODE_INF : M == -F_INF ? MODE_NODIST : MODE_FINITE;
    const float S = mode == MODE_INF ? NI : row[1];
    const float wy = w ? w[y] : 1.0f;
    const float ca = (1.0f - a.eps) * wy;      // a
    const float cb = a.eps / (float)v;         // b
    const bool smooth = cb > 0.0f;

    float D = 0.0f;
    if (mode == MODE_NAN || mode == MODE_NODIST) {
        fill_slice(grow, off, galigned, v, qlo, qhi, mode == MODE_NAN ? (U)NAN_BITS : (U)0);
    } else {
        // Pass 2: the gradient, from shared memory (SMEM) or a second read of the slice.
        const float inv_s = 1.0f / S;
        const float coef = (ca + cb * W) * k;
        const float kb = k * cb, ka = k * ca;
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
                    Pack g;
#pragma unroll
                    for (int j = 0; j < VEC; j++) {
                        const int c = q * VEC - off + j;
                        const bool valid = c >= 0 && c < v;
                        const float z = widen(p[u].e[j]);
                        const float d = mode == MODE_FINITE ? z - M : (z == F_INF ? 0.0f : -F_INF);
                        const float wc = w ? (valid ? w[c] : 0.0f) : 1.0f;
                        float gc = coef * (exp_(d) * inv_s) - kb * wc;
                        if (c == y) gc -= ka;
                        g.e[j] = narrow(gc);
                        if (smooth && valid && wc > 0.0f) D += wc * d;
                    }
                    store_pack(grow, off, galigned, v, q, g);
                }
            }
        }
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

// 512 threads, at most 40 registers (no spills with UNROLL 2): three CTAs of ≤ 64 KiB slices fit
// on one SM (228 KiB of shared memory, 64 Ki registers).
extern "C" __global__ void __launch_bounds__(512, 3) ce_rows_smem(const CeArgs a) { ce_rows<true>(a); }
extern "C" __global__ void __launch_bounds__(512) ce_rows_online(const CeArgs a) { ce_rows<false>(a); }
