"""Softmax + cross-entropy, L2 and the new activations: every gradient path agrees.

Truth here is computed independently: ``sympy.diff`` of a loss the test writes
itself, the hand-written backprop, central and complex-step differences, and
PyTorch autograd where it is installed.
"""

import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, note, settings

from symgrad import Network, compile_gradients, gradients, verify
from symgrad import strategies as sgst
from symgrad.errors import ShapeError, SpecError, SpecTypeError
from symgrad.references.backprop import backprop
from symgrad.references.finite_diff import _erf, finite_differences

#: Every new activation, on networks small enough for the tests to stay quick.
SMOOTH = dict(activation=["gelu", "silu"], output_activation="softmax", bias=True, l2=0.05)
KINKED = dict(activation=["elu", "hardtanh"], output_activation="softmax", bias=True,
              l2=0.1, l2_bias=True)
TANH_APPROX = dict(activation="gelu_tanh", output_activation="sigmoid", loss="bce", l2=0.2)


def _problem(net, seed=0, m=6):
    rng = np.random.default_rng(seed)
    p = rng.normal(scale=0.8, size=net.spec.n_parameters)
    X = rng.normal(size=(m, net.spec.n_inputs))
    k = net.spec.n_outputs
    if net.loss_name == "cross-entropy":
        y = rng.dirichlet(np.ones(k), size=m)
    else:
        y = rng.uniform(size=(m, k))
    return p, X, y


def test_softmax_cross_entropy_gradient_equals_sympy_diff_of_the_tests_own_loss():
    net = Network([2, 1, 3], activation="tanh", output_activation="softmax", bias=True)
    x1, x2, y1, y2 = sp.symbols("x1 x2 y1 y2", real=True)
    w = {p.name: p for p in net.parameters}
    h = sp.tanh(w["b11"] + w["w111"] * x1 + w["w112"] * x2)
    z = [w[f"b2{j}"] + w[f"w2{j}1"] * h for j in (1, 2, 3)]
    total = sum(sp.exp(v) for v in z)
    targets = [y1, y2, 1 - y1 - y2]          # the documented last target
    loss = -sum(t * sp.log(sp.exp(v) / total) for t, v in zip(targets, z))
    ours = gradients(net, "loss")
    rng = np.random.default_rng(3)
    point = {s: sp.Rational(int(rng.integers(-9, 10)), 7) for s in net.parameters}
    point.update({x1: sp.Rational(1, 3), x2: sp.Rational(-2, 5), y1: sp.Rational(1, 5),
                  y2: sp.Rational(1, 2)})
    for p in net.parameters:
        want = sp.diff(loss, p).xreplace(point).evalf(30)
        got = ours[p].xreplace(point).evalf(30)
        assert abs(want - got) < 1e-25, p


def test_the_top_adjoint_is_the_textbook_identity():
    net = Network([2, 3, 3], activation="tanh", output_activation="softmax")
    deltas = dict(gradients(net, "loss", form="delta"))
    a, t = net.a_symbol, net.targets
    compact = gradients(net, "loss", form="compact")
    assert compact[net.weight(2, 1, 1)] == (a(2, 1) - t[0]) * a(1, 1)
    assert compact[net.weight(2, 3, 2)] == (a(2, 3) - t[2]) * a(1, 2)
    assert deltas[net.weight(2, 2, 1)] == sp.Symbol("delta22", real=True) * a(1, 1)


@pytest.mark.parametrize("claim,ok", [
    ("dL/dz21 = a21 - y1", True),
    ("dL/dw211 = (a21 - y1)*a11", True),
    ("dL/dz23 = a23 - y3", True),
    # the two classic mistakes: softmax's derivative as if it were elementwise, and
    # the other outputs' terms forgotten
    ("dL/dz21 = a21*(1 - a21)*(a21 - y1)", False),
    ("dL/dz21 = -y1*(1 - a21)", False),
])
def test_softmax_claims(claim, ok):
    net = Network([2, 3, 3], activation="tanh", output_activation="softmax")
    assert verify(net, claim)[0].correct is ok


