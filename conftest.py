"""pytest configuration shared by the test suite and the doctests in symgrad/."""

import importlib.util

# symgrad/fast.py is the optional numba backend: it raises ImportError without
# numba, so its doctests can only be collected where the 'fast' extra is installed.
collect_ignore = []
if importlib.util.find_spec("numba") is None:
    collect_ignore += ["symgrad/fast.py"]
if importlib.util.find_spec("hypothesis") is None:
    collect_ignore += ["symgrad/strategies.py"]
