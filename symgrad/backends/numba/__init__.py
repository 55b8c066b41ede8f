"""The numba backend: kernels generated from the reverse-mode program, JIT-compiled.

- :mod:`~symgrad.backends.numba.source` prints the kernel source (no numba needed);
- :mod:`~symgrad.backends.numba.runtime` holds the helpers the kernels call;
- :mod:`~symgrad.backends.numba.backend` compiles, caches and calls them (needs numba).

Importing this package does not import numba.
"""