@pytest.mark.parametrize("claim,kind", [
    ("dL/dz21 = a21*(1 - a21)*(a21 - y1)", "softmax-elementwise"),
    ("dL/dz22 = -y2*(1 - a22)", "softmax-diagonal"),
    ("dL/dw212 = -a12*y1*(1 - a21)", "softmax-diagonal"),
    ("dL/dw212 = a12*y1*(1 - a21)", "sign+softmax-diagonal"),
])
def test_the_classic_softmax_mistakes_are_named(claim, kind):
    net = Network([2, 3, 3], activation="tanh", output_activation="softmax")
    [verdict] = verify(net, claim)
    assert verdict.correct is False and verdict.diagnosis.kind == kind


def test_l2_adds_lambda_w_to_the_symbolic_gradient():
    net = Network([2, 2, 1], activation="tanh", bias=True, l2=0.25)
    plain = Network([2, 2, 1], activation="tanh", bias=True)
    g, g0 = gradients(net, "loss"), gradients(plain, "loss")
    for p, q in zip(net.parameters, plain.parameters):
        extra = sp.Rational(1, 4) * p if p in net.weights else 0
        assert sp.simplify(g[p] - g0[q] - extra) == 0
    with_bias = gradients(Network([2, 2, 1], bias=True, l2=0.25, l2_bias=True), "loss")
    b = net.biases[0]
    assert sp.expand(with_bias[b] - gradients(Network([2, 2, 1], bias=True), "loss")[b]) \
        == b / 4


