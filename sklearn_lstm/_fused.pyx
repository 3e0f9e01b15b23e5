# cython: language_level=3, boundscheck=False, wraparound=False
# cython: initializedcheck=False, cdivision=True
"""Compiled LSTM and vanilla RNN sequence functions, the time loop fused.

Drop-in equivalents of :func:`sklearn_lstm._cells.lstm_forward`,
:func:`~sklearn_lstm._cells.lstm_backward`,
:func:`~sklearn_lstm._cells.rnn_forward` and
:func:`~sklearn_lstm._cells.rnn_backward`: the same signatures, return
values, masks and workspace arrays, and the same ``cache`` (each backward
function takes the cache of either forward function). What differs is the
loop over time: here it runs in compiled code with the GIL released, each step
one matrix product (BLAS ``gemm`` through :mod:`scipy.linalg.cython_blas`, the
BLAS SciPy loads) and one pass over the step's element-wise work (the gates,
``c``, ``tanh(c)`` and ``h`` forward; the gradients of the pre-activations
backward), in the C kernels of ``_fused_kernels.c``, chosen at import for the
CPU (see :func:`cpu_variant`).

The input projection before the loop and the weight gradients after it are
the NumPy functions' own (one matrix product each), so that both paths write
the same workspace arrays. Arrays of other dtypes than float32 and float64,
and empty batches, go to the NumPy functions.

The optimizers' updates (:func:`adam_update`, :func:`sgd_update`,
:func:`rmsprop_update`) are those of :mod:`sklearn_lstm._optimizers` in one
pass per array, to the same bit.
"""

import numpy as np

cimport numpy as cnp
from cython cimport floating
from libc.math cimport sqrt, sqrtf
from scipy.linalg.cython_blas cimport dgemm, sgemm

from . import _cells
from ._cells import RNN_ACTIVATIONS, _padding, _param_grads, _project_inputs
from ._workspace import FRESH


cdef extern from "_fused_kernels.h" nogil:
    void fused_lstm_forward_step_d(
        Py_ssize_t N, Py_ssize_t H, double *a, const double *prev_h,
        const double *prev_c, double *h, double *c, double *tanh_c,
        const unsigned char *keep, Py_ssize_t keep_stride)
    void fused_lstm_forward_step_f(
        Py_ssize_t N, Py_ssize_t H, float *a, const float *prev_h,
        const float *prev_c, float *h, float *c, float *tanh_c,
        const unsigned char *keep, Py_ssize_t keep_stride)
    void fused_lstm_backward_step_d(
        Py_ssize_t N, Py_ssize_t H, const double *gates, const double *tanh_c,
        const double *prev_c, const double *dh_ext, Py_ssize_t dh_stride,
        double *dh_next, double *dc_next, double *da,
        const unsigned char *keep, Py_ssize_t keep_stride)
    void fused_lstm_backward_step_f(
        Py_ssize_t N, Py_ssize_t H, const float *gates, const float *tanh_c,
        const float *prev_c, const float *dh_ext, Py_ssize_t dh_stride,
        float *dh_next, float *dc_next, float *da,
        const unsigned char *keep, Py_ssize_t keep_stride)
    void fused_rnn_forward_step_d(
        Py_ssize_t N, Py_ssize_t H, double *h, const double *prev_h,
        int sigmoid, const unsigned char *keep, Py_ssize_t keep_stride)
    void fused_rnn_forward_step_f(
        Py_ssize_t N, Py_ssize_t H, float *h, const float *prev_h,
        int sigmoid, const unsigned char *keep, Py_ssize_t keep_stride)
    void fused_rnn_backward_step_d(
        Py_ssize_t N, Py_ssize_t H, const double *h, const double *dh_ext,
        Py_ssize_t dh_stride, double *dh_next, double *da, int sigmoid,
        const unsigned char *keep, Py_ssize_t keep_stride)
    void fused_rnn_backward_step_f(
        Py_ssize_t N, Py_ssize_t H, const float *h, const float *dh_ext,
        Py_ssize_t dh_stride, float *dh_next, float *da, int sigmoid,
        const unsigned char *keep, Py_ssize_t keep_stride)
    void fused_sigmoid_d(Py_ssize_t n, const double *x, double *out)
    void fused_sigmoid_f(Py_ssize_t n, const float *x, float *out)
    void fused_tanh_d(Py_ssize_t n, const double *x, double *out)
    void fused_tanh_f(Py_ssize_t n, const float *x, float *out)
    int FUSED_N_VARIANTS
    int fused_variant_supported(int v)
    int fused_select_variant(int v)
    int fused_current_variant()
    const char *fused_variant_name(int v)


