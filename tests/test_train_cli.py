"""`symgrad train` and `symgrad check --plot` end to end, through ``main(argv)``
in-process (the ``cli`` fixture of tests/conftest.py); a missing matplotlib is shown
in a real process, where the import can be blocked before anything loads it."""

import json
import subprocess
import sys

import numpy as np
import pytest

POINTS = "x,y\n" + "".join(f"{x},{3 * x + 0.01 * (-1) ** i}\n"
                           for i, x in enumerate(np.linspace(-2, 2, 21)))


@pytest.fixture
def symgrad(cli):
    return cli


@pytest.fixture
def points(tmp_path):
    (tmp_path / "points.csv").write_text(POINTS)
    return tmp_path


def test_issue_example_synthetic(symgrad):
    out = symgrad("train", "2-2-1", "--synthetic", "--slope", "3", "--noise", "0.1",
                  "--samples", "200", "--split", "0.3", "--epochs", "500", "--lr", "0.05",
                  "--seed", "1")
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "collinear" in text and "not identifiable" in text
    assert "slope on x = w211*(w111*a + w112*(1-a)) + w212*(w121*a + w122*(1-a))" in text
    assert "hidden neurons separated" in text
    assert out.stderr == ""                        # no progress bar when not a TTY


def test_issue_example_csv_symmetric_with_plot(symgrad, points):
    out = symgrad("train", "2-2-1", "--data", "points.csv", "--split", "0.3", "--init",
                  "symmetric", "--plot", "run.png", cwd=points)
    assert out.returncode == 0, out.stderr
    assert "stayed identical: w111 = w121, w112 = w122, w211 = w212" in out.stdout
    assert "plot: run.png" in out.stdout
    from matplotlib.image import imread
    assert imread(str(points / "run.png")).shape[:2] == (400, 1000)


def test_json_output_parses_and_agrees_with_polyfit(symgrad, points):
    out = symgrad("train", "2-2-1", "--data", "points.csv", "--split", "0.4", "--epochs",
                  "3000", "--lr", "0.05", "--json", "--backend", "numpy", cwd=points)
    assert out.returncode == 0, out.stderr
    d = json.loads(out.stdout)
    for key in ("parameters", "cost", "epochs", "symmetric", "effective_map", "least_squares"):
        assert key in d
    assert set(d["parameters"]) == {"w111", "w112", "w121", "w122", "w211", "w212"}
    x, y = np.loadtxt(points / "points.csv", delimiter=",", skiprows=1, unpack=True)
    slope = float(x @ y / (x @ x))          # least squares through the origin (no bias)
    assert abs(d["effective_map"]["slope"] - slope) < 1e-6
    assert d["data"]["samples"] == 21 and d["split"] == 0.4


def test_zero_init_says_stationary_and_exits_1(symgrad):
    out = symgrad("train", "2-2-1", "--synthetic", "--split", "0.5", "--init", "zeros",
                  "--backend", "numpy")
    assert out.returncode == 1
    assert "stationary point, not a fit" in out.stdout
    assert "could not move" in out.stderr


def test_divergence_exits_1_with_last_good_state(symgrad):
    out = symgrad("train", "2-2-1", "--synthetic", "--split", "0.5", "--lr", "1e6", "--json",
                  "--backend", "numpy")
    assert out.returncode == 1
    d = json.loads(out.stdout)
    assert d["stop"] == "diverged" and "last good state" in d["message"]
    assert all(np.isfinite(v) for v in d["parameters"].values())


BAD_CALLS = [
    ("no-data-source", ["train", "2-2-1"], "one of the arguments --data --synthetic"),
    ("split-too-big", ["train", "2-2-1", "--synthetic", "--split", "1.2"], "between 0 and 1"),
    ("width-mismatch", ["train", "2-2-1", "--synthetic"], "--split"),
    ("missing-file", ["train", "1-1", "--data", "nope.csv"], "no such file"),
    ("bad-slope", ["train", "1-1", "--synthetic", "--slope", "three"], "--slope"),
    ("synthetic-option-with-data", ["train", "1-1", "--data", "points.csv", "--noise", "1"],
     "only apply to --synthetic"),
    ("typo-init", ["train", "1-1", "--synthetic", "--init", "zero"], "did you mean 'zeros'"),
    ("plot-not-png", ["train", "1-1", "--synthetic", "--plot", "run.jpg"], ".png"),
    ("plot-no-directory", ["train", "1-1", "--synthetic", "--plot", "no/such/run.png"],
     "does not exist"),
    ("bad-lr", ["train", "1-1", "--synthetic", "--lr", "0"], "lr"),
]


@pytest.mark.parametrize("args, words", [b[1:] for b in BAD_CALLS], ids=[b[0] for b in BAD_CALLS])
def test_bad_calls_exit_2_with_one_line(symgrad, points, args, words):
    out = symgrad(*args, cwd=points)
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert words in out.stderr and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_bad_csv_line_number_reaches_the_user(symgrad, tmp_path):
    (tmp_path / "bad.csv").write_text("x,y\n1,2\n2,nan\n")
    out = symgrad("train", "1-1", "--data", "bad.csv", cwd=tmp_path)
    assert out.returncode == 2 and "bad.csv, line 3, column 'y'" in out.stderr


def test_check_plot_writes_the_step_size_figure(symgrad, tmp_path):
    out = symgrad("check", "2-2-1", "--activation", "tanh", "--json", "--plot", "steps.png",
                  cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["plot"] == "steps.png" and report["ok"] is True
    from matplotlib.image import imread
    pixels = imread(str(tmp_path / "steps.png"))
    assert pixels.shape[:2] == (400, 1000) and pixels[..., :3].var() > 1e-3


def test_missing_matplotlib_exits_3(tmp_path):
    code = ("import sys; sys.modules['matplotlib'] = None\n"
            "from symgrad.cli.main import main\n"
            "sys.exit(main(['train', '1-1', '--synthetic', '--plot', 'run.png']))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=tmp_path, timeout=120)
    assert out.returncode == 3
    assert "install the 'plot' extra: python -m pip install 'symgrad[plot]'" in out.stderr
