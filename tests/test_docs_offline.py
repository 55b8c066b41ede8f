"""The documentation site works offline: no script or style from the network, math
typeset at build time as MathML, and a real browser lays that math out.

The browser test runs the system's Chromium headless with every host name
unresolvable and a dead proxy, so nothing can come from the network.  It skips when
Chromium is missing unless ``SYMGRAD_REQUIRE_BROWSER`` is set (``.ci/run`` installs
Chromium and sets it).
"""

from __future__ import annotations

import html.parser
import json
import os
import re
import shutil
import subprocess

import pytest

#: TeX that must not be left as text on a page (outside code).
RAW_TEX = re.compile(r"\\(frac|partial|hat|sum|left|right|delta|text)\b|\\\(|\\\[|\$\$")
#: Pages whose Markdown has math, so their HTML must have MathML.
PAGES_WITH_MATH = ("conventions", "tutorial", "getting-started")


class _Text(html.parser.HTMLParser):
    """The text a reader sees: everything outside <code>, <pre>, <script>, <style>."""

    SKIP = {"code", "pre", "script", "style"}

    def __init__(self):
        super().__init__()
        self.depth, self.parts = 0, []

    def handle_starttag(self, tag, attrs):
        self.depth += tag in self.SKIP

    def handle_endtag(self, tag):
        self.depth -= tag in self.SKIP

    def handle_data(self, data):
        if not self.depth:
            self.parts.append(data)


def _pages(site):
    return sorted(site.rglob("*.html"))


def _visible_text(page) -> str:
    parser = _Text()
    parser.feed(page.read_text(encoding="utf-8"))
    return "".join(parser.parts)


def test_text_parser_sees_prose_and_skips_code():
    parser = _Text()
    parser.feed(r"<p>a \frac <code>\frac{1}{2}</code> b</p><pre>\partial</pre>")
    assert "".join(parser.parts) == r"a \frac  b"


@pytest.mark.slow
def test_site_loads_nothing_from_the_network(built_site):
    remote = re.compile(r"<(script|link|img|iframe)\b[^>]*\b(src|href)=\"(https?:)?//", re.I)
    for page in _pages(built_site):
        found = remote.findall(page.read_text(encoding="utf-8"))
        assert not found, f"{page.relative_to(built_site)} loads {found}"


@pytest.mark.slow
def test_math_is_mathml_and_no_raw_tex_is_left(built_site):
    for page in _pages(built_site):
        text = page.read_text(encoding="utf-8")
        name = page.relative_to(built_site).as_posix()
        assert 'class="arithmatex"' not in text, name
        raw = RAW_TEX.findall(_visible_text(page))
        assert not raw, f"{name}: raw TeX {raw[:5]}"
    for stem in PAGES_WITH_MATH:
        text = (built_site / stem / "index.html").read_text(encoding="utf-8")
        assert "<msub>" in text, stem


# ----------------------------------------------------------------------- the browser

CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")
                 if shutil.which(n)), None)

#: Runs in the probe page once every framed page has loaded: for each page, the
#: size of every <math>, whether each fraction's numerator sits above its
#: denominator (it does only when the browser lays out MathML), and any raw TeX
#: in the visible text.  The result goes into <pre id="probe"> for --dump-dom.
PROBE_JS = r"""
window.addEventListener("load", function () {
  var report = {};
  document.querySelectorAll("iframe").forEach(function (frame) {
    var doc = frame.contentDocument, maths = [], fracs = [];
    doc.querySelectorAll("math").forEach(function (m) {
      var r = m.getBoundingClientRect();
      maths.push([r.width, r.height]);
    });
    doc.querySelectorAll("mfrac").forEach(function (f) {
      var num = f.children[0].getBoundingClientRect();
      var den = f.children[1].getBoundingClientRect();
      fracs.push(num.bottom <= den.top + 1 && num.height > 0 && den.height > 0);
    });
    var body = doc.body.cloneNode(true);
    body.querySelectorAll("code, pre, script, style").forEach(function (n) { n.remove(); });
    var raw = body.textContent.match(/\\(frac|partial|hat|sum)\b/g) || [];
    report[frame.getAttribute("src")] = {maths: maths, fracs: fracs, raw: raw};
  });
  var pre = document.createElement("pre");
  pre.id = "probe";
  pre.textContent = JSON.stringify(report);
  document.body.appendChild(pre);
});
"""


def _browse(probe):
    """Chromium headless on ``probe`` with no network; the DOM after load."""
    offline = ["--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=http://127.0.0.1:9",
               "--proxy-bypass-list=<-loopback>"]
    done = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--allow-file-access-from-files", "--window-size=1200,900",
         "--virtual-time-budget=10000", *offline, "--dump-dom", probe.as_uri()],
        capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None and not os.environ.get("SYMGRAD_REQUIRE_BROWSER"),
                    reason="chromium not installed (set SYMGRAD_REQUIRE_BROWSER=1 to fail)")
def test_a_browser_offline_typesets_the_math_of_every_page(built_site):
    assert CHROMIUM, "SYMGRAD_REQUIRE_BROWSER is set but chromium is not installed"
    pages = [p for p in _pages(built_site) if "<math " in p.read_text(encoding="utf-8")]
    names = {p.relative_to(built_site).parent.as_posix() for p in pages}
    assert set(PAGES_WITH_MATH) <= names
    frames = "".join(f'<iframe src="{p.relative_to(built_site).as_posix()}" '
                     'width="1100" height="800"></iframe>' for p in pages)
    probe = built_site / "probe.html"
    probe.write_text(f"<!doctype html><html><body>{frames}<script>{PROBE_JS}</script>"
                     "</body></html>", encoding="utf-8")
    dom = _browse(probe)
    found = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
    assert found, dom[-2000:]
    report = json.loads(html.unescape(found.group(1)))
    assert len(report) == len(pages)
    for name, seen in report.items():
        expected = (built_site / name).read_text(encoding="utf-8").count("<math ")
        assert len(seen["maths"]) == expected, name
        assert all(w > 0 and h > 0 for w, h in seen["maths"]), name
        assert all(seen["fracs"]), f"{name}: a fraction is not stacked"
        assert not seen["raw"], f"{name}: raw TeX {seen['raw'][:5]}"
    assert sum(len(s["fracs"]) for s in report.values()) >= 5   # 9 when written