# The optimizers' updates below must give NumPy's numbers to the bit: no
# multiply and add contracted into one FMA here (-ffp-contract=off for this
# file's code only: the kernels of _fused_kernels.c are FMA's on purpose).
cdef extern from *:
    """
    #if defined(__clang__)
    #pragma STDC FP_CONTRACT OFF
    #elif defined(__GNUC__)
    #pragma GCC optimize("fp-contract=off")
    #endif
    """


cnp.import_array()
fused_select_variant(-1)

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


# ---------------------------------------------------------------------------
# CPU variants
# ---------------------------------------------------------------------------


def cpu_variant():
    """Name of the CPU variant of the element-wise kernels that runs.

    Returns
    -------
    name : str
        ``'x86-64 baseline (SSE2)'``, ``'AVX2+FMA'`` or ``'AVX-512F'`` on x86-64
        (the best this CPU supports, unless :func:`_select_cpu_variant`
        changed it), ``'generic'`` elsewhere.
    """
    return fused_variant_name(fused_current_variant()).decode()


def _supported_cpu_variants():
    """Names of the variants compiled in that this CPU runs, worst first."""
    return [
        fused_variant_name(v).decode()
        for v in range(FUSED_N_VARIANTS)
        if fused_variant_supported(v)
    ]


def _select_cpu_variant(name=None):
    """Run the variant ``name`` (one of :func:`_supported_cpu_variants`; None:
    the best) from now on, for every thread; returns the previous one's name.
    For tests (not thread-safe while a loop runs)."""
    previous = cpu_variant()
    if name is None:
        fused_select_variant(-1)
        return previous
    names = [fused_variant_name(v).decode() for v in range(FUSED_N_VARIANTS)]
    if name not in names or fused_select_variant(names.index(name)) < 0:
        raise ValueError(
            f"CPU variant {name!r} is not supported here; supported: "
            f"{_supported_cpu_variants()}"
        )
    return previous


def _sigmoid(x):
    """The kernels' sigmoid of a float32 or float64 array, as a new array."""
    x = np.ascontiguousarray(x)
    out = np.empty_like(x)
    if x.dtype == np.float64:
        _elementwise[double](x.reshape(-1), out.reshape(-1), True)
    else:
        _elementwise[float](x.reshape(-1), out.reshape(-1), True)
    return out


def _tanh(x):
    """The kernels' tanh of a float32 or float64 array, as a new array."""
    x = np.ascontiguousarray(x)
    out = np.empty_like(x)
    if x.dtype == np.float64:
        _elementwise[double](x.reshape(-1), out.reshape(-1), False)
    else:
        _elementwise[float](x.reshape(-1), out.reshape(-1), False)
    return out


cdef void _elementwise(
    const floating[::1] x, floating[::1] out, bint sigmoid
) noexcept nogil:
    if x.shape[0] == 0:
        return
    if floating is double:
        if sigmoid:
            fused_sigmoid_d(x.shape[0], &x[0], &out[0])
        else:
            fused_tanh_d(x.shape[0], &x[0], &out[0])
    else:
        if sigmoid:
            fused_sigmoid_f(x.shape[0], &x[0], &out[0])
        else:
            fused_tanh_f(x.shape[0], &x[0], &out[0])


# ---------------------------------------------------------------------------
# The time loops
# ---------------------------------------------------------------------------


cdef inline void _gemm(
    char transa, int m, int n, int k, const floating *A, int lda,
    const floating *B, int ldb, floating beta, floating *C, int ldc,
) noexcept nogil:
    """``C = op(A) @ B + beta * C`` in BLAS's column-major terms: a C-ordered
    array of shape (r, c) is the column-major matrix of shape (c, r)."""
    cdef char transb = c"N"
    cdef floating one = 1
    if floating is double:
        dgemm(&transa, &transb, &m, &n, &k, &one, <double *>A, &lda,
              <double *>B, &ldb, &beta, C, &ldc)
    else:
        sgemm(&transa, &transb, &m, &n, &k, &one, <float *>A, &lda,
              <float *>B, &ldb, &beta, C, &ldc)


