"""A griffe extension for the API pages: docstrings written for Sphinx, shown as Markdown.

symgrad's docstrings are numpydoc with doctests, which ``pytest --doctest-modules``
runs.  Outside an ``Examples`` section griffe passes a doctest through as plain
Markdown, where ``>>>`` becomes a block quote and ``[a][b]`` on two lines a link.
This wraps every run of doctest lines (prompt, continuation and output lines, up to
a blank line) in a ``pycon`` fence, and turns Sphinx roles such as
:func:`symgrad.references.check` into code spans.  Loaded by ``mkdocs.yml``; not part of the
package.
"""

from __future__ import annotations

import re

import griffe

ROLE = re.compile(r":(?:func|class|mod|data|attr|meth|exc|obj):`~?([^`]+)`")


def fence_doctests(text: str) -> str:
    """Wrap doctest runs in ``pycon`` fences; leave fenced blocks alone."""
    out, in_fence, in_doctest = [], False, False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("```"):
            in_fence = not in_fence
        if not in_fence and not in_doctest and stripped.startswith(">>>"):
            indent = line[: len(line) - len(line.lstrip())]
            out.append(indent + "```pycon")
            in_doctest = True
        elif in_doctest and not stripped:
            out.append(indent + "```")
            in_doctest = False
        out.append(line)
    if in_doctest:
        out.append(indent + "```")
    return "\n".join(out)


class DoctestFences(griffe.Extension):
    """Rewrite each docstring once the object tree is loaded."""

    def on_object(self, *, obj, **kwargs) -> None:
        docstring = obj.docstring
        if docstring is None:
            return
        docstring.value = fence_doctests(ROLE.sub(r"``\1``", docstring.value))
