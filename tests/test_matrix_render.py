"""``table --form matrix`` and ``derive --form matrix``: the equations, their shapes, LaTeX.

Every printed equation is a matrix claim; the batch ones are checked on numbers
against the numpy reference backprop (their dW rows), the one-sample ones with
``verify_matrix`` (whose verdicts tests/test_matrix.py checks against sympy.diff).
"""

from __future__ import annotations

import re
import shutil
import subprocess

import numpy as np
import pytest

from symgrad import Network
from symgrad.claims.matrix.check import verify_matrix
from symgrad.claims.matrix.equations import backprop_equations
from symgrad.references.backprop import backprop, forward, unpack

NETS = [Network([2, 3, 1], activation="sigmoid", bias=True),
        Network([2, 2, 2], activation="tanh", output_activation="sigmoid", loss="bce"),
        Network([1, 2, 2, 1], activation="softplus", loss="squared"),
        Network([2, 2, 3], activation="elu", output_activation="softmax", bias=True, l2=0.5,
                l2_bias=True)]


@pytest.mark.parametrize("net", NETS, ids=lambda n: n.spec.arch)
def test_every_one_sample_equation_is_verified(net):
    texts = [f"{e.lhs} = {e.rhs}" for e in backprop_equations(net) if e.label != "forward"]
    verdicts = verify_matrix(net, texts)
    assert [v.correct for v in verdicts] == [True] * len(texts), texts


def _numpy_layout(rows: bool, widths=(2, 3, 1)):
    """dW of every layer written the printed way in numpy, against the reference."""
    net = Network(list(widths), activation="tanh")
    rng = np.random.default_rng(1)
    params = rng.normal(size=net.spec.n_parameters)
    X, y = rng.normal(size=(3, widths[0])), rng.normal(size=3)
    _, grad = backprop(net, params, X, y)
    Ws, _ = unpack(net.spec, params)
    zs, acts = forward(net.spec, params, X)                # the reference's rows layout
    m = X.shape[0]
    dZ = acts[-1] - y[:, None]                              # BP1 (linear output)
    dWs = []
    for l in range(len(Ws) - 1, -1, -1):
        A = acts[l] if rows else acts[l].T
        D = dZ if rows else dZ.T
        dWs.insert(0, D.T @ A / m if rows else D @ A.T / m)     # BP4 as printed
        if l:
            slope = 1 - np.tanh(zs[l - 1]) ** 2
            dZ = (dZ @ Ws[l]) * slope if rows else ((Ws[l].T @ dZ.T) * slope.T).T
    return net, grad, np.concatenate([d.ravel() for d in dWs])


@pytest.mark.parametrize("layout", ["columns", "rows"])
def test_batch_equations_match_the_numpy_reference(layout):
    net, grad, ours = _numpy_layout(layout == "rows")
    assert np.allclose(ours, grad)
    printed = {e.lhs: e.rhs for e in backprop_equations(net, layout)}
    expected = ("(1/m) dZ1^T X" if layout == "rows" else "(1/m) dZ1 X^T")
    assert printed["dW1"] == expected
    texts = [f"{e.lhs} = {e.rhs}" for e in backprop_equations(net, layout) if e.label != "forward"]
    assert all(v.correct for v in verify_matrix(net, texts, layout=layout))


def test_table_and_derive_print_equations_with_shapes(cli):
    r = cli("table", "2-3-3-1", "--activation", "tanh", "--form", "matrix")
    assert r.returncode == 0, r.stderr
    assert re.search(r"BP2  delta1 = W2\^T delta2 ⊙ f'\(z1\) +3×1", r.stdout)
    assert "W1 3×2, W2 3×3, W3 1×3" in r.stdout
    r = cli("derive", "2-3-3-1", "b2", "--bias", "--form", "matrix", "--format", "markdown")
    assert r.returncode == 0, r.stderr
    assert "| BP3 | $\\frac{\\partial L}{\\partial b^{(2)}} = \\delta^{(2)}$ | $3 \\times 1$ |" \
        in r.stdout
    assert "\\delta^{(1)}" not in r.stdout          # layer 1's delta is not needed for b2
    r = cli("verify", "2-2-3", "--output-activation", "softmax", "delta2 = (a2 - y) ⊙ f'(z2)")
    assert r.returncode == 2 and "delta2 = a2 - y" in r.stderr
    r = cli("derive", "2-3-1", "V2", "--form", "matrix")
    assert r.returncode == 2 and "W1..W2 or b1..b2" in r.stderr
    r = cli("table", "2-3-1", "--form", "matrix", "--format", "latex", "--no-float")
    assert r.returncode == 2 and "for tables" in r.stderr


HAVE_TEX = shutil.which("pdflatex") is not None


@pytest.mark.slow
@pytest.mark.skipif(not HAVE_TEX, reason="pdflatex not installed")
@pytest.mark.parametrize("net, of", [(NETS[0], "loss"), (NETS[1], "cost")],
                         ids=["sigmoid-bias-loss", "bce-cost"])
def test_latex_compiles(net, of, tmp_path, cli):
    from symgrad.render.matrix import matrix_equations

    tex = matrix_equations(net, of=of).to_latex(standalone=True)
    (tmp_path / "doc.tex").write_text(tex, encoding="utf-8")
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    log = (tmp_path / "doc.log").read_text(encoding="utf-8", errors="replace")
    assert run.returncode == 0, log[-2000:]
    assert "Overfull" not in log and "Undefined control sequence" not in log
