"""Matrix claims (claims/matrix): each verdict against truth the test computes itself.

The test builds every network in plain SymPy (its own matrices, activations and
``sympy.diff``), writes each claim twice -- as text for symgrad and as a matrix
expression over its own objects -- and expects symgrad's verdict and wrong entries
to match what its own matrices say.  Batch claims are checked against the numpy
reference backprop.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
import sympy as sp

from symgrad import Network
from symgrad.claims.matrix.check import verify_matrix
from symgrad.claims.matrix.equations import backprop_equations
from symgrad.claims.matrix.layers import Layers, Ref
from symgrad.errors import ParseError
from symgrad.references.backprop import backprop
from symgrad.spec import ACTIVATIONS

_t = sp.Symbol("t", real=True)
ACTS = {"linear": _t, "sigmoid": 1 / (1 + sp.exp(-_t)), "tanh": sp.tanh(_t),
        "softplus": sp.log(1 + sp.exp(_t)), "relu": sp.Piecewise((_t, _t > 0), (0, True)),
        "leaky_relu": sp.Piecewise((_t, _t > 0), (_t / 100, True))}


def _s(name):
    return sp.Symbol(name, real=True)


class Reference:
    """One network in plain SymPy: W, b, z, a, delta and the per-entry truth by diff."""

    def __init__(self, widths, act, bias=False):
        self.widths, self.L = widths, len(widths) - 1
        self.f = lambda u, l: ACTS[act if l < self.L else "linear"].subs(_t, u)
        self.W = {l: sp.Matrix(widths[l], widths[l - 1],
                               lambda j, k, l=l: _s(f"w{l}{j + 1}{k + 1}"))
                  for l in range(1, self.L + 1)}
        self.b = {l: sp.Matrix(widths[l], 1, lambda j, _, l=l: _s(f"b{l}{j + 1}") if bias else 0)
                  for l in range(1, self.L + 1)}
        self.a = {0: sp.Matrix(widths[0], 1, lambda k, _: _s(f"x{k + 1}"))}
        self.z = {}
        for l in range(1, self.L + 1):
            self.z[l] = self.W[l] * self.a[l - 1] + self.b[l]
            self.a[l] = self.z[l].applyfunc(lambda u, l=l: self.f(u, l))
        self.y = _s("y")
        self.loss = (self.a[self.L][0] - self.y) ** 2 / 2

    def loss_from(self, l, zs):
        """L as a function of layer l's pre-activations ``zs`` (the cut network)."""
        a = zs.applyfunc(lambda u: self.f(u, l))
        for k in range(l + 1, self.L + 1):
            a = (self.W[k] * a + self.b[k]).applyfunc(lambda u, k=k: self.f(u, k))
        return (a[0] - self.y) ** 2 / 2

    def delta(self, l):
        ts = sp.Matrix(self.widths[l], 1, lambda j, _: _s(f"t{j}"))
        loss = self.loss_from(l, ts)
        return ts.applyfunc(lambda t: sp.diff(loss, t)).subs(dict(zip(ts, self.z[l])))

    def fprime(self, l):
        slope = sp.diff(self.f(_t, l), _t)
        return self.z[l].applyfunc(lambda u: slope.subs(_t, u))

    def grad(self, M):
        return M.applyfunc(lambda p: sp.diff(self.loss, p))


def _point(exprs, seed=3):
    rng = random.Random(seed)
    free = set().union(*(e.free_symbols for e in exprs))
    return {s: sp.Float(rng.choice([-1, 1]) * rng.randint(2, 9) / rng.randint(2, 7), 30)
            for s in sorted(free, key=str)}


def _differ(A, B):
    """Flat indices where A and B differ (at two random points)."""
    out = []
    for i in range(len(A)):
        for seed in (3, 4):
            p = _point([A[i], B[i]], seed)
            if abs(sp.N(A[i].xreplace(p) - B[i].xreplace(p), 30)) > 1e-12:
                out.append(i)
                break
    return out


def _check(widths, act, text, lhs, rhs, bias=False):
    """symgrad's verdict on ``text`` agrees with the reference: ``lhs(ref)`` is the truth
    and ``rhs(ref)`` the claim, both built by the test."""
    ref = Reference(widths, act, bias)
    differ = _differ(rhs(ref), lhs(ref))
    net = Network(widths, activation=act, bias=bias)
    [v] = verify_matrix(net, text)
    assert v.correct is (not differ), (text, v.to_text())
    assert len(v.wrong_entries) == len(differ)
    return v


