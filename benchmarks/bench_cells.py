"""Speed of one LSTM training step, against this machine's own matrix products.

A training step is ``lstm_forward`` + ``lstm_backward`` + one
``AdamOptimizer.update_params`` on ``[Wx, Wh, b]``. For each shape ``(N, T, D,
H)`` and dtype the script prints the median step time and its throughput,
counting ``2 N T 4H (D + H)`` floating-point operations for the forward and
twice that for the backward (the matrix products only; elementwise work and
Adam are not counted), and that throughput as a percentage of NumPy's own
matrix-product throughput measured in the same run, in the same dtype:

* ``rec GEMM``: ``(N, H) @ (H, 4H)``, the shape of the recurrent product that
  the time loop cannot batch. The percentage column uses this reference.
* ``1024^3``: a large square product, close to the machine's peak; shown too.

It also counts the NumPy operations per time step of the whole step at a small
shape (see :func:`count_numpy_ops` for the method), times ``torch.nn.LSTM``
doing the same step when PyTorch is importable, and with ``--profile`` prints
where the time goes, line by line, in ``lstm_forward`` and ``lstm_backward``.

Run: ``python benchmarks/bench_cells.py [--quick] [--profile]``.
"""

import argparse
import collections
import linecache
import os
import platform
import statistics
import sys
import time

import numpy as np
from threadpoolctl import threadpool_info

import sklearn_lstm._cells as cells
from sklearn_lstm._cells import lstm_backward, lstm_forward
from sklearn_lstm._optimizers import AdamOptimizer

SHAPES = [(32, 20, 8, 32), (64, 50, 16, 128), (128, 100, 32, 256), (32, 500, 4, 64)]
DTYPES = [np.float32, np.float64]
COUNT_SHAPE = (32, 20, 8, 32)
TARGET_GEMM_PERCENT = 60
TARGET_OPS_PER_STEP = 25


def step_flops(N, T, D, H):
    """Matrix-product flops of forward (1x) plus backward (2x)."""
    return 3 * 2 * N * T * 4 * H * (D + H)


# ---------------------------------------------------------------------------
# Reference: NumPy matrix products
# ---------------------------------------------------------------------------


def make_gemm(m, k, n, dtype):
    """A function timing ``(m, k) @ (k, n)`` into a preallocated output.

    Calling it with ``min_time`` runs the product in a loop for at least that
    long (after one warm-up call) and returns the achieved GFLOP/s.
    """
    rng = np.random.RandomState(0)
    a = rng.standard_normal((m, k)).astype(dtype)
    b = rng.standard_normal((k, n)).astype(dtype)
    out = np.empty((m, n), dtype=dtype)

    def measure(min_time=0.02):
        np.matmul(a, b, out=out)  # warm-up: wakes the BLAS threads
        loops, elapsed = 0, 0.0
        start = time.perf_counter()
        while elapsed < min_time:
            np.matmul(a, b, out=out)
            loops += 1
            elapsed = time.perf_counter() - start
        return 2 * m * k * n * loops / elapsed / 1e9

    return measure


# ---------------------------------------------------------------------------
# The training step
# ---------------------------------------------------------------------------


def make_problem(N, T, D, H, dtype, seed=0):
    """Inputs, upstream gradient, parameters and an Adam optimizer over them."""
    rng = np.random.RandomState(seed)
    x = rng.standard_normal((N, T, D)).astype(dtype)
    h0 = np.zeros((N, H), dtype=dtype)
    c0 = np.zeros((N, H), dtype=dtype)
    Wx = (rng.standard_normal((D, 4 * H)) / np.sqrt(D)).astype(dtype)
    Wh = (rng.standard_normal((H, 4 * H)) / np.sqrt(H)).astype(dtype)
    b = np.zeros(4 * H, dtype=dtype)
    dh = (rng.standard_normal((N, T, H)) / (N * T)).astype(dtype)
    params = [Wx, Wh, b]
    return x, h0, c0, params, dh, AdamOptimizer(params, learning_rate=1e-3)


