/* Element-wise kernels of the fused LSTM and vanilla RNN sequence functions:
 * the math (exp, sigmoid, tanh) and the run-time choice of a CPU variant.
 * The kernels themselves are in _fused_kernels_impl.h, compiled here once
 * per type and CPU variant.
 *
 * Numerics. This file must be compiled without -ffast-math: linked into a
 * shared object, it pulls in crtfastmath.o, which sets flush-to-zero for the
 * whole process, and its reciprocal approximations made float32
 * sigmoid(-1e4) NaN. exp is a polynomial of our own, because the compiler
 * vectorizes it (libm's exp is a scalar call); it is accurate to about one
 * ulp and saturates to 0 below the smallest normal result. Only exp of
 * non-positive arguments is ever needed (sigmoid and tanh use exp(-|a|)), so
 * nothing overflows, and sigmoid and tanh are exact limits (0, 1, -1) at
 * +-1e30 and +-inf. The AVX2 and AVX-512F variants let the compiler fuse
 * multiplies and adds (FMA: 1.7x faster polynomials, and each fused operation
 * rounds once), so that they agree with the generic one to rounding, not to
 * the bit.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "_fused_kernels.h"

#if defined(__GNUC__) || defined(__clang__)
#define FUSED_INLINE static inline __attribute__((always_inline))
#define FUSED_RESTRICT __restrict__
#else
#define FUSED_INLINE static inline
#define FUSED_RESTRICT
#endif

#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
#define FUSED_X86 1
#else
#define FUSED_X86 0
#endif

/* ------------------------------------------------------------------------
 * exp and expm1 of x <= 0, in double and float
 *
 * x = n ln2 + r with n = round(x / ln2) and |r| <= ln2 / 2 (Cody-Waite: ln2
 * in two parts, n * LN2_HI exact); expm1(r) = r + r^2 (1/2! + r/3! + ...)
 * truncated where the next term is below 0.1 ulp; then exp(x) = 2^n (1 +
 * expm1(r)) and expm1(x) = (2^n - 1) + 2^n expm1(r), accurate also for tiny
 * |x| (n = 0). n is rounded by adding 1.5 * 2^52 (2^23 in float), whose low
 * bits then hold n: 2^n is built from those bits, with no conversion to
 * integer (which would raise FE_INVALID on NaN). Below EXP_LO, where 2^n
 * would not be normal, exp is 0 and expm1 is -1.
 * ------------------------------------------------------------------------ */

#define LOG2E 1.4426950408889634
#define LN2_HI_D 6.93147180369123816490e-01 /* 0x3fe62e42fee00000 */
#define LN2_LO_D 1.90821492927058770002e-10
#define SHIFT_D 6755399441055744.0 /* 1.5 * 2^52 */
#define EXP_LO_D (-708.0)

#define LN2_HI_F 0.693145751953125f /* 0x3f317200 */
#define LN2_LO_F 1.428606765330187045e-06f
#define SHIFT_F 12582912.0f /* 1.5 * 2^23 */
#define EXP_LO_F (-87.0f)

/* expm1(r) for |r| <= ln2 / 2, Taylor to r^13 (double) and r^8 (float) */
FUSED_INLINE double expm1_poly_d(double r)
{
    double p = 1.0 / 6227020800.0;
    p = p * r + 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    return r + (r * r) * p;
}

FUSED_INLINE float expm1_poly_f(float r)
{
    float p = 1.0f / 40320.0f;
    p = p * r + 1.0f / 5040.0f;
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    return r + (r * r) * p;
}

/* 2^n from k = n + SHIFT (n in the low bits of k) */
FUSED_INLINE double pow2_d(double k)
{
    uint64_t bits;
    memcpy(&bits, &k, sizeof bits);
    bits = (bits + 1023) << 52;
    memcpy(&k, &bits, sizeof bits);
    return k;
}

FUSED_INLINE float pow2_f(float k)
{
    uint32_t bits;
    memcpy(&bits, &k, sizeof bits);
    bits = (bits + 127) << 23;
    memcpy(&k, &bits, sizeof bits);
    return k;
}