@pytest.mark.parametrize("act", ACTIVATIONS)
def test_the_textbook_equations_hold_for_every_activation(act):
    if act in ACTS:                    # the test's own truth, for the activations it writes
        ref = Reference([2, 3, 1], act)
        assert not _differ(ref.delta(1), (ref.W[2].T * ref.delta(2)).multiply_elementwise(
            ref.fprime(1)))
    net = Network([2, 3, 1], activation=act)
    texts = [f"{e.lhs} = {e.rhs}" for e in backprop_equations(net) if e.label != "forward"]
    assert all(v.correct for v in verify_matrix(net, texts)), texts


@pytest.mark.parametrize("widths", [[2, 2, 1], [2, 3, 1], [2, 3, 3, 1]])
def test_gradients_by_weights_entry_by_entry(widths):
    L = len(widths) - 1
    _check(widths, "tanh", f"dL/dW{L} = delta{L} a{L - 1}^T", lambda r: r.grad(r.W[L]),
           lambda r: r.delta(L) * r.a[L - 1].T)
    _check(widths, "tanh", "dL/dW1 = delta1 x^T", lambda r: r.grad(r.W[1]),
           lambda r: r.delta(1) * r.a[0].T)


def test_w_for_w_transposed_type_checks_on_square_layers_and_is_diagnosed():
    v = _check([2, 3, 3, 1], "sigmoid", "delta1 = W2 delta2 ⊙ f'(z1)",
               lambda r: r.delta(1),
               lambda r: (r.W[2] * r.delta(2)).multiply_elementwise(r.fprime(1)))
    assert v.diagnosis.kind == "transposed-index"
    assert "used W2 where W2^T belongs" in v.diagnosis.detail
    assert v.counterexample["entry"] == v.wrong_entries[0]


def test_missing_activation_derivative_and_wrong_layer():
    v = _check([2, 3, 1], "tanh", "delta1 = W2^T delta2", lambda r: r.delta(1),
               lambda r: r.W[2].T * r.delta(2))
    assert v.diagnosis.kind == "pre-activation" and "f'(z1)" in v.diagnosis.detail
    v = _check([2, 3, 3, 1], "tanh", "dL/dW2 = delta2 a2^T", lambda r: r.grad(r.W[2]),
               lambda r: r.delta(2) * r.a[2].T)
    assert v.diagnosis.kind == "wrong-parameter" and "a1 belongs" in v.diagnosis.detail


def test_a_transposed_gradient_is_wrong_not_unreadable():
    [v] = verify_matrix(Network([2, 3, 1]), "dL/dW1 = x delta1^T")
    assert v.correct is False and v.diagnosis.kind == "transposed-index"
    ref = Reference([2, 3, 1], "linear")
    assert not _differ((ref.a[0] * ref.delta(1).T).T, ref.grad(ref.W[1]))


@pytest.mark.parametrize("text, message", [
    ("delta1 = W2 delta2 ⊙ f'(z1)", "W2 (1×3) times delta2 (1×1) is undefined; did you mean "
                                     "W2^T delta2?"),
    ("delta1 = W2^T delta2 f'(z1)", "write W2^T delta2 ⊙ f'(z1)"),
    ("dL/dW1 = delta1", "dL/dW1 is 3×2 but the right side delta1 is 3×1"),
    ("dL/dW1 = delta1 ⊙ x", "the elementwise product needs equal shapes"),
    ("dL/dW2 = dZ2 A1^T", "batch name"),
    ("delta3 = a2", "'delta3': the 2-3-1 network has layers 1..2 of deltas dL/dz"),
    ("dW1 = dZ1.T @ X / m", "'dZ1' is a batch name; give --layout columns or --layout rows"),
    # Chains that would nest the tree past Python's recursion (they ended undecided
    # on a RecursionError) or build a power tower: refused while reading.
    ("dL/dW1 = " + "-" * 900 + "W1", "more than 200 operations deep"),
    ("dL/dW1 = W1" + "^T" * 950, "more than 200 operations deep"),
    ("dL/dW1 = " + "+".join(["W1"] * 201), "more than 200 operations deep"),
    ("dL/dW1 = (W1^2)^2", "raises a power to a power; write one power"),
])
def test_shape_and_name_errors_are_one_line_input_errors(text, message, cli):
    with pytest.raises(ParseError, match=None) as info:
        verify_matrix(Network([2, 3, 1]), text)
    assert message in str(info.value)
    r = cli("verify", "2-3-1", text)
    assert r.returncode == 2 and message in r.stderr and len(r.stderr.splitlines()) == 1


