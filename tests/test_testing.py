"""symgrad.testing: correct backprops pass, each classic bug is caught and named.

The backprops under test live in ``buggy_backprops.py``: written from scratch with
numpy, sharing no code with symgrad.  The truth is the compiled symbolic gradient.
"""

from __future__ import annotations

import numpy as np
import pytest
from buggy_backprops import make_backprop
from hypothesis import given, settings

from symgrad import Network, SpecError, compile_gradients
from symgrad import strategies as sgst
from symgrad.references.backprop import backprop_function
from symgrad.references.check import random_problem
from symgrad.testing import BackpropMismatch, GradientFormatError, assert_backprop_matches
from symgrad.testing.diagnosis import variant_gradient

NETS = {
    "2-2-1 linear": (Network([2, 2, 1]), ["linear", "linear"]),
    "2-3-2-1 tanh/sigmoid bias": (
        Network([2, 3, 2, 1], activation="tanh", output_activation="sigmoid", bias=True),
        ["tanh", "tanh", "sigmoid"]),
    "3-4-2 relu bias": (Network([3, 4, 2], activation="relu", bias=True), ["relu", "linear"]),
    "2-3-1 sigmoid bce": (
        Network([2, 3, 1], activation="sigmoid", output_activation="sigmoid", loss="bce",
                bias=True), ["sigmoid", "sigmoid"]),
    "2-2-1 squared": (Network([2, 2, 1], activation="tanh", loss="squared"), ["tanh", "linear"]),
}


def _mismatch(fn, net, **kw):
    with pytest.raises(BackpropMismatch) as info:
        assert_backprop_matches(fn, net, **kw)
    return info.value


@pytest.mark.parametrize("key", list(NETS))
def test_correct_backprop_passes(key):
    net, acts = NETS[key]
    assert_backprop_matches(make_backprop(acts, net.loss_name), net)


TANH3 = "2-3-2-1 tanh/sigmoid bias"
BUGS = [  # (id, net key, bug keywords, expected diagnosis code, words in the message)
    ("sign", TANH3, dict(sign=-1.0), "sign", "wrong sign"),
    ("missing 1/m", TANH3, dict(mean=False), "batch-mean", "1/m"),
    ("missing 1/2 of the loss", TANH3, dict(loss_factor=2.0), "loss-factor", "1/2 of the loss"),
    ("squared loss without its 2", "2-2-1 squared", dict(loss_factor=0.5), "loss-factor",
     "2*(yhat - y)"),
    ("missing f' hidden layer 2", TANH3, dict(skip_fprime_layer=2), "activation-derivative",
     "in layer 2"),
    ("missing f' output", TANH3, dict(skip_fprime_layer=3), "activation-derivative",
     "output layer"),
    ("missing relu' in layer 1", "3-4-2 relu bias", dict(skip_fprime_layer=1),
     "activation-derivative", "relu'(z1)"),
    ("missing f' every hidden layer", TANH3, dict(skip_fprime_layer=(1, 2)),
     "activation-derivative", "in layers 1, 2"),
    ("f' of a every hidden layer", TANH3, dict(prime_of_a_layer=(1, 2)), "derivative-at-a",
     "in layers 1, 2"),
    ("f' of a", TANH3, dict(prime_of_a_layer=1), "derivative-at-a", "tanh'"),
    ("transposed square layer", "2-2-1 linear", dict(transpose_layer=1), "transposed",
     "transpose of the true one"),
    ("reshaped, not transposed", TANH3, dict(transpose_layer=2), "transposed",
     "reshaped, not transposed"),
    ("bias sign only", TANH3, dict(bias_sign=-1.0), "layer-factor", "the biases of layers 1, 2, 3"),
    ("mse delta for bce", "2-3-1 sigmoid bce", dict(mse_delta_for_bce=True), "loss-delta",
     "cross-entropy"),
]


