"""``--explain`` and docs/glossary.md: every term printed has a gloss and an anchor."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from symgrad.claims.diagnose import KINDS
from symgrad.cli.glossary import GLOSSARY, glosses

PAGE = (Path(__file__).resolve().parent.parent / "docs" / "glossary.md").read_text("utf-8")


def test_every_gloss_links_to_an_anchor_of_the_glossary_page():
    anchors = set(re.findall(r"\{#([a-z-]+)\}", PAGE))
    assert set(GLOSSARY) <= anchors


@pytest.mark.parametrize("kind", KINDS)
def test_every_diagnosis_tag_is_glossed(kind):
    for tag in (f"[{kind}]", f"[sign+{kind}]"):
        found = glosses(f"    diagnosis:      something  {tag}")
        assert found and any(kind.split("-")[0] in line for line in found), tag


def test_verify_explain_glosses_the_tags_it_printed(cli):
    r = cli("verify", "2-2-1", "--explain", "dz21/dw111 = x1")
    assert r.returncode == 1
    out = r.stdout
    assert "see: docs/glossary.md#missing-factor" in out
    assert "see: docs/glossary.md#counterexample" in out
    assert "#band" not in out                          # only terms it used
    r = cli("verify", "2-2-1", "dz21/dw111 = x1")
    assert "glossary" not in r.stdout                  # nothing without --explain


def test_check_and_train_explain_their_columns(cli):
    r = cli("check", "2-2-1", "--activation", "tanh", "--explain")
    assert r.returncode == 0
    for anchor in ("band", "relative-error", "central", "complex-step", "disagrees"):
        assert f"#{anchor})" in r.stdout
    r = cli("train", "2-2-1", "--synthetic", "--split", "0.3", "--epochs", "20", "--quiet",
            "--explain")
    assert "#effective-linear-map)" in r.stdout and "#identifiable)" in r.stdout
