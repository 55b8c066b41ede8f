"""symgrad.training.train: convergence to least squares, the symmetry story, stops, the result."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from symgrad import Network, SpecError, SpecTypeError, compile_gradients, train
from symgrad.training.data import split_feature, synthetic
from symgrad.training.history import Record
from symgrad.training.train import (
    TrainingInterrupted,
    effective_map,
    initial_parameters,
    sibling_equalities,
)

SEED_NET = Network([2, 2, 1])


def seed_data(slope=3.0, intercept=0.0, noise=0.0, samples=60, a=0.3, seed=0):
    return split_feature(synthetic(samples=samples, slope=slope, intercept=intercept,
                                   noise=noise, seed=seed), a)


def run(net=SEED_NET, data=None, **kwargs):
    data = seed_data() if data is None else data
    options = {"epochs": 400, "lr": 0.1, "backend": "numpy", "split": data.split}
    options.update(kwargs)
    return train(net, data.X, data.y, **options)


def seed_slope(p, a):
    """The seed answer's slope, written out by hand: w211*(w111*a + ...) + ..."""
    w111, w112, w121, w122, w211, w212 = p
    return w211 * (w111 * a + w112 * (1 - a)) + w212 * (w121 * a + w122 * (1 - a))


def test_noise_free_data_converge_to_the_true_slope_and_least_squares():
    result = run(epochs=3000)
    slope = result.effective_map["slope"]
    assert abs(slope - 3.0) < 1e-6                                  # the truth
    assert abs(slope - result.least_squares["slope"]) < 1e-6        # numpy.linalg.lstsq
    assert abs(slope - seed_slope(result.params, 0.3)) < 1e-12      # the hand formula
    assert result.cost < 1e-12 and result.collinear and result.rank == 1


def test_noisy_data_with_bias_agree_with_polyfit():
    data = seed_data(slope=-1.5, intercept=0.8, noise=0.2, samples=100, seed=3)
    result = run(Network([2, 2, 1], bias=True), data, epochs=4000, lr=0.1, tol=1e-20)
    slope, intercept = np.polyfit(data.feature, data.y, 1)
    assert abs(result.effective_map["slope"] - slope) < 1e-6
    assert abs(result.effective_map["intercept"] - intercept) < 1e-6
    assert abs(result.cost - result.least_squares["cost"]) < 1e-10


def test_effective_map_is_the_product_of_the_weight_matrices():
    rng = np.random.default_rng(5)
    net = Network([3, 4, 2, 2], bias=True)
    p = rng.normal(size=len(net.parameters))
    eff = effective_map(net.spec, p)
    x = rng.normal(size=3)
    # Independent forward pass through the symbolic network.
    values = dict(zip(net.parameters, p)) | dict(zip(net.inputs, x))
    yhat = [float(o.subs(values)) for o in net.outputs]
    mine = [sum(eff["coefficients"][f"x{k + 1}"][j] * x[k] for k in range(3))
            + eff["intercept"][j] for j in range(2)]
    assert np.allclose(mine, yhat, rtol=1e-12)


def test_symmetric_init_stays_bit_identical_at_every_step():
    result = run(init="symmetric", epochs=300, record_every=1)
    T = result.trajectory
    assert T.shape == (result.epochs_run + 1, 6) and result.recorded.tolist() == list(
        range(result.epochs_run + 1))
    assert (T[:, 0] == T[:, 2]).all() and (T[:, 1] == T[:, 3]).all() and (T[:, 4] == T[:, 5]).all()
    assert result.symmetric is True and result.separated_at is None
    assert "stayed identical: w111 = w121, w112 = w122, w211 = w212" in result.to_text()
    assert abs(result.effective_map["slope"] - 3.0) < 1e-6   # and it still fits


@pytest.mark.parametrize("options", [{"momentum": 0.9, "lr": 0.02}, {"batch_size": 7}],
                         ids=["momentum", "mini-batch"])
def test_symmetry_survives_momentum_and_mini_batches(options):
    net = Network([2, 2, 1], bias=True)
    result = run(net, init="symmetric", epochs=100, **options)
    T = result.trajectory
    names = result.names
    for left, right in [("w111", "w121"), ("w112", "w122"), ("w211", "w212"), ("b11", "b12")]:
        assert (T[:, names.index(left)] == T[:, names.index(right)]).all(), (left, right)
    assert result.symmetric is True


