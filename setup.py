"""Builds the C job loop (src/q4m_fast/_loop.pyx); everything else is in pyproject.toml.

The extension links no MySQL client library on purpose: it borrows the functions of the one
MySQLdb is linked to, at import (see _loop.pyx). ``Q4M_FAST_DEBUG=1`` builds it with asserts and
without optimisation.
"""

import os

from Cython.Build import cythonize
from setuptools import Extension, setup

debug = os.environ.get("Q4M_FAST_DEBUG") == "1"

extension = Extension(
    "q4m_fast._loop",
    ["src/q4m_fast/_loop.pyx"],
    libraries=["dl"],  # dlopen/dlsym; part of libc on glibc >= 2.34, harmless before
    extra_compile_args=["-O0", "-g"] if debug else ["-O2"],
    undef_macros=["NDEBUG"] if debug else [],
)

setup(
    ext_modules=cythonize(
        [extension],
        compiler_directives={"language_level": "3", "embedsignature": True},
        annotate=False,
    )
)
