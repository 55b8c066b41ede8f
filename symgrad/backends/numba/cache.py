"""The kernel cache: where generated modules live, what their names hash, loading them.

A kernel module is written to :func:`cache_dir` as ``symgrad_kernel_<key>.py``
and imported; numba's ``cache=True`` then keeps its machine code in the
``__pycache__`` folder next to it, so a second process loads it from disk.
The key (:func:`cache_key`) hashes everything the text depends on: the network
spec, the method, the generator's constants, the source of every module that
shapes the code, and the symgrad, numba, numpy, SymPy and Python versions.

Both the kernel files (imported, so executed) and numba's cache files
(unpickled) are code, so a directory is used only if it is owned by the current
user and not writable by group or others (directories created here get mode
0700), and an existing kernel file with another owner or group/other write
permission is never imported: it is regenerated and replaced atomically.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import stat
import sys
import tempfile
from pathlib import Path

from symgrad.backends.numba import source
from symgrad.network import Network

#: Modules outside this package whose source shapes the generated code.  Every
#: ``*.py`` file of this package is hashed too; a missing module (``activations``
#: in older trees) is hashed as absent.
SHAPING_MODULES = ("symgrad.derive", "symgrad.network", "symgrad.spec", "symgrad.activations")
_PACKAGE_DIR = Path(__file__).resolve().parent
_loaded: dict = {}
_scratch: list = []             # the mkdtemp fallback of this process, once made


def _current_uid() -> int | None:
    """The real user id (``None`` where the platform has none: no ownership checks)."""
    getuid = getattr(os, "getuid", None)
    return getuid() if getuid is not None else None


def _owner_and_mode(path, follow_symlinks: bool = True) -> tuple[int, int]:
    """``(st_uid, st_mode)`` of ``path`` (the one place ownership is read)."""
    st = os.stat(path, follow_symlinks=follow_symlinks)
    return st.st_uid, st.st_mode


def untrusted(path, *, directory: bool) -> str | None:
    """Why ``path`` must not be used, or ``None`` if it is ours and private enough.

    A directory must be a directory (symlinks are followed); a kernel file must
    be a regular file, not a symlink.  Either must be owned by the current user
    and not writable by group or others.
    """
    uid, mode = _owner_and_mode(path, follow_symlinks=directory)
    if directory and not stat.S_ISDIR(mode):
        return "not a directory"
    if not directory and not stat.S_ISREG(mode):
        return "not a regular file"
    me = _current_uid()
    if me is not None and uid != me:
        return f"owned by uid {uid}, not {me}"
    if mode & 0o022:
        return f"writable by group or others (mode {stat.S_IMODE(mode):o})"
    return None


def _private_directory(where: Path) -> Path | None:
    """``where`` (created with mode 0700 if missing) if it is safe and writable, else None."""
    try:
        where.parent.mkdir(parents=True, exist_ok=True)
        try:
            where.mkdir(mode=0o700)
        except FileExistsError:
            pass
        where = where.resolve()                # check and use the real directory
        if untrusted(where, directory=True):
            return None
        fd, probe = tempfile.mkstemp(dir=where, prefix=".probe-")
        os.close(fd)
        os.unlink(probe)
        # numba keeps its cache (pickles: code as well) in __pycache__ next to the
        # kernels; made here with mode 0700 rather than by numba with the umask.
        numba_cache = where / "__pycache__"
        try:
            numba_cache.mkdir(mode=0o700)
        except FileExistsError:
            pass
        return None if untrusted(numba_cache, directory=True) else where
    except (OSError, RuntimeError):
        return None


def cache_dir() -> Path:
    """Where kernels are cached: ``$SYMGRAD_CACHE_DIR``, ``$XDG_CACHE_HOME/symgrad`` or
    ``~/.cache/symgrad``.

    A directory that cannot be written, is owned by another user or is writable by
    group or others is refused; then ``symgrad-cache-<uid>`` in the system's
    temporary folder is tried (under the same rules), and finally a fresh private
    directory from :func:`tempfile.mkdtemp`.
    """
    if os.environ.get("SYMGRAD_CACHE_DIR"):
        candidates = [Path(os.environ["SYMGRAD_CACHE_DIR"])]
    else:
        try:
            base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
            candidates = [Path(base) / "symgrad"]
        except RuntimeError:                   # no home directory
            candidates = []
    uid = _current_uid()
    if uid is not None:
        candidates.append(Path(tempfile.gettempdir()) / f"symgrad-cache-{uid}")
    for where in candidates:
        found = _private_directory(where)
        if found is not None:
            return found
    if not _scratch or not _scratch[0].is_dir():
        _scratch[:] = [Path(tempfile.mkdtemp(prefix="symgrad-cache-"))]   # mode 0700
    return _scratch[0]


def _shaping_sources():
    """``(name, bytes)`` of every source file the generated code depends on."""
    for path in sorted(_PACKAGE_DIR.glob("*.py")):
        yield f"symgrad.backends.numba.{path.stem}", path.read_bytes()
    for name in SHAPING_MODULES:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            spec = None
        origin = spec.origin if spec is not None else None
        yield name, Path(origin).read_bytes() if origin else b"<absent>"


def cache_key(net: Network, method: str) -> str:
    """Hash of everything the kernel depends on: spec, constants, sources, versions."""
    import numba
    import numpy
    import sympy

    from symgrad._version import __version__

    h = hashlib.sha256(repr((net.spec, method, sorted(source.constants().items()))).encode())
    for name, text in _shaping_sources():
        h.update(f"\0{name}\0{len(text)}\0".encode())
        h.update(text)
    versions = (__version__, numba.__version__, numpy.__version__, sympy.__version__,
                sys.version)
    h.update(repr(versions).encode())
    return h.hexdigest()[:24]


def _write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that other processes see all of it or nothing."""
    fd, part = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(part, path)
    except BaseException:
        Path(part).unlink(missing_ok=True)
        raise


def kernel_file(net: Network, method: str, key: str | None = None) -> Path:
    """The cached kernel file of ``net``, written (atomically) unless a trusted one is there.

    A file that is not a regular file owned by the current user, or that group or
    others may write, is replaced by a freshly generated one.
    """
    key = key or cache_key(net, method)
    path = cache_dir() / f"symgrad_kernel_{key}.py"
    try:
        reason = untrusted(path, directory=False)
    except FileNotFoundError:
        reason = "missing"
    if reason:
        _write_atomically(path, source.kernel_source(net, method))
    return path


def load(net: Network, method: str):
    """Import (writing it first if needed) the kernel module of ``net``; return it.

    The module gets ``source`` (its text) and ``cache_path`` attributes.
    """
    key = cache_key(net, method)
    if key in _loaded:
        return _loaded[key]
    path = kernel_file(net, method, key)
    name = path.stem
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import the kernel file {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module                 # numba's disk cache re-imports it by name
    spec.loader.exec_module(module)            # numba compiles, or loads its disk cache
    module.__dict__.update(source=path.read_text(encoding="utf-8"), cache_path=path)
    _loaded[key] = module
    return module