def test_a_run_of_signs_reads_without_recursion_and_keeps_its_value():
    net = Network([2, 3, 1], activation="tanh")
    [right, wrong, hundred] = verify_matrix(net, [
        "dL/dW2 = - - delta2 a1^T", "dL/dW2 = - + - - delta2 a1^T",
        "dL/dW2 = " + "+".join(["delta2 a1^T/100"] * 100)])
    assert (right.correct, wrong.correct, hundred.correct) == (True, False, True)


def test_latex_and_unicode_spellings_read_the_same():
    net = Network([2, 3, 1], activation="sigmoid", bias=True)
    texts = [r"\frac{\partial L}{\partial W^{(2)}} = \delta^{(2)} (a^{(1)})^\top",
             r"δ^{[1]} = (W_2)^{\mathsf T} δ_2 \odot \sigma'(z^{(1)})",
             "dL/db1 = W2.T @ delta2 * sigma'(z1)", "dL/da1 = W2ᵀ delta2"]
    assert [v.correct for v in verify_matrix(net, texts)] == [True] * 4


def _numpy_batch(widths, act, layout):
    """dW1 of a tanh/sigmoid batch by the reference backprop, and the test's own dZ1."""
    rng = np.random.default_rng(0)
    spec = Network(widths, activation=act).spec
    params = rng.normal(size=spec.n_parameters)
    X, y = rng.normal(size=(3, widths[0])), rng.normal(size=3)
    _, grad = backprop(spec, params, X, y)
    return spec, params, X, y, grad


@pytest.mark.parametrize("layout, right, wrong", [
    ("rows", "dW1 = dZ1.T @ X / m", "dW1 = dZ1.T @ X"),
    ("columns", r"dW1 = \frac{1}{m} dZ1 X^T", "dW1 = (1/m) X dZ1^T"),
])
def test_batch_layouts_against_the_numpy_reference(layout, right, wrong):
    widths = [2, 3, 1]
    spec, params, X, y, grad = _numpy_batch(widths, "tanh", layout)
    net = Network(widths, activation="tanh")
    layers = Layers(net, layout, 3)
    dW1 = layers.entries(Ref("dW", 1, "dW1")).xreplace(layers.definitions)
    values = dict(zip(net.parameters, params))
    for i, r in enumerate(layers.renames):
        values.update({r[s]: v for s, v in zip(net.inputs, X[i])})
        values[r[net.targets[0]]] = y[i]
    ours = np.array(dW1.xreplace(values).evalf(), dtype=float)
    assert np.allclose(ours.ravel(), grad[:6])          # dC/dW1, the reference's first 6
    good, bad = verify_matrix(net, [right, wrong], layout=layout, errors="report")
    assert good.correct is True and bad.correct is False
    assert bad.diagnosis.kind in ("scale", "transposed-index")


def test_cli_routes_matrix_claims_and_reports_entries_in_json(cli):
    import json

    r = cli("verify", "2-3-3-1", "--activation", "tanh", "--json",
            "delta1 = W2 delta2 ⊙ f'(z1)", "dz21/dw211 = a11", "delta31 = a31 - y")
    assert r.returncode == 1, r.stderr
    first, second, third = json.loads(r.stdout)["claims"]
    assert "entries" not in second and "entries" not in third     # scalar claims stay scalar
    assert third["correct"] is True
    assert first["diagnosis"]["kind"] == "transposed-index"
    assert first["wrong_entries"] == ["dL/dz11", "dL/dz12", "dL/dz13"]
    assert first["counterexample"]["entry"] == "dL/dz11"
    assert second["correct"] is True


def test_symgrad_verify_points_matrix_claims_to_verify_matrix():
    """sg.verify (scalar claims) used to fail on a matrix claim with "unknown name 'W2'";
    it now says which function checks it, and verify_matrix does."""
    import symgrad as sg

    net = Network([2, 3, 1], activation="tanh")
    with pytest.raises(ParseError, match=r"is a matrix claim .* symgrad.verify_matrix"):
        sg.verify(net, "dL/dW2 = delta2 a1^T")
    [v] = sg.verify(net, ["delta1 = W2^T delta2 ⊙ tanh'(z1)"], errors="report")
    assert v.status == "unreadable" and "verify_matrix" in v.error
    assert [v.status for v in verify_matrix(net, ["dL/dW2 = delta2 a1^T"])] == ["correct"]
    with pytest.raises(ParseError, match="unknown name 'q7'"):      # not a matrix claim
        sg.verify(net, "dz21/dw111 = q7")