@pytest.mark.parametrize("key, bug, code, words", [b[1:] for b in BUGS], ids=[b[0] for b in BUGS])
def test_each_bug_is_caught_with_its_diagnosis(key, bug, code, words):
    net, acts = NETS[key]
    err = _mismatch(make_backprop(acts, net.loss_name, **bug), net)
    assert isinstance(err, AssertionError)
    assert code in err.diagnoses, str(err)
    assert words in str(err)
    # No whole-gradient pattern is claimed that does not hold.
    assert not {"sign", "batch-mean", "loss-factor"} & set(err.diagnoses) - {code}


def test_one_wrong_layer_is_named_and_the_layers_above_are_right():
    net, acts = NETS[TANH3]
    err = _mismatch(make_backprop(acts, skip_fprime_layer=2), net)
    assert "layers 1, 2 wrong, layer 3 right" in str(err)
    assert "delta2 = f'(z2) * (delta3 @ W3)" in str(err)


def test_a_bug_in_one_layers_own_formula_is_located():
    net, acts = NETS[TANH3]
    err = _mismatch(make_backprop(acts, transpose_layer=2), net)
    text = str(err)
    assert "layer 2 wrong, layers 1, 3 right" in text
    assert "in layer 2 the bias gradients are right" in text


def test_failure_message_shows_both_sides_aligned_with_band():
    net, acts = NETS["2-2-1 linear"]
    err = _mismatch(make_backprop(acts, sign=-1.0), net)
    lines = str(err).splitlines()
    head = next(i for i, line in enumerate(lines) if line.split()[:3] == ["parameter", "yours",
                                                                       "true"])
    first = lines[head + 1].split()
    assert first[0] == "w111" and first[-1] == "wrong"
    assert float(first[1]) == pytest.approx(-float(first[2]))
    for label, value in (("yours", first[1]), ("true", first[2])):   # columns line up
        at = lines[head].index(label)
        assert lines[head + 1][at:at + len(value) + 1].strip() == value


def test_minimal_case_is_smaller_and_really_fails():
    net, acts = NETS[TANH3]
    fn = make_backprop(acts, skip_fprime_layer=2)
    case = _mismatch(fn, net).minimal
    small = case["net"]
    assert small.spec.n_parameters < net.spec.n_parameters and case["m"] == 1
    # Re-run the shrunk case from scratch: the user's function disagrees with the truth.
    assert_backprop_matches(make_backprop(acts), small)
    weights = [np.asarray(W) for W in _split(small, case["params"])[0]]
    biases = _split(small, case["params"])[1]
    wg, bg = fn(weights, biases, case["X"], case["Y"])
    yours = np.concatenate([g.ravel() for g in wg] + list(bg))
    true = compile_gradients(small)(case["params"], case["X"], case["Y"])[1]
    assert not np.allclose(yours, true)


def _split(net, params):
    from symgrad.testing.diagnosis import split
    return split(net.spec, params)


def test_missing_mean_needs_two_samples():
    net, acts = NETS["2-2-1 linear"]
    err = _mismatch(make_backprop(acts, mean=False), net)
    assert "the smallest batch that shows it: m=2" in str(err)


def test_zero_and_nan_gradients_are_named():
    net = NETS["3-4-2 relu bias"][0]

    def filled(value):
        return lambda W, b, X, y: ([np.full(w.shape, value) for w in W],
                                   [np.zeros(len(v)) for v in b])

    assert _mismatch(filled(0.0), net).diagnoses == ["zero"]
    err = _mismatch(filled(np.nan), net)
    assert err.diagnoses == ["not-finite"] and "w111, w112" in str(err)


def test_unexplained_bug_says_so():
    net, acts = NETS["2-2-1 linear"]
    err = _mismatch(make_backprop(acts, noise=1e-3), net)
    assert err.diagnoses == []
    assert "no single known bug pattern" in str(err)


def test_low_precision_results_get_a_precision_note():
    net, acts = NETS[TANH3]
    good = make_backprop(acts)

    def low(weights, biases, X, y):
        wg, bg = good(weights, biases, X, y)
        return [g.astype(np.float16) for g in wg], [g.astype(np.float16) for g in bg]

    assert "float32/float16 arrays" in str(_mismatch(low, net))
    assert_backprop_matches(low, net, rtol=1e-2, atol=1e-4)


