"""The symbolic network: symbols, the forward pass as SymPy expressions, the loss.

>>> net = Network([2, 2, 1])
>>> net.output
w211*(w111*x1 + w112*x2) + w212*(w121*x1 + w122*x2)
>>> net.describe()
'2-2-1, linear, no bias, 6 weights'
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property

import sympy as sp

from symgrad import activations
from symgrad.activations import relu, step  # noqa: F401  (re-exported: symgrad.network.relu)
from symgrad.errors import SpecError
from symgrad.spec import latex_name, make_spec, symbol_name


def activation_expr(name: str, z: sp.Expr) -> sp.Expr:
    """Return activation ``name`` applied to ``z`` as a SymPy expression.

    The formulas are in :data:`symgrad.activations.TABLE`; ReLU-type functions are
    named functions such as :class:`~symgrad.activations.relu` (see
    :mod:`symgrad.activations` for their derivative at 0).
    """
    return activations.forward(name, z)


def softmax_expr(zs: Iterable[sp.Expr]) -> tuple[sp.Expr, ...]:
    """``exp(z_j) / sum_k exp(z_k)`` for each of ``zs``, as SymPy expressions."""
    zs = tuple(zs)
    total = sp.Add(*[sp.exp(z) for z in zs])
    return tuple(sp.exp(z) / total for z in zs)


def loss_expr(name: str, outputs: Iterable[sp.Expr], targets: Iterable[sp.Expr]) -> sp.Expr:
    """Per-sample loss ``L`` summed over output neurons (data term only: no L2)."""
    terms = []
    for yhat, y in zip(outputs, targets):
        if name == "cross-entropy":
            terms.append(-y * sp.log(yhat))
            continue
        if name == "half-squared":
            terms.append((y - yhat) ** 2 / 2)
        elif name == "squared":
            terms.append((y - yhat) ** 2)
        elif name == "bce":
            terms.append(-(y * sp.log(yhat) + (1 - y) * sp.log(1 - yhat)))
        else:
            raise SpecError(f"unknown loss {name!r}")
    return sp.Add(*terms)


def _symbol(kind: str, *indices: int) -> sp.Symbol:
    return sp.Symbol(symbol_name(kind, *indices), real=True)


class Network:
    """A fully connected network as exact SymPy expressions.

    Parameters
    ----------
    widths : list of int
        Input width first, output width last, e.g. ``[2, 2, 1]``.
    activation : str or list of str
        One name for every hidden layer, or one per hidden layer, or one per
        non-input layer.  Choices: :data:`symgrad.spec.ACTIVATIONS`.
    output_activation : str
        Activation of the last layer (default ``"linear"``).
    bias : bool
        Whether every neuron has a bias ``b{l}{j}``.
    loss : str
        ``"half-squared"`` (L = (y - yhat)**2/2), ``"squared"``, ``"bce"``
        (binary cross-entropy; needs a sigmoid output) or ``"cross-entropy"``
        (needs a softmax output, and is its default), summed over outputs; see
        :mod:`symgrad.outputs`, which also says how cross-entropy targets are read
        (the last one is one minus the others).
    l2 : float
        L2 coefficient lambda: ``(lambda/2) * sum w**2`` over the weights is added
        to the loss of every sample (default 0: none).
    l2_bias : bool
        Whether the L2 penalty covers the biases too.

    Notes
    -----
    Weight ``w{l}{j}{k}`` is in layer ``l`` (1 is the first weight layer) and goes
    to neuron ``j`` from input ``k`` (Nielsen's order).  ``z{l}{j}`` is neuron j's
    pre-activation, ``a{l}{j}`` its activation, ``a0k`` stands for ``xk``.

    Examples
    --------
    >>> net = Network([2, 3, 1], activation="tanh", bias=True)
    >>> net.describe()
    '2-3-1, tanh hidden, linear output, bias, 9 weights, 4 biases'
    >>> net.z(1, 2)
    b12 + w121*x1 + w122*x2
    """

    def __init__(self, widths: Iterable[int], *, activation: str | Iterable[str] = "linear",
                 output_activation: str | None = None, bias: bool = False,
                 loss: str | None = None, l2: float = 0.0, l2_bias: bool = False):
        self.spec = make_spec(widths, activation, output_activation, bias, loss, l2, l2_bias)
        s = self.spec
        self.inputs = tuple(_symbol("x", k) for k in range(1, s.n_inputs + 1))
        self.targets = tuple(sp.Symbol(n, real=True) for n in s.target_names())
        self.weights = tuple(_symbol("w", *i) for i in s.weight_index())
        self.biases = tuple(_symbol("b", *i) for i in s.bias_index())
        self.parameters = self.weights + self.biases
        self._z_sym: dict[tuple[int, int], sp.Symbol] = {}
        self._a_sym: dict[tuple[int, int], sp.Symbol] = {}
        for l in range(1, s.depth + 1):
            for j in range(1, s.widths[l] + 1):
                self._z_sym[l, j] = _symbol("z", l, j)
                self._a_sym[l, j] = _symbol("a", l, j)
        self._base_z: dict[tuple[int, int], sp.Expr] = {}
        self._base_a: dict[tuple[int, int], sp.Expr] = {
            (0, k): x for k, x in enumerate(self.inputs, 1)}

    # -- spec passthrough -------------------------------------------------
    widths = property(lambda self: self.spec.widths)
    activations = property(lambda self: self.spec.activations)
    bias = property(lambda self: self.spec.bias)
    loss_name = property(lambda self: self.spec.loss)
    depth = property(lambda self: self.spec.depth)

    def describe(self) -> str:
        """One line such as ``"2-2-1, linear, no bias, 6 weights"``."""
        return self.spec.describe()

    def __repr__(self) -> str:
        s = self.spec
        acts = s.activations[:-1]
        act = acts[0] if acts and len(set(acts)) == 1 else list(acts) if acts else "linear"
        l2 = (f", l2={s.l2!r}" if s.l2 else "") + (", l2_bias=True" if s.l2_bias else "")
        return (f"Network({list(s.widths)}, activation={act!r}, "
                f"output_activation={s.activations[-1]!r}, bias={s.bias}, loss={s.loss!r}{l2})")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Network) and other.spec == self.spec

    def __hash__(self) -> int:
        return hash(self.spec)

    # -- symbols ------------------------------------------------------------
    @property
    def target(self) -> sp.Symbol | tuple[sp.Symbol, ...]:
        """The target symbol ``y`` (a tuple ``(y1, ..., yk)`` for several outputs)."""
        return self.targets[0] if len(self.targets) == 1 else self.targets

    def weight(self, l: int, j: int, k: int) -> sp.Symbol:
        """The symbol of weight ``w{l}{j}{k}``."""
        self._check_node(l, j)
        if not 1 <= k <= self.spec.widths[l - 1]:
            raise SpecError(f"layer {l} has inputs 1..{self.spec.widths[l - 1]}, got k={k}")
        return _symbol("w", l, j, k)

    def neuron_of(self, parameter: sp.Symbol) -> tuple[int, int] | None:
        """``(l, j)`` of the neuron a weight ``w{l}{j}{k}`` or bias ``b{l}{j}`` feeds.

        >>> net = Network([2, 2, 1], bias=True)
        >>> net.neuron_of(net.weight(1, 2, 1)), net.neuron_of(net.biases[-1])
        ((1, 2), (2, 1))
        """
        if parameter in self.weights:
            return list(self.spec.weight_index())[self.weights.index(parameter)][:2]
        if parameter in self.biases:
            return list(self.spec.bias_index())[self.biases.index(parameter)]
        return None

    def z_symbol(self, l: int, j: int) -> sp.Symbol:
        """The intermediate symbol ``z{l}{j}`` (a name, not its definition)."""
        self._check_node(l, j)
        return self._z_sym[l, j]

    def a_symbol(self, l: int, j: int) -> sp.Symbol:
        """The intermediate symbol ``a{l}{j}``; ``a_symbol(0, k)`` is input ``xk``."""
        if l == 0:
            return self.inputs[k_check(j, self.spec.n_inputs)]
        self._check_node(l, j)
        return self._a_sym[l, j]

    def _check_node(self, l: int, j: int) -> None:
        if not 1 <= l <= self.spec.depth:
            raise SpecError(f"layer must be 1..{self.spec.depth}, got {l}")
        if not 1 <= j <= self.spec.widths[l]:
            raise SpecError(f"layer {l} has neurons 1..{self.spec.widths[l]}, got {j}")

    @cached_property
    def symbols(self) -> dict[str, sp.Symbol]:
        """Every symbol of the network by name (inputs, targets, parameters, z, a)."""
        all_syms = (self.inputs + self.targets + self.parameters
                    + tuple(self._z_sym.values()) + tuple(self._a_sym.values()))
        return {s.name: s for s in all_syms}

    @cached_property
    def latex_names(self) -> dict[sp.Symbol, str]:
        """``{Symbol: LaTeX}`` for SymPy's ``latex(..., symbol_names=...)``."""
        s = self.spec
        names = {x: latex_name("x", k) for k, x in enumerate(self.inputs, 1)}
        if len(self.targets) == 1:
            names[self.targets[0]] = "y"
        else:
            names.update({t: latex_name("y", j) for j, t in enumerate(self.targets, 1)})
        names.update({w: latex_name("w", *i) for w, i in zip(self.weights, s.weight_index())})
        names.update({b: latex_name("b", *i) for b, i in zip(self.biases, s.bias_index())})
        names.update({v: latex_name("z", *i) for i, v in self._z_sym.items()})
        names.update({v: latex_name("a", *i) for i, v in self._a_sym.items()})
        return names

    # -- forward pass -------------------------------------------------------
    def z(self, l: int, j: int) -> sp.Expr:
        """Pre-activation ``z{l}{j}`` as an expression in inputs and parameters."""
        self._check_node(l, j)
        if (l, j) not in self._base_z:
            total = sp.Add(*[_symbol("w", l, j, k) * self.a(l - 1, k)
                             for k in range(1, self.spec.widths[l - 1] + 1)])
            if self.spec.bias:
                total = _symbol("b", l, j) + total
            self._base_z[l, j] = total
        return self._base_z[l, j]

    def a(self, l: int, j: int) -> sp.Expr:
        """Activation ``a{l}{j}`` in inputs and parameters; ``a(0, k)`` is ``xk``."""
        if l == 0:
            return self.inputs[k_check(j, self.spec.n_inputs)]
        if (l, j) not in self._base_a:
            if self.spec.activations[l - 1] == "softmax":
                outs = softmax_expr(self.z(l, i) for i in range(1, self.spec.widths[l] + 1))
                self._base_a.update({(l, i): a for i, a in enumerate(outs, 1)})
            else:
                self._base_a[l, j] = activation_expr(self.spec.activations[l - 1], self.z(l, j))
        return self._base_a[l, j]

    @property
    def outputs(self) -> tuple[sp.Expr, ...]:
        """Every output neuron's activation as an expression."""
        L = self.spec.depth
        return tuple(self.a(L, j) for j in range(1, self.spec.n_outputs + 1))

    @property
    def output(self) -> sp.Expr:
        """The output as an expression (networks with one output neuron)."""
        if self.spec.n_outputs != 1:
            raise SpecError(
                f"this network has {self.spec.n_outputs} outputs; use net.outputs "
                "(a tuple) or net.a(layer, j)"
            )
        return self.outputs[0]

    @property
    def loss(self) -> sp.Expr:
        """The per-sample loss ``L`` in inputs, targets and parameters (L2 included).

        With cross-entropy the last target is one minus the others (see
        :mod:`symgrad.outputs`), so it does not appear.
        """
        data = loss_expr(self.spec.loss, self.outputs, self.targets)
        return data.xreplace(self.target_definitions) + self.penalty

    @property
    def l2(self) -> sp.Expr:
        """The L2 coefficient lambda as an exact number (``l2=0.01`` is 1/100)."""
        return sp.Rational(repr(self.spec.l2))

    @property
    def penalised(self) -> tuple[sp.Symbol, ...]:
        """The parameters the L2 penalty covers (none without ``l2``)."""
        return tuple(self.parameters[i] for i in self.spec.penalised)

    @property
    def penalty(self) -> sp.Expr:
        """``(lambda/2) * sum w**2`` over :attr:`penalised` (0 without ``l2``)."""
        return self.l2 / 2 * sp.Add(*[p ** 2 for p in self.penalised])

    @property
    def target_definitions(self) -> dict[sp.Symbol, sp.Expr]:
        """``{yK: 1 - y1 - ... - y{K-1}}`` for cross-entropy (see :mod:`symgrad.outputs`);
        empty for the other losses."""
        if self.spec.loss != "cross-entropy":
            return {}
        return {self.targets[-1]: 1 - sp.Add(*self.targets[:-1])}

    @property
    def intermediate_definitions(self) -> dict[sp.Symbol, sp.Expr]:
        """``{z{l}{j}: expr, a{l}{j}: expr}`` in base symbols, for substitution
        (and :attr:`target_definitions`)."""
        defs: dict[sp.Symbol, sp.Expr] = dict(self.target_definitions)
        for (l, j), sym in self._z_sym.items():
            defs[sym] = self.z(l, j)
            defs[self._a_sym[l, j]] = self.a(l, j)
        return defs


def k_check(k: int, n: int) -> int:
    """Return the 0-based index of input ``k`` (1-based), checking it exists."""
    if not 1 <= k <= n:
        raise SpecError(f"inputs are x1..x{n}, got index {k}")
    return k - 1