cdef void _lstm_forward_loop(
    floating[:, :, ::1] gates,
    floating[:, :, ::1] hs,
    floating[:, :, ::1] cs,
    floating[:, :, ::1] tanh_cs,
    const floating[:, ::1] Wh,
    const unsigned char[:, :] keep,
    const unsigned char[::1] padded,
) noexcept:
    cdef Py_ssize_t T = gates.shape[0], N = gates.shape[1], H = hs.shape[2]
    cdef Py_ssize_t t, keep_stride = 0
    cdef const unsigned char *keep_t
    if keep is not None:
        keep_stride = keep.strides[0]
    with nogil:  # the memoryviews are made by the caller, with the GIL
        for t in range(T):
            # gates[t] (the input projection) += h[t-1] @ Wh
            _gemm(c"N", 4 * H, N, H, &Wh[0, 0], 4 * H, &hs[t, 0, 0], H, 1,
                  &gates[t, 0, 0], 4 * H)
            keep_t = &keep[0, t] if padded[t] else NULL
            if floating is double:
                fused_lstm_forward_step_d(
                    N, H, &gates[t, 0, 0], &hs[t, 0, 0], &cs[t, 0, 0],
                    &hs[t + 1, 0, 0], &cs[t + 1, 0, 0], &tanh_cs[t, 0, 0],
                    keep_t, keep_stride)
            else:
                fused_lstm_forward_step_f(
                    N, H, &gates[t, 0, 0], &hs[t, 0, 0], &cs[t, 0, 0],
                    &hs[t + 1, 0, 0], &cs[t + 1, 0, 0], &tanh_cs[t, 0, 0],
                    keep_t, keep_stride)


cdef void _lstm_backward_loop(
    const floating[:, :, ::1] gates,
    const floating[:, :, ::1] cs,
    const floating[:, :, ::1] tanh_cs,
    const floating[:, :, :] dh,  # rows contiguous (see _upstream)
    const floating[:, ::1] Wh,
    const unsigned char[:, :] keep,
    const unsigned char[::1] padded,
    floating[:, :, ::1] da,
    floating[:, ::1] dh_next,
    floating[:, ::1] dc_next,
) noexcept:
    cdef Py_ssize_t T = gates.shape[0], N = gates.shape[1], H = cs.shape[2]
    cdef Py_ssize_t t, keep_stride = 0
    cdef Py_ssize_t dh_stride = dh.strides[1] // sizeof(floating)
    cdef const unsigned char *keep_t
    if keep is not None:
        keep_stride = keep.strides[0]
    with nogil:  # the memoryviews are made by the caller, with the GIL
        for t in range(T - 1, -1, -1):
            keep_t = &keep[0, t] if padded[t] else NULL
            if floating is double:
                fused_lstm_backward_step_d(
                    N, H, &gates[t, 0, 0], &tanh_cs[t, 0, 0], &cs[t, 0, 0],
                    &dh[t, 0, 0], dh_stride, &dh_next[0, 0], &dc_next[0, 0],
                    &da[t, 0, 0], keep_t, keep_stride)
            else:
                fused_lstm_backward_step_f(
                    N, H, &gates[t, 0, 0], &tanh_cs[t, 0, 0], &cs[t, 0, 0],
                    &dh[t, 0, 0], dh_stride, &dh_next[0, 0], &dc_next[0, 0],
                    &da[t, 0, 0], keep_t, keep_stride)
            # dh_next (= 0, or dh on padded rows) += da[t] @ Wh.T
            _gemm(c"T", H, N, 4 * H, &Wh[0, 0], 4 * H, &da[t, 0, 0], 4 * H,
                  1 if keep_t != NULL else 0, &dh_next[0, 0], H)


