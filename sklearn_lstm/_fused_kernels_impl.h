/* The element-wise kernels of one time step, for one type (REAL) and CPU
 * variant: see _fused_kernels.h for what each computes, and
 * sklearn_lstm/_cells.py for the equations. Each is one pass over a row of
 * the step's arrays; the inner loops over the H units of a row are what the
 * compiler vectorizes. Included by _fused_kernels_variant.h only. */

/* One row (sequence) of the LSTM forward step. The pointers are parameters,
 * declared restrict: the compiler honours restrict on parameters (not on
 * pointers declared in a loop), and needs it to vectorize without run-time
 * alias checks. */
FUSED_TARGET static void FUSED_NAME(lstm_forward_row)(
    ptrdiff_t H, REAL *FUSED_RESTRICT ai, REAL *FUSED_RESTRICT af,
    REAL *FUSED_RESTRICT ag, REAL *FUSED_RESTRICT ao,
    const REAL *FUSED_RESTRICT pc, REAL *FUSED_RESTRICT hn,
    REAL *FUSED_RESTRICT cn, REAL *FUSED_RESTRICT tn)
{
    for (ptrdiff_t j = 0; j < H; j++) {
        REAL i = FUSED_SIGMOID(ai[j]);
        REAL f = FUSED_SIGMOID(af[j]);
        REAL g = FUSED_TANH(ag[j]);
        REAL o = FUSED_SIGMOID(ao[j]);
        REAL cj = f * pc[j] + i * g; /* c = f * c_prev + i * g */
        REAL tc = FUSED_TANH(cj);
        ai[j] = i;
        af[j] = f;
        ag[j] = g;
        ao[j] = o;
        cn[j] = cj;
        tn[j] = tc;
        hn[j] = o * tc; /* h = o * tanh(c) */
    }
}

/* LSTM forward step: gates, c, tanh(c), h */
FUSED_TARGET static void FUSED_NAME(lstm_forward_step)(
    ptrdiff_t N, ptrdiff_t H, REAL *a, const REAL *prev_h,
    const REAL *prev_c, REAL *h, REAL *c, REAL *tanh_c,
    const unsigned char *keep, ptrdiff_t keep_stride)
{
    for (ptrdiff_t n = 0; n < N; n++) {
        REAL *an = a + n * 4 * H;
        FUSED_NAME(lstm_forward_row)(H, an, an + H, an + 2 * H, an + 3 * H,
                                     prev_c + n * H, h + n * H, c + n * H,
                                     tanh_c + n * H);
        if (keep != NULL && !keep[n * keep_stride]) {
            /* a padded step copies the previous state */
            memcpy(h + n * H, prev_h + n * H, H * sizeof(REAL));
            memcpy(c + n * H, prev_c + n * H, H * sizeof(REAL));
        }
    }
}

/* One real row of the LSTM backward step */
FUSED_TARGET static void FUSED_NAME(lstm_backward_row)(
    ptrdiff_t H, const REAL *FUSED_RESTRICT gi, const REAL *FUSED_RESTRICT gf,
    const REAL *FUSED_RESTRICT gg, const REAL *FUSED_RESTRICT go,
    const REAL *FUSED_RESTRICT tc, const REAL *FUSED_RESTRICT pc,
    const REAL *FUSED_RESTRICT dhe, const REAL *FUSED_RESTRICT dhn,
    REAL *FUSED_RESTRICT dcn, REAL *FUSED_RESTRICT dai,
    REAL *FUSED_RESTRICT daf, REAL *FUSED_RESTRICT dag,
    REAL *FUSED_RESTRICT dao)
{
    for (ptrdiff_t j = 0; j < H; j++) {
        REAL dh = dhe[j] + dhn[j];
        REAL i = gi[j], f = gf[j], g = gg[j], o = go[j], t = tc[j];
        REAL dc = dh * (o * (1 - t * t)) + dcn[j]; /* through tanh(c) */
        /* through c = f * c_prev + i * g and h = o * tanh(c), then the
           gate nonlinearities */
        dai[j] = ((1 - i) * i) * (dc * g);
        daf[j] = ((1 - f) * f) * (dc * pc[j]);
        dag[j] = (1 - g * g) * (dc * i);
        dao[j] = ((1 - o) * o) * (dh * t);
        dcn[j] = dc * f;
    }
}

/* One padded row of a backward step: passes dh through, no gradient */
FUSED_TARGET static void FUSED_NAME(padded_backward_row)(
    ptrdiff_t H, ptrdiff_t G, const REAL *FUSED_RESTRICT dhe,
    REAL *FUSED_RESTRICT dhn, REAL *FUSED_RESTRICT da)
{
    for (ptrdiff_t j = 0; j < H; j++) {
        dhn[j] = dhe[j] + dhn[j];
    }
    memset(da, 0, G * sizeof(REAL));
}

