"""The numba backend against the numpy backend, its code emitter, its cache (and its
safety checks), and its missing-extra message.

Every network here costs a JIT compile (seconds), so the nets are few and small,
compiled once per module (``_compiled``) into a fresh cache directory; the tests
that may compile cold are marked ``slow``.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("numba")

from symgrad import Network, ShapeError, compile_gradients  # noqa: E402
from symgrad.backends.numba import backend as fast  # noqa: E402
from symgrad.backends.numba import cache  # noqa: E402
from symgrad.backends.numba import source as fast_source  # noqa: E402
from symgrad.backends.numba.emit import Emitter, KernelLayout  # noqa: E402
from symgrad.errors import MissingExtraError  # noqa: E402

RTOL = 1e-12

# name -> (widths, Network keywords, force the stacked code shape)
NETS = {
    "seed 2-2-1 linear": ([2, 2, 1], {}, False),
    "2-3-1 tanh bias": ([2, 3, 1], {"activation": "tanh", "bias": True}, False),
    "2-3-2 softplus/sigmoid bce": ([2, 3, 2], {"activation": "softplus",
                                               "output_activation": "sigmoid",
                                               "loss": "bce"}, False),
    "3-2-2-2 relu/leaky squared bias": ([3, 2, 2, 2], {"activation": "relu",
                                                      "output_activation": "leaky_relu",
                                                      "loss": "squared", "bias": True}, False),
    "stacked 2-3-3-2 tanh/sigmoid bce bias": ([2, 3, 3, 2], {"activation": "tanh",
                                                            "output_activation": "sigmoid",
                                                            "loss": "bce", "bias": True}, True),
    "stacked 3-4-2 relu/softplus": ([3, 4, 2], {"activation": "relu",
                                                "output_activation": "softplus"}, True),
    # narrower than GROUP_WIDTH: one term per pass; two hidden activations take two
    # branches of the layer loop
    "stacked 3-13-6-2 tanh,sigmoid bias": ([3, 13, 6, 2], {"activation": ["tanh", "sigmoid"],
                                                          "bias": True}, True),
    # a 34-wide layer: 4 terms per pass, and widths 34 and 6 leave remainders after them
    "stacked 3-34-6-2 tanh,sigmoid bias": ([3, 34, 6, 2], {"activation": ["tanh", "sigmoid"],
                                                          "bias": True}, True),
}
_compiled = {}


@pytest.fixture(scope="module", autouse=True)
def fresh_cache(tmp_path_factory):
    """Every run compiles into its own cache directory (and so tests the cold path)."""
    old = os.environ.get("SYMGRAD_CACHE_DIR")
    os.environ["SYMGRAD_CACHE_DIR"] = str(tmp_path_factory.mktemp("symgrad-cache"))
    yield os.environ["SYMGRAD_CACHE_DIR"]
    if old is None:
        del os.environ["SYMGRAD_CACHE_DIR"]
    else:
        os.environ["SYMGRAD_CACHE_DIR"] = old


def compiled(name):
    """``(net, numba f, numpy f)`` for ``NETS[name]``, compiled once per module."""
    if name not in _compiled:
        widths, kwargs, looped = NETS[name]
        net = Network(widths, **kwargs)
        saved = fast_source.UNROLL_MAX
        fast_source.UNROLL_MAX = 0 if looped else saved
        try:
            f = compile_gradients(net, backend="numba")
        finally:
            fast_source.UNROLL_MAX = saved
        _compiled[name] = (net, f, compile_gradients(net))
    return _compiled[name]


def problem(net, m, seed):
    rng = np.random.default_rng(seed)
    spec = net.spec
    params = rng.normal(size=spec.n_parameters) / 1.5
    X = rng.normal(size=(m, spec.n_inputs))
    if spec.loss == "bce":
        y = rng.integers(0, 2, size=(m, spec.n_outputs)).astype(float)
    else:
        y = rng.normal(size=(m, spec.n_outputs))
    return params, X, y


def assert_agree(got, want):
    """cost and grad agree to RTOL relative to the largest entry of the gradient."""
    (c1, g1), (c2, g2) = got, want
    assert abs(c1 - c2) <= RTOL * abs(c2), (c1, c2)
    scale = np.abs(g2).max()
    worst = np.abs(g1 - g2).max() / scale
    assert worst <= RTOL, f"worst relative difference {worst:.2e}\nnumba {g1}\nnumpy {g2}"


@pytest.mark.slow
@pytest.mark.parametrize("name", list(NETS))
@pytest.mark.parametrize("m", [1, 7, 37, 2 * fast.CHUNK + 5, 10_007])
def test_numba_agrees_with_numpy_backend(name, m):
    net, f, g = compiled(name)
    params, X, y = problem(net, m, seed=m)
    assert_agree(f(params, X, y), g(params, X, y))
    # the unvalidated fast path gives the same numbers bit for bit
    c, grad = f.raw(params, X, np.ascontiguousarray(y.reshape(m, -1)))
    assert (c, grad.tolist()) == (f(params, X, y)[0], f(params, X, y)[1].tolist())


@pytest.mark.slow
@pytest.mark.parametrize("name", ["2-3-1 tanh bias", "stacked 2-3-3-2 tanh/sigmoid bce bias"])
def test_serial_and_parallel_runs_give_the_same_bits(name):
    """Chunking depends only on m, so the two drivers sum in the same order
    (fused kernel of a small net; stacked kernel of a larger one)."""
    net, f, _ = compiled(name)
    params, X, y = problem(net, 3 * fast.CHUNK + 11, seed=3)
    Y = np.ascontiguousarray(y.reshape(len(y), -1))
    serial, parallel = f.kernel(params, X, Y), f._parallel(params, X, Y)
    assert serial[0] == parallel[0] and serial[1].tolist() == parallel[1].tolist()


@pytest.mark.slow
def test_relu_kink_takes_derivative_zero_like_numpy_backend():
    net, f, g = compiled("3-2-2-2 relu/leaky squared bias")
    params = np.linspace(-1, 1, net.spec.n_parameters)
    params[net.spec.n_weights:] = 0.0           # zero biases and zero inputs: z = 0 exactly
    X, y = np.zeros((4, 3)), np.ones((4, 2))
    assert_agree(f(params, X, y), g(params, X, y))


@pytest.mark.slow
def test_diff_method_agrees_with_reverse():
    net, f, _ = compiled("2-3-1 tanh bias")
    h = fast.compile_numba(net, method="diff")
    params, X, y = problem(net, 101, seed=7)
    assert h.method == "diff" and "sympy.diff" not in h.source
    assert_agree(h(params, X, y), f(params, X, y))


@pytest.mark.slow
def test_inputs_are_validated_and_converted_like_numpy_backend():
    net, f, g = compiled("seed 2-2-1 linear")
    params, X, y = problem(net, 5, seed=1)
    # lists, Fortran order, float32 and a (m, 1) target all take the checked path
    assert_agree(f(params.tolist(), np.asfortranarray(X), y.astype(np.float32)),
                 g(params, X, y.astype(np.float32)))
    for bad in [(params[:-1], X, y), (params, X[:, :1], y), (params, X, y[:-1])]:
        with pytest.raises(ShapeError) as numba_error:
            f(*bad)
        with pytest.raises(ShapeError) as numpy_error:
            g(*bad)
        assert str(numba_error.value) == str(numpy_error.value)


@pytest.mark.slow
def test_fast_tanh_is_within_a_few_ulp_of_numpy():
    net, f, _ = compiled("2-3-1 tanh bias")
    assert "_tanh(" in f.source
    module = sys.modules[f"symgrad_kernel_{f.cache_path.stem.split('_')[-1]}"]
    z = np.concatenate([np.linspace(-3, 3, 2001), np.geomspace(1e-300, 30, 500),
                        -np.geomspace(1e-12, 30, 200), [0.19999999999, 0.2, 0.2000000001]])
    got = np.array([module._tanh(v) for v in z])
    want = np.tanh(z)
    assert np.all(np.abs(got - want) <= 4 * np.spacing(np.abs(want)))


def test_emitter_indents_nested_blocks_and_restores_the_level():
    e = Emitter()
    e.line("import math")
    e.blank(2)
    with e.block("def f(n):"):
        e.line("s = 0")
        with e.block("for i in range(n):"), e.block("if i % 2:"):
            e.line("s += i", "s *= 1")
        e.blank()
        e.line("return s")
    with pytest.raises(KeyError):                  # an exception does not leave it indented
        with e.block("while True:"):
            raise KeyError
    e.line("x = f(3)")
    assert e.level == 0
    assert e.text() == ("import math\n\n\ndef f(n):\n    s = 0\n    for i in range(n):\n"
                        "        if i % 2:\n            s += i\n            s *= 1\n\n"
                        "    return s\nwhile True:\nx = f(3)\n")


def test_kernel_layout_takes_the_parameter_offsets_from_the_spec():
    net = Network([3, 4, 2, 1], activation="tanh", output_activation="linear", bias=True)
    layout = KernelLayout.of(net)
    for l in (1, 2, 3):
        assert layout.weight_offset[l] == net.spec.weight_slice(l).start
        assert layout.bias_offset[l] == net.spec.bias_slice(l).start
    assert layout.output == ("A0", "A1", "A2", "Z3")
    assert layout.activation == (None, "tanh", "tanh", "linear")
    assert KernelLayout.of(Network([3, 4, 1])).bias_offset == (None, None, None)
    with pytest.raises(ValueError, match="no reverse-mode program"):
        _ = KernelLayout.of(net, "diff").reverse


@pytest.mark.parametrize("unroll_max", [64, 0])
@pytest.mark.parametrize("method", ["reverse", "diff"])
def test_generated_code_is_final_as_printed(monkeypatch, unroll_max, method):
    """Every kernel shape compiles as Python, reads samples with its own final
    indexing, and no generator module post-processes text with regular expressions."""
    monkeypatch.setattr(fast_source, "UNROLL_MAX", unroll_max)
    net = Network([2, 3, 2], activation="tanh", output_activation="sigmoid", loss="bce",
                  bias=True)
    src = fast_source.kernel_source(net, method)
    compile(src, "<kernel>", "exec")
    chunk = src[src.index("def run_serial("):]
    if method == "diff":
        assert "x1 = X[i, 0]" in chunk and "Xf[" not in chunk
    elif unroll_max:                                # fused: flat unsigned reads
        assert "x1 = Xf[i * u2 + u0]" in chunk and "y2 = Yf[i * u2 + u1]" in chunk
        assert "X[i, " not in chunk
    else:                   # stacked: rows of the scratch array S, no array constructors
        assert "S[1, s] = X[i, 1]" in chunk and "S[18, s] = Y[i, 1]" in chunk  # 7 + 2 * 5 + 1
        assert "np.empty" not in chunk and "np.zeros" not in chunk and "reshape" not in chunk
    for module in Path(fast_source.__file__).parent.glob("*.py"):
        assert all(s not in module.read_text() for s in ("import re\n", "re.sub(")), module


def test_cache_dir_falls_back_when_unwritable(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("SYMGRAD_CACHE_DIR", str(blocker / "cache"))
    where = fast.cache_dir()
    assert where != blocker / "cache" and where.is_dir() and os.access(where, os.W_OK)


@pytest.fixture
def private_tmp(tmp_path, monkeypatch):
    """The system temporary folder (per-user fallback, mkdtemp) moved under tmp_path."""
    tmp = directory(tmp_path / "systmp", 0o700)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    monkeypatch.setattr(cache, "_scratch", [])
    return tmp


def directory(path, mode):
    path.mkdir()
    path.chmod(mode)                # whatever the umask
    return path


def owned_by_someone_else(monkeypatch, target):
    """Make the cache see ``target`` as owned by another user (no root needed)."""
    real = cache._owner_and_mode

    def owner_and_mode(path, follow_symlinks=True):
        uid, mode = real(path, follow_symlinks)
        return (uid + 1 if Path(path) == target else uid), mode

    monkeypatch.setattr(cache, "_owner_and_mode", owner_and_mode)


@pytest.mark.parametrize("shared", ["shared", "mine/__pycache__"])   # numba's cache too
def test_cache_dir_refuses_a_world_writable_directory(tmp_path, private_tmp, monkeypatch,
                                                      shared):
    directory(tmp_path / "mine", 0o700)
    shared = directory(tmp_path / shared, 0o777)
    wanted = shared.parent if shared.name == "__pycache__" else shared
    monkeypatch.setenv("SYMGRAD_CACHE_DIR", str(wanted))
    assert "writable by group or others" in cache.untrusted(shared, directory=True)
    where = fast.cache_dir()
    assert where == private_tmp.resolve() / f"symgrad-cache-{os.getuid()}"
    st = os.stat(where)                                    # created here: private
    assert st.st_uid == os.getuid() and stat.S_IMODE(st.st_mode) == 0o700
    assert not list(shared.iterdir())                      # nothing was written there


def test_cache_dir_refuses_a_directory_owned_by_someone_else(tmp_path, private_tmp, monkeypatch):
    theirs = directory(tmp_path / "theirs", 0o700)
    owned_by_someone_else(monkeypatch, theirs.resolve())
    monkeypatch.setenv("SYMGRAD_CACHE_DIR", str(theirs))
    assert "owned by uid" in cache.untrusted(theirs.resolve(), directory=True)
    assert fast.cache_dir() == private_tmp.resolve() / f"symgrad-cache-{os.getuid()}"


def test_cache_dir_refuses_a_bad_temporary_fallback_too(tmp_path, private_tmp, monkeypatch):
    shared = directory(tmp_path / "shared", 0o770)
    fallback = directory(private_tmp / f"symgrad-cache-{os.getuid()}", 0o777)
    monkeypatch.setenv("SYMGRAD_CACHE_DIR", str(shared))
    where = fast.cache_dir()
    assert where.parent == private_tmp and where.name.startswith("symgrad-cache-")
    assert where != fallback and stat.S_IMODE(os.stat(where).st_mode) == 0o700
    assert fast.cache_dir() == where                       # one scratch dir per process


@pytest.mark.parametrize("problem", ["group-writable", "someone else's"])
def test_an_untrusted_kernel_file_is_regenerated_not_used(tmp_path, monkeypatch, problem):
    monkeypatch.setenv("SYMGRAD_CACHE_DIR", str(tmp_path / "cache"))
    net = Network([2, 2, 1])
    key = cache.cache_key(net, "reverse")
    planted = fast.cache_dir() / f"symgrad_kernel_{key}.py"
    planted.write_text("raise SystemExit('planted')\n")
    if problem == "group-writable":
        planted.chmod(0o664)
    else:
        owned_by_someone_else(monkeypatch, planted)
    path = cache.kernel_file(net, "reverse")
    monkeypatch.undo()
    assert path == planted and path.read_text() == fast_source.kernel_source(net)
    assert cache.untrusted(path, directory=False) is None
    assert not list(path.parent.glob(".*.tmp"))            # the atomic write left nothing
    # a trusted file is used as it is
    path.write_text("# kept\n")
    monkeypatch.setenv("SYMGRAD_CACHE_DIR", str(tmp_path / "cache"))
    assert cache.kernel_file(net, "reverse").read_text() == "# kept\n"


def test_cache_key_covers_versions_constants_and_generator_sources(monkeypatch, tmp_path):
    import sympy

    net = Network([2, 2, 1])
    key = cache.cache_key(net, "reverse")
    assert key == cache.cache_key(Network([2, 2, 1]), "reverse")
    assert key not in {cache.cache_key(net, "diff"),
                       cache.cache_key(Network([2, 2, 1], bias=True), "reverse")}
    with monkeypatch.context() as m:
        m.setattr(sympy, "__version__", sympy.__version__ + ".post1")
        assert cache.cache_key(net, "reverse") != key
    for constant in ("UNROLL_MAX", "GROUP", "LANES", "BLOCK", "CHUNK"):
        with monkeypatch.context() as m:
            m.setattr(fast_source, constant, getattr(fast_source, constant) * 2)
            assert cache.cache_key(net, "reverse") != key, constant
    names = {name for name, _ in cache._shaping_sources()}
    assert {f"symgrad.backends.numba.{m}" for m in ("backend", "cache", "source", "emit",
                                                    "runtime", "printer")} <= names
    assert {"symgrad.derive", "symgrad.network", "symgrad.spec", "symgrad.activations"} <= names
    for module in cache._PACKAGE_DIR.glob("*.py"):          # the generator's text counts
        (tmp_path / module.name).write_bytes(module.read_bytes())
    monkeypatch.setattr(cache, "_PACKAGE_DIR", tmp_path)
    assert cache.cache_key(net, "reverse") == key
    with open(tmp_path / "emit.py", "a") as f:
        f.write("# changed\n")
    assert cache.cache_key(net, "reverse") != key


_BLOCK_NUMBA = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == "numba" or name.startswith("numba."):
            raise ImportError("No module named 'numba' (blocked for the test)")
sys.meta_path.insert(0, Block())
"""


