"""Data loading, synthetic data, the seed's split and the least-squares baseline."""

import math

import numpy as np
import pytest

from symgrad import DataError, Network
from symgrad.training.data import (
    check_widths,
    least_squares,
    load_csv,
    split_feature,
    synthetic,
)


def write(tmp_path, text, name="points.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_load_csv_reads_columns_in_file_order(tmp_path):
    path = write(tmp_path, "x,y\n1,3\n\n2.5,7.5\n-1e-3,-3e-3\n")
    data = load_csv(path)
    assert data.X.tolist() == [[1.0], [2.5], [-0.001]]
    assert data.y.tolist() == [3.0, 7.5, -0.003]
    assert (data.input_names, data.target_names, data.source) == (("x",), ("y",), "points.csv")


def test_column_named_y_is_the_target_wherever_it_is(tmp_path):
    data = load_csv(write(tmp_path, "hours,y,price\n1,2,3\n4,5,6\n"))
    assert data.input_names == ("hours", "price")
    assert data.X.tolist() == [[1.0, 3.0], [4.0, 6.0]] and data.y.tolist() == [2.0, 5.0]


def test_without_y_the_last_column_is_the_target(tmp_path):
    data = load_csv(write(tmp_path, "a,b,out\n1,2,3\n"))
    assert data.input_names == ("a", "b") and data.target_names == ("out",)


def test_numbered_targets_for_several_outputs(tmp_path):
    data = load_csv(write(tmp_path, "y2,x1,y1,x2\n1,2,3,4\n"))
    assert data.target_names == ("y1", "y2") and data.input_names == ("x1", "x2")
    assert data.y.tolist() == [[3.0, 1.0]] and data.X.tolist() == [[2.0, 4.0]]


def test_byte_order_mark_and_spaces_are_tolerated(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeff x , y \n 1 , 2 \n".encode("utf-8"))
    data = load_csv(path)
    assert data.input_names == ("x",) and data.y.tolist() == [2.0]


BAD_FILES = [
    # id, file text (None: no file), words the message must contain
    ("missing-file", None, ["no such file"]),
    ("empty", "", ["is empty", "header"]),
    ("blank-lines-only", "\n\n  \n", ["is empty"]),
    ("header-only", "x,y\n", ["no data rows"]),
    ("numbers-as-header", "1,2\n3,4\n", ["line 1", "name the columns"]),
    ("one-column", "x\n1\n", ["line 1", "two columns"]),
    ("semicolons", "x;y\n1;2\n", ["two columns", "comma-separated"]),
    ("unnamed-column", "x,,y\n1,2,3\n", ["line 1", "column 2", "no name"]),
    ("duplicate-column", "x,X,y\n1,2,3\n", ["appears twice"]),
    ("ragged-short", "x,y\n1,2\n3\n", ["line 3", "1 value", "2 columns"]),
    ("ragged-long", "x,y\n1,2,3\n", ["line 2", "3 values"]),
    ("not-a-number", "x,y\n1,2\nabc,4\n", ["line 3", "column 'x'", "'abc' is not a number"]),
    ("empty-cell", "x,y\n1,\n", ["line 2", "column 'y'", "empty"]),
    ("nan", "x,y\n1,2\n2,nan\n", ["line 3", "column 'y'", "not a finite number"]),
    ("inf", "x,y\n-inf,2\n", ["line 2", "column 'x'", "not a finite number"]),
    ("line-after-blank", "x,y\n1,2\n\n3,oops\n", ["line 4", "'oops'"]),
]


@pytest.mark.parametrize("text, words", [b[1:] for b in BAD_FILES], ids=[b[0] for b in BAD_FILES])
def test_bad_files_name_file_line_and_column(tmp_path, text, words):
    path = tmp_path / "bad.csv"
    if text is not None:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_csv(path)
    message = str(info.value)
    assert "bad.csv" in message
    for word in words:
        assert word in message, message


def test_directory_and_binary_file_are_data_errors(tmp_path):
    with pytest.raises(DataError, match="directory"):
        load_csv(tmp_path)
    binary = tmp_path / "blob.csv"
    binary.write_bytes(b"\xff\xfe\x00\x81")
    with pytest.raises(DataError, match="UTF-8"):
        load_csv(binary)


def test_synthetic_noise_free_is_exactly_the_line():
    data = synthetic(samples=50, slope=3.0, intercept=-2.0, seed=4)
    x = data.X[:, 0]
    assert np.array_equal(data.y, 3.0 * x + -2.0)
    assert data.X.shape == (50, 1) and data.input_names == ("x",)


def test_synthetic_is_reproducible_and_noise_has_the_given_size():
    a = synthetic(samples=4000, slope=[1.0, -2.0], noise=0.5, seed=7)
    b = synthetic(samples=4000, slope=[1.0, -2.0], noise=0.5, seed=7)
    assert np.array_equal(a.X, b.X) and np.array_equal(a.y, b.y)
    residual = a.y - a.X @ [1.0, -2.0]
    assert abs(residual.std() - 0.5) < 0.03
    assert a.input_names == ("x1", "x2")


@pytest.mark.parametrize("kwargs", [{"samples": 0}, {"samples": 2.5}, {"noise": -1.0},
                                    {"slope": math.nan}, {"intercept": math.inf}],
                         ids=["no-samples", "fractional-samples", "negative-noise", "nan-slope",
                              "inf-intercept"])
def test_bad_synthetic_arguments(kwargs):
    with pytest.raises(DataError):
        synthetic(**kwargs)


def test_split_feature_builds_the_seeds_inputs():
    data = synthetic(samples=6, slope=2.0, seed=1)
    split = split_feature(data, 0.3)
    x = data.X[:, 0]
    assert np.array_equal(split.X[:, 0], 0.3 * x) and np.array_equal(split.X[:, 1], 0.7 * x)
    assert split.split == 0.3 and np.array_equal(split.feature, x)
    assert "x1 = 0.3*x, x2 = 0.7*x" in split.describe()


@pytest.mark.parametrize("a", [0, 1, -0.5, 1.5, math.nan, "half"],
                         ids=["zero", "one", "negative", "above-one", "nan", "text"])
def test_split_outside_open_interval_is_an_error(a):
    with pytest.raises(DataError, match="between 0 and 1"):
        split_feature(synthetic(samples=3), a)


def test_split_needs_one_feature():
    with pytest.raises(DataError, match="one input column"):
        split_feature(synthetic(samples=3, slope=[1, 2]), 0.5)


def test_width_mismatch_suggests_the_split():
    data = synthetic(samples=3)
    with pytest.raises(DataError, match=r"takes 2 inputs.*--split.*1-2-1"):
        check_widths(data, Network([2, 2, 1]).spec)
    with pytest.raises(DataError, match="has 2 outputs.*1 target column"):
        check_widths(split_feature(data, 0.5), Network([2, 2, 2]).spec)
    check_widths(split_feature(data, 0.5), Network([2, 2, 1]).spec)


def test_least_squares_slope_matches_polyfit_on_collinear_inputs():
    data = synthetic(samples=80, slope=1.7, intercept=0.4, noise=0.3, seed=2)
    split = split_feature(data, 0.25)
    fit = least_squares(split.X, split.y, intercept=True, split=0.25)
    slope, intercept = np.polyfit(data.X[:, 0], data.y, 1)
    assert fit["rank"] == 1
    assert abs(fit["slope"] - slope) < 1e-12 and abs(fit["intercept"] - intercept) < 1e-12
    residual = data.y - (slope * data.X[:, 0] + intercept)
    assert abs(fit["cost"] - np.mean(residual ** 2) / 2) < 1e-14
