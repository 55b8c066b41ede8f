"""A real Jupyter notebook, executed with nbclient: what a student sees in the output.

One kernel runs a few cells (a verdict, a comparison, a table, a derivation) and the
test reads the MIME bundles the kernel sent back, as the notebook file stores them.
Skipped when nbclient or ipykernel is missing (both are in the ``dev`` extra).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

ROOT = Path(__file__).resolve().parent.parent

CELLS = [
    "import symgrad as sg\nnet = sg.Network([2, 2, 1], activation='tanh')",
    "sg.verify(net, 'dz21/dw111 = x1')",
    "sg.compare(net, 'dL/dw111', 'dL/dw112')",
    "sg.gradient_table(net, of='loss')",
    "sg.derivation(net, 'w111')",
]


@pytest.fixture(scope="module")
def outputs():
    """``[data of the cell's result]`` for each cell after the first."""
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in CELLS]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])}
    client = nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(ROOT)}})
    client.execute(env=env)       # starts the kernel with this environment, stops it after
    found = []
    for cell in notebook.cells[1:]:
        results = [o for o in cell.outputs if o.output_type == "execute_result"]
        errors = [o for o in cell.outputs if o.output_type == "error"]
        assert not errors and len(results) == 1, cell.outputs
        found.append(results[0]["data"])
    return found


def _math(markdown: str) -> list:
    return re.findall(r"\$([^$]+)\$", markdown)


@pytest.mark.slow
def test_a_verdict_shows_the_claim_and_the_true_derivative_as_math(outputs):
    data = outputs[0]
    assert "Verdict(" not in data["text/markdown"]
    assert "`dz21/dw111 = x1`" in data["text/markdown"]
    # dz21/dw111 of a tanh 2-2-1 net is x1 (1 - a11^2) w211: each factor is in the math.
    (true,) = [m for m in _math(data["text/markdown"]) if "w_{211}" in m]
    for factor in ("x_{1}", "a_{11}^{2}", "w_{211}"):
        assert factor in true
    html = data["text/html"]
    assert "<code>dz21/dw111 = x1</code>" in html
    assert "<math" in html or r"\(" in html
    assert "<math" in html or not _has_latex2mathml()


@pytest.mark.slow
def test_a_comparison_shows_both_sides_and_the_difference_as_math(outputs):
    data = outputs[1]
    math = _math(data["text/markdown"])
    assert any("x_{1}" in m for m in math) and any("x_{2}" in m for m in math)
    assert "not identically equal" in data["text/markdown"]
    assert "not identically equal" in data["text/html"]
    assert "text/latex" in data


@pytest.mark.slow
def test_a_table_and_a_derivation_render_as_math(outputs):
    table, derivation = outputs[2], outputs[3]
    assert table["text/latex"].startswith("$$") and r"\partial L" in table["text/latex"]
    assert "w_{111}" in table["text/markdown"]
    assert r"\begin{align" in derivation["text/latex"]
    if _has_latex2mathml():     # HTML with MathML: shown with no MathJax, no network
        assert table["text/html"].count("<math") > 2 * 6      # every label and cell
        assert "<mfrac>" in derivation["text/html"] and "<mtable" in derivation["text/html"]


def _has_latex2mathml() -> bool:
    from symgrad.render import mathml

    return mathml.available()