def train_step(x, h0, c0, params, dh, optimizer):
    """Forward, backward, Adam; returns the seconds spent in each."""
    t0 = time.perf_counter()
    _, _, cache = lstm_forward(x, h0, c0, *params)
    t1 = time.perf_counter()
    _, _, _, dWx, dWh, db = lstm_backward(dh, cache)
    t2 = time.perf_counter()
    optimizer.update_params(params, [dWx, dWh, db])
    t3 = time.perf_counter()
    return t1 - t0, t2 - t1, t3 - t2


def _loops_for(seconds, min_time=0.02):
    """Steps per sample so that one sample lasts at least ``min_time``."""
    return max(1, int(np.ceil(min_time / max(seconds, 1e-9))))


def time_numpy_step(shape, dtype, repeat, gemm):
    """Median seconds per step, of its three parts, and the % of the GEMM.

    Each of the ``repeat`` samples (after a warm-up) times the step, then
    ``gemm()`` right after it, so that both see the same machine state; the
    percentage is the median of the per-sample ratios.
    """
    problem = make_problem(*shape, dtype)
    loops = _loops_for(sum(train_step(*problem)))  # warm-up
    totals, parts, rates, percents = [], [], [], []
    for _ in range(repeat):
        sample = np.sum([train_step(*problem) for _ in range(loops)], axis=0) / loops
        rate = gemm()
        totals.append(sample.sum())
        parts.append(sample)
        rates.append(rate)
        percents.append(100 * step_flops(*shape) / sample.sum() / 1e9 / rate)
    for param in problem[3]:
        assert param.dtype == dtype and np.all(np.isfinite(param))
    return (
        statistics.median(totals),
        np.median(parts, axis=0),
        statistics.median(rates),
        statistics.median(percents),
    )


def time_products_only(shape, dtype, repeat, gemm):
    """Median % of ``gemm()`` reached by the step's matrix products alone.

    The same products as the step (input projection, T recurrent products
    forward and backward, then ``dx``, ``dWx``, ``dWh``), back to back with
    preallocated outputs and no elementwise work: the ceiling of the step.
    """
    N, T, D, H = shape
    rng = np.random.RandomState(0)
    x2 = rng.standard_normal((T * N, D)).astype(dtype)
    Wx = rng.standard_normal((D, 4 * H)).astype(dtype)
    Wh = rng.standard_normal((H, 4 * H)).astype(dtype)
    WhT = np.ascontiguousarray(Wh.T)
    hs = rng.standard_normal((T + 1, N, H)).astype(dtype)
    da = rng.standard_normal((T, N, 4 * H)).astype(dtype)
    gates = np.empty((T * N, 4 * H), dtype=dtype)
    out_f, out_b = np.empty((N, 4 * H), dtype=dtype), np.empty((N, H), dtype=dtype)
    dx, dWx = np.empty((T * N, D), dtype=dtype), np.empty((D, 4 * H), dtype=dtype)
    dWh = np.empty((H, 4 * H), dtype=dtype)
    da2, h2 = da.reshape(T * N, 4 * H), hs[:-1].reshape(T * N, H)

    def products():
        start = time.perf_counter()
        np.matmul(x2, Wx, out=gates)
        for t in range(T):
            np.matmul(hs[t], Wh, out=out_f)
        for t in range(T):
            np.matmul(da[t], WhT, out=out_b)
        np.matmul(da2, Wx.T, out=dx)
        np.matmul(x2.T, da2, out=dWx)
        np.matmul(h2.T, da2, out=dWh)
        return time.perf_counter() - start

    loops = _loops_for(products())
    percents = []
    for _ in range(repeat):
        seconds = sum(products() for _ in range(loops)) / loops
        percents.append(100 * step_flops(*shape) / seconds / 1e9 / gemm())
    return statistics.median(percents)


