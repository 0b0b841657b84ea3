// Runs the kernels (gen.py output, -DKERNELS="file") under the emulator against a float64 reference.
#include KERNELS
#include <random>
#include <algorithm>
#include <tuple>

static const int ESZ = sizeof(U);

struct Plan { bool smem; unsigned cluster; int per; size_t smem_bytes; bool pipelined = false; int stages = 0; };
static Plan plan(int v, bool clusters, size_t budget, unsigned maxc, bool online, int stages = 0) {
    int vec = 16 / ESZ;
    // The pipelined kernel (src/lib.rs: plan): aligned rows of whole packs, `stages` slices per CTA.
    if (clusters && stages >= 2 && v % vec == 0)
        for (unsigned c : {1u, 2u, 4u, 8u}) {
            if (c > maxc) break;
            long per = (v / vec + c - 1) / c;
            if (per * 16 <= (long)budget) return {true, c, (int)per, (size_t)(stages * per * 16), true, stages};
        }
    long packs = (v + 2L * vec - 2) / vec;
    unsigned cmax = clusters ? maxc : 1;
    if (!online)
        for (unsigned c : {1u, 2u, 4u, 8u}) {
            if (c > cmax) break;
            long per = std::max(1L, (packs + c - 1) / c);
            if (per * 16 <= (long)budget) return {true, c, (int)per, (size_t)per * 16};
        }
    unsigned c = 1;
    for (unsigned x : {8u, 4u, 2u, 1u}) if (x <= cmax) { c = x; break; }
    long per = std::max(1L, (packs + c - 1) / c);
    return {false, c, (int)per, 0};
}

static double q(double x) { return (double)widen(narrow((float)x)); }
// Distance in units in the last place between two finite values of a 16-bit storage type (its
// bits as a sign-magnitude integer).
static long ulps_apart(U a, U b) {
    auto ord = [](U x) { long m = x & 0x7fff; return (x & 0x8000) ? -m : m; };
    return std::labs(ord(a) - ord(b));
}
static U poisonU() { U p; memset(&p, 0xFF, sizeof p); return p; }

struct Case { int n, v; int red; float eps; bool weighted, inplace; size_t budget; unsigned maxc; bool online; unsigned threads; int pad_in, pad_out; int stages = 0; unsigned grid_clusters = 0; bool async_copy = false; bool store_exp = false; int copy_groups = 1; };

static int failures = 0;
static bool close(double got, double want, double tol) {
    if (std::isnan(want)) return std::isnan(got);
    if (std::isinf(want)) return got == want;
    return std::isfinite(got) && std::fabs(got - want) <= tol * std::max(1.0, std::fabs(want));
}