cdef void _rnn_forward_loop(
    floating[:, :, ::1] hs,
    const floating[:, ::1] Wh,
    bint sigmoid,
    const unsigned char[:, :] keep,
    const unsigned char[::1] padded,
) noexcept:
    cdef Py_ssize_t T = hs.shape[0] - 1, N = hs.shape[1], H = hs.shape[2]
    cdef Py_ssize_t t, keep_stride = 0
    cdef const unsigned char *keep_t
    if keep is not None:
        keep_stride = keep.strides[0]
    with nogil:  # the memoryviews are made by the caller, with the GIL
        for t in range(T):
            # h[t] (the input projection) += h[t-1] @ Wh, then act in place
            _gemm(c"N", H, N, H, &Wh[0, 0], H, &hs[t, 0, 0], H, 1,
                  &hs[t + 1, 0, 0], H)
            keep_t = &keep[0, t] if padded[t] else NULL
            if floating is double:
                fused_rnn_forward_step_d(N, H, &hs[t + 1, 0, 0], &hs[t, 0, 0],
                                         sigmoid, keep_t, keep_stride)
            else:
                fused_rnn_forward_step_f(N, H, &hs[t + 1, 0, 0], &hs[t, 0, 0],
                                         sigmoid, keep_t, keep_stride)


cdef void _rnn_backward_loop(
    const floating[:, :, ::1] hs,
    const floating[:, :, :] dh,  # rows contiguous (see _upstream)
    const floating[:, ::1] Wh,
    bint sigmoid,
    const unsigned char[:, :] keep,
    const unsigned char[::1] padded,
    floating[:, :, ::1] da,
    floating[:, ::1] dh_next,
) noexcept:
    cdef Py_ssize_t T = hs.shape[0] - 1, N = hs.shape[1], H = hs.shape[2]
    cdef Py_ssize_t t, keep_stride = 0
    cdef Py_ssize_t dh_stride = dh.strides[1] // sizeof(floating)
    cdef const unsigned char *keep_t
    if keep is not None:
        keep_stride = keep.strides[0]
    with nogil:  # the memoryviews are made by the caller, with the GIL
        for t in range(T - 1, -1, -1):
            keep_t = &keep[0, t] if padded[t] else NULL
            if floating is double:
                fused_rnn_backward_step_d(
                    N, H, &hs[t + 1, 0, 0], &dh[t, 0, 0], dh_stride,
                    &dh_next[0, 0], &da[t, 0, 0], sigmoid, keep_t, keep_stride)
            else:
                fused_rnn_backward_step_f(
                    N, H, &hs[t + 1, 0, 0], &dh[t, 0, 0], dh_stride,
                    &dh_next[0, 0], &da[t, 0, 0], sigmoid, keep_t, keep_stride)
            _gemm(c"T", H, N, H, &Wh[0, 0], H, &da[t, 0, 0], H,
                  1 if keep_t != NULL else 0, &dh_next[0, 0], H)


# ---------------------------------------------------------------------------
# The sequence functions
# ---------------------------------------------------------------------------


def _loop_inputs(mask, padded, Wh, dtype):
    """The mask as bytes (or None), the per-step padding flags and ``Wh`` as a
    C-contiguous array of ``dtype``, for the loops."""
    keep = None if mask is None else mask.view(np.uint8)
    flags = np.array(padded, dtype=np.uint8)
    return keep, flags, np.ascontiguousarray(Wh, dtype=dtype)


def _upstream(dh, dtype):
    """``dh`` of shape (N, T, H) time-major, (T, N, H), each row contiguous."""
    dh = np.asarray(dh, dtype=dtype)
    if dh.strides[2] != dh.itemsize:
        dh = np.ascontiguousarray(dh)
    return dh.transpose(1, 0, 2)


def _compiled(x, Wh):
    """Whether the loops take inputs like these (else NumPy runs)."""
    return x.dtype in _FLOATS and x.shape[0] > 0 and x.shape[1] > 0 and (
        Wh.shape[0] > 0
    )