def test_random_init_breaks_symmetry():
    result = run(init="random", seed=2)
    p = result.parameters
    assert p["w111"] != p["w121"] and p["w211"] != p["w212"]
    assert result.symmetric is False and result.symmetric_start is False
    assert result.symmetry_verdict().startswith("hidden neurons separated")


def test_zero_init_without_bias_is_a_saddle_not_a_fit():
    result = run(init="zeros")
    _, grad = compile_gradients(SEED_NET, backend="numpy")(np.zeros(6), seed_data().X,
                                                           seed_data().y)
    assert not grad.any()                            # the gradient really is exactly 0
    assert result.stop == "stationary" and result.epochs_run == 0
    assert not result.params.any() and result.cost == result.costs[0] > 0
    text = result.to_text()
    assert "stationary point, not a fit" in text and "saddle" in text
    assert "converged" not in text


def test_zero_init_with_bias_only_learns_the_mean():
    data = seed_data(intercept=2.0)
    result = run(Network([2, 2, 1], bias=True), data, init="zeros", epochs=500, lr=0.5)
    p = result.parameters
    assert all(p[n] == 0.0 for n in ("w111", "w112", "w121", "w122", "w211", "w212", "b11"))
    assert abs(p["b21"] - np.mean(data.y)) < 1e-9


def test_divergence_keeps_the_last_good_state():
    result = run(lr=1e6, epochs=50)
    assert result.stop == "diverged"
    assert np.isfinite(result.params).all() and np.isfinite(result.costs).all()
    f = compile_gradients(SEED_NET, backend="numpy")
    assert f(result.params, seed_data().X, seed_data().y)[0] == result.cost
    assert "last good state" in result.message and "smaller lr" in result.message
    json.loads(result.to_json())


def test_tolerance_stops_early():
    result = run(epochs=10_000, tol=1e-9)
    assert result.stop == "converged" and result.epochs_run < 10_000
    assert abs(result.costs[-2] - result.costs[-1]) <= 1e-9


def test_trajectory_starts_at_init_and_ends_at_result():
    result = run(epochs=95, record_every=10)
    assert result.recorded.tolist() == list(range(0, 100, 10)[:10]) + [95]
    assert np.array_equal(result.trajectory[0], result.initial)
    assert np.array_equal(result.trajectory[-1], result.params)
    assert np.array_equal(result.initial, initial_parameters(SEED_NET.spec, "random", 0))


def test_to_dict_has_the_issue_keys_at_full_precision():
    result = run(epochs=50)
    d = json.loads(result.to_json())
    for key in ("parameters", "cost", "epochs", "symmetric", "effective_map", "least_squares"):
        assert key in d
    assert [d["parameters"][n] for n in result.names] == result.params.tolist()
    assert d["cost"] == result.cost and d["epochs"] == 50


def test_auto_backend_is_reported():
    """20 epochs on 2-2-1 take milliseconds on numpy: numba's start (importing it,
    loading or compiling a kernel) cannot pay off, and the report says why."""
    result = run(epochs=20, backend="auto", init="symmetric")
    assert result.settings["backend"] == "numpy"
    assert result.settings["backend_reason"].startswith("auto: numpy")
    assert f"backend: {result.settings['backend_reason']}" in result.to_text().splitlines()
    assert result.symmetric is True
    named = run(epochs=20, backend="numpy", init="symmetric")
    assert named.settings["backend_reason"] is None and "backend: " not in named.to_text()


def test_auto_takes_numba_when_numpy_would_take_longer(monkeypatch):
    pytest.importorskip("numba")
    from symgrad.backends import auto

    f, X, Y = compile_gradients(SEED_NET), np.ones((10, 2)), np.ones((10, 1))
    work = auto.training_work(10, 1000, None)
    quick = auto.choose_backend(SEED_NET, f, np.ones(6), X, Y, work)
    monkeypatch.setattr(auto, "numpy_seconds", lambda *args: 1e6)   # as if numpy were slow
    slow = auto.choose_backend(SEED_NET, f, np.ones(6), X, Y, work)
    assert (quick.backend, slow.backend) == ("numpy", "numba")
    assert slow.reason.startswith("auto: numba, estimated") and "against numpy's 1e+06 s" in \
        slow.reason