static void run_ce(const Case& c, std::mt19937_64& rng, bool clusters, const std::vector<std::vector<double>>* fixed_z = nullptr, const std::vector<long long>* fixed_t = nullptr, const std::vector<double>* expect_loss = nullptr, int edge_at = 0) {
    std::normal_distribution<double> nd(0, 3);
    int n = c.n, v = c.v;
    std::vector<double> z(n * (size_t)v);
    std::vector<long long> t(n);
    for (int i = 0; i < n; i++) {
        t[i] = rng() % v;
        for (int j = 0; j < v; j++) z[i * (size_t)v + j] = q(nd(rng));
        if (i % 5 == 0 && v > 2) {
            for (int k = 0; k < (v + 9) / 10; k++) { int j = rng() % v; if (j != t[i]) z[i * (size_t)v + j] = -INFINITY; }
            z[i * (size_t)v + rng() % v] = q(1e4);
        } else if (i % 5 == 1) {
            for (int k = 0; k < (v + 6) / 7; k++) z[i * (size_t)v + rng() % v] = q((rng() & 1) ? 1e4 : -1e4);
        } else if (i % 5 == 2 && n > 3) t[i] = -100;
    }
    if (fixed_z) { for (int i = 0; i < n; i++) for (int j = 0; j < v; j++) z[i * (size_t)v + j] = (*fixed_z)[i][j]; t = *fixed_t; }
    std::vector<float> w(v, 1.0f);
    if (c.weighted) for (auto& x : w) x = (float)std::uniform_real_distribution<double>(0, 2)(rng);
    // reference
    double den = 0, W = 0; for (int j = 0; j < v; j++) W += w[j];
    for (int i = 0; i < n; i++) if (t[i] != -100) den += w[t[i]];
    double k = c.red == 2 ? (den == 0 ? 0 : 1 / den) : 1;
    std::vector<double> rl(n, 0), rg(n * (size_t)v, 0);
    double a_eps = c.eps, b = a_eps / v;
    for (int i = 0; i < n && !fixed_z; i++) {
        if (t[i] == -100 || k == 0) continue;
        const double* zr = &z[i * (size_t)v];
        double m = -INFINITY; for (int j = 0; j < v; j++) m = std::max(m, zr[j]);
        double s = 0; for (int j = 0; j < v; j++) s += std::exp(zr[j] - m);
        double ls = std::log(s), a = (1 - a_eps) * w[t[i]];
        double loss = a == 0 ? 0 : a * (ls - (zr[t[i]] - m));
        if (b > 0) { double sm = 0; for (int j = 0; j < v; j++) if (w[j] > 0) sm += w[j] * (ls - (zr[j] - m)); loss += b * sm; }
        rl[i] = loss;
        for (int j = 0; j < v; j++) rg[i * (size_t)v + j] = k * ((a + b * W) * std::exp(zr[j] - m) / s - b * w[j] - (j == t[i] ? a : 0));
    }
    double value = 0; for (double x : rl) value += x; value *= k;
    // device buffers
    int si = v + c.pad_in, so = c.inplace ? si : v + c.pad_out;
    std::vector<U> lg(n * (size_t)si, poisonU()), gr(c.inplace ? 1 : n * (size_t)so, poisonU());
    for (int i = 0; i < n; i++) for (int j = 0; j < v; j++) lg[i * (size_t)si + j] = narrow((float)z[i * (size_t)v + j]);
    // Misalign the row starts by an offset of elements within the 16-byte packs.
    std::vector<float> loss(c.red == 0 ? n : 1, __uint_as_float(~0u)), ws(n + 4 + 4, __uint_as_float(~0u));
    Plan p = plan(v, clusters, c.budget, c.maxc, c.online, c.stages);
    CeArgs a{};
    a.logits = (u64)lg.data(); a.grad = c.inplace ? (u64)lg.data() : (u64)gr.data(); a.targets = (u64)t.data();
    a.weight = c.weighted ? (u64)w.data() : 0; a.row_loss = c.red == 0 ? (u64)loss.data() : (u64)(ws.data() + 4); a.scal = (u64)ws.data();
    a.n = n; a.v = v; a.stride_in = si; a.stride_out = so; a.ignore_index = -100; a.has_ignore = 1; a.eps = c.eps; a.cluster = p.cluster; a.per = p.per; a.stages = p.stages;
    a.async_copy = p.smem && !p.pipelined && c.async_copy;
    a.store_exp = c.store_exp && (p.pipelined || a.async_copy);  // as src/lib.rs: plan
    a.copy_groups = c.copy_groups;
    // The launch sequence of src/gpu.rs.
    auto launch = [&](const CeArgs& a, float* loss_out) {
        int red = c.red;
        emu_launch(1, 64, 1, 0, [&] { ce_prepare(a, red); });
        if (n > 0 && p.pipelined) {
            // Persistent: `grid_clusters` clusters share the rows.
            unsigned g = std::min<unsigned>(n, c.grid_clusters) * p.cluster;
            emu_launch(g, c.threads, p.cluster, p.smem_bytes, [&] { ce_rows_pipelined(a); });
        } else if (n > 0) {
            emu_launch(n * p.cluster, c.threads, p.cluster, p.smem_bytes, [&] { if (p.smem) ce_rows_smem(a); else ce_rows_online(a); });
        }
        if (c.red != 0) { u64 rlp = a.row_loss, sp = a.scal, lp = (u64)loss_out; long long nn = n; emu_launch(1, 64, 1, 0, [&] { reduce_sum(rlp, nn, sp, 1.0f, lp); }); }
    };
    // With stored exponentials, the same call without them first (fresh buffers): each gradient
    // entry may differ from that one by at most one unit in the last place of the storage type
    // (the stored values' relative error, 2^−10 at most, is below half the gradient's ulp; f32:
    // a relative 1e-5, the exponents' rounding), beyond the f64 reference's tolerance below.
    std::vector<U> plain;
    if (a.store_exp) {
        std::vector<U> lg2 = lg, gr2 = gr;
        std::vector<float> loss2 = loss, ws2 = ws;
        CeArgs b = a;
        b.store_exp = 0;
        b.logits = (u64)lg2.data(); b.grad = c.inplace ? (u64)lg2.data() : (u64)gr2.data();
        b.row_loss = c.red == 0 ? (u64)loss2.data() : (u64)(ws2.data() + 4); b.scal = (u64)ws2.data();
        launch(b, loss2.data());
        plain = c.inplace ? lg2 : gr2;
    }
    launch(a, loss.data());
    const U* G = c.inplace ? lg.data() : gr.data();
    double gtol = ESZ == 4 ? 2e-6 : (SURPRISAL_DTYPE == 1 ? 8e-3 : 1e-3), ltol = 2e-6;
    char what[400]; snprintf(what, sizeof what, "n=%d v=%d red=%d eps=%g w=%d inplace=%d plan(smem=%d C=%u per=%d stages=%d G=%u async=%d groups=%d ex=%d) threads=%u pads=%d/%d", n, v, c.red, c.eps, c.weighted, c.inplace, p.smem, p.cluster, p.per, p.stages, c.grid_clusters, (int)a.async_copy, a.copy_groups, (int)a.store_exp, c.threads, c.pad_in, c.pad_out);
    int bad = 0;
    if (fixed_z) {
        for (int i = 0; i < n; i++) if (!close(loss[i], (*expect_loss)[i], 1e-6)) { printf("FAIL edge %s row %d loss %g want %g\n", what, i, loss[i], (*expect_loss)[i]); bad++; }
        // Expected gradients: +inf entries share the mass; no distribution: 0; NaN rows: NaN.
        const double e3 = std::exp(3.0) + std::exp(1.0) + 1.0 + std::exp(2.0);
        const std::vector<std::vector<double>> eg = {{0, -0.5, 0, 0.5, 0}, {0, 0, 0, 0, 0}, {NAN, NAN, NAN, NAN, NAN},
                                                     {std::exp(3.0) / e3, std::exp(1.0) / e3, 1.0 / e3, -1, std::exp(2.0) / e3}, {NAN, NAN, NAN, NAN, NAN}};
        for (int i = 0; i < n; i++)
            for (int j = 0; j < v; j++)
                if (!close(widen(G[i * (size_t)so + j]), j >= edge_at && j < edge_at + 5 ? eg[i][j - edge_at] : std::isnan(eg[i][0]) ? NAN : 0.0, gtol)) { printf("FAIL edge %s grad(%d,%d) = %g\n", what, i, j, widen(G[i * (size_t)so + j])); bad++; }
        for (int i = 0; i < n; i++) { printf("  edge row %d loss %g grad:", i, loss[i]); for (int j = 0; j < v && j < 8; j++) printf(" %g", widen(G[i * (size_t)so + j])); printf("\n"); }
    } else {
        for (int i = 0; i < n && bad < 5; i++)
            for (int j = 0; j < so && bad < 5; j++) {
                U g = G[i * (size_t)so + j];
                if (j >= v) continue;
                double want = rg[i * (size_t)v + j], got = widen(g);
                if (!std::isfinite(got) || std::fabs(got - want) > gtol * std::max(1.0, std::fabs(want))) { printf("FAIL %s grad(%d,%d)=%g want %g\n", what, i, j, got, want); bad++; }
            }
        for (size_t e = 0; e < plain.size() && bad < 5; e++) {
            if (e % so >= (size_t)v) continue;
            const double x = widen(G[e]), y = widen(plain[e]);
            const bool near = ESZ == 4 ? std::fabs(x - y) <= 1e-5 * std::fabs(y) + 1e-38 : ulps_apart(G[e], plain[e]) <= 1;
            if (!(near || (std::isnan(x) && std::isnan(y)))) { printf("FAIL %s stored exponentials: grad(%zu, %zu) = %.9g, without %.9g\n", what, e / so, e % so, x, y); bad++; }
        }
        if (!c.inplace) for (int i = 0; i < n; i++) for (int j = v; j < so; j++) { U g = gr[i * (size_t)so + j]; U pz = poisonU(); if (memcmp(&g, &pz, sizeof(U))) { printf("FAIL %s padding (%d,%d) written\n", what, i, j); bad++; } }
        if (c.red == 0) { for (int i = 0; i < n; i++) if (!close(loss[i], rl[i], ltol * 10)) { printf("FAIL %s row loss %d = %.9g want %.9g\n", what, i, loss[i], rl[i]); bad++; } }
        else if (!close(loss[0], value, ltol * 10)) { printf("FAIL %s loss = %.9g want %.9g\n", what, loss[0], value); bad++; }
    }
    failures += bad > 0;
}

