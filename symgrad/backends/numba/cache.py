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

Checked entries
---------------
Each key has a *record*, ``symgrad_kernel_<key>.sha256``, in the format of
``sha256sum`` (``sha256sum -c`` in the cache directory checks it): the SHA-256 of
the kernel file, then of each of numba's index (``.nbi``) and data (``.nbc``)
files of that kernel in ``__pycache__`` (:mod:`symgrad.backends.numba.entry`).
:func:`load` writes it after a successful import, and checks it before the
next: the kernel's bytes that were hashed are the bytes compiled and executed
(the file is not read twice), and every listed numba file must match before
numba unpickles it.  An entry whose record is unreadable, or whose files are
missing or do not match, is rebuilt: its record and numba's files are deleted
and the kernel is replaced by a freshly generated one.  So is an entry whose
kernel file may not be trusted, and, quietly, a kernel without a record (a build
that was interrupted).  If the import itself fails (numba's files raise
``EOFError``, ``UnpicklingError``..., or the kernel does not compile), the entry
is rebuilt once; if that fails too, :class:`KernelCacheError` says so, with the
directory to delete.  numba's files for symgrad's kernels always go to the
``__pycache__`` next to them (``NUMBA_CACHE_DIR`` and
``NUMBA_CACHE_LOCATOR_CLASSES`` are set aside while a kernel module is
imported), so they are checked too.

Entries unused for :data:`~symgrad.backends.numba.entry.PRUNE_DAYS` days are
deleted whenever a kernel is built (:func:`~symgrad.backends.numba.entry.prune`).

A rebuild is reported in one line through the :mod:`logging` logger
``symgrad.backends.numba.cache`` at level WARNING (``symgrad: note: the cached
kernel for 2-2-1 was damaged (...); rebuilt it``).  With no logging configured,
as in the command line, Python prints that line alone on stderr; a program
that configures logging gets it through its own handlers (and can silence it).

Concurrent writers: every file is written to a temporary name and moved into
place with :func:`os.replace` (numba does the same), so no process ever reads a
half-written file; and a process locks ``symgrad_kernel_<key>.lock``
(``fcntl.flock``) while it checks, builds and records an entry, so a second
process wanting the same kernel waits for the first and then loads its work.
Where there is no ``flock`` (Windows), or after
:data:`~symgrad.backends.numba.entry.LOCK_WAIT` seconds, a
process builds without the lock: the atomic writes keep that safe, at the cost
of duplicate work.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import logging
import os
import stat
import sys
import tempfile
import threading
import types
from collections.abc import Iterator
from pathlib import Path

from symgrad.backends.numba import source
from symgrad.backends.numba.entry import Entry, locked, prune, write_atomically
from symgrad.errors import CacheError
from symgrad.network import Network

#: Modules outside this package whose source shapes the generated code.  Every
#: ``*.py`` file of this package is hashed too; a missing module (``activations``
#: in older trees) is hashed as absent.
SHAPING_MODULES = ("symgrad.derive", "symgrad.layerwise", "symgrad.network", "symgrad.spec",
                   "symgrad.activations")
_PACKAGE_DIR = Path(__file__).resolve().parent
_loaded: dict[str, types.ModuleType] = {}
_scratch: list[Path] = []       # the mkdtemp fallback of this process, once made
_process_lock = threading.Lock()
_log = logging.getLogger(__name__)


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


def _numba_version() -> str:
    """numba's version, without importing numba (which takes a good part of a second)."""
    numba = sys.modules.get("numba")
    if numba is not None:
        return str(numba.__version__)
    from importlib.metadata import version

    return version("numba")


def cache_key(net: Network, method: str) -> str:
    """Hash of everything the kernel depends on: spec, constants, sources, versions."""
    import numpy
    import sympy

    from symgrad._version import __version__

    h = hashlib.sha256(repr((net.spec, method, sorted(source.constants().items()))).encode())
    for name, text in _shaping_sources():
        h.update(f"\0{name}\0{len(text)}\0".encode())
        h.update(text)
    versions = (__version__, _numba_version(), numpy.__version__, sympy.__version__,
                sys.version)
    h.update(repr(versions).encode())
    return h.hexdigest()[:24]


def kernel_file(net: Network, method: str, key: str | None = None) -> Path:
    """The cached kernel file of ``net``, written (atomically) unless a trusted one is there.

    A file that is not a regular file owned by the current user, or that group or
    others may write, is replaced by a freshly generated one.  (Its checksum is
    checked by :func:`load`, not here.)
    """
    key = key or cache_key(net, method)
    path = cache_dir() / f"symgrad_kernel_{key}.py"
    try:
        reason = untrusted(path, directory=False)
    except FileNotFoundError:
        reason = "missing"
    if reason:
        write_atomically(path, source.kernel_source(net, method))
    return path


