"""The numba backend: kernels generated from the reverse-mode program, JIT-compiled.

- :mod:`~symgrad.backends.numba.source` prints the kernel source (no numba needed),
  from :mod:`~symgrad.backends.numba.emit` (emitter, shared layout),
  :mod:`~symgrad.backends.numba.printer` (formulas; the activation hooks) and one
  module per code shape: :mod:`~symgrad.backends.numba.unrolled` (unrolled and
  fused) and :mod:`~symgrad.backends.numba.stacked` (loops over layers);
- :mod:`~symgrad.backends.numba.runtime` holds the helpers the kernels call;
- :mod:`~symgrad.backends.numba.cache` writes, checks and imports kernel modules;
- :mod:`~symgrad.backends.numba.backend` compiles and calls them (needs numba).

Importing this package does not import numba.
"""