def lstm_forward(x, h0, c0, Wx, Wh, b, mask=None, workspace=None):
    """Run an LSTM over a batch of sequences.

    Same parameters, returns and cache as
    :func:`sklearn_lstm._cells.lstm_forward`.

    Parameters
    ----------
    x : ndarray of shape (N, T, D)
    h0, c0 : ndarray of shape (N, H)
    Wx, Wh, b : ndarray of shape (D, 4H), (H, 4H), (4H,)
    mask : ndarray of shape (N, T), dtype=bool, default=None
    workspace : Workspace, default=None

    Returns
    -------
    h : ndarray of shape (N, T, H)
    last : tuple of (ndarray of shape (N, H), ndarray of shape (N, H))
    cache : tuple
    """
    x = np.asarray(x)
    if not _compiled(x, Wh):
        return _cells.lstm_forward(x, h0, c0, Wx, Wh, b, mask, workspace)
    ws = FRESH if workspace is None else workspace
    N, T, _ = x.shape
    H = Wh.shape[0]
    dtype = x.dtype
    # gates[t] holds the pre-activations, then (in place) the gate values.
    gates = ws.empty("gates", (T, N, 4 * H), dtype)
    x1 = _project_inputs(x, Wx, b, 1, out=gates, workspace=ws)
    hs = ws.empty("hs", (T + 1, N, H), dtype)  # hs[t + 1] is h[t]; hs[0] is h0
    cs = ws.empty("cs", (T + 1, N, H), dtype)
    tanh_cs = ws.empty("tanh_cs", (T, N, H), dtype)
    hs[0], cs[0] = h0, c0
    mask, padded = _padding(mask, T)
    keep, flags, Wh_c = _loop_inputs(mask, padded, Wh, dtype)
    if dtype == np.float64:
        _lstm_forward_loop[double](gates, hs, cs, tanh_cs, Wh_c, keep, flags)
    else:
        _lstm_forward_loop[float](gates, hs, cs, tanh_cs, Wh_c, keep, flags)
    cache = (x1, mask, padded, Wx, Wh, gates, hs, cs, tanh_cs, workspace)
    return hs[1:].transpose(1, 0, 2), (hs[T], cs[T]), cache


def lstm_backward(dh, cache, need_dx=True):
    """Backward pass of :func:`lstm_forward` (or of the NumPy one).

    Same parameters and returns as :func:`sklearn_lstm._cells.lstm_backward`.

    Parameters
    ----------
    dh : ndarray of shape (N, T, H)
    cache : tuple
    need_dx : bool, default=True

    Returns
    -------
    dx, dh0, dc0, dWx, dWh, db
    """
    x1, mask, padded, Wx, Wh, gates, hs, cs, tanh_cs, workspace = cache
    if not _compiled(gates.transpose(1, 0, 2), Wh):
        return _cells.lstm_backward(dh, cache, need_dx)
    ws = FRESH if workspace is None else workspace
    T, N, H = tanh_cs.shape
    dtype = gates.dtype
    da = ws.scratch("da", gates.shape, dtype)  # gradient of the pre-activations
    dh_next = ws.zeros("dh_next", (N, H), dtype)
    dc_next = ws.zeros("dc_next", (N, H), dtype)
    dh_tm = _upstream(dh, dtype)
    keep, flags, Wh_c = _loop_inputs(mask, padded, Wh, dtype)
    if dtype == np.float64:
        _lstm_backward_loop[double](
            gates, cs, tanh_cs, dh_tm, Wh_c, keep, flags, da, dh_next, dc_next
        )
    else:
        _lstm_backward_loop[float](
            gates, cs, tanh_cs, dh_tm, Wh_c, keep, flags, da, dh_next, dc_next
        )
    dx, dWx, dWh, db = _param_grads(x1, hs, da, Wx, need_dx, workspace=ws)
    return dx, dh_next, dc_next, dWx, dWh, db