class KernelCacheError(CacheError, RuntimeError):
    """A kernel failed to load from its cache entry, and again after a rebuild."""


def _first_line(exc: BaseException) -> str:
    """``"EOFError: Ran out of input"``: the exception's type and first line."""
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0][:200]}" if lines else type(exc).__name__


@contextlib.contextmanager
def _numba_files_beside_kernels() -> Iterator[None]:
    """numba caches the functions defined inside the block next to their source file."""
    from numba.core import config

    config.reload_config()        # take in environment changes now, not during the import
    names = [n for n in ("CACHE_DIR", "CACHE_LOCATOR_CLASSES") if hasattr(config, n)]
    saved = {n: getattr(config, n) for n in names}
    try:
        for name in names:
            setattr(config, name, "")
        yield
    finally:
        for name, value in saved.items():
            setattr(config, name, value)


def _execute(entry: Entry, text: bytes) -> types.ModuleType:
    """Compile and run ``text`` as the kernel module of ``entry`` (registered by name)."""
    name = entry.stem
    spec = importlib.util.spec_from_file_location(name, entry.kernel)
    if spec is None:
        raise ImportError(f"cannot import the kernel file {entry.kernel}")
    module = importlib.util.module_from_spec(spec)
    code = compile(text, str(entry.kernel), "exec", dont_inherit=True)
    sys.modules[name] = module                 # numba's disk cache re-imports it by name
    try:
        with _numba_files_beside_kernels():
            exec(code, module.__dict__)        # numba compiles, or loads its disk cache
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def _build(entry: Entry, net: Network, method: str) -> bytes:
    """Replace ``entry`` by a freshly generated kernel (numba's files deleted); its bytes."""
    text = source.kernel_source(net, method).encode("utf-8")
    entry.discard()
    write_atomically(entry.kernel, text)      # replaced, never missing: see Entry.discard
    with contextlib.suppress(OSError):        # a build is the time to tidy (entry.prune)
        prune(entry.where, entry.stem.removeprefix("symgrad_kernel_"))
    return text


def _load_entry(entry: Entry, net: Network, method: str) -> tuple[types.ModuleType, bytes]:
    """Import the kernel of ``entry``, rebuilt first if it is damaged; update its record."""
    try:
        reason = untrusted(entry.kernel, directory=False)
    except FileNotFoundError:
        reason = None
    text: bytes | None
    why: str | None
    if reason:
        text, why = None, f"not safe to use (the kernel file is {reason})"
    else:
        text, damage = entry.verified()
        why = f"damaged ({damage})" if damage else None
    fresh = text is None
    if text is None:
        text = _build(entry, net, method)
    try:
        module = _execute(entry, text)
    except Exception as exc:
        if fresh:                              # nothing came from the cache: a real error
            raise
        why = f"damaged ({_first_line(exc)}, while loading it)"
        text = _build(entry, net, method)
        try:
            module = _execute(entry, text)
        except Exception as again:
            raise KernelCacheError(
                f"the cached kernel for {net.spec.arch} failed to load ({_first_line(exc)}) "
                f"and again after a rebuild ({_first_line(again)}); delete {entry.where} "
                "or set SYMGRAD_CACHE_DIR to another directory") from again
    entry.save_record(text)
    if why:
        _log.warning("symgrad: note: the cached kernel for %s was %s; rebuilt it",
                     net.spec.arch, why)
    return module, text


def is_cached(net: Network, method: str = "reverse") -> bool:
    """Whether a recorded kernel of ``net`` is in the cache (loading it would not compile).

    Cheap: it hashes the sources and looks for the entry's files; it imports no
    numba and checks no checksums (:func:`load` does that).
    """
    key = cache_key(net, method)
    if key in _loaded:
        return True
    entry = Entry(cache_dir(), key)
    return entry.kernel.is_file() and entry.record.is_file()


def load(net: Network, method: str) -> types.ModuleType:
    """Import the kernel module of ``net`` from the cache, building or healing it first.

    The entry is checked against its record and rebuilt (with a one-line note)
    if it is damaged; see the module's docstring.  The module gets ``source``
    (its text) and ``cache_path`` attributes.
    """
    key = cache_key(net, method)
    with _process_lock:
        if key not in _loaded:
            entry = Entry(cache_dir(), key)
            with locked(entry.lock):
                module, text = _load_entry(entry, net, method)
            module.__dict__.update(source=text.decode("utf-8"), cache_path=entry.kernel)
            _loaded[key] = module
        return _loaded[key]