/* LSTM backward step: da, dc_next and the start of dh_next */
FUSED_TARGET static void FUSED_NAME(lstm_backward_step)(
    ptrdiff_t N, ptrdiff_t H, const REAL *gates, const REAL *tanh_c,
    const REAL *prev_c, const REAL *dh_ext, ptrdiff_t dh_stride,
    REAL *dh_next, REAL *dc_next, REAL *da, const unsigned char *keep,
    ptrdiff_t keep_stride)
{
    for (ptrdiff_t n = 0; n < N; n++) {
        const REAL *gn = gates + n * 4 * H;
        REAL *dan = da + n * 4 * H;
        if (keep != NULL && !keep[n * keep_stride]) {
            /* a padded step passes both gradients through: dc_next stays */
            FUSED_NAME(padded_backward_row)(H, 4 * H, dh_ext + n * dh_stride,
                                            dh_next + n * H, dan);
            continue;
        }
        FUSED_NAME(lstm_backward_row)(H, gn, gn + H, gn + 2 * H, gn + 3 * H,
                                      tanh_c + n * H, prev_c + n * H,
                                      dh_ext + n * dh_stride, dh_next + n * H,
                                      dc_next + n * H, dan, dan + H,
                                      dan + 2 * H, dan + 3 * H);
        if (keep != NULL) { /* da @ Wh.T is added to it */
            memset(dh_next + n * H, 0, H * sizeof(REAL));
        }
    }
}

/* RNN forward: h = act(h) */
FUSED_TARGET static void FUSED_NAME(rnn_forward_step)(
    ptrdiff_t N, ptrdiff_t H, REAL *h, const REAL *prev_h, int sigmoid,
    const unsigned char *keep, ptrdiff_t keep_stride)
{
    for (ptrdiff_t n = 0; n < N; n++) {
        REAL *hn = h + n * H;
        if (keep != NULL && !keep[n * keep_stride]) {
            memcpy(hn, prev_h + n * H, H * sizeof(REAL));
        }
        else if (sigmoid) {
            for (ptrdiff_t j = 0; j < H; j++) {
                hn[j] = FUSED_SIGMOID(hn[j]);
            }
        }
        else {
            for (ptrdiff_t j = 0; j < H; j++) {
                hn[j] = FUSED_TANH(hn[j]);
            }
        }
    }
}

/* One real row of the RNN backward step: da = act'(a) * dh, act' in terms
 * of h */
FUSED_TARGET static void FUSED_NAME(rnn_backward_row)(
    ptrdiff_t H, const REAL *FUSED_RESTRICT hn, const REAL *FUSED_RESTRICT dhe,
    const REAL *FUSED_RESTRICT dhn, REAL *FUSED_RESTRICT dan, int sigmoid)
{
    if (sigmoid) {
        for (ptrdiff_t j = 0; j < H; j++) {
            dan[j] = ((1 - hn[j]) * hn[j]) * (dhe[j] + dhn[j]);
        }
    }
    else {
        for (ptrdiff_t j = 0; j < H; j++) {
            dan[j] = (1 - hn[j] * hn[j]) * (dhe[j] + dhn[j]);
        }
    }
}

/* RNN backward step: da and the start of dh_next */
FUSED_TARGET static void FUSED_NAME(rnn_backward_step)(
    ptrdiff_t N, ptrdiff_t H, const REAL *h, const REAL *dh_ext,
    ptrdiff_t dh_stride, REAL *dh_next, REAL *da, int sigmoid,
    const unsigned char *keep, ptrdiff_t keep_stride)
{
    for (ptrdiff_t n = 0; n < N; n++) {
        if (keep != NULL && !keep[n * keep_stride]) {
            FUSED_NAME(padded_backward_row)(H, H, dh_ext + n * dh_stride,
                                            dh_next + n * H, da + n * H);
            continue;
        }
        FUSED_NAME(rnn_backward_row)(H, h + n * H, dh_ext + n * dh_stride,
                                     dh_next + n * H, da + n * H, sigmoid);
        if (keep != NULL) {
            memset(dh_next + n * H, 0, H * sizeof(REAL));
        }
    }
}

FUSED_TARGET static void FUSED_NAME(sigmoid)(ptrdiff_t n, const REAL *x,
                                             REAL *out)
{
    for (ptrdiff_t j = 0; j < n; j++) {
        out[j] = FUSED_SIGMOID(x[j]);
    }
}

FUSED_TARGET static void FUSED_NAME(tanh)(ptrdiff_t n, const REAL *x,
                                          REAL *out)
{
    for (ptrdiff_t j = 0; j < n; j++) {
        out[j] = FUSED_TANH(x[j]);
    }
}