# -- layouts ----------------------------------------------------------------------

def test_vector_layout_accepts_grad_or_cost_and_grad():
    net = NETS[TANH3][0]
    f = backprop_function(net)
    assert_backprop_matches(f, net, layout="vector")
    assert_backprop_matches(lambda p, X, y: f(p, X, y)[1], net, layout="vector")
    err = _mismatch(lambda p, X, y: 2 * f(p, X, y)[1], net, layout="vector")
    assert err.diagnoses == ["loss-factor"]


def test_dict_layout():
    net, acts = NETS[TANH3]
    names = net.spec.parameter_names()

    def by_name(bug):
        inner = make_backprop(acts, **bug)

        def fn(params, X, y):
            assert list(params) == names
            flat = np.array([params[n] for n in names])
            wg, bg = inner(*_split(net, flat), X, y)
            values = np.concatenate([g.ravel() for g in wg] + list(bg))
            return dict(zip(names, values))
        return fn

    assert_backprop_matches(by_name({}), net, layout="dict")
    assert _mismatch(by_name({"mean": False}), net, layout="dict").diagnoses == ["batch-mean"]


def test_transposed_convention():
    net, acts = NETS[TANH3]
    inner = make_backprop(acts)

    def fn(weights, biases, X, y):  # weights given and returned as (n_in, n_out)
        wg, bg = inner([W.T for W in weights], biases, X, y)
        return [g.T for g in wg], bg

    assert_backprop_matches(fn, net, transpose=True)
    with pytest.raises(GradientFormatError, match="transpose=True"):
        assert_backprop_matches(lambda W, b, X, y: fn([w.T for w in W], b, X, y), net)


def test_flat_y():
    net, acts = NETS["2-2-1 linear"]
    seen = []

    def fn(weights, biases, X, y):
        seen.append(y.shape)
        return make_backprop(acts)(weights, biases, X, y)

    assert_backprop_matches(fn, net, flat_y=True, batches=2)
    assert seen == [(5,), (3,)]


# -- bad return values: clear AssertionErrors ------------------------------------

def _fixed(result):
    return lambda *args: result


W21 = [np.zeros((2, 2)), np.zeros((1, 2))]
FORMAT = [  # (id, layout, net key, returned value, words in the message)
    ("not a pair", "matrices", "2-2-1 linear", W21, "pair (weight_grads, bias_grads)"),
    ("too few layers", "matrices", "2-2-1 linear", ([np.zeros((2, 2))], []), "has 1 entries"),
    ("one array, not a list", "matrices", "2-2-1 linear", (np.zeros((2, 2)), []),
     "one array per layer"),
    ("transposed shape", "matrices", TANH3,
     ([np.zeros((2, 3)), np.zeros((2, 3)), np.zeros((1, 2))], []), "transpose=True"),
    ("biases on a no-bias net", "matrices", "2-2-1 linear", (W21, [np.zeros(2)]),
     "no biases"),
    ("bias per sample", "matrices", TANH3,
     ([np.zeros((3, 2)), np.zeros((2, 3)), np.zeros((1, 2))],
      [np.zeros((5, 3)), np.zeros(2), np.zeros(1)]), "sum over the batch"),
    ("strings", "matrices", "2-2-1 linear", ([np.zeros((2, 2)), "ab"], []), "must hold numbers"),
    ("complex", "vector", "2-2-1 linear", np.zeros(6, complex), "complex"),
    ("vector too short", "vector", "2-2-1 linear", np.zeros(5), "needs a 1-D array of its 6"),
    ("dict typo", "dict", "2-2-1 linear",
     {"w111": 0, "w112": 0, "w121": 0, "w122": 0, "w211": 0, "w2l2": 0},
     "did you mean 'w212'"),
    ("dict missing", "dict", "2-2-1 linear", {"w111": 0}, "missing 5 key(s)"),
    ("dict of arrays", "dict", "2-2-1 linear", {n: np.zeros(3) for n in
                                                 Network([2, 2, 1]).spec.parameter_names()},
     "one number per parameter"),
    ("not a dict", "dict", "2-2-1 linear", [0] * 6, "must return a dict"),
]


