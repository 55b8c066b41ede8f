"""Data that would hang, fill memory or mislead: each refused with one clear line.

Anything that could hang or eat memory if the guard failed runs in a subprocess
under RLIMIT_AS (1.5 GB) and a 10 s harness timeout: a broken guard then fails the
test instead of taking the machine down.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

from symgrad import DataError, Network, train
from symgrad.limits import MAX_DATA_BYTES
from symgrad.training import data as data_module
from symgrad.training.data import load_csv

MEMORY = 1536 * 2**20
TIMEOUT = 10


def _limits():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def run_python(code: str, cwd) -> subprocess.CompletedProcess:
    """``code`` in a fresh interpreter under the memory limit and the timeout."""
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=TIMEOUT, preexec_fn=_limits, cwd=cwd)


def run_cli(args, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "symgrad", *args], capture_output=True,
                          text=True, timeout=TIMEOUT, preexec_fn=_limits, cwd=cwd,
                          env=dict(os.environ, SYMGRAD_IN_PROCESS="1"))


LOAD = """
from symgrad import DataError
from symgrad.training.data import load_csv
try:
    load_csv({path!r})
except DataError as exc:
    print("DataError:", exc)
"""


def one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    assert "Traceback" not in text
    return lines[0]


def make_fifo(folder):
    os.mkfifo(folder / "data.csv")      # opening it for reading would wait for a writer
    return "data.csv"


def make_sparse(folder):
    """A file over the size limit that takes no disk space (truncate makes it sparse)."""
    path = folder / "data.csv"
    with open(path, "wb") as handle:
        handle.write(b"x,y\n1,2\n")
        handle.truncate(2 * MAX_DATA_BYTES)
    return "data.csv"


HOSTILE = [
    ("dev-zero", lambda folder: "/dev/zero", "a device"),
    ("fifo", make_fifo, "a pipe (FIFO)"),
    ("directory", lambda folder: ".", "a directory"),
    ("oversized-sparse", make_sparse, f"at most {MAX_DATA_BYTES // 2**20} MiB"),
]


@pytest.mark.parametrize("make, words", [h[1:] for h in HOSTILE], ids=[h[0] for h in HOSTILE])
def test_load_csv_refuses_what_is_not_a_small_regular_file(tmp_path, make, words):
    path = make(tmp_path)
    done = run_python(LOAD.format(path=str(path)), tmp_path)
    assert done.returncode == 0, done.stderr
    line = one_line(done.stdout)
    assert line.startswith("DataError: cannot read") and words in line


@pytest.mark.parametrize("make", [h[1] for h in HOSTILE], ids=[h[0] for h in HOSTILE])
def test_train_cli_refuses_them_in_one_line(tmp_path, make):
    path = make(tmp_path)
    done = run_cli(["train", "1-1", "--data", str(path), "--backend", "numpy"], tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    assert "--data" in one_line(done.stderr) or "cannot read" in one_line(done.stderr)


def test_a_fifo_swapped_in_after_the_check_is_still_refused(tmp_path):
    """The size and kind are checked again on the opened descriptor (O_NONBLOCK open)."""
    make_fifo(tmp_path)
    code = """
    from symgrad import DataError
    from symgrad.training import data
    data.check_data_file = lambda path: 0        # as if it was a file when checked
    try:
        data.load_csv("data.csv")
    except DataError as exc:
        print("DataError:", exc)
    """
    done = run_python(code, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "a pipe (FIFO)" in one_line(done.stdout)


def test_field_longer_than_the_csv_limit_names_the_line(tmp_path, cli):
    path = tmp_path / "long.csv"
    path.write_text("x,y\n1,2\n3," + "9" * 200_000 + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"long\.csv, line 3: a field is longer than 131,072"):
        load_csv(path)
    r = cli("train", "1-1", "--data", str(path), "--backend", "numpy")
    assert r.returncode == 2 and "line 3" in one_line(r.stderr)


def test_a_line_with_no_end_is_cut_short(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text("x,y\n" + "1," * (data_module.MAX_LINE_CHARS // 2 + 10) + "1\n",
                    encoding="utf-8")
    with pytest.raises(DataError, match=r"line 2: longer than 4,000,000 characters"):
        load_csv(path)


def test_too_many_numbers_are_refused_at_the_line_they_pass_the_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(data_module, "MAX_DATA_CELLS", 10)
    path = tmp_path / "rows.csv"
    path.write_text("x,y\n" + "".join(f"{i},{2 * i}\n" for i in range(8)), encoding="utf-8")
    with pytest.raises(DataError, match=r"rows\.csv, line 7: more than 10 numbers"):
        load_csv(path)
    path.write_text("x,y\n" + "".join(f"{i},{2 * i}\n" for i in range(5)), encoding="utf-8")
    assert load_csv(path).n_samples == 5


@pytest.mark.parametrize("content, words", [
    (b"x,y\n1,2\n\xff\xfe,3\n", "not a UTF-8 text file"),
    (b"x,y\n1,\x002\n", r"line 2, column 'y': '\\x002' is not a number"),
], ids=["bad-utf8-later", "nul-byte"])
def test_unreadable_bytes_are_data_errors(tmp_path, content, words):
    path = tmp_path / "odd.csv"
    path.write_bytes(content)
    with pytest.raises(DataError, match=words):
        load_csv(path)


def test_streamed_rows_are_the_numbers_of_the_file(tmp_path):
    rng = np.random.default_rng(0)
    table = rng.normal(size=(500, 3))
    path = tmp_path / "many.csv"
    path.write_text("a,y,b\n" + "".join(",".join(repr(float(v)) for v in r) + "\n" for r in table),
                    encoding="utf-8")
    data = load_csv(path)
    assert np.array_equal(data.X, table[:, [0, 2]]) and np.array_equal(data.y, table[:, 1])
    assert data.X.flags.c_contiguous and data.y.flags.c_contiguous


# -- targets and scale -----------------------------------------------------------------

BCE = Network([2, 1], output_activation="sigmoid", loss="bce")


@pytest.mark.parametrize("bad, words", [(2.5, "sample 3 has y = 2.5"),
                                        (-0.25, "sample 3 has y = -0.25")],
                         ids=["above-one", "negative"])
def test_bce_targets_outside_zero_one_are_refused(bad, words):
    X = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.5, 0.5]])
    y = np.array([0.0, 1.0, bad, 0.5])
    with pytest.raises(DataError, match=words):
        train(BCE, X, y, backend="numpy")
    train(BCE, X, np.array([0.0, 1.0, 1.0, 0.5]), epochs=5, backend="numpy")


def test_cli_bce_targets_name_the_sample(tmp_path, cli):
    path = tmp_path / "labels.csv"
    path.write_text("x1,x2,y\n0,1,0\n1,0,1\n1,1,3\n", encoding="utf-8")
    r = cli("train", "2-1", "--output-activation", "sigmoid", "--loss", "bce", "--data",
            str(path), "--backend", "numpy")
    assert r.returncode == 2 and r.stdout == ""
    assert "sample 3 has y = 3" in one_line(r.stderr)


HUGE = np.array([[1e308, 5e307], [1.5e308, -1e308], [-1e308, 1e307], [2e307, 3e307]])


def test_data_near_the_float_limit_get_words_not_rank_zero_or_warnings():
    y = np.array([1.0, 2.0, 3.0, 4.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")               # any RuntimeWarning fails the test
        result = train(Network([2, 1]), HUGE, y, backend="numpy")
        big = train(Network([2, 1]), HUGE, 1e300 * y, backend="numpy")
    assert result.rank == 2 and not result.collinear
    assert "collinear" not in result.to_text()
    assert result.stop == "diverged" and "rescale the data" in result.message
    assert "1.5e+308" in result.message
    assert np.isfinite(result.least_squares["cost"])
    assert not np.isfinite(big.least_squares["cost"])
    assert big.notes and big.notes[0].startswith("some values overflowed past the largest")
    assert "note: some values overflowed" in big.to_text()
    assert json.loads(big.to_json())["notes"] == big.notes


def test_cli_data_near_the_float_limit(tmp_path, cli):
    path = tmp_path / "huge.csv"
    path.write_text("x1,x2,y\n" + "".join(f"{float(a)!r},{float(b)!r},{i}\n"
                                          for i, (a, b) in enumerate(HUGE)), encoding="utf-8")
    r = cli("train", "2-1", "--data", str(path), "--backend", "numpy")
    assert r.returncode == 1
    assert "rescale the data" in r.stdout and "rank 0" not in r.stdout
    assert "RuntimeWarning" not in r.stderr and "encountered" not in r.stderr


def test_samples_times_neurons_is_limited_for_a_wide_network(monkeypatch):
    from symgrad.training.data import check_widths, synthetic

    monkeypatch.setattr(data_module, "MAX_DATA_CELLS", 1000)
    data = synthetic(samples=100)
    check_widths(data, Network([1, 8, 1]).spec)                  # 100 x 10 neurons: fine
    with pytest.raises(DataError, match=r"samples x neurons = 1,100 .* at most 90 samples"):
        check_widths(data, Network([1, 9, 1]).spec)
