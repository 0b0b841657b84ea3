// Sigmoid binary cross-entropy on logits, element-wise loss and gradient in one pass.
//
//   ℓ = c·(mul0(pw·t, softplus(−x)) + mul0(1 − t, softplus(x)))
//   g = k·c·((1 − t)·σ(x) − pw·t·σ(−x))          (0 where c = 0)
//   softplus(±x) = max(±x, 0) + log1p(u),  u = e^{−|x|},  σ from the same u
//
// c is the element weight (1 without weights), pw the positive weight, k the reduction factor.
// Losses go to `out` per element (f32 [n]) or, summed per block in a fixed order, to `out`'s first
// gridDim.x entries for the final reduce_sum.

struct BceArgs {
    u64 x;           // const U* [n]
    u64 t;           // const U* [n]
    u64 grad;        // U* [n] (may equal x)
    u64 pos_weight;  // const float* [pw_len] (element i uses i % pw_len) or 0
    u64 weight;      // const float* [w_len] (element i uses i % w_len) or 0
    u64 out;         // float*: n per-element losses, or gridDim.x partial sums
    i64 n, pw_len, w_len;
    float k;
    int per_element;
};

extern "C" __global__ void __launch_bounds__(256) bce_with_logits(const BceArgs a) {
    __shared__ double scratch[32];
    const U* X = (const U*)a.x;
    const U* T = (const U*)a.t;
    U* G = (U*)a.grad;
    const float* pwp = (const float*)a.pos_weight;
    const float* wp = (const float*)a.weight;
    float* out = (float*)a.out;
    double total = 0.0;
    const i64 step = (i64)gridDim.x * blockDim.x;
    for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < a.n; i += step) {
        const float x = widen(X[i]);
        const float t = widen(T[i]);
        const float pw = pwp ? pwp[a.pw_len == a.n ? i : i % a.pw_len] : 1.0f;
        const float c = wp ? wp[a.w_len == a.n ? i : i % a.w_len] : 1.0f;
        const float u = expf(-fabsf(x));
        const float lp = log1pf(u);
        const float sp_pos = fmaxf(x, 0.0f) + lp;
        const float sp_neg = fmaxf(-x, 0.0f) + lp;
        const float ap = pw * t;
        const float an = 1.0f - t;
        const float inv = 1.0f / (1.0f + u);
        const float sig_pos = x >= 0.0f ? inv : u * inv;
        const float sig_neg = x >= 0.0f ? u * inv : inv;
        float l = mul0(ap, sp_neg) + mul0(an, sp_pos);
        float g = an * sig_pos - ap * sig_neg;
        const bool keep = c != 0.0f;
        l = keep ? c * l : 0.0f;
        g = keep ? a.k * (c * g) : 0.0f;
        G[i] = narrow(g);
        if (a.per_element) out[i] = l;
        total += (double)l;
    }
    total = block_sum(total, scratch);
    if (!a.per_element && threadIdx.x == 0) out[blockIdx.x] = (float)total;
}
