"""Build of the optional compiled extension ``sklearn_lstm._fused``.

Everything else is in ``pyproject.toml``. The extension is Cython and C,
compiled with the machine's C compiler; it calls BLAS only through
:mod:`scipy.linalg.cython_blas` (SciPy's own BLAS, so no second BLAS is
linked). When it cannot be built (no compiler, no Cython), the install goes
on without it, with a warning, and the package runs its NumPy code.
"""

import sys
import warnings

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.errors import CCompilerError, CompileError, ExecError, PlatformError

# What a failed build of the extension may raise (a missing compiler raises
# one of the first four, or OSError when the compiler program is not found).
BUILD_ERRORS = (CCompilerError, CompileError, ExecError, PlatformError, OSError)

SOURCES = ["sklearn_lstm/_fused.pyx", "sklearn_lstm/_fused_kernels.c"]
DEPENDS = [
    "sklearn_lstm/_fused_kernels.h",
    "sklearn_lstm/_fused_kernels_impl.h",
    "sklearn_lstm/_fused_kernels_variant.h",
]


class OptionalBuildExt(build_ext):
    """``build_ext`` that warns, instead of failing, when a build fails, and
    then leaves the extension out of what it installs."""

    def initialize_options(self):
        super().initialize_options()
        self._failed = []

    def _built(self):
        return [ext for ext in self.extensions if ext not in self._failed]

    def run(self):
        try:
            super().run()
        except BUILD_ERRORS as exc:
            _warn(exc)
            self._failed.extend(self.extensions)

    def copy_extensions_to_source(self):
        everything, self.extensions = self.extensions, self._built()
        try:
            super().copy_extensions_to_source()
        finally:
            self.extensions = everything

    def get_outputs(self):
        everything, self.extensions = self.extensions, self._built()
        try:
            return super().get_outputs()
        finally:
            self.extensions = everything

    def get_output_mapping(self):
        everything, self.extensions = self.extensions, self._built()
        try:
            return super().get_output_mapping()
        finally:
            self.extensions = everything

    def build_extension(self, ext):
        if self.compiler.compiler_type != "msvc":
            # No -ffast-math, ever: in a shared object it links crtfastmath.o,
            # which turns on flush-to-zero for the whole process, and its
            # approximate division made float32 sigmoid(-1e4) NaN.
            # -fno-trapping-math lets GCC vectorize the kernels' clamps and
            # selects, and -fno-math-errno the optimizers' square roots (they
            # change no result: only floating-point flags and errno).
            ext.extra_compile_args = ["-O3", "-fno-trapping-math", "-fno-math-errno"]
        try:
            super().build_extension(ext)
        except BUILD_ERRORS as exc:
            _warn(exc)
            self._failed.append(ext)


def _warn(exc):
    warnings.warn(
        "sklearn_lstm: the compiled extension sklearn_lstm._fused could not be "
        f"built ({exc}); the package will run its NumPy code only.",
        stacklevel=1,
    )
    print(f"WARNING: sklearn_lstm._fused not built: {exc}", file=sys.stderr)


def _extensions():
    """The extension, cythonized; none when Cython is missing."""
    try:
        from Cython.Build import cythonize
    except ImportError as exc:
        _warn(exc)
        return []
    import numpy  # a build requirement (pyproject.toml): its C API's headers

    ext = Extension(
        "sklearn_lstm._fused",
        sources=SOURCES,
        depends=DEPENDS,
        include_dirs=["sklearn_lstm", numpy.get_include()],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
    )
    try:
        return cythonize(
            [ext],
            compiler_directives={"language_level": 3},
            quiet=True,
        )
    except Exception as exc:  # a cythonize failure must not stop the install
        _warn(exc)
        return []


setup(ext_modules=_extensions(), cmdclass={"build_ext": OptionalBuildExt})