def test_sibling_equalities_for_deeper_nets():
    eq = sibling_equalities(Network([1, 3, 2, 1], bias=True).spec)
    assert "w111 = w121 = w131" in eq and "b11 = b12 = b13" in eq
    assert "w211 = w212 = w213" in eq and "w311 = w312" in eq


def test_no_hidden_siblings_means_no_verdict():
    data = synthetic(samples=20, slope=2.0)
    result = run(Network([1, 1]), data, split=None, epochs=200, lr=0.5)
    assert result.symmetric is None and "no symmetry" in result.symmetry_verdict()
    assert abs(result.effective_map["coefficients"]["x1"] - 2.0) < 1e-9


BAD_OPTIONS = [
    ("negative-epochs", {"epochs": -1}, SpecError, "epochs"),
    ("float-epochs", {"epochs": 2.5}, SpecTypeError, "epochs"),
    ("zero-lr", {"lr": 0.0}, SpecError, "lr"),
    ("nan-lr", {"lr": float("nan")}, SpecError, "lr"),
    ("momentum-one", {"momentum": 1.0}, SpecError, "momentum"),
    ("zero-batch", {"batch_size": 0}, SpecError, "batch_size"),
    ("negative-tol", {"tol": -1.0}, SpecError, "tol"),
    ("typo-init", {"init": "symetric"}, SpecError, "did you mean 'symmetric'"),
    ("short-init-array", {"init": [1.0, 2.0]}, SpecError, "6 finite values"),
    ("bad-split", {"split": 1.0}, SpecError, "between 0 and 1"),
]


@pytest.mark.parametrize("options, error, words", [b[1:] for b in BAD_OPTIONS],
                         ids=[b[0] for b in BAD_OPTIONS])
def test_bad_options(options, error, words):
    with pytest.raises((error, ValueError), match=words):
        run(**options)


# -- bounded records, epochs 0, option types -----------------------------------------------

def test_long_runs_keep_a_bounded_evenly_thinned_record(monkeypatch):
    from symgrad.training import train as train_module

    noisy = seed_data(noise=0.3)
    full = run(data=noisy, epochs=1000, lr=0.01, record_every=1)
    assert full.stop == "epochs"
    assert full.cost_epochs.tolist() == list(range(1001))      # short runs: every epoch
    monkeypatch.setattr(train_module, "MAX_COST_POINTS", 50)
    thin = run(data=noisy, epochs=1000, lr=0.01, record_every=1)
    assert thin.epochs_run == 1000 and len(thin.costs) <= 51 and len(thin.recorded) <= 51
    epochs = thin.cost_epochs.tolist()
    assert epochs[0] == 0 and epochs[-1] == 1000
    assert len(set(np.diff(epochs[:-1]))) == 1                   # evenly spaced
    assert thin.costs.tolist() == full.costs[thin.cost_epochs].tolist()
    assert np.array_equal(thin.trajectory, full.trajectory[thin.recorded])
    assert np.array_equal(thin.trajectory[-1], thin.params) and thin.cost == full.cost
    history = json.loads(thin.to_json())["history"]
    assert history["epoch"] == thin.recorded.tolist()
    assert history["cost"] == full.costs[thin.recorded].tolist()


@settings(deadline=None)
@given(st.integers(2, 12), st.integers(0, 300), st.integers(1, 5))
def test_record_keeps_at_most_limit_points_first_and_last(limit, last, every):
    record = Record(limit, every)
    for epoch in range(last + 1):
        if record.wants(epoch):
            record.add(epoch, -epoch)
    record.finish(last, -last)
    assert len(record) <= limit + 1
    assert record.epochs[0] == 0 and record.epochs[-1] == last
    assert record.values == [-e for e in record.epochs]
    steps = set(np.diff(record.epochs[:-1]).tolist())
    assert steps <= {record.every} and record.every % every == 0


def test_zero_epochs_is_the_starting_point_not_a_stationary_point():
    result = run(epochs=0)
    assert result.stop == "epochs" and result.epochs_run == 0
    assert result.params.tolist() == result.initial.tolist()
    text = result.to_text()
    assert "no epochs run" in text and "stationary" not in text and "stuck" not in text