static void run_bce(std::mt19937_64& rng, int n, int red, bool pw_on, bool w_on, bool inplace, unsigned grid) {
    std::normal_distribution<double> nd(0, 4);
    std::uniform_real_distribution<double> ud(0, 1);
    int pw_len = 10;
    std::vector<U> x(n), t(n), g(n, poisonU());
    std::vector<double> xd(n), td(n);
    for (int i = 0; i < n; i++) {
        xd[i] = q(i % 11 == 0 ? 60.0 : i % 11 == 1 ? -60.0 : nd(rng));
        td[i] = q(i % 3 == 0 ? ud(rng) : (ud(rng) < 0.5 ? 1.0 : 0.0));
        x[i] = narrow((float)xd[i]);
        t[i] = narrow((float)td[i]);
    }
    std::vector<float> pw(pw_len), w(n);
    for (auto& v : pw) v = (float)(3 * ud(rng));
    for (int i = 0; i < n; i++) w[i] = i % 5 == 0 ? 0.0f : (float)(2 * ud(rng));
    double k = red == 2 ? 1.0 / n : 1.0, total = 0;
    std::vector<double> rl(n), rg(n);
    for (int i = 0; i < n; i++) {
        double X = xd[i], T = td[i], P = pw_on ? pw[i % pw_len] : 1.0, c = w_on ? w[i] : 1.0;
        auto sp = [](double z) { return std::max(z, 0.0) + std::log1p(std::exp(-std::fabs(z))); };
        auto sig = [](double z) { return 1 / (1 + std::exp(-z)); };
        double a = P * T, b = 1 - T;
        double l = (a == 0 ? 0 : a * sp(-X)) + (b == 0 ? 0 : b * sp(X));
        double gr = b * sig(X) - a * sig(-X);
        rl[i] = c == 0 ? 0 : c * l;
        rg[i] = c == 0 ? 0 : k * c * gr;
        total += rl[i];
    }
    std::vector<float> out(red == 0 ? n : 1024, __uint_as_float(~0u)), loss(1, __uint_as_float(~0u));
    BceArgs a{};
    a.x = (u64)x.data(); a.t = (u64)t.data(); a.grad = inplace ? (u64)x.data() : (u64)g.data();
    a.pos_weight = pw_on ? (u64)pw.data() : 0; a.weight = w_on ? (u64)w.data() : 0; a.out = (u64)out.data();
    a.n = n; a.pw_len = pw_len; a.w_len = n; a.k = (float)k; a.per_element = red == 0;
    emu_launch(grid, 64, 1, 0, [&] { bce_with_logits(a); });
    if (red != 0) { u64 o = (u64)out.data(), lp = (u64)loss.data(); long long parts = grid; float kk = (float)k; emu_launch(1, 64, 1, 0, [&] { reduce_sum(o, parts, 0, kk, lp); }); }
    const U* G = inplace ? x.data() : g.data();
    double gtol = ESZ == 4 ? 2e-6 : (SURPRISAL_DTYPE == 1 ? 8e-3 : 1e-3);
    int bad = 0;
    for (int i = 0; i < n && bad < 5; i++) {
        double got = widen(G[i]);
        if (!std::isfinite(got) || std::fabs(got - rg[i]) > gtol * std::max(1.0, std::fabs(rg[i]))) { printf("FAIL bce n=%d red=%d pw=%d w=%d inplace=%d grad %d = %g want %g\n", n, red, pw_on, w_on, inplace, i, got, rg[i]); bad++; }
    }
    if (red == 0) { for (int i = 0; i < n && bad < 5; i++) if (!close(out[i], rl[i], 2e-6)) { printf("FAIL bce loss %d = %g want %g\n", i, out[i], rl[i]); bad++; } }
    else if (!close(loss[0], total * k, 2e-6)) { printf("FAIL bce red=%d loss %.9g want %.9g\n", red, loss[0], total * k); bad++; }
    failures += bad > 0;
}