@pytest.mark.parametrize("kw", [SMOOTH, KINKED, TANH_APPROX], ids=["smooth", "kinked", "bce"])
def test_numpy_backend_agrees_with_both_references(kw):
    net = Network([3, 3, 3, 3], **kw)
    p, X, y = _problem(net)
    cost, grad = compile_gradients(net)(p, X, y)
    ref_cost, ref = backprop(net, p, X, y)
    assert cost == pytest.approx(ref_cost, rel=1e-13)
    np.testing.assert_allclose(grad, ref, rtol=1e-11, atol=1e-13)
    _, central = finite_differences(net, p, X, y)
    np.testing.assert_allclose(grad, central, rtol=1e-6, atol=1e-8)
    if net.spec.analytic:
        _, cstep = finite_differences(net, p, X, y, method="complex")
        np.testing.assert_allclose(grad, cstep, rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize("kw", [dict(activation="gelu", output_activation="softmax", l2=0.1),
                                dict(activation="hardtanh", output_activation="softmax",
                                     bias=True, l2=0.1, l2_bias=True)], ids=["gelu", "hardtanh"])
def test_the_flat_diff_kernel_agrees_too(kw):
    """method="diff" differentiates the whole nested loss (slow to build: a small net)."""
    net = Network([2, 2, 2], **kw)
    p, X, y = _problem(net)
    cost, grad = compile_gradients(net, method="diff")(p, X, y)
    ref_cost, ref = backprop(net, p, X, y)
    assert cost == pytest.approx(ref_cost, rel=1e-12)
    np.testing.assert_allclose(grad, ref, rtol=1e-11, atol=1e-13)


@pytest.mark.slow
@pytest.mark.parametrize("widths,kw", [
    ([2, 2, 3], dict(activation="gelu_tanh", output_activation="softmax", l2=0.1)),
    ([3, 5, 5, 5, 5, 3], dict(activation=["gelu", "silu", "elu", "hardtanh"],
                              output_activation="softmax", bias=True, l2=0.1, l2_bias=True))],
    ids=["fused", "stacked-every-activation"])
def test_numba_backend_agrees_with_backprop(widths, kw):
    pytest.importorskip("numba")
    net = Network(widths, **kw)
    f = compile_gradients(net, backend="numba")
    for m in (3, 300):                       # per-sample code, then the fused/blocked loop
        p, X, y = _problem(net, seed=m, m=m)
        X *= 4.0                              # large logits: the max subtraction matters
        cost, grad = f(p, X, y)
        ref_cost, ref = backprop(net, p, X, y)
        assert cost == pytest.approx(ref_cost, rel=1e-12)
        np.testing.assert_allclose(grad, ref, rtol=1e-10, atol=1e-12)


def test_softmax_kernels_do_not_overflow():
    net = Network([2, 3], output_activation="softmax", bias=True)
    p = np.array([400.0, 0.0, -400.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    X, y = np.array([[3.0, 1.0]]), np.array([[0.0, 0.0, 1.0]])
    cost, grad = compile_gradients(net)(p, X, y)
    assert np.isfinite(cost) and np.isfinite(grad).all()
    assert cost == pytest.approx(1200.0)       # -log a3 = z1 - z3 up to exp(-2400)


@pytest.mark.slow
def test_torch_autograd_agrees_in_float64():
    torch = pytest.importorskip("torch")
    net = Network([3, 4, 3], activation="gelu", output_activation="softmax", bias=True, l2=0.1)
    p, X, y = _problem(net, seed=5)
    cost, grad = compile_gradients(net)(p, X, y)
    t = torch.tensor(p, dtype=torch.float64, requires_grad=True)
    W1, W2 = t[:12].reshape(4, 3), t[12:24].reshape(3, 4)
    b1, b2 = t[24:28], t[28:31]
    h = torch.nn.functional.gelu(torch.tensor(X) @ W1.T + b1)
    logits = h @ W2.T + b2
    ce = -(torch.tensor(y) * torch.log_softmax(logits, dim=1)).sum(dim=1).mean()
    total = ce + 0.05 * (t[:24] ** 2).sum()
    total.backward()
    assert cost == pytest.approx(total.item(), rel=1e-12)
    np.testing.assert_allclose(grad, t.grad.numpy(), rtol=1e-10, atol=1e-12)
    for name, fn in [("silu", torch.nn.functional.silu), ("elu", torch.nn.functional.elu),
                     ("hardtanh", torch.nn.functional.hardtanh),
                     ("gelu_tanh", lambda v: torch.nn.functional.gelu(v, approximate="tanh"))]:
        small = Network([2, 3, 1], activation=name)
        q, Xs, ys = _problem(small, seed=7)
        _, g = compile_gradients(small)(q, Xs, ys)
        tq = torch.tensor(q, requires_grad=True)
        out = fn(torch.tensor(Xs) @ tq[:6].reshape(3, 2).T) @ tq[6:9].reshape(1, 3).T
        ((torch.tensor(ys) - out) ** 2 / 2).sum(dim=1).mean().backward()
        np.testing.assert_allclose(g, tq.grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=name)


def test_complex_erf_matches_math_erf_and_its_derivative():
    x = np.linspace(-6, 6, 121)
    h = 1e-20
    values = _erf(x + 1j * h)
    np.testing.assert_allclose(values.real, [math.erf(v) for v in x], rtol=0, atol=1e-14)
    slope = 2 / math.sqrt(math.pi) * np.exp(-x * x)
    np.testing.assert_allclose(values.imag / h, slope, rtol=1e-10, atol=0)


@pytest.mark.parametrize("kwargs,error,words", [
    (dict(activation="softmax"), SpecError, "only the output layer"),
    (dict(output_activation="softmax", loss="squared"), SpecError, "cross-entropy"),
    (dict(loss="cross-entropy"), SpecError, "softmax"),
    (dict(output_activation="sigmoid", loss="cross-entropy"), SpecError, "bce"),
    (dict(l2=-1.0), SpecError, "l2"),
    (dict(l2="0.1"), SpecTypeError, "number"),
    (dict(l2=0.1, l2_bias="yes"), SpecTypeError, "l2_bias"),
], ids=["hidden softmax", "softmax squared", "ce linear", "ce sigmoid", "negative l2",
        "string l2", "bias flag"])
def test_bad_classification_settings_are_refused(kwargs, error, words):
    with pytest.raises(error, match=words):
        Network([2, 3, 3], **kwargs)


def test_softmax_needs_two_outputs_and_targets_must_be_probabilities():
    with pytest.raises(SpecError, match="at least 2"):
        Network([2, 1], output_activation="softmax")
    net = Network([2, 3], output_activation="softmax")
    assert net.loss_name == "cross-entropy" and Network([2, 2, 3], activation="swish",
                                                        output_activation="softmax") \
        .activations == ("silu", "softmax")
    f = compile_gradients(net)
    with pytest.raises(ShapeError, match="probability vectors"):
        f(np.zeros(6), [[1.0, 2.0]], [[0.5, 0.6, 0.0]])
    with pytest.raises(ShapeError, match="probability vectors"):
        backprop(net, np.zeros(6), [[1.0, 2.0]], [[1.5, -0.5, 0.0]])


def test_assert_backprop_matches_covers_softmax_and_l2():
    from symgrad.references.backprop import backprop_function
    from symgrad.testing import BackpropMismatch, assert_backprop_matches

    net = Network([2, 3, 3], activation="elu", output_activation="softmax", bias=True, l2=0.1)
    assert_backprop_matches(backprop_function(net), net, layout="vector", batches=2)

    def forgets_l2(params, X, y):
        cost, grad = backprop(net, params, X, y)
        return cost, grad - 0.1 * np.where(np.arange(grad.size) < net.spec.n_weights, params, 0)

    with pytest.raises(BackpropMismatch):
        assert_backprop_matches(forgets_l2, net, layout="vector", batches=2)


def test_train_reads_a_class_column_and_reports_accuracy(cli, tmp_path):
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, size=30)
    X = rng.normal(scale=0.3, size=(30, 2)) + np.array([[0, 2], [2, 0], [-2, -1]])[labels]
    path = tmp_path / "classes.csv"
    path.write_text("label,x1,x2\n" + "".join(f"{c},{a:.4f},{b:.4f}\n"
                                              for c, (a, b) in zip(labels, X)))
    r = cli("train", "2-3", "--output-activation", "softmax", "--bias", "--data", str(path),
            "--target-class", "label", "--epochs", "200", "--lr", "0.5", "--l2", "0.001",
            "--backend", "numpy", "--quiet", "--json")
    assert r.returncode == 0, r.stderr
    import json

    result = json.loads(r.stdout)
    # the accuracy the report gives is the share of samples whose largest output
    # is their class, recomputed here from the final parameters
    p = np.array(list(result["parameters"].values()))
    logits = X @ p[:6].reshape(3, 2).T + p[6:9]
    assert result["accuracy"] == pytest.approx(np.mean(logits.argmax(axis=1) == labels))
    assert result["accuracy"] > 0.9
    bad = tmp_path / "bad.csv"
    bad.write_text("label,x1,x2\n3,0.1,0.2\n")
    r = cli("train", "2-3", "--output-activation", "softmax", "--data", str(bad),
            "--target-class", "label", "--quiet")
    assert r.returncode == 2 and "not an integer from 0 to 2" in r.stderr


@settings(max_examples=max(1, settings.default.max_examples * 3 // 25), deadline=None)
@given(sgst.problems(networks=sgst.networks(max_depth=2, max_width=3, l2=True,
                                            losses=["cross-entropy", "bce"])))
def test_compiled_gradient_equals_backprop_on_drawn_classifiers(problem):
    net, params, X, y = problem
    assert net.activations[-1] in ("softmax", "sigmoid")
    cost, grad = compile_gradients(net)(params, X, y)
    ref_cost, ref = backprop(net, params, X, y)
    note(f"{net.describe()}\nsymbolic {grad}\nbackprop {ref}")
    assert cost == pytest.approx(ref_cost, rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(grad, ref, rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("claim,kind", [("dL/dw211 = (a21 - y)*a11", "missing-l2"),
                                        ("dL/dw211 = (y - a21)*a11", "sign+missing-l2")])
def test_a_claim_without_the_l2_term_is_named(claim, kind):
    net = Network([2, 2, 1], activation="tanh", l2=0.1)
    [verdict] = verify(net, claim)
    assert verdict.correct is False and verdict.diagnosis.kind == kind
    [right] = verify(net, "dL/dw211 = (a21 - y)*a11 + w211/10")
    assert right.correct is True


def test_counterexamples_on_class_networks_prefer_probability_targets():
    """A softmax network's counterexample takes one-hot targets when they show the
    difference (it once showed y1 = 2, i.e. y3 = -1); BCE targets stay in [0, 1]."""
    import symgrad as sg

    soft = Network([2, 2, 3], output_activation="softmax")
    for text in ("dL/dz21 = a21 - y1 + y2", "dL/dz21 = -y1*(1 - a21)", "dL/dw211 = a11*a21"):
        [v] = sg.verify(soft, text)
        ys = [v.counterexample["values"].get(y, 0) for y in ("y1", "y2")]
        assert v.status == "wrong" and all(0 <= y <= 1 for y in ys) and sum(ys) <= 1, ys
    [v] = sg.verify(soft, "dL/dz22 = a22 - y2 + y1*y2")       # differs only off one-hot
    assert v.status == "wrong"
    bce = Network([2, 2, 2], output_activation="sigmoid", loss="bce")
    [v] = sg.verify(bce, "dL/dz21 = a21 + y1")
    assert 0 <= v.counterexample["values"]["y1"] <= 1
