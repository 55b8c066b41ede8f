"""Figures: right size, not blank, the numbers behind the step-size plot, missing extra."""

import os
import subprocess
import sys

import numpy as np
import pytest

from symgrad import Network, train
from symgrad.references.check import random_problem
from symgrad.training.plots import (
    STEPS,
    PlotFile,
    PlotFileError,
    plot_steps,
    plot_training,
    step_errors,
)

image = pytest.importorskip("matplotlib.image")


def assert_picture(path, size=(1000, 400)):
    pixels = image.imread(str(path))
    assert (pixels.shape[1], pixels.shape[0]) == size
    rgb = pixels[..., :3]
    assert rgb.var() > 1e-3                       # not blank
    assert len(np.unique(rgb.reshape(-1, 3), axis=0)) > 20   # lines, text, several colours


def test_training_plot_has_fixed_size_and_content(tmp_path):
    x = np.linspace(-1, 1, 30)
    X = np.column_stack([0.3 * x, 0.7 * x])
    result = train(Network([2, 2, 1]), X, 3 * x, epochs=60, lr=0.2, init="symmetric",
                   backend="numpy")
    path = plot_training(result, tmp_path / "run.png")
    assert_picture(path)


def test_training_plot_survives_zero_cost_and_a_single_epoch(tmp_path):
    x = np.linspace(-1, 1, 5)
    result = train(Network([1, 1]), x[:, None], 0 * x, epochs=1, lr=0.1, init="zeros",
                   backend="numpy")
    assert result.cost == 0.0
    assert_picture(plot_training(result, tmp_path / "zero.png"))


def test_step_plot_has_fixed_size_and_content(tmp_path):
    net = Network([2, 3, 1], activation="tanh", bias=True)
    params, X, y = random_problem(net, seed=0, batch=8)
    assert_picture(plot_steps(net, params, X, y, tmp_path / "steps.png"))


def test_central_difference_error_is_v_shaped_for_tanh():
    net = Network([2, 3, 1], activation="tanh")
    params, X, y = random_problem(net, seed=1, batch=8)
    indices, errors = step_errors(net, params, X, y, parameters=[0])
    central = errors["central"][:, 0]
    at = {h: i for i, h in enumerate(np.round(np.log10(STEPS), 6))}
    bottom = central[at[-5.0]]
    assert bottom < 1e-7                                  # near the optimum h ~ eps**(1/3)
    assert central[at[0.0]] > 1e3 * bottom                # truncation arm
    assert central[at[-14.0]] > 1e3 * bottom              # round-off arm
    assert errors["complex"][at[-16.0], 0] < 1e-13        # no round-off arm


def test_linear_net_has_no_truncation_error():
    # The cost is quadratic in each single weight, so central differences are exact
    # up to round-off even with h = 1.
    net = Network([2, 2, 1])
    params, X, y = random_problem(net, seed=2, batch=8)
    _, errors = step_errors(net, params, X, y)
    assert errors["central"][-1].max() < 1e-12


def test_relu_nets_skip_the_complex_step():
    net = Network([2, 2, 1], activation="relu")
    params, X, y = random_problem(net, seed=0, batch=4)
    _, errors = step_errors(net, params, X, y)
    assert list(errors) == ["central"]