def rnn_forward(x, h0, Wx, Wh, b, mask=None, activation="tanh", workspace=None):
    """Run a vanilla RNN over a batch of sequences.

    Same parameters, returns and cache as
    :func:`sklearn_lstm._cells.rnn_forward`.

    Parameters
    ----------
    x : ndarray of shape (N, T, D)
    h0 : ndarray of shape (N, H)
    Wx, Wh, b : ndarray of shape (D, H), (H, H), (H,)
    mask : ndarray of shape (N, T), dtype=bool, default=None
    activation : {'tanh', 'sigmoid'}, default='tanh'
    workspace : Workspace, default=None

    Returns
    -------
    h : ndarray of shape (N, T, H)
    last : tuple of (ndarray of shape (N, H),)
    cache : tuple
    """
    if activation not in RNN_ACTIVATIONS:
        raise ValueError(
            f"activation must be one of {RNN_ACTIVATIONS}, got {activation!r}"
        )
    x = np.asarray(x)
    if not _compiled(x, Wh):
        return _cells.rnn_forward(x, h0, Wx, Wh, b, mask, activation, workspace)
    ws = FRESH if workspace is None else workspace
    N, T, _ = x.shape
    H = Wh.shape[0]
    dtype = x.dtype
    hs = ws.empty("hs", (T + 1, N, H), dtype)  # hs[t + 1] is h[t]; hs[0] is h0
    hs[0] = h0
    x1 = _project_inputs(x, Wx, b, 1, out=hs[1:], workspace=ws)
    mask, padded = _padding(mask, T)
    keep, flags, Wh_c = _loop_inputs(mask, padded, Wh, dtype)
    cdef bint sigmoid = activation == "sigmoid"
    if dtype == np.float64:
        _rnn_forward_loop[double](hs, Wh_c, sigmoid, keep, flags)
    else:
        _rnn_forward_loop[float](hs, Wh_c, sigmoid, keep, flags)
    cache = (x1, mask, padded, Wx, Wh, hs, activation, workspace)
    return hs[1:].transpose(1, 0, 2), (hs[T],), cache


def rnn_backward(dh, cache, need_dx=True):
    """Backward pass of :func:`rnn_forward` (or of the NumPy one).

    Same parameters and returns as :func:`sklearn_lstm._cells.rnn_backward`.

    Parameters
    ----------
    dh : ndarray of shape (N, T, H)
    cache : tuple
    need_dx : bool, default=True

    Returns
    -------
    dx, dh0, dWx, dWh, db
    """
    x1, mask, padded, Wx, Wh, hs, activation, workspace = cache
    if not _compiled(hs[1:].transpose(1, 0, 2), Wh):
        return _cells.rnn_backward(dh, cache, need_dx)
    ws = FRESH if workspace is None else workspace
    T, N, H = hs[1:].shape
    dtype = hs.dtype
    da = ws.scratch("da", (T, N, H), dtype)  # gradient of the pre-activations
    dh_next = ws.zeros("dh_next", (N, H), dtype)
    dh_tm = _upstream(dh, dtype)
    keep, flags, Wh_c = _loop_inputs(mask, padded, Wh, dtype)
    cdef bint sigmoid = activation == "sigmoid"
    if dtype == np.float64:
        _rnn_backward_loop[double](hs, dh_tm, Wh_c, sigmoid, keep, flags, da, dh_next)
    else:
        _rnn_backward_loop[float](hs, dh_tm, Wh_c, sigmoid, keep, flags, da, dh_next)
    dx, dWx, dWh, db = _param_grads(x1, hs, da, Wx, need_dx, workspace=ws)
    return dx, dh_next, dWx, dWh, db


# ---------------------------------------------------------------------------
# The optimizers' updates
# ---------------------------------------------------------------------------
#
# Each is the NumPy update of sklearn_lstm._optimizers in one pass per array,
# its operations in the same order on the same types (the scalars rounded to
# the arrays' type first, as NumPy rounds a Python float), and this file is
# compiled without contracting a multiply and an add into one FMA, so that
# both give the same numbers to the bit (tests/test_fused.py).


cdef bint _updatable(object a, int typenum, cnp.ndarray like, bint owned):
    """Whether ``a`` is an array of ``typenum`` and of the shape of ``like``,
    C-contiguous, and writeable if ``owned`` (updated in place, it must not be
    a copy)."""
    if not cnp.PyArray_Check(a):
        return False
    cdef cnp.ndarray arr = a
    return (
        cnp.PyArray_TYPE(arr) == typenum
        and cnp.PyArray_SAMESHAPE(arr, like)
        and cnp.PyArray_IS_C_CONTIGUOUS(arr)
        and (not owned or cnp.PyArray_ISWRITEABLE(arr))
    )


