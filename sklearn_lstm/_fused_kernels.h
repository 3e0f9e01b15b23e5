/* Element-wise kernels of one time step of the fused LSTM and vanilla RNN
 * sequence functions (see _fused.pyx), in float ("_f") and double ("_d").
 *
 * Shapes are those of sklearn_lstm/_cells.py: N sequences, H hidden units;
 * every (N, H) or (N, 4H) array is C-contiguous, except the upstream gradient
 * dh_ext, whose rows are dh_stride elements apart. keep is NULL when no
 * sequence is padded at this step, else keep[n * keep_stride] is nonzero when
 * the step of sequence n is real.
 *
 * Each kernel exists once per CPU variant (generic; on x86-64 also AVX2+FMA and
 * AVX-512F); fused_select_variant picks which one the calls below run.
 */
#ifndef SKLEARN_LSTM_FUSED_KERNELS_H
#define SKLEARN_LSTM_FUSED_KERNELS_H

#include <stddef.h>

/* LSTM forward step: a holds the pre-activations (i, f, g, o) of the step
 * and is overwritten with the gate values; writes c, tanh(c) and h. */
void fused_lstm_forward_step_d(ptrdiff_t N, ptrdiff_t H, double *a,
                               const double *prev_h, const double *prev_c,
                               double *h, double *c, double *tanh_c,
                               const unsigned char *keep,
                               ptrdiff_t keep_stride);
void fused_lstm_forward_step_f(ptrdiff_t N, ptrdiff_t H, float *a,
                               const float *prev_h, const float *prev_c,
                               float *h, float *c, float *tanh_c,
                               const unsigned char *keep,
                               ptrdiff_t keep_stride);

/* LSTM backward step: from the gates, tanh(c), c[t-1], the upstream dh_ext
 * and the carried dh_next, dc_next, writes da (gradient of the
 * pre-activations, 0 on padded rows) and dc_next; dh_next becomes what the
 * product da @ Wh.T is to be added to: dh on padded rows, 0 on the others
 * (left as it is when keep is NULL: the product overwrites it). */
void fused_lstm_backward_step_d(ptrdiff_t N, ptrdiff_t H, const double *gates,
                                const double *tanh_c, const double *prev_c,
                                const double *dh_ext, ptrdiff_t dh_stride,
                                double *dh_next, double *dc_next, double *da,
                                const unsigned char *keep,
                                ptrdiff_t keep_stride);
void fused_lstm_backward_step_f(ptrdiff_t N, ptrdiff_t H, const float *gates,
                                const float *tanh_c, const float *prev_c,
                                const float *dh_ext, ptrdiff_t dh_stride,
                                float *dh_next, float *dc_next, float *da,
                                const unsigned char *keep,
                                ptrdiff_t keep_stride);

/* RNN forward step: h holds the pre-activations and is overwritten with
 * act(h), sigmoid if sigmoid is nonzero, else tanh; padded rows copy prev_h. */
void fused_rnn_forward_step_d(ptrdiff_t N, ptrdiff_t H, double *h,
                              const double *prev_h, int sigmoid,
                              const unsigned char *keep,
                              ptrdiff_t keep_stride);
void fused_rnn_forward_step_f(ptrdiff_t N, ptrdiff_t H, float *h,
                              const float *prev_h, int sigmoid,
                              const unsigned char *keep,
                              ptrdiff_t keep_stride);

/* RNN backward step: da from h and dh_ext + dh_next; dh_next as in the LSTM
 * backward step. */
void fused_rnn_backward_step_d(ptrdiff_t N, ptrdiff_t H, const double *h,
                               const double *dh_ext, ptrdiff_t dh_stride,
                               double *dh_next, double *da, int sigmoid,
                               const unsigned char *keep,
                               ptrdiff_t keep_stride);
void fused_rnn_backward_step_f(ptrdiff_t N, ptrdiff_t H, const float *h,
                               const float *dh_ext, ptrdiff_t dh_stride,
                               float *dh_next, float *da, int sigmoid,
                               const unsigned char *keep,
                               ptrdiff_t keep_stride);

/* Element-wise sigmoid and tanh of n values (x and out may be the same),
 * with the step kernels' formulas: for tests. */
void fused_sigmoid_d(ptrdiff_t n, const double *x, double *out);
void fused_sigmoid_f(ptrdiff_t n, const float *x, float *out);
void fused_tanh_d(ptrdiff_t n, const double *x, double *out);
void fused_tanh_f(ptrdiff_t n, const float *x, float *out);

/* CPU variants: 0 generic, 1 AVX2 with FMA, 2 AVX-512F. */
#define FUSED_N_VARIANTS 3
/* Whether variant v is compiled in and this CPU (and OS) runs it. */
int fused_variant_supported(int v);
/* Run variant v from now on (-1: the best supported); returns the variant
 * selected, or -1 (and changes nothing) if v is not supported. */
int fused_select_variant(int v);
/* The variant selected, and the name of variant v. */
int fused_current_variant(void);
const char *fused_variant_name(int v);

#endif