def time_torch_step(shape, dtype, repeat):
    """Median seconds of the same step with ``torch.nn.LSTM`` (CPU), or None."""
    try:
        import torch
    except ImportError:
        return None
    N, T, D, H = shape
    torch_dtype = {np.float32: torch.float32, np.float64: torch.float64}[dtype]
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(D, H, batch_first=True).to(torch_dtype)
    optimizer = torch.optim.Adam(lstm.parameters(), lr=1e-3)
    x, h0, c0, _, dh, _ = make_problem(*shape, dtype)
    x, dh = torch.from_numpy(x), torch.from_numpy(dh)
    state = (torch.from_numpy(h0)[None], torch.from_numpy(c0)[None])

    def step():
        optimizer.zero_grad()
        out, _ = lstm(x, state)
        out.backward(dh)
        optimizer.step()

    for _ in range(3):  # warm-up: torch picks its kernels on the first calls
        start = time.perf_counter()
        step()
    loops = _loops_for(time.perf_counter() - start)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(loops):
            step()
        times.append((time.perf_counter() - start) / loops)
    return statistics.median(times)


# ---------------------------------------------------------------------------
# Counting NumPy operations
# ---------------------------------------------------------------------------


class _Counted(np.ndarray):
    """An ndarray that counts every NumPy operation done on it.

    Counted: each ufunc call, whether explicit (``np.tanh(y, out=y)``) or
    through an operator (``a @ b``, ``y += z``, ``-a``), reductions (``.sum``),
    NumPy functions (``np.hstack``), indexing and slicing (``a[t]``, a view
    made in C), item assignment (``a[keep] = ...``) and the array methods
    listed in ``_METHODS``. An operation made of other operations (``.sum``
    calls ``np.add.reduce``) counts once.
    """

    counts = collections.Counter()
    depth = 0

    @classmethod
    def _enter(cls, kind):
        if cls.depth == 0:
            cls.counts[kind] += 1
        cls.depth += 1

    @staticmethod
    def _plain(a):
        return a.view(np.ndarray) if isinstance(a, _Counted) else a

    def __array_ufunc__(self, ufunc, method, *inputs, out=None, **kwargs):
        _Counted._enter(
            f"ufunc {ufunc.__name__}" + ("" if method == "__call__" else f".{method}")
        )
        try:
            inputs = [self._plain(a) for a in inputs]
            if out is not None:
                kwargs["out"] = tuple(self._plain(o) for o in out)
            result = getattr(ufunc, method)(*inputs, **kwargs)
        finally:
            _Counted.depth -= 1
        if out is not None:
            return out[0] if len(out) == 1 else out
        if isinstance(result, np.ndarray):
            return result.view(_Counted)
        return result

    def __array_function__(self, func, types, args, kwargs):
        _Counted._enter(f"function {func.__name__}")
        try:
            return super().__array_function__(func, types, args, kwargs)
        finally:
            _Counted.depth -= 1

    def __getitem__(self, key):
        _Counted._enter("index a[...]")
        try:
            return super().__getitem__(key)
        finally:
            _Counted.depth -= 1

    def __setitem__(self, key, value):
        _Counted._enter("assign a[...] =")
        try:
            super().__setitem__(key, value)
        finally:
            _Counted.depth -= 1


_METHODS = ["reshape", "transpose", "sum", "all", "any", "copy", "astype", "max"]


def _counted_method(name):
    method = getattr(np.ndarray, name)

    def wrapper(self, *args, **kwargs):
        _Counted._enter(f"method .{name}()")
        try:
            return method(self, *args, **kwargs)
        finally:
            _Counted.depth -= 1

    return wrapper


for _name in _METHODS:
    setattr(_Counted, _name, _counted_method(_name))
_Counted.T = property(_counted_method("transpose"))