@pytest.mark.parametrize("options, words", [
    ({"seed": "abc"}, "seed must be an integer, got str 'abc'"),
    ({"seed": 1.5}, "seed must be an integer"),
    ({"seed": -1}, "seed must be at least 0"),
    ({"init": {"w111": 1}}, "init must be one of random, symmetric, zeros or an array"),
    ({"backend": 3}, "backend must be a name"),
    ({"progress": "bar"}, "progress must be a function"),
    ({"lr": "0.1"}, "lr must be a number, got str"),
    ({"epochs": True}, "epochs must be an integer"),
], ids=["seed-text", "seed-float", "seed-negative", "init-dict", "backend-int",
        "progress-text", "lr-text", "epochs-bool"])
def test_wrong_types_are_spec_errors(options, words):
    with pytest.raises(SpecError, match=words):
        run(**options)


def test_numpy_integers_are_integers():
    result = run(epochs=np.int64(3), seed=np.uint8(2), record_every=np.int32(1))
    assert result.epochs_run == 3 and result.settings["seed"] == 2


def test_train_needs_a_network():
    with pytest.raises(SpecTypeError, match="needs a Network"):
        train([2, 2, 1], np.zeros((2, 2)), np.zeros(2))


# ------------------------------------------------------------------- Ctrl-C


def _interrupt_at(calls):
    """A progress callback that presses Ctrl-C after ``calls`` epochs."""
    def progress(epoch, epochs, cost):
        if epoch == calls:
            raise KeyboardInterrupt
    return progress


def test_ctrl_c_after_an_epoch_keeps_that_epochs_state():
    x = np.linspace(-1, 1, 30)
    X, y = np.column_stack([x, x * x]), 3 * x - 1
    net = Network([2, 2, 1], bias=True)
    with pytest.raises(TrainingInterrupted) as caught:
        train(net, X, y, epochs=1000, lr=0.1, batch_size=7, backend="numpy",
              progress=_interrupt_at(13))
    result = caught.value.result
    assert isinstance(caught.value, KeyboardInterrupt)
    assert result.stop == "interrupted" and result.epochs_run == 13
    assert "after epoch 13 of 1000" in result.message
    same = train(net, X, y, epochs=13, lr=0.1, batch_size=7, backend="numpy")
    assert np.array_equal(result.params, same.params) and result.cost == same.cost


def test_ctrl_c_in_the_middle_of_an_epoch_undoes_it():
    """The third gradient call of epoch 5 (mini-batches) is interrupted: the state
    must be exactly the one after epoch 4, shuffling generator included."""
    from symgrad.backends import compile_gradients
    from symgrad.training.history import Record
    from symgrad.training.loop import Loop
    from symgrad.training.symmetry import initial_parameters

    x = np.linspace(-1, 1, 30)
    X, Y = np.column_stack([x, -x]), (2 * x)[:, None]
    net = Network([2, 2, 1])
    f = compile_gradients(net)
    p0 = initial_parameters(net.spec, "random", 0)
    calls = {"n": 0}
    per_epoch = 1 + 30 // 7 + 1           # 5 mini-batches and the full cost

    def flaky(params, X_, Y_):
        calls["n"] += 1
        if calls["n"] == 1 + 4 * per_epoch + 3:
            raise KeyboardInterrupt
        return f(params, X_, Y_)

    loop = Loop(net.spec, flaky, X, Y, p0, 0.1, 0.5, 7, 0)
    loop.run(100, 0.0, None, Record(100), Record(100))
    assert loop.stop == "interrupted" and loop.epoch == 4
    ref = Loop(net.spec, f, X, Y, p0, 0.1, 0.5, 7, 0)
    ref.run(4, 0.0, None, Record(100), Record(100))
    assert np.array_equal(loop.p, ref.p) and np.array_equal(loop.v, ref.v)
    assert loop.cost == ref.cost
    assert loop.rng.bit_generator.state == ref.rng.bit_generator.state


def test_data_line_maps_the_data_columns_to_the_networks_inputs():
    """The report speaks of x1, x2 (the network's inputs): a data line whose columns have
    other names says which is which; columns already named x1, x2 need no mapping."""
    from symgrad.training.data import Dataset

    X, y = np.zeros((3, 2)), np.zeros(3)
    named = Dataset(X, y, ("age", "income"), ("y",), "d.csv")
    assert named.describe() == ("d.csv: 3 samples, inputs age, income, target y "
                                "(age is x1, income is x2 below)")
    assert "below" not in Dataset(X, y, ("x1", "x2"), ("y",), "d.csv").describe()
    assert synthetic(samples=3).describe().endswith("target y (x is x1 below)")
    assert "below" not in split_feature(synthetic(samples=3), 0.3).describe()