@pytest.mark.parametrize("plain,nielsen", [
    ("delta2 = W3^T delta3 ⊙ sigma'(z2)", "δ^2 = ((w^3)^T δ^3) ⊙ σ'(z^2)"),
    ("delta2 = w3 delta3 ⊙ sigma'(z2)", r"\delta^{2} = w^{3} \delta^{3} \odot \sigma'(z^2)"),
    ("dL/dW3 = delta3 a2^T", "dC/dw^3 = delta^3 (a^2)^T"),
    ("dL/dW2 = delta2 a1^T", r"\frac{\partial C}{\partial w^2} = \delta^2 (a^1)^T"),
    ("dL/db2 = delta2", "∂C/∂b^2 = δ^2"),
    ("delta2 = W3^T delta3 ⊙ (1 - a2^2)", "δ^2 = (w^3)^T δ^3 ⊙ (1 - a2^2)"),
])
def test_plain_superscript_layers_read_as_in_nielsen(plain, nielsen):
    """A plain superscript number after a layer name without its layer is that layer
    (w^3 = W3, as Nielsen writes BP1-BP4); after a name with its layer (a2^2) it is a
    power.  Both spellings get the same verdict and the same wrong entries."""
    net = Network([2, 3, 3, 1], activation="sigmoid", output_activation="sigmoid", bias=True)
    a, b = verify_matrix(net, [plain, nielsen], errors="report")

    def seen(v):
        return v.status, getattr(v, "wrong_entries", None), v.error

    assert seen(a) == seen(b)
    assert a.status in ("correct", "wrong") or "did you mean w3^T delta3?" in a.error


def test_elementwise_product_outside_a_matrix_claim_says_where_it_belongs():
    import symgrad as sg

    with pytest.raises(ParseError, match=r"⊙, the elementwise product\) at column 24 belongs "
                                         r"to a matrix claim"):
        sg.verify(Network([2, 3, 3, 1]), "delta21 = w311*delta31 ⊙ x1")


@pytest.mark.parametrize("plain,ng", [
    ("dW2 = 1/m dZ2 A1^T", r"dW^{[2]} = \frac{1}{m} dZ^{[2]} A^{[1]T}"),
    ("dW2 = 1/m dZ2 A1", r"dW^{[2]} = \frac{1}{m} dZ^{[2]} A^{[1]}"),
    ("dZ1 = W2^T dZ2 * tanh'(Z1)", "dZ^{[1]} = W^{[2]T} dZ^{[2]} * g'(Z^{[1]})"),
    ("dZ1 = W2 dZ2 * tanh'(Z1)", r"dZ^{[1]} = W^{[2]} dZ^{[2]} * g'(Z^{[1]})"),
])
def test_layer_and_transpose_in_one_superscript_as_in_ng(plain, ng):
    """Andrew Ng writes the layer and the transpose in one superscript (A^{[1]T})."""
    net = Network([2, 3, 3, 1], activation="tanh")
    a, b = verify_matrix(net, [plain, ng], layout="columns", errors="report")
    assert (a.status, a.error) == (b.status, b.error)
    assert (a.status == "correct") == ("^T" in plain)


def test_matrix_counterexample_json_keeps_exact_rationals():
    """A side that differs from the truth by 1e-20 rounds to the same float: the JSON
    gives the exact "p/q" beside it, as scalar verdicts do."""
    [v] = verify_matrix(Network([2, 2, 1]), "dL/dW2 = delta2 a1^T + 1/10^20")
    ce = v.to_dict()["counterexample"]
    assert v.status == "wrong" and ce["entry"] == "dL/dw211"
    assert ce["claimed"] == float(ce["true"]) and "/" in ce["exact"]["claimed"]
    p, q = map(int, ce["exact"]["claimed"].split("/"))
    assert p * 10**20 == q * (ce["true"] * 10**20 + 1)


NG_NUMPY = ["dZ2 = A2 - Y",
            "dW2 = 1./m * np.dot(dZ2, A1.T)",
            "db2 = 1/m * np.sum(dZ2, axis=1, keepdims=True)",
            "dZ1 = np.dot(W2.T, dZ2) * (1 - np.power(A1, 2))",
            "dW1 = 1/m * np.dot(dZ1, X.T)",
            "db1 = 1/m * np.sum(dZ1, axis=1, keepdims=True)"]