class _CountingNumpy:
    """``numpy`` as ``_cells`` sees it, but arrays it creates are counted too."""

    _CREATE = {"empty", "zeros", "ones", "full", "ascontiguousarray", "empty_like"}

    def __getattr__(self, name):
        attr = getattr(np, name)
        if name not in self._CREATE:
            return attr

        def create(*args, **kwargs):
            _Counted._enter(f"function {name}")
            try:
                return attr(*args, **kwargs).view(_Counted)
            finally:
                _Counted.depth -= 1

        return create


def count_numpy_ops(shape, dtype=np.float64):
    """NumPy operations in one training step, by kind.

    Every input array is a :class:`_Counted` view and ``_cells`` is handed a
    ``numpy`` whose array constructors return counted arrays, so every array
    the step touches counts its operations. (Profiling ``c_call`` events with
    ``sys.setprofile`` would miss most of them: ufuncs and operators are not
    reported as C calls.)
    """
    x, h0, c0, params, dh, _ = make_problem(*shape, dtype)
    reference = [p.copy() for p in params]
    train_step(x, h0, c0, reference, dh, AdamOptimizer(reference, 1e-3))
    counted = [p.view(_Counted) for p in params]
    optimizer = AdamOptimizer(counted, learning_rate=1e-3)
    x, h0, c0, dh = (a.view(_Counted) for a in (x, h0, c0, dh))
    _Counted.counts.clear()
    cells.np = _CountingNumpy()
    try:
        train_step(x, h0, c0, counted, dh, optimizer)
    finally:
        cells.np = np
    for got, expected in zip(params, reference):
        np.testing.assert_array_equal(got, expected)  # counting changed nothing
    return collections.Counter(_Counted.counts)


def count_c_calls(shape, dtype=np.float64):
    """``c_call`` profile events of one step, for comparison (an undercount)."""
    problem = make_problem(*shape, dtype)
    calls = [0]

    def profile(frame, event, arg):
        if event == "c_call":
            calls[0] += 1

    sys.setprofile(profile)
    try:
        train_step(*problem)
    finally:
        sys.setprofile(None)
    return calls[0] - 2  # the two perf_counter calls between the parts


def _is_compute(kind):
    """Ufuncs, functions and methods; not indexing, slicing or item assignment."""
    return not kind.startswith(("index", "assign"))


def report_op_counts(shape):
    N, T, D, H = shape
    counts = count_numpy_ops(shape)
    counts_2t = count_numpy_ops((N, 2 * T, D, H))
    print(f"\nNumPy operations in one training step at (N, T, D, H) = {shape}.")
    print(
        "Method: the step runs on an ndarray subclass that counts every ufunc call"
        "\n(explicit, or through an operator such as @, +=, *), reduction, NumPy "
        "function and\narray method ('compute calls'), and every indexing/slicing "
        "and item assignment\n(each a NumPy C call that makes a view or copies); "
        "arrays that _cells allocates\nare counted too. 'In the loops' is (count "
        f"at T={2 * T} - count at T={T}) / {T}; 'whole\nstep' is the count at "
        f"T={T} / {T}, setup, final products and Adam included."
    )
    print(f"{'':>36} {'whole step / T':>15} {'in the loops':>13}")
    rows = [
        ("compute calls", _is_compute),
        ("indexing and item assignment", lambda kind: not _is_compute(kind)),
        ("all NumPy calls", lambda kind: True),
    ]
    for label, keep in rows:
        n = sum(v for k, v in counts.items() if keep(k))
        n_2t = sum(v for k, v in counts_2t.items() if keep(k))
        print(f"  {label:>34} {n / T:15.1f} {(n_2t - n) / T:13.1f}")
    compute = sum(v for k, v in counts.items() if _is_compute(k)) / T
    every = sum(counts.values()) / T
    print(
        f"Target <= {TARGET_OPS_PER_STEP} per time step for the whole step: "
        f"{'met' if every <= TARGET_OPS_PER_STEP else 'MISSED'} counting all "
        f"calls ({every:.1f}), "
        f"{'met' if compute <= TARGET_OPS_PER_STEP else 'MISSED'} counting "
        f"compute calls only ({compute:.1f})."
    )
    print("By kind, whole step / T:")
    for kind, n in counts.most_common():
        print(f"  {n / T:6.2f}  {kind}")
    print(
        f"(sys.setprofile sees only {count_c_calls(shape)} 'c_call' events in the "
        "same step: ufuncs and\noperators are not reported as C calls, so that "
        "method would undercount.)"
    )


