"""symgrad.strategies: what they draw obeys their arguments; bad arguments fail early."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from symgrad import Network, compile_gradients
from symgrad import strategies as sgst
from symgrad.spec import ACTIVATIONS

#: Examples per test are shares of the Hypothesis profile's count (tests/conftest.py; 100
#: in the default profile, where FAST is 40).  The profile sets deadline=None.
UNIT = settings.default.max_examples
FAST = settings(max_examples=UNIT * 2 // 5)
RELU_NET = Network([2, 3, 2], activation="relu", bias=True)


def _preactivations(net, params, X):
    """z of every layer, by a plain loop over neurons (not the library's forward)."""
    spec, at, zs, a = net.spec, 0, [], X
    b_at = spec.n_weights
    for l in range(1, spec.depth + 1):
        n_in, n_out = spec.widths[l - 1], spec.widths[l]
        z = np.zeros((len(X), n_out))
        for j in range(n_out):
            for k in range(n_in):
                z[:, j] += params[at] * a[:, k]
                at += 1
            if spec.bias:
                z[:, j] += params[b_at]
                b_at += 1
        zs.append(z)
        a = {"relu": np.maximum(z, 0), "leaky_relu": np.where(z > 0, z, z / 100),
             "linear": z, "tanh": np.tanh(z), "sigmoid": 1 / (1 + np.exp(-z)),
             "softplus": np.logaddexp(0, z)}[net.activations[l - 1]]
    return zs


@FAST
@given(st.data())
def test_networks_obey_their_bounds(data):
    lo_d = data.draw(st.integers(1, 3))
    hi_d = data.draw(st.integers(lo_d, 3))
    lo_w = data.draw(st.integers(1, 3))
    hi_w = data.draw(st.integers(lo_w, 4))
    acts = data.draw(st.lists(st.sampled_from(ACTIVATIONS), min_size=1, max_size=3, unique=True))
    bias = data.draw(st.sampled_from([None, True, False]))
    net = data.draw(sgst.networks(min_depth=lo_d, max_depth=hi_d, min_width=lo_w,
                                  max_width=hi_w, activations=acts, bias=bias))
    assert lo_d <= net.depth <= hi_d
    assert all(lo_w <= w <= hi_w for w in net.widths)
    assert set(net.activations[:-1]) <= set(acts)
    if net.loss_name == "bce":
        assert net.activations[-1] == "sigmoid"
    else:
        assert net.activations[-1] in acts
    assert bias is None or net.bias is bias


def test_networks_reach_every_loss_and_depth():
    nets = sgst.networks(max_depth=3)
    for cond in (lambda n: n.loss_name == "bce", lambda n: n.loss_name == "squared",
                 lambda n: n.depth == 3 and n.bias, lambda n: "relu" in n.activations):
        # find() stops at the first hit: 500 is a search budget, not a number of
        # examples to check, so it does not scale with the profile.
        assert cond(find(nets, cond, settings=settings(database=None, max_examples=500)))


def test_output_activations_need_not_be_hidden_activations():
    net = find(sgst.networks(min_depth=2, activations=["tanh"], output_activations=["linear"]),
               lambda n: True)
    assert net.activations == ("tanh",) * (net.depth - 1) + ("linear",)


def test_networks_drop_bce_without_a_sigmoid_output():
    net = find(sgst.networks(output_activations=["linear"]), lambda n: True)
    assert net.activations[-1] == "linear"

    @FAST
    @given(sgst.networks(output_activations=["linear", "tanh"]))
    def check(net):
        assert net.loss_name != "bce"
    check()


@FAST
@given(st.data())
def test_parameters_shape_bounds_and_kinks(data):
    net = data.draw(sgst.networks(max_depth=2))
    lo = data.draw(st.floats(-3, 0.5))
    hi = data.draw(st.floats(lo + 0.1, 3))
    p = data.draw(sgst.parameters(net, min_value=lo, max_value=hi))
    assert p.shape == (len(net.parameters),) and p.dtype == np.float64
    assert np.all((lo <= p) & (p <= hi))
    if any(a in ("relu", "leaky_relu") for a in net.activations):
        assert np.abs(p).min() >= sgst.MIN_MAGNITUDE


def test_parameters_may_be_zero_where_there_is_no_kink():
    p = find(sgst.parameters(Network([2, 2, 1])), lambda p: (p == 0).any())
    assert (p == 0).any()
    p = find(sgst.parameters(RELU_NET, avoid_kinks=False), lambda p: (p == 0).any())
    assert (p == 0).any()


@FAST
@given(st.data())
def test_batches_shapes_and_targets(data):
    net = data.draw(sgst.networks(max_depth=2))
    X, y = data.draw(sgst.batches(net, min_size=2, max_size=5, min_value=-2, max_value=2))
    assert 2 <= len(X) <= 5 and X.shape == (len(X), net.spec.n_inputs)
    assert y.shape == (len(X), net.spec.n_outputs)
    assert np.all(np.abs(X) <= 2)
    if net.loss_name == "bce":
        assert np.all((0 <= y) & (y <= 1))
    compile_gradients(net)(np.zeros(len(net.parameters)), X, y)   # shapes are accepted


@settings(max_examples=UNIT * 3 // 5)
@given(sgst.problems(networks=sgst.networks(activations=["relu", "leaky_relu", "sigmoid"])))
def test_problems_avoid_kinks_and_saturation(problem):
    net, params, X, y = problem
    zs = _preactivations(net, params, X)
    for z, act in zip(zs, net.activations):
        assert np.abs(z).max() <= sgst.MAX_PREACTIVATION
        if act in ("relu", "leaky_relu"):
            assert np.abs(z).min() >= 1e-3
    cost, grad = compile_gradients(net)(params, X, y)
    assert np.isfinite(cost) and np.all(np.isfinite(grad))


@FAST
@given(sgst.problems(networks=RELU_NET, kink_margin=0.05, max_size=3))
def test_problems_with_one_network_and_a_wider_margin(problem):
    net, params, X, y = problem
    assert net == RELU_NET and len(X) <= 3
    hidden = _preactivations(net, params, X)[0]      # the relu layer; the output is linear
    assert np.abs(hidden).min() >= 0.05


BAD = [  # (id, strategy factory, keyword arguments, words in the message)
    ("depth 0", sgst.networks, dict(min_depth=0), "min_depth"),
    ("depth bounds reversed", sgst.networks, dict(min_depth=3, max_depth=2), "max_depth"),
    ("width float", sgst.networks, dict(max_width=2.5), "max_width"),
    ("width bool", sgst.networks, dict(min_width=True), "min_width"),
    ("unknown activation", sgst.networks, dict(activations=["tanhh"]), "did you mean 'tanh'"),
    ("empty activations", sgst.networks, dict(activations=[]), "at least one"),
    ("unknown output activation", sgst.networks, dict(output_activations=["softmaxx"]),
     "unknown output_activation"),
    ("unknown loss", sgst.networks, dict(losses=["mse"]), "unknown loss"),
    ("bce without sigmoid", sgst.networks, dict(losses=["bce"], activations=["relu"]),
     "sigmoid output"),
    ("bias not bool", sgst.networks, dict(bias=1), "bias"),
    ("params not a net", lambda **k: sgst.parameters("2-2-1", **k), {}, "symgrad.Network"),
    ("params bounds reversed", lambda **k: sgst.parameters(RELU_NET, **k),
     dict(min_value=1, max_value=0), "larger than"),
    ("params nan bound", lambda **k: sgst.parameters(RELU_NET, **k),
     dict(max_value=float("nan")), "finite"),
    ("params no room", lambda **k: sgst.parameters(RELU_NET, **k),
     dict(min_value=-0.001, max_value=0.001), "avoid_kinks=False"),
    ("batch size 0", lambda **k: sgst.batches(RELU_NET, **k), dict(min_size=0), "min_size"),
    ("batch sizes reversed", lambda **k: sgst.batches(RELU_NET, **k),
     dict(min_size=4, max_size=2), "max_size"),
    ("problems networks", sgst.problems, dict(networks=[RELU_NET]), "strategy or a Network"),
    ("problems margin", sgst.problems, dict(kink_margin=-1), "kink_margin"),
]


@pytest.mark.parametrize("factory, kwargs, words", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_arguments_raise_invalid_argument_at_call_time(factory, kwargs, words):
    with pytest.raises(InvalidArgument, match=words):
        factory(**kwargs)       # no draw: validation happens when the strategy is made


def test_arguments_are_keyword_only():
    with pytest.raises(TypeError):
        sgst.networks(1, 3)
    with pytest.raises(TypeError):
        sgst.parameters(RELU_NET, -1.0, 1.0)


def test_strategies_are_not_imported_by_symgrad():
    import subprocess
    import sys
    code = ("import sys, symgrad; "
            "print('symgrad.strategies' in sys.modules, 'hypothesis' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