ROWS_NUMPY = ["dW1 = np.dot(dZ1.T, X) / m", "db1 = np.sum(dZ1, axis=0, keepdims=True) / m",
              "dW1 = dZ1.T.dot(X) / m", "db1 = dZ1.sum(axis=0, keepdims=True,) / m",
              "dW2 = (dZ2).transpose().dot(A1) / m",
              "dZ1 = np.multiply(np.matmul(dZ2, W2), 1 - np.square(A1))",
              "dW2 = numpy.transpose(dZ2) @ A1 / m"]


def test_numpy_backprop_code_reads_as_numpy_computes_it():
    """The backprop of Andrew Ng's course, as numpy code, line by line (columns), and
    numpy code with samples as rows: every line proved."""
    net = Network([2, 3, 1], activation="tanh", bias=True)
    assert all(v.status == "correct" for v in verify_matrix(net, NG_NUMPY, layout="columns"))
    assert all(v.status == "correct" for v in verify_matrix(net, ROWS_NUMPY, layout="rows"))


@pytest.mark.parametrize("text,status,words", [
    ("db1 = 1/m * np.sum(dZ1, axis=1)", "unreadable",
     "is 1-D, shape (3,): numpy broadcasts it against a 3×1 column to 3×3; add keepdims=True"),
    ("db1 = np.sum(dZ1, axis=1, keepdims=True)", "wrong", "missing 1/m"),
    ("dW1 = 1/m * np.dot(dZ1, X)", "unreadable", "did you mean dZ1 @ X^T?"),
    ("dZ1 = np.dot(W2.T, dZ2) * (1 - np.power(A1, 3))", "wrong", "dL/dz11"),
    ("dW1 = np.einsum(dZ1, X)", "unreadable", "np.einsum at column 7 is not read"),
    ("db1 = np.sum(dZ1, axis=3)", "unreadable", "axes 0 and 1, not 3"),
    ("db1 = np.sum(dZ1, out=X)", "unreadable", "the keyword 'out' is not read"),
    ("dW1 = np.dot(dZ1)", "unreadable", "np.dot at column 7 takes 2 arguments here, got 1"),
    ("dW1 = np.dot(dZ1, X.T", "unreadable", "expected ',' or ')' closing np.dot("),
    ("db1 = dZ1.mean(axis=1, keepdims=True)", "unreadable", ".mean at column 10 is not read"),
    ("dW1 = dZ1.T.dot(X) / m", "unreadable", "is undefined; did you mean dZ1 @ X?"),
    ("dZ1 = np.square(np.power(Z1, 64))", "unreadable", "raises a power to a power"),
])
def test_numpy_mistakes_are_named(text, status, words):
    net = Network([2, 3, 1], activation="tanh", bias=True)
    [v] = verify_matrix(net, text, layout="columns", errors="report")
    assert v.status == status
    assert words in (v.error or v.to_text())


def test_nested_numpy_calls_keep_to_the_depth_limit():
    text = "dW1 = " + "np.dot(" * 60 + "dZ1" + ", X.T)" * 60
    with pytest.raises(ParseError, match="nested more than"):
        verify_matrix(Network([2, 3, 1]), text, layout="columns")


def test_comparisons_are_numpys_masks_and_a_kink_is_named():
    """(Z1 > 0) is ReLU's derivative (0 at 0, as symgrad takes it): proved. (Z1 >= 0)
    differs only where z = 0: wrong, said to be a convention at the kink (it was once
    diagnosed "claimed = 1*true"), with the note on which convention."""
    net = Network([2, 3, 1], activation="relu", bias=True)
    right, kink, flipped, chained = verify_matrix(net, [
        "dZ1 = np.dot(W2.T, dZ2) * (Z1 > 0)", "dZ1 = np.dot(W2.T, dZ2) * (Z1 >= 0)",
        "dZ1 = np.dot(W2.T, dZ2) * (Z1 < 0)", "dZ1 = np.dot(W2.T, dZ2) * (Z1 > 0 > 1)"],
        layout="columns", errors="report")
    assert right.status == "correct" and right.method.startswith("proved")
    assert kink.status == "wrong" and "differ only at a kink" in kink.diagnosis.detail
    assert any("relu'(0) = 0" in n for n in kink.notes)
    assert "1*true" not in kink.to_text()
    assert flipped.status == "wrong" and flipped.diagnosis.kind != "scale"
    assert "compare two things at a time" in chained.error