int main(int argc, char** argv) {
    bool clusters = SURPRISAL_HAS_CLUSTER;
    unsigned long seed = argc > 1 ? strtoul(argv[1], 0, 10) : 1;
    std::mt19937_64 rng(seed);
    int cases = 0;
    struct T { size_t budget; unsigned maxc; bool online; unsigned threads; int stages = 0; unsigned grid_clusters = 0; };
    // {65536, 1, false, 32}: up to 33 packs per thread (four commit groups of the cp.async copy,
    // the last one longer). The last four: the pipelined kernel (sm_90 code only; elsewhere they take the other kernels),
    // with 1–3 resident clusters so that every stage is reused and its parity flips.
    std::vector<T> tunings = {{65536, 8, false, 64}, {64, 8, false, 32}, {256, 8, false, 64}, {512, 2, false, 96}, {65536, 8, true, 64}, {65536, 1, true, 32}, {1024, 4, false, 64}, {65536, 1, false, 32},
                              {65536, 8, false, 64, 2, 1}, {64, 8, false, 32, 3, 2}, {512, 2, false, 96, 4, 3}, {256, 8, false, 64, 2, 2}};
    int only = argc > 2 ? atoi(argv[2]) : -1;
    if (only == 99) tunings.clear();
    for (size_t ti = 0; ti < tunings.size(); ti++) {
        if (only >= 0 && (int)ti != only) continue;
        auto tu = tunings[ti];
        const int vec = 16 / ESZ;
        const bool piped = tu.stages > 0;
        for (int v : {1, 2, 7, 9, 33, 1000, 4099, 8, 16, 4104})
            for (int red : {0, 1, 2})
                // Stored exponentials asked for: taken by the unweighted, unsmoothed rows only.
                for (auto [eps, wt, ex] : {std::tuple<float, bool, bool>{0, false, false}, {0, false, true}, {0.1f, false, false}, {0, true, true}, {0.25f, true, false}}) {
                    // in place / separate and the row padding alternate instead of multiplying the cases
                    bool inplace = (cases & 1) != 0;
                    int pad = (cases & 2) ? 3 : (cases & 4 ? 1 : 0);
                    // The pipelined kernel reads whole packs: V and the logits row stride multiples
                    // of VEC (the gradient rows keep their odd padding).
                    if (piped ? v % vec != 0 : (v == 8 || v == 16 || v == 4104)) continue;
                    int pad_in = piped ? (cases & 2 ? vec : 0) : pad;
                    // The one-read kernel copies with cp.async in every other case (always when the
                    // exponentials are to be stored, which needs it), in 1 to 4 commit groups.
                    Case c{7, v, red, eps, wt, inplace, tu.budget, tu.maxc, tu.online, tu.threads, pad_in, pad + 2, tu.stages, tu.grid_clusters, ex || (cases & 8) != 0, ex, 1 + (cases >> 4) % 4};
                    run_ce(c, rng, clusters);
                    cases++;
                }
        fprintf(stderr, "tuning %zu done (%d cases, %d failed)\n", ti, cases, failures);
    }
    // Edge rows: +inf share the mass, all −inf, NaN, an out-of-range target, −inf target; each
    // also padded to V = 264 and 4104 (row 0 with finite columns, which get no mass, the others
    // with −inf), so that a row's slice holds whole packs of each kind and some of a thread's
    // commit groups store their exponentials while another keeps its logits; with and without
    // stored exponentials.
    {
        double I = INFINITY;
        std::vector<std::vector<double>> z = {{1, I, 0, I, -2}, {-I, -I, -I, -I, -I}, {0.5, NAN, 1, 2, 3}, {3, 1, 0, -I, 2}, {1, 2, 3, 4, 5}};
        std::vector<long long> t = {1, 2, 0, 3, 9};
        std::vector<double> want = {std::log(2.0), I, NAN, I, NAN};
        // The five columns at `at` of `to`.
        auto padded = [&](int to, int at) {
            auto zp = z;
            for (size_t i = 0; i < zp.size(); i++) {
                zp[i].assign(to, i == 0 ? 0.25 : -I);
                std::copy(z[i].begin(), z[i].end(), zp[i].begin() + at);
            }
            auto tp = t;
            for (auto& y : tp) y += at;
            tp[4] = to + 4;  // still out of range
            return std::make_pair(zp, tp);
        };
        for (auto tu : tunings)
            for (bool ex : {false, true})
                for (int to : {0, 264, 4104}) {
                    // The pipelined kernel reads whole packs: V = 8 at least.
                    // V = 4104: the special columns at 2000, in a later pack of some thread.
                    int vv = to ? to : tu.stages > 0 ? 8 : 5, at = to == 4104 ? 2000 : 0;
                    auto [zp, tp] = padded(vv, at);
                    Case c{5, vv, 0, 0, false, false, tu.budget, tu.maxc, tu.online, tu.threads, tu.stages > 0 ? 0 : 1, 2, tu.stages, tu.grid_clusters, ex, ex, to == 4104 ? 4 : 1 + cases % 4};
                    run_ce(c, rng, clusters, &zp, &tp, &want, at);
                    cases++;
                }
    }
    if (only < 0 || only == 99)
        for (int red : {0, 1, 2})
            for (int combo = 0; combo < 4; combo++) {
                run_bce(rng, 1000, red, combo & 1, combo & 2, combo == 1 || combo == 2, combo == 3 ? 1 : 5);
                run_bce(rng, 1, red, combo & 1, false, false, 1);
                cases += 2;
            }
    printf("%s dtype=%d clusters=%d: %d cases, %d failed\n", failures ? "FAILED" : "ok", SURPRISAL_DTYPE, (int)clusters, cases, failures);
    return failures != 0;
}