/* s = 2^n and q = expm1(r) of the reduction of x (clamped at EXP_LO) */
FUSED_INLINE double reduce_d(double x, double *q)
{
    double xc = x < EXP_LO_D ? EXP_LO_D : x;
    double k = xc * LOG2E + SHIFT_D;
    double n = k - SHIFT_D;
    double r = (xc - n * LN2_HI_D) - n * LN2_LO_D;
    *q = expm1_poly_d(r);
    return pow2_d(k);
}

FUSED_INLINE float reduce_f(float x, float *q)
{
    float xc = x < EXP_LO_F ? EXP_LO_F : x;
    float k = xc * (float)LOG2E + SHIFT_F;
    float n = k - SHIFT_F;
    float r = (xc - n * LN2_HI_F) - n * LN2_LO_F;
    *q = expm1_poly_f(r);
    return pow2_f(k);
}

/* exp(x) for x <= 0 */
FUSED_INLINE double exp_neg_d(double x)
{
    double q, s = reduce_d(x, &q);
    double e = s + s * q;
    return x < EXP_LO_D ? 0.0 : e;
}

FUSED_INLINE float exp_neg_f(float x)
{
    float q, s = reduce_f(x, &q);
    float e = s + s * q;
    return x < EXP_LO_F ? 0.0f : e;
}

/* expm1(x) for x <= 0 */
FUSED_INLINE double expm1_neg_d(double x)
{
    double q, s = reduce_d(x, &q);
    double m = (s - 1.0) + s * q;
    return x < EXP_LO_D ? -1.0 : m;
}

FUSED_INLINE float expm1_neg_f(float x)
{
    float q, s = reduce_f(x, &q);
    float m = (s - 1.0f) + s * q;
    return x < EXP_LO_F ? -1.0f : m;
}

/* sigmoid(a) = 1 / (1 + e) for a >= 0, e / (1 + e) for a < 0, e = exp(-|a|) */
FUSED_INLINE double sigmoid_d(double a)
{
    double e = exp_neg_d(-fabs(a));
    double s = 1.0 / (1.0 + e);
    return a < 0 ? e * s : s;
}

FUSED_INLINE float sigmoid_f(float a)
{
    float e = exp_neg_f(-fabsf(a));
    float s = 1.0f / (1.0f + e);
    return a < 0 ? e * s : s;
}

/* tanh(a) = sign(a) (1 - e) / (1 + e), e = exp(-2|a|), as -m / (2 + m) with
 * m = expm1(-2|a|): no cancellation near 0 */
FUSED_INLINE double tanh_d(double a)
{
    double m = expm1_neg_d(-2.0 * fabs(a));
    return copysign(-m / (2.0 + m), a);
}

FUSED_INLINE float tanh_f(float a)
{
    float m = expm1_neg_f(-2.0f * fabsf(a));
    return copysignf(-m / (2.0f + m), a);
}

/* ------------------------------------------------------------------------
 * The kernels, once per CPU variant and type
 * ------------------------------------------------------------------------ */

#define FUSED_TARGET
#define FUSED_VARIANT generic
#include "_fused_kernels_variant.h"
#undef FUSED_TARGET
#undef FUSED_VARIANT

#if FUSED_X86
#define FUSED_TARGET __attribute__((target("avx2,fma")))
#define FUSED_VARIANT avx2
#include "_fused_kernels_variant.h"
#undef FUSED_TARGET
#undef FUSED_VARIANT

#define FUSED_TARGET __attribute__((target("avx512f,fma")))
#define FUSED_VARIANT avx512f
#include "_fused_kernels_variant.h"
#undef FUSED_TARGET
#undef FUSED_VARIANT
#endif

/* ------------------------------------------------------------------------
 * Run-time dispatch
 * ------------------------------------------------------------------------ */