def test_missing_matplotlib_is_a_missing_extra_error(tmp_path):
    code = ("import sys; sys.modules['matplotlib'] = None\n"
            "from symgrad.training.plots import require_matplotlib\n"
            "try:\n    require_matplotlib()\n"
            "except ImportError as exc:\n    print(type(exc).__name__, exc)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert "MissingExtraError" in out
    assert "python -m pip install 'symgrad[plot]'" in out


# ------------------------------------------------------------- PlotFile

def test_plot_file_is_reserved_at_once_and_written_through_its_descriptor(tmp_path):
    target, victim = tmp_path / "run.png", tmp_path / "victim.txt"
    victim.write_text("precious")
    with PlotFile(target) as plot:
        assert target.read_bytes() == b""                  # reserved before any work
        target.unlink()                                    # someone swaps in a link ...
        target.symlink_to(victim)
        plot.write(lambda f: f.write(b"figure"))           # ... which is not followed
    assert victim.read_text() == "precious"


@pytest.mark.parametrize("replace", [False, True], ids=["new", "replace"])
def test_failed_drawing_leaves_nothing_behind(tmp_path, replace):
    target = tmp_path / "run.png"
    if replace:
        target.write_bytes(b"old figure")
    plot = PlotFile(target, replace=replace)

    def draw(f):
        f.write(b"half a fig")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        plot.write(draw)
    assert sorted(p.name for p in tmp_path.iterdir()) == (["run.png"] if replace else [])
    if replace:
        assert target.read_bytes() == b"old figure"


def test_replace_keeps_the_old_file_until_the_new_one_is_complete(tmp_path):
    target = tmp_path / "run.png"
    target.write_bytes(b"old figure")
    with PlotFile(target, replace=True) as plot:
        assert target.read_bytes() == b"old figure"
        plot.write(lambda f: f.write(b"new figure"))
    assert target.read_bytes() == b"new figure"
    assert [p.name for p in tmp_path.iterdir()] == ["run.png"]


def test_discard_removes_only_the_file_it_created(tmp_path):
    target = tmp_path / "run.png"
    with PlotFile(target):
        target.unlink()
        target.write_bytes(b"someone else's")
    assert target.read_bytes() == b"someone else's"
    with PlotFile(tmp_path / "mine.png"):
        pass
    assert not (tmp_path / "mine.png").exists()


@pytest.mark.parametrize("make, reason", [
    (lambda p: p.write_bytes(b"x"), "exists"),
    (lambda p: p.mkdir(), "directory"),
    (lambda p: p.symlink_to(p.parent / "elsewhere.png"), "link"),
    (lambda p: os.mkfifo(p), "special"),
], ids=["file", "directory", "dangling-link", "fifo"])
def test_plot_file_refusals_name_the_reason(tmp_path, make, reason):
    target = tmp_path / "run.png"
    make(target)
    with pytest.raises(PlotFileError) as caught:
        PlotFile(target)
    assert caught.value.reason == reason
    if reason != "exists":
        with pytest.raises(PlotFileError) as caught:
            PlotFile(target, replace=True)
        assert caught.value.reason == reason
    assert not (tmp_path / "elsewhere.png").exists()


def test_plot_file_in_a_missing_folder(tmp_path):
    with pytest.raises(PlotFileError, match="the directory '.*nope' does not exist") as caught:
        PlotFile(tmp_path / "nope" / "run.png")
    assert caught.value.reason == "no-directory"


# ------------------------------------------------------------- what the figure shows

def _drawn(result):
    from symgrad.training.plots import training_figure

    fig = training_figure(result)
    fig.canvas.draw()
    return fig, fig.axes[0], fig.axes[1]


def test_symmetric_run_shows_the_true_cost_and_the_least_squares_line():
    x = np.linspace(-1, 1, 13)
    X = np.column_stack([0.3 * x, 0.7 * x])
    result = train(Network([2, 2, 1]), X, 3 * x, epochs=400, lr=0.2, init="symmetric",
                   backend="numpy")
    least = result.least_squares["cost"]
    assert 0 < result.cost < 1e-25 and 0 < least < 1e-25      # both below the old 1e-18
    fig, cost, params = _drawn(result)
    (curve,) = [line for line in cost.get_lines() if line.get_label() == "cost C"]
    assert curve.get_ydata().min() == result.costs.min()      # true values, not clamped
    (ls,) = [line for line in cost.get_lines() if line.get_label().startswith("least")]
    low, high = cost.get_ylim()
    assert ls.get_ydata()[0] == least and low <= least <= high
    assert cost.get_yscale() == "log"
    assert params.get_title() == "parameters (hidden neurons identical)"
    for ax in (cost, params):                                  # keys never over the curves
        legend = ax.get_legend()
        assert legend is not None
        assert not legend.get_window_extent().overlaps(ax.get_window_extent())


def test_long_runs_get_a_log_epoch_axis_and_short_ones_a_few_ticks():
    from symgrad.training.plots import LOG_EPOCHS

    x = np.linspace(-1, 1, 5)
    long = train(Network([1, 1]), x[:, None], 2 * x, epochs=LOG_EPOCHS + 500, lr=1e-4,
                 backend="numpy")
    assert long.epochs_run == LOG_EPOCHS + 500
    _, cost, params = _drawn(long)
    assert cost.get_xscale() == params.get_xscale() == "symlog"
    assert cost.get_xlim()[1] == LOG_EPOCHS + 500
    short = train(Network([1, 1]), x[:, None], 2 * x, epochs=300, lr=1e-4, backend="numpy")
    _, cost, _ = _drawn(short)
    ticks = [t for t in cost.get_xticks() if 0 <= t <= 300]
    assert cost.get_xscale() == "linear" and len(ticks) <= 7


def test_an_exactly_zero_cost_is_marked_not_invented():
    x = np.linspace(-1, 1, 5)
    result = train(Network([1, 1]), x[:, None], 0 * x, epochs=1, lr=0.1, init="zeros",
                   backend="numpy")
    _, cost, _ = _drawn(result)
    labels = [line.get_label() for line in cost.get_lines()]
    assert "C = 0 exactly (from epoch 0)" in labels
    assert "cost C" not in labels                  # nothing positive to draw on a log axis
    assert "least squares C = 0 exactly" in [t.get_text() for t in cost.get_legend().texts]
