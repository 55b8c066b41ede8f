"""The command line through ``main(argv)`` in-process (the ``cli`` fixture of
tests/conftest.py): exit codes, stdout and stderr as a user sees them.  Real processes
are in tests/test_cli_smoke.py."""

import json

import pytest


@pytest.fixture
def run(cli):
    return cli


def test_check_seed_net(run):
    r = run("check", "2-2-1")
    assert r.returncode == 0, r.stderr
    assert "2-2-1, linear, no bias, 6 weights" in r.stdout
    assert "OK: all 6 gradients agree" in r.stdout
    assert r.stderr == ""


def test_check_issue_example(run):
    r = run("check", "2-3-3-1", "--activation", "tanh", "--bias", "--seed", "7")
    assert r.returncode == 0, r.stderr
    assert "25 gradients agree" in r.stdout


def test_check_json(run):
    r = run("check", "2-2-1", "--json", "--batch", "3", "--seed", "2")
    data = json.loads(r.stdout)
    assert data["batch"] == 3 and data["seed"] == 2 and data["ok"] is True
    assert [row["parameter"] for row in data["rows"]] == [
        "w111", "w112", "w121", "w122", "w211", "w212"]


def test_check_per_layer_activations_and_loss(run):
    r = run("check", "3-2-2-2", "--activation", "relu,sigmoid",
            "--output-activation", "sigmoid", "--loss", "bce", "--bias")
    assert r.returncode == 0, r.stderr


BAD = [
    ("arch", ["check", "2-x-1"], "bad architecture '2-x-1'"),
    ("activation", ["check", "2-2-1", "--activation", "tahn"], "did you mean 'tanh'"),
    ("loss", ["check", "2-2-1", "--loss", "mse"], "unknown loss 'mse'"),
    ("bce-linear", ["check", "2-1", "--loss", "bce"], "needs outputs in (0, 1)"),
    ("option", ["check", "2-2-1", "--frobnicate"], "unrecognized arguments"),
    ("seed", ["check", "2-2-1", "--seed", "abc"], "the seed must be a whole number from 0"),
    ("negative-seed", ["check", "2-2-1", "--seed", "-1"], "got '-1'"),
    ("huge-seed", ["check", "2-2-1", "--seed", str(2**64)], "to 2**64-1"),
    ("huge-batch", ["check", "2-2-1", "--batch", "100000000"], "at most 1000000"),
    ("batch-for-size", ["check", "100-100-1", "--batch", "200"], "at most 98 "),
    ("plot-not-png", ["check", "2-2-1", "--plot", "steps.svg"], "ending in .png"),
    ("batch", ["check", "2-2-1", "--batch", "0"], "--batch must be at least 1"),
    ("command", ["chekc", "2-2-1"], "invalid choice"),
    ("missing-arch", ["check"], "required: ARCH"),
    ("too-big", ["check", "200-200-1"], "has 40200 parameters; the command line handles at most"),
]


@pytest.mark.parametrize("args, message", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_input_is_one_line_exit_2(run, args, message):
    r = run(*args)
    assert r.returncode == 2
    assert message in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "Traceback" not in r.stderr


def test_no_command_prints_help_and_exits_2(run):
    r = run()
    assert r.returncode == 2 and "usage: symgrad" in r.stderr


def test_version(run):
    from symgrad import __version__

    r = run("--version")
    assert r.returncode == 0 and r.stdout == f"symgrad {__version__}\n" and r.stderr == ""


def test_check_backend_choice_is_reported(run):
    r = run("check", "2-2-1", "--backend", "auto", "--json")
    assert r.returncode == 0, r.stderr
    from symgrad.backends import fastest_backend
    assert json.loads(r.stdout)["backend"] == fastest_backend()