def _update_arrays(params, grads, states):
    """Each parameter with its gradient and state arrays (``states``: lists
    of arrays in the order of ``params``), ``[(p, g, s1, ...), ...]``, the
    gradients made C-contiguous; None when the compiled updates cannot take
    them: not all float32 or all float64, shapes that differ, or a parameter
    or state array that is not C-contiguous and writeable."""
    if not params or not cnp.PyArray_Check(params[0]):
        return None
    cdef int typenum = cnp.PyArray_TYPE(<cnp.ndarray>params[0])
    if typenum != cnp.NPY_DOUBLE and typenum != cnp.NPY_FLOAT:
        return None
    arrays = []
    for k in range(len(params)):
        param, grad = params[k], grads[k]
        if not _updatable(param, typenum, param, True):
            return None
        row = [param, grad]
        for state in states:
            if not _updatable(state[k], typenum, param, True):
                return None
            row.append(state[k])
        if not _updatable(grad, typenum, param, False):
            if not cnp.PyArray_Check(grad) or grad.dtype != params[0].dtype or (
                grad.shape != param.shape
            ):
                return None
            row[1] = np.ascontiguousarray(grad)
        arrays.append(row)
    return arrays


cdef inline void *_data(a):
    return cnp.PyArray_DATA(<cnp.ndarray>a)


cdef inline floating _sqrt(floating x) noexcept nogil:
    """The square root in the type of ``x``, as NumPy's (float32: sqrtf, not
    a rounding through double)."""
    if floating is float:
        return sqrtf(x)
    return sqrt(x)


cdef void _adam(
    Py_ssize_t n, floating *p, const floating *g, floating *m, floating *v,
    floating neg_lr, floating b1, floating c1, floating b2, floating c2,
    floating eps,
) noexcept nogil:
    cdef Py_ssize_t i
    cdef floating gi, mi, vi, u
    for i in range(n):
        gi = g[i]
        mi = m[i] * b1
        mi = mi + c1 * gi
        vi = v[i] * b2
        vi = vi + c2 * (gi * gi)
        u = _sqrt(vi) + eps
        m[i] = mi
        v[i] = vi
        p[i] = p[i] + (neg_lr * mi) / u


cdef void _sgd(
    Py_ssize_t n, floating *p, const floating *g, floating *velocity,
    floating momentum, floating lr, bint nesterov,
) noexcept nogil:
    cdef Py_ssize_t i
    cdef floating vi
    for i in range(n):
        vi = momentum * velocity[i] - lr * g[i]
        velocity[i] = vi
        if nesterov:
            vi = momentum * vi - lr * g[i]
        p[i] = p[i] + vi


cdef void _rmsprop(
    Py_ssize_t n, floating *p, const floating *g, floating *cache,
    floating neg_lr, floating rho, floating c1, floating eps,
) noexcept nogil:
    cdef Py_ssize_t i
    cdef floating gi, ci, u
    for i in range(n):
        gi = g[i]
        ci = rho * cache[i] + c1 * (gi * gi)
        u = _sqrt(ci) + eps
        cache[i] = ci
        p[i] = p[i] + (neg_lr * gi) / u


def adam_update(params, grads, ms, vs, double lr, double beta_1, double beta_2,
                double epsilon):
    """One Adam update of ``params`` in place, and of its moment estimates
    ``ms`` and ``vs``: :class:`~sklearn_lstm._optimizers.AdamOptimizer`'s,
    ``lr`` its bias-corrected step size.

    Returns
    -------
    done : bool
        False, with nothing changed, when the arrays are not ones the compiled
        updates take (see :func:`_update_arrays`): NumPy's update must run.
    """
    arrays = _update_arrays(params, grads, (ms, vs))
    if arrays is None:
        return False
    cdef Py_ssize_t n
    for p, g, m, v in arrays:
        n = p.size
        if p.dtype == np.float64:
            _adam[double](
                n, <double *>_data(p), <double *>_data(g), <double *>_data(m),
                <double *>_data(v), -lr, beta_1, 1 - beta_1, beta_2, 1 - beta_2,
                epsilon,
            )
        else:
            _adam[float](
                n, <float *>_data(p), <float *>_data(g), <float *>_data(m),
                <float *>_data(v), -lr, beta_1, 1 - beta_1, beta_2, 1 - beta_2,
                epsilon,
            )
    return True