# ---------------------------------------------------------------------------
# Line timing
# ---------------------------------------------------------------------------


def _trace_overhead():
    """Seconds the line tracer adds to each traced line."""

    def trivial():
        a = 0
        for _ in range(2000):
            a += 1
        return a

    start = time.perf_counter()
    trivial()
    plain = time.perf_counter() - start
    times, hits = _trace_lines(trivial, {trivial.__code__})
    traced = sum(times.values())
    return max(0.0, (traced - plain) / sum(hits.values()))


def _trace_lines(fn, codes):
    """Run ``fn()`` and time each line of the given code objects."""
    times, hits, last = collections.Counter(), collections.Counter(), {}

    def local(frame, event, arg):
        now = time.perf_counter()
        code = frame.f_code
        if code in last:
            line, since = last[code]
            times[code, line] += now - since
            hits[code, line] += 1
        if event == "line":
            last[code] = (frame.f_lineno, time.perf_counter())
        elif event == "return":
            last.pop(code, None)
        return local

    def tracer(frame, event, arg):
        return local if frame.f_code in codes else None

    sys.settrace(tracer)
    try:
        fn()
    finally:
        sys.settrace(None)
    return times, hits


def report_line_times(shape, dtype, top=12):
    problem = make_problem(*shape, dtype)
    train_step(*problem)
    overhead = _trace_overhead()
    codes = {lstm_forward.__code__, lstm_backward.__code__}
    times, hits = _trace_lines(lambda: train_step(*problem), codes)
    times = {k: max(0.0, t - overhead * hits[k]) for k, t in times.items()}
    total = sum(times.values())
    name = np.dtype(dtype).name
    print(
        f"\nLine timing of lstm_forward + lstm_backward at {shape} {name}: "
        f"{total * 1e3:.2f} ms traced\n(one step, settrace, minus "
        f"{overhead * 1e6:.2f} us tracer overhead per line; top {top} lines)"
    )
    for (code, line), t in sorted(times.items(), key=lambda kv: -kv[1])[:top]:
        source = linecache.getline(code.co_filename, line).strip()
        print(
            f"  {100 * t / total:5.1f}%  {t * 1e3:8.3f} ms  {hits[code, line]:5d}x  "
            f"{code.co_name}:{line:<4d} {source[:70]}"
        )


# ---------------------------------------------------------------------------