@pytest.mark.parametrize("layout, key, result, words", [f[1:] for f in FORMAT],
                         ids=[f[0] for f in FORMAT])
def test_bad_return_values_raise_clear_assertion_errors(layout, key, result, words):
    with pytest.raises(GradientFormatError) as info:
        assert_backprop_matches(_fixed(result), NETS[key][0], layout=layout)
    assert isinstance(info.value, AssertionError)
    assert words in str(info.value)


def test_exceptions_from_the_users_function_propagate_with_a_note():
    def broken(weights, biases, X, y):
        raise ZeroDivisionError("my bug")

    with pytest.raises(ZeroDivisionError, match="my bug") as info:
        assert_backprop_matches(broken, NETS["2-2-1 linear"][0])
    assert any("batch 1 of 4" in n for n in getattr(info.value, "__notes__", ["batch 1 of 4"]))


BAD_OPTIONS = [
    ("layout typo", dict(layout="matrix"), "did you mean 'matrices'"),
    ("transpose with vector", dict(layout="vector", transpose=True), "layout 'matrices' only"),
    ("negative rtol", dict(rtol=-1.0), "rtol"),
    ("zero batches", dict(batches=0), "batches"),
    ("bool seed", dict(seed=True), "seed"),
]


@pytest.mark.parametrize("options, words", [b[1:] for b in BAD_OPTIONS],
                         ids=[b[0] for b in BAD_OPTIONS])
def test_bad_options_raise_spec_errors(options, words):
    net, acts = NETS["2-2-1 linear"]
    with pytest.raises(SpecError, match=words):
        assert_backprop_matches(make_backprop(acts), net, **options)


def test_bad_net_or_fn():
    with pytest.raises(SpecError, match="Network"):
        assert_backprop_matches(lambda *a: None, "2-2-1")
    with pytest.raises(SpecError, match="gradient function"):
        assert_backprop_matches(None, Network([2, 2, 1]))


# -- the diagnosis engine itself ----------------------------------------------------

@pytest.mark.parametrize("net", [
    Network([2, 3, 2], activation="softplus", output_activation="tanh", bias=True),
    Network([3, 3, 1], activation="leaky_relu", output_activation="sigmoid", loss="bce"),
    Network([2, 4, 3, 2], activation=["relu", "sigmoid"], loss="squared", bias=True),
], ids=str)
def test_unchanged_variant_equals_compiled_gradient(net):
    params, X, Y = random_problem(net, seed=3, batch=6)
    expected = compile_gradients(net)(params, X, Y)[1]
    np.testing.assert_allclose(variant_gradient(net.spec, params, X, Y), expected,
                               rtol=1e-10, atol=1e-13)


# -- on any network ------------------------------------------------------------------

#: Examples are shares of the Hypothesis profile's count (tests/conftest.py): 12 in the
#: default profile's 100.  The profile sets deadline=None.
FEW = settings(max_examples=max(1, settings.default.max_examples * 3 // 25))


@FEW
@given(sgst.networks(max_depth=3, max_width=3))
def test_a_correct_backprop_passes_on_any_network(net):
    assert_backprop_matches(backprop_function(net), net, layout="vector", batches=2)


@FEW
@given(sgst.networks(max_depth=3, max_width=3,
                     activations=["linear", "tanh", "sigmoid", "softplus"]))
def test_a_sign_flip_is_named_on_any_smooth_network(net):
    f = backprop_function(net)
    err = _mismatch(lambda p, X, y: -f(p, X, y)[1], net, layout="vector", batches=2,
                    shrink=False)
    assert err.diagnoses[0] == "sign"