def test_missing_numba_gives_one_clear_line():
    code = _BLOCK_NUMBA + textwrap.dedent("""
        from symgrad import Network, compile_gradients
        from symgrad.errors import MissingExtraError
        net = Network([2, 2, 1])
        print(compile_gradients(net, backend="auto").backend)
        try:
            compile_gradients(net, backend="numba")
        except MissingExtraError as exc:
            print(exc)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "numpy"
    assert "pip install 'symgrad[fast]'" in lines[1] and len(lines) == 2
    assert issubclass(MissingExtraError, ImportError)


_COMPILE_IN_CHILD = """
import time, numpy as np
t0 = time.perf_counter()
from symgrad import Network
from symgrad.backends.numba.backend import compile_numba
f = compile_numba(Network([2, 4, 1], activation="sigmoid"))
t1 = time.perf_counter()
cost, grad = f(np.linspace(-1, 1, 12), np.ones((3, 2)), np.ones(3))
print(t1 - t0, repr(cost), *map(repr, grad))
"""


@pytest.mark.slow
def test_second_process_loads_the_kernel_from_disk(tmp_path):
    env = dict(os.environ, SYMGRAD_CACHE_DIR=str(tmp_path))
    runs = []
    for _ in range(2):
        start = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", _COMPILE_IN_CHILD], env=env,
                             capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr
        runs.append((time.perf_counter() - start, out.stdout.split()))
    assert runs[0][1][1:] == runs[1][1][1:]          # same numbers from the cached kernel
    assert len(list(tmp_path.glob("symgrad_kernel_*.py"))) == 1
    index = list(tmp_path.glob("__pycache__/symgrad_kernel_*.nbi"))
    assert {p.name.split(".")[1].split("-")[0] for p in index} >= {"run_serial"}
    print(f"compile in a fresh process: {float(runs[0][1][0]):.2f} s "
          f"(process {runs[0][0]:.2f} s); from the cache: {float(runs[1][1][0]):.2f} s "
          f"(process {runs[1][0]:.2f} s)")


def test_tanh_coefficients_are_the_taylor_series():
    """The kernels' tanh polynomial comes from a recurrence, not SymPy's series:
    both give the same exact coefficients, and the printed floats round them."""
    from fractions import Fraction

    import sympy as sp

    from symgrad.backends.numba.runtime import tanh_coefficients, tanh_polynomial

    z = sp.Symbol("z")
    series = sp.series(sp.tanh(z), z, 0, 24).removeO()
    expected = [Fraction(int(c.p), int(c.q))
                for c in (sp.Rational(series.coeff(z, 2 * k + 1)) for k in range(12))]
    assert tanh_coefficients(12) == expected
    assert repr(float(expected[11])) in tanh_polynomial()


def test_stacked_layout_groups_terms_on_wide_networks_and_aliases_identity(monkeypatch):
    """4 terms per pass only where a layer is GROUP_WIDTH wide (the sums are added in
    the same order either way); a layer with a = z keeps a in z's rows (no copy)."""
    from symgrad.backends.numba import stacked

    monkeypatch.setattr(fast_source, "UNROLL_MAX", 0)
    narrow = fast_source.kernel_source(Network([3, 13, 6, 2], activation="tanh"))
    wide = fast_source.kernel_source(Network([3, stacked.GROUP_WIDTH, 6, 2],
                                             activation="tanh"))
    assert "while q + 4 <=" not in narrow and "while q + 4 <=" in wide
    linear = fast_source.kernel_source(Network([3, 6, 6, 2], activation=["linear", "tanh"],
                                               output_activation="linear"))
    rows = stacked.Rows(KernelLayout.of(Network([3, 6, 6, 2], activation=["linear", "tanh"])))
    assert rows.a[1] == rows.z[1] and rows.a[3] == rows.z[3] and rows.a[2] != rows.z[2]
    assert f"A_ROW = np.array({rows.a})" in linear and f"SCRATCH_ROWS = {rows.total}" in linear
