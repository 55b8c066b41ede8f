"""The three-way check report."""

import json

import numpy as np
import pytest

from symgrad import Network, SpecError
from symgrad.references.check import _culprit, band, check, random_problem, relative_errors


def test_seed_net_agrees():
    report = check(Network([2, 2, 1]), seed=0)
    assert report.ok and len(report.rows) == 6
    assert report.sources == ["symbolic", "backprop", "central", "complex"]
    assert all(r.rel_error <= 1e-7 for r in report.rows)
    assert "OK: all 6 gradients agree" in report.to_text()


def test_relu_net_skips_complex_step():
    report = check(Network([2, 3, 1], activation="relu", bias=True), seed=1)
    assert report.ok and "complex" not in report.sources
    assert "complex step skipped" in report.to_text()


def test_reproducible_from_seed():
    net = Network([2, 3, 1], activation="tanh")
    a, b = check(net, seed=5), check(net, seed=5)
    assert [r.values for r in a.rows] == [r.values for r in b.rows]
    assert a.cost != check(net, seed=6).cost


def test_given_point_is_used():
    net = Network([1, 1, 1])
    report = check(net, params=[2.0, 3.0], X=[[1.0]], y=[0.0])
    # yhat = 6, C = 18, dC/dw1 = 6 * 3 = 18, dC/dw2 = 6 * 2 = 12
    assert report.cost == 18.0
    assert [r.values["symbolic"] for r in report.rows] == [18.0, 12.0]


def test_bands_and_relative_error():
    assert (band(1e-9), band(1e-5), band(1e-2)) == ("good", "suspicious", "wrong")
    rel = relative_errors([1.0, 0.0, 2.0], [1.1, 0.0, 2.0])
    assert rel[0] == pytest.approx(0.1 / 1.1) and rel[1] == 0 and rel[2] == 0
    # tiny entries are measured against the floor (1e-3 of the largest entry)
    assert relative_errors([1e-12, 1.0], [2e-12, 1.0])[0] < 1e-8


def test_culprit_names_the_odd_one_out():
    values = {"symbolic": 1.0, "backprop": 1.5, "central": 1.0 + 1e-11}
    assert _culprit(values, 1.5) == "backprop"
    assert _culprit({"symbolic": 1.0, "backprop": 1.0, "central": 1.0}, 1.0) is None


def test_json_round_trip():
    data = json.loads(check(Network([2, 2, 1]), seed=0).to_json())
    assert data["ok"] is True and data["arch"] == "2-2-1"
    assert {"parameter", "symbolic", "backprop", "central", "complex", "rel_error", "band"} \
        <= set(data["rows"][0])


def test_random_problem_avoids_relu_kinks():
    from symgrad.references.check import min_kink_distance
    net = Network([3, 4, 4, 1], activation="relu", bias=True)
    for seed in range(5):
        params, X, _ = random_problem(net, seed, batch=16)
        assert min_kink_distance(net, params, X) > 1e-3


def test_bce_targets_are_labels():
    _, _, y = random_problem(Network([2, 1], output_activation="sigmoid", loss="bce"), 0, 20)
    assert set(np.unique(y)) <= {0.0, 1.0}


@pytest.mark.parametrize("kwargs, message", [
    (dict(batch=0), "positive integer"),
    (dict(batch=2.5), "positive integer"),
    (dict(seed=-1), "seed must be an integer >= 0"),
    (dict(seed=1.5), "seed must be an integer >= 0"),
    (dict(seed=True), "seed must be an integer >= 0"),
])
def test_bad_check_calls(kwargs, message):
    with pytest.raises(SpecError, match=message):
        check(Network([2, 1]), **kwargs)