typedef struct {
    void (*lstm_forward_step_d)(ptrdiff_t, ptrdiff_t, double *, const double *,
                                const double *, double *, double *, double *,
                                const unsigned char *, ptrdiff_t);
    void (*lstm_forward_step_f)(ptrdiff_t, ptrdiff_t, float *, const float *,
                                const float *, float *, float *, float *,
                                const unsigned char *, ptrdiff_t);
    void (*lstm_backward_step_d)(ptrdiff_t, ptrdiff_t, const double *,
                                 const double *, const double *, const double *,
                                 ptrdiff_t, double *, double *, double *,
                                 const unsigned char *, ptrdiff_t);
    void (*lstm_backward_step_f)(ptrdiff_t, ptrdiff_t, const float *,
                                 const float *, const float *, const float *,
                                 ptrdiff_t, float *, float *, float *,
                                 const unsigned char *, ptrdiff_t);
    void (*rnn_forward_step_d)(ptrdiff_t, ptrdiff_t, double *, const double *,
                               int, const unsigned char *, ptrdiff_t);
    void (*rnn_forward_step_f)(ptrdiff_t, ptrdiff_t, float *, const float *,
                               int, const unsigned char *, ptrdiff_t);
    void (*rnn_backward_step_d)(ptrdiff_t, ptrdiff_t, const double *,
                                const double *, ptrdiff_t, double *, double *,
                                int, const unsigned char *, ptrdiff_t);
    void (*rnn_backward_step_f)(ptrdiff_t, ptrdiff_t, const float *,
                                const float *, ptrdiff_t, float *, float *, int,
                                const unsigned char *, ptrdiff_t);
    void (*sigmoid_d)(ptrdiff_t, const double *, double *);
    void (*sigmoid_f)(ptrdiff_t, const float *, float *);
    void (*tanh_d)(ptrdiff_t, const double *, double *);
    void (*tanh_f)(ptrdiff_t, const float *, float *);
} fused_table;

#define FUSED_TABLE(V)                                                        \
    {                                                                         \
        lstm_forward_step_d_##V, lstm_forward_step_f_##V,                     \
            lstm_backward_step_d_##V, lstm_backward_step_f_##V,               \
            rnn_forward_step_d_##V, rnn_forward_step_f_##V,                   \
            rnn_backward_step_d_##V, rnn_backward_step_f_##V, sigmoid_d_##V,  \
            sigmoid_f_##V, tanh_d_##V, tanh_f_##V                             \
    }

static const fused_table tables[FUSED_N_VARIANTS] = {
    FUSED_TABLE(generic),
#if FUSED_X86
    FUSED_TABLE(avx2),
    FUSED_TABLE(avx512f),
#else
    FUSED_TABLE(generic),
    FUSED_TABLE(generic),
#endif
};

static const char *const variant_names[FUSED_N_VARIANTS] = {
#if FUSED_X86
    "x86-64 baseline (SSE2)",
#else
    "generic",
#endif
    "AVX2+FMA",
    "AVX-512F",
};

/* The generic variant until fused_select_variant runs (at import). */
static int current = 0;

int fused_variant_supported(int v)
{
    if (v == 0) {
        return 1;
    }
#if FUSED_X86
    /* __builtin_cpu_supports also checks that the OS saves the registers */
    __builtin_cpu_init();
    if (v == 1) {
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    }
    if (v == 2) { /* every CPU with AVX-512F has FMA */
        return __builtin_cpu_supports("avx512f") != 0;
    }
#endif
    return 0;
}

int fused_select_variant(int v)
{
    if (v < 0) {
        for (v = FUSED_N_VARIANTS - 1; v > 0 && !fused_variant_supported(v);
             v--) {
        }
    }
    else if (v >= FUSED_N_VARIANTS || !fused_variant_supported(v)) {
        return -1;
    }
    current = v;
    return v;
}

int fused_current_variant(void) { return current; }

const char *fused_variant_name(int v)
{
    return (v >= 0 && v < FUSED_N_VARIANTS) ? variant_names[v] : "";
}

/* ------------------------------------------------------------------------
 * Entry points: the selected variant's kernels
 * ------------------------------------------------------------------------ */

