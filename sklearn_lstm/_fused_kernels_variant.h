/* The kernels of _fused_kernels_impl.h in double and float for one CPU
 * variant: FUSED_VARIANT (the names' suffix) compiled with FUSED_TARGET (a
 * target attribute, or nothing). Included by _fused_kernels.c only. */
#define FUSED_CAT2_(a, b) a##_##b
#define FUSED_CAT2(a, b) FUSED_CAT2_(a, b)
#define FUSED_CAT3_(a, b, c) a##_##b##_##c
#define FUSED_CAT3(a, b, c) FUSED_CAT3_(a, b, c)
#define FUSED_NAME(name) FUSED_CAT3(name, FUSED_RS, FUSED_VARIANT)
#define FUSED_SIGMOID FUSED_CAT2(sigmoid, FUSED_RS)
#define FUSED_TANH FUSED_CAT2(tanh, FUSED_RS)

#define REAL double
#define FUSED_RS d
#include "_fused_kernels_impl.h"
#undef REAL
#undef FUSED_RS

#define REAL float
#define FUSED_RS f
#include "_fused_kernels_impl.h"
#undef REAL
#undef FUSED_RS

#undef FUSED_NAME
#undef FUSED_SIGMOID
#undef FUSED_TANH
