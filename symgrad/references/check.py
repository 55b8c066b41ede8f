"""Three-way gradient check: symbolic vs hand-written backprop vs finite differences.

The three references share nothing but the network spec (see :mod:`symgrad.spec`),
so when all three agree the gradient is right, and when one disagrees the report
says which.

Relative error
--------------
For two values ``a`` and ``b`` of one gradient entry, symgrad reports
``|a - b| / max(|a|, |b|, floor)`` with
``floor = max(FLOOR * scale, COST_FLOOR * max(1, |C|))``, where ``scale`` is the
largest gradient entry in the report and ``C`` the cost.  The floor keeps entries
that are zero or tiny compared with the rest of the gradient from turning
finite-difference noise into a false alarm: round-off in a central difference is
about ``eps * |C| / h``, i.e. 4e-11 of the cost, whatever the entry's own size.
A real bug still shows: a factor of 2 on an entry of 1e-6 gives 0.01 (when |C| <= 1).
Bands follow the usual rule of thumb: ``<= 1e-7`` good, ``<= 1e-4`` suspicious,
above that wrong.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
from numpy.random import default_rng  # at import: a Ctrl-C is not lost in a lazy import

from symgrad.backends import compile_gradients
from symgrad.errors import SpecError
from symgrad.network import Network
from symgrad.references.backprop import backprop, forward
from symgrad.references.finite_diff import finite_differences
from symgrad.render.display import RichDisplay, check_lines
from symgrad.spec import KINKED_ACTIVATIONS, check_batch, kink_distance

GOOD = 1e-7
SUSPICIOUS = 1e-4
FLOOR = 1e-3
COST_FLOOR = 1e-4
#: Pre-activations closer than this to a ReLU kink are resampled (random data only).
KINK_MARGIN = 1e-3
SOURCES = ("symbolic", "backprop", "central", "complex")


def band(rel: float) -> str:
    """``"good"``, ``"suspicious"`` or ``"wrong"`` for a relative error."""
    if rel <= GOOD:
        return "good"
    return "suspicious" if rel <= SUSPICIOUS else "wrong"


def relative_errors(a, b, *, scale=None, cost=0.0) -> np.ndarray:
    """Elementwise ``|a - b| / max(|a|, |b|, floor)`` (see the module notes).

    ``scale`` defaults to the largest entry of ``a`` and ``b``; ``cost`` is the
    cost C at the point (0 if unknown), which sets the noise floor.

    >>> relative_errors([1.0, 2.0], [1.0, 2.2]).round(4).tolist()
    [0.0, 0.0909]
    """
    a, b = np.asarray(a, float), np.asarray(b, float)
    if scale is None:
        scale = max(np.abs(a).max(initial=0.0), np.abs(b).max(initial=0.0))
    floor = max(FLOOR * scale, COST_FLOOR * max(1.0, abs(cost)))
    return np.abs(a - b) / np.maximum(np.maximum(np.abs(a), np.abs(b)), floor)


@dataclass
class CheckRow:
    """One parameter: the value from each source and the worst disagreement."""

    parameter: str
    values: dict
    rel_error: float
    band: str
    culprit: str | None


@dataclass
class CheckReport(RichDisplay):
    """Result of :func:`check`; ``ok`` is True when every entry is in the good band."""

    net: Network
    seed: int
    batch: int
    cost: float
    rows: list = field(default_factory=list)
    near_kink: bool = False
    backend: str = "numpy"   # the compile_gradients backend of the symbolic column

    @property
    def ok(self) -> bool:
        return all(r.band == "good" for r in self.rows)

    @property
    def worst(self) -> CheckRow:
        return max(self.rows, key=lambda r: r.rel_error)

    @property
    def sources(self) -> list:
        return [s for s in SOURCES if s in self.rows[0].values]

    def verdict(self) -> str:
        w = self.worst
        if self.ok:
            return (f"all {len(self.rows)} gradients agree "
                    f"(worst relative error {w.rel_error:.1e}, {w.parameter})")
        bad = [r for r in self.rows if r.band != "good"]
        culprits = sorted({r.culprit for r in bad if r.culprit})
        who = f"; disagreeing: {', '.join(culprits)}" if culprits else ""
        return (f"{len(bad)} of {len(self.rows)} gradients disagree "
                f"(worst {w.parameter}, relative error {w.rel_error:.1e}{who})")

    def to_text(self) -> str:
        src = self.sources
        head = ["parameter"] + src + ["rel error", "band", "disagrees"]
        body = [[r.parameter] + [f"{r.values[s]: .12e}" for s in src]
                + [f"{r.rel_error:.1e}", r.band, r.culprit or "-"] for r in self.rows]
        widths = [max(len(row[i]) for row in [head] + body) for i in range(len(head))]
        lines = [f"symgrad check: {self.net.describe()}",
                 f"seed {self.seed}, batch {self.batch}, cost C = {self.cost:.12g}",
                 f"symbolic: compiled reverse-mode program, {self.backend} backend"]
        if "complex" not in src:
            kinked = [a for a in dict.fromkeys(self.net.spec.activations)
                      if a in KINKED_ACTIVATIONS]
            verb = "is" if len(kinked) == 1 else "are"
            lines.append(f"complex step skipped: {'/'.join(kinked)} {verb} not analytic")
        if self.near_kink:
            lines.append("note: some pre-activations are within "
                         f"{KINK_MARGIN} of a kink; finite differences may straddle it")
        for row in [head] + body:
            lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
        lines.append(("OK: " if self.ok else "FAIL: ") + self.verdict())
        return "\n".join(lines)

    def _display_lines(self) -> list:  # Jupyter's rich display (symgrad.render.display)
        return check_lines(self)

    def to_dict(self) -> dict:
        return {
            "network": self.net.describe(), "arch": self.net.spec.arch,
            "seed": self.seed, "batch": self.batch, "cost": self.cost,
            "ok": self.ok, "verdict": self.verdict(), "near_kink": self.near_kink,
            "backend": self.backend,
            "rows": [{"parameter": r.parameter, **r.values, "rel_error": r.rel_error,
                      "band": r.band, "disagrees": r.culprit} for r in self.rows],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    __str__ = to_text


def random_problem(net: Network, seed=0, batch=8):
    """Random parameters, inputs and targets for ``net`` from ``seed``.

    Parameters are N(0, 1/fan_in), inputs N(0, 1), targets N(0, 1) (0/1 labels
    for the bce loss, one-hot rows for cross-entropy).  For networks with kinks the
    draw is repeated (up to 100 times) until no pre-activation is within
    :data:`KINK_MARGIN` of a kink.
    """
    rng = default_rng(seed)
    spec = net.spec
    for _ in range(100):
        fan = [spec.widths[l - 1] for (l, _, _) in spec.weight_index()]
        params = np.concatenate([rng.normal(size=len(fan)) / np.sqrt(fan),
                                 rng.normal(scale=0.5, size=spec.n_biases)])
        X = rng.normal(size=(batch, spec.n_inputs))
        if spec.loss == "bce":
            y = rng.integers(0, 2, size=(batch, spec.n_outputs)).astype(float)
        elif spec.loss == "cross-entropy":
            y = np.eye(spec.n_outputs)[rng.integers(0, spec.n_outputs, size=batch)]
        else:
            y = rng.normal(size=(batch, spec.n_outputs))
        if min_kink_distance(net, params, X) > KINK_MARGIN:
            break
    return params, X, y


def min_kink_distance(net: Network, params, X) -> float:
    """Smallest distance of a pre-activation to its activation's kink (0 for ReLU,
    -1 and 1 for hardtanh), over neurons and samples (inf when there is none)."""
    spec = net.spec
    kinked = [l for l, a in enumerate(spec.activations) if a in KINKED_ACTIVATIONS]
    if not kinked:
        return float("inf")
    zs, _ = forward(spec, np.asarray(params, float), np.asarray(X, float))
    return min(float(kink_distance(spec.activations[l], zs[l]).min()) for l in kinked)


def _culprit(values: dict, scale: float, cost: float = 0.0) -> str | None:
    """Name the source that disagrees with the others, if one can be singled out."""
    names = list(values)
    agree = {n: [m for m in names if m != n and
                 relative_errors(values[n], values[m], scale=scale, cost=cost) <= GOOD]
             for n in names}
    isolated = [n for n in names if not agree[n]]
    if not isolated:
        return None
    if len(isolated) == 1 and len(names) - 1 >= 2:
        return isolated[0]
    if len(isolated) == len(names):
        return "all"
    return ", ".join(isolated)


def check(net: Network, params=None, X=None, y=None, seed=0, batch=8,
          backend="numpy") -> CheckReport:
    """Cross-check the symbolic gradient against backprop and finite differences.

    Parameters
    ----------
    net : Network
    params, X, y : arrays, optional
        The point to check at; each missing one is drawn from ``seed``
        (see :func:`random_problem`).
    seed : int
        Any integer >= 0.
    batch : int
        Number of random samples when ``X`` is not given.
    backend : {"numpy", "numba", "auto"}
        Backend of :func:`compile_gradients` for the symbolic column (the report
        says which).  numpy is the default: for a batch of a few samples it
        beats numba's one-off JIT compile.

    Returns
    -------
    CheckReport
        Per parameter: the symbolic (compiled), backprop, central-difference and
        (for analytic nets) complex-step values, the worst relative error, its
        band and which source disagrees.

    Examples
    --------
    >>> from symgrad import Network
    >>> report = check(Network([2, 2, 1]), seed=0)
    >>> report.ok, len(report.rows)
    (True, 6)
    """
    if not isinstance(net, Network):
        raise SpecError(f"check needs a Network, got {type(net).__name__}")
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise SpecError(f"batch must be a positive integer, got {batch!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise SpecError(f"seed must be an integer >= 0 (numpy's random generators take no "
                        f"negative seeds), got {seed!r}")
    rp, rX, ry = random_problem(net, seed, batch if X is None else len(np.asarray(X)))
    params = rp if params is None else params
    X = rX if X is None else X
    y = ry if y is None else y
    params, X, Y = check_batch(net.spec, params, X, y)
    compiled = compile_gradients(net, backend=backend)
    cost, sym = compiled(params, X, Y)
    values = {"symbolic": sym, "backprop": backprop(net, params, X, Y)[1],
              "central": finite_differences(net, params, X, Y, method="central")[1]}
    if net.spec.analytic:
        values["complex"] = finite_differences(net, params, X, Y, method="complex")[1]
    scale = max(float(np.abs(v).max(initial=0.0)) for v in values.values())
    report = CheckReport(net, int(seed), X.shape[0], float(cost),
                         near_kink=min_kink_distance(net, params, X) <= KINK_MARGIN,
                         backend=compiled.backend)
    for i, p in enumerate(net.parameters):
        entry = {k: float(v[i]) for k, v in values.items()}
        rel = max(float(relative_errors(entry[a], entry[b], scale=scale, cost=cost))
                  for a in entry for b in entry if a < b)
        report.rows.append(CheckRow(p.name, entry, rel, band(rel),
                                    _culprit(entry, scale, cost)))
    return report