void fused_lstm_forward_step_d(ptrdiff_t N, ptrdiff_t H, double *a,
                               const double *prev_h, const double *prev_c,
                               double *h, double *c, double *tanh_c,
                               const unsigned char *keep, ptrdiff_t keep_stride)
{
    tables[current].lstm_forward_step_d(N, H, a, prev_h, prev_c, h, c, tanh_c,
                                        keep, keep_stride);
}

void fused_lstm_forward_step_f(ptrdiff_t N, ptrdiff_t H, float *a,
                               const float *prev_h, const float *prev_c,
                               float *h, float *c, float *tanh_c,
                               const unsigned char *keep, ptrdiff_t keep_stride)
{
    tables[current].lstm_forward_step_f(N, H, a, prev_h, prev_c, h, c, tanh_c,
                                        keep, keep_stride);
}

void fused_lstm_backward_step_d(ptrdiff_t N, ptrdiff_t H, const double *gates,
                                const double *tanh_c, const double *prev_c,
                                const double *dh_ext, ptrdiff_t dh_stride,
                                double *dh_next, double *dc_next, double *da,
                                const unsigned char *keep,
                                ptrdiff_t keep_stride)
{
    tables[current].lstm_backward_step_d(N, H, gates, tanh_c, prev_c, dh_ext,
                                         dh_stride, dh_next, dc_next, da, keep,
                                         keep_stride);
}

void fused_lstm_backward_step_f(ptrdiff_t N, ptrdiff_t H, const float *gates,
                                const float *tanh_c, const float *prev_c,
                                const float *dh_ext, ptrdiff_t dh_stride,
                                float *dh_next, float *dc_next, float *da,
                                const unsigned char *keep,
                                ptrdiff_t keep_stride)
{
    tables[current].lstm_backward_step_f(N, H, gates, tanh_c, prev_c, dh_ext,
                                         dh_stride, dh_next, dc_next, da, keep,
                                         keep_stride);
}

void fused_rnn_forward_step_d(ptrdiff_t N, ptrdiff_t H, double *h,
                              const double *prev_h, int sigmoid,
                              const unsigned char *keep, ptrdiff_t keep_stride)
{
    tables[current].rnn_forward_step_d(N, H, h, prev_h, sigmoid, keep,
                                       keep_stride);
}

void fused_rnn_forward_step_f(ptrdiff_t N, ptrdiff_t H, float *h,
                              const float *prev_h, int sigmoid,
                              const unsigned char *keep, ptrdiff_t keep_stride)
{
    tables[current].rnn_forward_step_f(N, H, h, prev_h, sigmoid, keep,
                                       keep_stride);
}

void fused_rnn_backward_step_d(ptrdiff_t N, ptrdiff_t H, const double *h,
                               const double *dh_ext, ptrdiff_t dh_stride,
                               double *dh_next, double *da, int sigmoid,
                               const unsigned char *keep, ptrdiff_t keep_stride)
{
    tables[current].rnn_backward_step_d(N, H, h, dh_ext, dh_stride, dh_next, da,
                                        sigmoid, keep, keep_stride);
}

void fused_rnn_backward_step_f(ptrdiff_t N, ptrdiff_t H, const float *h,
                               const float *dh_ext, ptrdiff_t dh_stride,
                               float *dh_next, float *da, int sigmoid,
                               const unsigned char *keep, ptrdiff_t keep_stride)
{
    tables[current].rnn_backward_step_f(N, H, h, dh_ext, dh_stride, dh_next, da,
                                        sigmoid, keep, keep_stride);
}

void fused_sigmoid_d(ptrdiff_t n, const double *x, double *out)
{
    tables[current].sigmoid_d(n, x, out);
}

void fused_sigmoid_f(ptrdiff_t n, const float *x, float *out)
{
    tables[current].sigmoid_f(n, x, out);
}

void fused_tanh_d(ptrdiff_t n, const double *x, double *out)
{
    tables[current].tanh_d(n, x, out);
}

void fused_tanh_f(ptrdiff_t n, const float *x, float *out)
{
    tables[current].tanh_f(n, x, out);
}