def _load():
    """The 1-minute load average, or None where the OS does not give it."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def print_environment():
    print(
        f"Python {platform.python_version()}, NumPy {np.__version__}, "
        f"{platform.machine()}, {os.cpu_count()} CPUs, load average {_load()}"
    )
    for lib in threadpool_info():
        print(
            f"  {lib['user_api']}: {lib['internal_api']} {lib.get('version')} "
            f"({lib.get('architecture') or lib.get('threading_layer') or '-'}), "
            f"{lib['num_threads']} threads, {os.path.basename(lib['filepath'])}"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="3 samples instead of 7, 512^3 GEMM"
    )
    parser.add_argument(
        "--profile", action="store_true", help="also time lstm_* line by line"
    )
    args = parser.parse_args()
    repeat = 3 if args.quick else 7
    print_environment()
    try:
        import torch

        torch_version = f"{torch.__version__}, {torch.get_num_threads()} threads"
    except ImportError:
        torch_version = None

    big = 512 if args.quick else 1024
    big_gemm = {}
    for dtype in DTYPES:
        measure = make_gemm(big, big, big, dtype)
        big_gemm[dtype] = statistics.median(measure(0.1) for _ in range(repeat))
    print(
        f"\nNumPy GEMM {big}^3: "
        + ", ".join(f"{np.dtype(d).name} {g:.1f} GFLOP/s" for d, g in big_gemm.items())
    )
    print(
        "Step = lstm_forward + lstm_backward + AdamOptimizer.update_params on "
        f"[Wx, Wh, b];\nmedian of {repeat} samples of >= 20 ms after a warm-up. "
        "GFLOP/s counts 2*N*T*4H*(D+H)\nfor the forward and twice that for the "
        "backward (matrix products only).\n'rec GEMM' = NumPy (N, H) @ (H, 4H) in "
        "the same dtype, timed right after each sample;\n'% rec' = step GFLOP/s "
        "as a percentage of it (median of per-sample ratios): the\nREFERENCE FOR "
        f"THE TARGET. '% {big}^3' = step GFLOP/s against the big GEMM above."
    )
    print(f"torch: {torch_version or 'not importable, no comparison'}")

    header = (
        f"{'(N, T, D, H)':>19} {'dtype':>7} | {'step ms':>8} {'fwd':>7} {'bwd':>7} "
        f"{'adam':>6} | {'GFLOP/s':>7} | {'rec GEMM':>8} {'% rec':>6} | "
        f"{f'% {big}^3':>7}"
    )
    if torch_version:
        header += f" | {'torch ms':>8} {'numpy/torch':>11}"
    print("\n" + header)
    print("-" * len(header))
    # All NumPy timings first: torch's idle OpenMP threads spin for a while
    # after each call and would slow down whatever NumPy runs next.
    results = {}
    for shape in SHAPES:
        N, T, D, H = shape
        for dtype in DTYPES:
            gemm = make_gemm(N, H, 4 * H, dtype)
            results[shape, dtype] = time_numpy_step(shape, dtype, repeat, gemm)
    target = (128, 100, 32, 256)
    ceilings = {
        dtype: time_products_only(
            target, dtype, repeat, make_gemm(target[0], target[3], 4 * target[3], dtype)
        )
        for dtype in DTYPES
    }
    torch_times = {}
    if torch_version:
        for shape in SHAPES:
            for dtype in DTYPES:
                torch_times[shape, dtype] = time_torch_step(shape, dtype, repeat)
    for shape in SHAPES:
        for dtype in DTYPES:
            total, (fwd, bwd, adam), rec, percent = results[shape, dtype]
            gflops = step_flops(*shape) / total / 1e9
            row = (
                f"{str(shape):>19} {np.dtype(dtype).name:>7} | {total * 1e3:8.2f} "
                f"{fwd * 1e3:7.2f} {bwd * 1e3:7.2f} {adam * 1e3:6.2f} | "
                f"{gflops:7.2f} | {rec:8.2f} {percent:5.1f}% | "
                f"{100 * gflops / big_gemm[dtype]:6.1f}%"
            )
            if torch_version:
                t_torch = torch_times[shape, dtype]
                row += f" | {t_torch * 1e3:8.2f} {total / t_torch:10.2f}x"
            print(row)

    print(f"\nTarget: >= {TARGET_GEMM_PERCENT}% of the recurrent GEMM at {target}:")
    for dtype in DTYPES:
        percent = results[target, dtype][3]
        verdict = "met" if percent >= TARGET_GEMM_PERCENT else "MISSED"
        print(
            f"  {np.dtype(dtype).name}: {percent:.1f}% ({verdict}); the step's "
            f"matrix products alone, back to back: {ceilings[dtype]:.1f}%"
        )

    report_op_counts(COUNT_SHAPE)
    print(
        f"\nLoad average at the end: {_load()} (other processes on the machine "
        "make the timings noisy: the\nBLAS threads stall when a core is taken; "
        "the percentages compare step and GEMM\ntimed back to back to limit this)."
    )

    if args.profile:
        for shape in [target, COUNT_SHAPE]:
            for dtype in DTYPES:
                report_line_times(shape, dtype)


if __name__ == "__main__":
    main()