def sgd_update(params, grads, velocities, double lr, double momentum,
               bint nesterov):
    """One update of ``params`` in place by
    :class:`~sklearn_lstm._optimizers.SGDOptimizer`, and of its
    ``velocities``; returns False, with nothing changed, as
    :func:`adam_update`."""
    arrays = _update_arrays(params, grads, (velocities,))
    if arrays is None:
        return False
    for p, g, velocity in arrays:
        if p.dtype == np.float64:
            _sgd[double](
                p.size, <double *>_data(p), <double *>_data(g),
                <double *>_data(velocity), momentum, lr, nesterov,
            )
        else:
            _sgd[float](
                p.size, <float *>_data(p), <float *>_data(g),
                <float *>_data(velocity), momentum, lr, nesterov,
            )
    return True


def rmsprop_update(params, grads, caches, double lr, double rho, double epsilon):
    """One update of ``params`` in place by
    :class:`~sklearn_lstm._optimizers.RMSpropOptimizer`, and of its
    ``caches``; returns False, with nothing changed, as :func:`adam_update`."""
    arrays = _update_arrays(params, grads, (caches,))
    if arrays is None:
        return False
    for p, g, cache in arrays:
        if p.dtype == np.float64:
            _rmsprop[double](
                p.size, <double *>_data(p), <double *>_data(g),
                <double *>_data(cache), -lr, rho, 1 - rho, epsilon,
            )
        else:
            _rmsprop[float](
                p.size, <float *>_data(p), <float *>_data(g),
                <float *>_data(cache), -lr, rho, 1 - rho, epsilon,
            )
    return True


# ---------------------------------------------------------------------------
# The 'max' readout
# ---------------------------------------------------------------------------


cdef void _max_over_steps(
    const floating[:, :, :] h, const unsigned char[:, :] keep, bint masked,
    floating[:, ::1] z, int[::1] step, Py_ssize_t[:, ::1] flat,
) noexcept nogil:
    """Per sequence n, z[n] = the maximum of h[n, t] over its real steps t,
    at flat index flat[n, f] = (n T + t) F + f in h: numpy.argmax's choice of
    t (the first NaN, else the first of equal maxima). The rows h[n, t] are
    contiguous; step is scratch, of F entries."""
    cdef Py_ssize_t N = h.shape[0], T = h.shape[1], F = h.shape[2]
    cdef Py_ssize_t n, t, f
    cdef const floating *row
    cdef floating *best
    cdef floating v
    cdef bint first, take
    for n in range(N):
        best = &z[n, 0]
        first = True
        for t in range(T):
            if masked and not keep[n, t]:
                continue
            row = &h[n, t, 0]
            if first:
                for f in range(F):
                    best[f] = row[f]
                    step[f] = <int>t
                first = False
                continue
            for f in range(F):
                v = row[f]
                take = (v > best[f]) | ((v != v) & (best[f] == best[f]))
                best[f] = v if take else best[f]
                step[f] = <int>t if take else step[f]
        if first:  # no real step: step 0, as NumPy's argmax of all -inf
            row = &h[n, 0, 0]
            for f in range(F):
                best[f] = row[f]
                step[f] = 0
        for f in range(F):
            flat[n, f] = (n * T + step[f]) * F + f


def max_over_steps(h, mask):
    """The maximum of ``h`` (N, T, F) over each sequence's real steps and the
    flat index in ``h`` of each (step 0 for a sequence with none):
    :func:`sklearn_lstm._readouts._max`'s ``(z, flat)``, the same numbers and
    indices, in one pass.

    Returns None for arrays it does not take (not float32 or float64, rows of
    ``h`` not contiguous, no steps): NumPy's readout must run.
    """
    if (
        h.dtype not in _FLOATS
        or h.shape[1] == 0
        or h.shape[2] == 0
        or h.strides[2] != h.itemsize
    ):
        return None
    N, T, F = h.shape
    z = np.empty((N, F), dtype=h.dtype)
    flat = np.empty((N, F), dtype=np.intp)
    step = np.empty(F, dtype=np.intc)
    cdef bint masked = mask is not None
    keep = _NO_MASK if mask is None else np.asarray(mask, dtype=bool).view(np.uint8)
    if h.dtype == np.float64:
        _max_over_steps[double](h, keep, masked, z, step, flat)
    else:
        _max_over_steps[float](h, keep, masked, z, step, flat)
    return z, flat


_NO_MASK = np.ones((1, 1), dtype=np.uint8)
