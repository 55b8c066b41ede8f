"""Exact gradients: symbolic reverse mode, and plain ``sympy.diff`` for reference.

Reverse mode is backprop done in symbols.  Working from the top layer down, each
neuron gets an adjoint ``delta{l}{j} = d(of)/d(z{l}{j})``:

* at the top, ``delta = d(of)/d(a) * f'(z)`` (for the loss, ``d L/d a`` comes from
  differentiating the loss in the output symbols);
* below, ``delta{l}{k} = f'(z{l}{k}) * sum_j w{l+1}{j}{k} * delta{l+1}{j}``
  (the chain rule through every weight that leaves neuron k);
* then ``d(of)/d(w{l}{j}{k}) = delta{l}{j} * a{l-1}{k}`` and
  ``d(of)/d(b{l}{j}) = delta{l}{j}``.

Everything stays in intermediate names (``z11``, ``a11``, ``delta21``) until the
caller asks for the base symbols, so the cost grows with the number of weights,
not with the size of the fully nested expression.

Written out in full, a delta is a sum over every path from its neuron to the
top, so on a deep net its printed size doubles with each layer of width 2 even
though the program itself grows linearly.  The compact form therefore writes a
delta out only while it is short (at most :data:`MAX_INLINE_SIZE` symbols and
operations, counted with repetition); from the first layer whose deltas are
longer, that layer and every layer below it keep the names ``delta{l}{j}``,
defined by :meth:`ReverseProgram.compact_deltas` in the same compact names.
Every net small enough to read in full (all those in the documentation) is
written out as before.  Substitutions insert already-built expressions without
walking through them, so building any form, even the expanded one of a deep
net, takes time polynomial in the size of the network.  ``method="diff"`` differentiates
the fully nested expression directly; it is the literal approach and is slow for
deep networks (a 4-8-8-8-8-1 tanh net takes minutes), but it shares no code with
reverse mode, which makes it a useful independent check.

>>> from symgrad import Network
>>> net = Network([2, 2, 1])
>>> g = gradients(net, of="output")
>>> g[net.weights[0]], g[net.weight(2, 1, 1)]
(w211*x1, w111*x1 + w112*x2)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from symgrad import activations
from symgrad.errors import SpecError
from symgrad.network import Network, activation_expr, loss_expr
from symgrad.softmax import softmax_delta, softmax_output
from symgrad.spec import choices_message, symbol_name

METHODS = ("reverse", "diff")
FORMS = ("expanded", "compact", "delta")
#: Longest delta (nodes of its expression tree, shared parts counted each time they
#: appear) the compact form writes out in full, about 16 printed lines; see the module
#: notes.  The nets in the documentation and tests need at most 268 (2-3-3-3-2
#: softplus, loss); 2-2-2-2-2-2-2-1 already needs 380.
MAX_INLINE_SIZE = 300


def tree_size(expr: sp.Basic, memo: dict | None = None) -> int:
    """Nodes of ``expr`` as a printed tree: every shared part counted each time it appears.

    It is about the length of the printed expression.  The count is memoised per
    distinct subexpression, so it costs time linear in the number of distinct parts
    even when the printed tree is exponentially larger.

    >>> x, y = sp.symbols("x y")
    >>> tree_size(x * (x + y))    # Mul(x, Add(x, y)): 5 nodes
    5
    """
    memo = {} if memo is None else memo
    stack = [(expr, False)]
    while stack:                      # iterative: deep expressions need no recursion
        node, ready = stack.pop()
        if node in memo:
            continue
        if ready:
            memo[node] = 1 + sum(memo[a] for a in node.args)
        else:
            stack.append((node, True))
            stack.extend((a, False) for a in node.args if a not in memo)
    return memo[expr]


def local_derivative(name: str, z: sp.Expr, a: sp.Expr) -> sp.Expr:
    """``f'(z)`` for activation ``name``, written with ``a = f(z)`` where that is shorter.

    The forms are the textbook ones (``a*(1 - a)`` for the sigmoid, ``1 - a**2`` for
    tanh), from :data:`symgrad.activations.TABLE`; the tests prove each equals
    ``sympy.diff`` of the activation.  ReLU's derivative at 0 is 0 (PyTorch's and
    micrograd's convention); a kinked activation's is its negative-side slope.
    """
    return activations.derivative(name, z, a)


def delta_symbol(l: int, j: int) -> sp.Symbol:
    """The adjoint symbol ``delta{l}{j}`` = d(of)/d(z{l}{j})."""
    return sp.Symbol(symbol_name("delta", l, j), real=True)


@dataclass
class ReverseProgram:
    """The symbolic reverse-mode program of one network and one quantity ``of``.

    Attributes
    ----------
    forward : list of (Symbol, Expr)
        ``z{l}{j} = ...`` and ``a{l}{j} = ...`` in intermediate symbols, in order.
    deltas : list of (Symbol, Expr)
        ``delta{l}{j} = ...`` in intermediate symbols and earlier deltas, top down.
    grads : dict
        ``{parameter: d(of)/d(parameter)}`` in deltas and intermediate symbols.
    """

    net: Network
    of: str
    forward: list = field(default_factory=list)
    deltas: list = field(default_factory=list)
    grads: dict = field(default_factory=dict)

    @property
    def compact_names(self) -> dict:
        """``a{l}{j} -> z{l}{j}`` for linear layers, where the two are the same."""
        net = self.net
        return {net.a_symbol(l, j): net.z_symbol(l, j)
                for l in range(1, net.depth + 1) if net.activations[l - 1] == "linear"
                for j in range(1, net.widths[l] + 1)}

    def delta_values(self) -> dict:
        """``{delta{l}{j}: expr}`` with earlier deltas substituted (intermediate names)."""
        values: dict[sp.Symbol, sp.Expr] = {}
        for sym, expr in self.deltas:
            values[sym] = expr.xreplace(values)
        return values

    def compact(self) -> dict:
        """Gradients in intermediate names, deltas substituted (``w211*x1``, ``z11``).

        Deltas longer than :data:`MAX_INLINE_SIZE` keep their names (see the module
        notes); :meth:`compact_deltas` defines them.
        """
        return dict(self._compact_parts()[0])

    def compact_deltas(self) -> list:
        """``[(delta{l}{j}, expr)]``, top down, for the deltas the compact form names.

        Each definition is in compact names and the deltas of the layer above; the
        list is empty when every delta is short enough to write out.
        """
        return list(self._compact_parts()[1])

    def _compact_parts(self) -> tuple[dict, list]:
        cached = self.__dict__.get("_compact")
        if cached is not None:
            return cached
        rename = self.compact_names
        values: dict[sp.Symbol, sp.Expr] = {}
        kept: list[tuple[sp.Symbol, sp.Expr]] = []
        memo: dict = {}
        for layer in self._delta_layers():
            # Rename the short definition first, then insert the (renamed) values of
            # the layer above: xreplace never walks into what it inserts.
            written = {sym: expr.xreplace(rename).xreplace(values) for sym, expr in layer}
            if kept or max(tree_size(e, memo) for e in written.values()) > MAX_INLINE_SIZE:
                kept += [(sym, written[sym]) for sym, _ in layer]
                values.update({sym: sym for sym, _ in layer})
            else:
                values.update(written)
        grads = {p: g.xreplace(rename).xreplace(values) for p, g in self.grads.items()}
        self.__dict__["_compact"] = (grads, kept)
        return grads, kept

    def _delta_layers(self) -> list:
        """``self.deltas`` grouped by layer, top layer first (the order they are in)."""
        net = self.net
        layer_of = {delta_symbol(l, j): l for l in range(1, net.depth + 1)
                    for j in range(1, net.widths[l] + 1)}
        layers: dict[int, list] = {}
        for sym, expr in self.deltas:
            layers.setdefault(layer_of[sym], []).append((sym, expr))
        return list(layers.values())

    def expanded(self) -> dict:
        """Gradients in base symbols only (inputs, targets, parameters).

        Built in one substitution per expression, so its cost is polynomial even
        where the printed result is exponentially long (a deep net's paths).
        """
        grads, kept = self._compact_parts()
        values: dict = dict(self.net.intermediate_definitions)
        for sym, expr in kept:
            values[sym] = expr.xreplace(values)
        return {p: g.xreplace(values) for p, g in grads.items()}


def _parse_of(net: Network, of) -> tuple:
    """Return ``("output"|"loss", None)`` or ``("z"|"a", (l, j))``."""
    if isinstance(of, sp.Symbol):
        of = of.name
    if not isinstance(of, str):
        raise SpecError(f"of must be 'output', 'loss', 'z{{l}}{{j}}' or 'a{{l}}{{j}}', got {of!r}")
    if of in ("output", "loss"):
        if of == "output" and net.spec.n_outputs != 1:
            raise SpecError(
                f"of='output' needs one output neuron; this network has "
                f"{net.spec.n_outputs}: name one, e.g. of='a{net.depth}1'"
            )
        return of, None
    for kind in ("z", "a"):
        for l in range(1, net.depth + 1):
            for j in range(1, net.widths[l] + 1):
                if of == symbol_name(kind, l, j):
                    return kind, (l, j)
    names = ["output", "loss"] + [symbol_name(k, l, j) for k in "za"
                                  for l in range(1, net.depth + 1)
                                  for j in range(1, net.widths[l] + 1)]
    raise SpecError(choices_message("quantity to differentiate", of, names))


def reverse_program(net: Network, of: str | sp.Symbol = "output") -> ReverseProgram:
    """Build the symbolic reverse-mode program for ``d(of)/d(parameters)``.

    ``of`` is ``"output"`` (single-output nets), ``"loss"`` (per-sample L), or a
    neuron's ``"z{l}{j}"`` / ``"a{l}{j}"``.  Parameters that ``of`` does not
    depend on get gradient 0.
    """
    kind, node = _parse_of(net, of)
    cache = net.__dict__.setdefault("_programs", {})
    key = (kind, node)
    if key in cache:
        return cache[key]
    prog = ReverseProgram(net, of if isinstance(of, str) else of.name)
    L, W = net.depth, net.widths
    top = L if node is None else node[0]
    for l in range(1, top + 1):
        for j in range(1, W[l] + 1):
            # sp.Add(*terms) sorts once; sum() re-sorts the growing Add at every
            # step, which made a 10000-1 net take minutes (quadratic in width).
            z = sp.Add(*[net.weight(l, j, k) * net.a_symbol(l - 1, k)
                         for k in range(1, W[l - 1] + 1)])
            if net.bias:
                z = net.parameters[net.spec.bias_position(l, j)] + z
            prog.forward.append((net.z_symbol(l, j), z))
            a = _activation_on(net, l, j)
            prog.forward.append((net.a_symbol(l, j), a))

    # Adjoints d(of)/d(a{top}{j}) of the top layer that ``of`` depends on.
    if kind == "loss":
        outs = [net.a_symbol(L, j) for j in range(1, W[L] + 1)]
        L_expr = loss_expr(net.loss_name, outs, net.targets)
        seed = {j: sp.diff(L_expr, outs[j - 1]) for j in range(1, W[L] + 1)}
    elif kind in ("output", "a"):
        seed = {node[1] if node else 1: sp.S.One}
    else:  # z: the delta of that neuron is 1 by definition
        seed = None

    for l in range(top, 0, -1):
        act = net.activations[l - 1]
        for j in range(1, W[l] + 1):
            zs, as_ = net.z_symbol(l, j), net.a_symbol(l, j)
            if l == top and act == "softmax":
                d = softmax_delta(net, l, j, seed, node, kind)
            elif l == top:
                if seed is None:
                    d = sp.S.One if j == node[1] else sp.S.Zero
                elif j in seed:
                    d = top_adjoint(seed[j], act, zs, as_, shorten=kind == "loss")
                else:
                    d = sp.S.Zero
            else:
                # delta{l}{j} = f'(z{l}{j}) * sum_i w{l+1}{i}{j} * delta{l+1}{i}
                back = sp.Add(*[net.weight(l + 1, i, j) * delta_symbol(l + 1, i)
                                for i in range(1, W[l + 1] + 1)])
                d = local_derivative(act, zs, as_) * back
            prog.deltas.append((delta_symbol(l, j), d))
    for p, idx in zip(net.weights, net.spec.weight_index()):
        l, j, k = idx
        prog.grads[p] = delta_symbol(l, j) * net.a_symbol(l - 1, k) if l <= top else sp.S.Zero
    for p, (l, j) in zip(net.biases, net.spec.bias_index()):
        prog.grads[p] = delta_symbol(l, j) if l <= top else sp.S.Zero
    if kind == "loss":                       # L2: d/dw (lambda/2) w**2 = lambda w
        for p in net.penalised:
            prog.grads[p] = prog.grads[p] + net.l2 * p
    cache[key] = prog
    return prog


def top_adjoint(seed: sp.Expr, activation: str, z: sp.Expr, a: sp.Expr, *,
                shorten: bool) -> sp.Expr:
    """The top layer's adjoint ``d(of)/da * f'(z)`` (chain rule through the activation).

    With ``shorten`` (the loss), ``cancel`` turns the cross-entropy of a sigmoid,
    ``(-y/a + (1-y)/(1-a)) * a*(1-a)``, into the familiar ``a - y``; whichever form
    is shorter is kept.
    """
    d = seed * local_derivative(activation, z, a)
    return min(d, sp.cancel(d), key=sp.count_ops) if shorten else d


def _activation_on(net, l, j):
    if net.activations[l - 1] == "softmax":
        return softmax_output(net, l, j)
    return activation_expr(net.activations[l - 1], net.z_symbol(l, j))


def _of_expression(net: Network, of) -> sp.Expr:
    kind, node = _parse_of(net, of)
    if kind == "output":
        return net.output
    if kind == "loss":
        return net.loss
    return net.z(*node) if kind == "z" else net.a(*node)


def gradients(net: Network, of: str | sp.Symbol = "output", *, method: str = "reverse",
              form: str = "expanded") -> dict:
    """Exact derivatives of ``of`` with respect to every parameter.

    Parameters
    ----------
    net : Network
    of : str
        ``"output"``, ``"loss"`` (per-sample L), ``"z{l}{j}"`` or ``"a{l}{j}"``.
    method : {"reverse", "diff"}
        Symbolic reverse mode (default, fast) or ``sympy.diff`` on the fully
        nested expression (slow with depth; independent).
    form : {"expanded", "compact", "delta"}
        ``expanded``: base symbols only.  ``compact``: intermediate names, as a
        person writes them (``w211*x1``, ``z11``, ``w211*(1 - a11**2)*x1``); on a
        deep net the deltas too long to write out keep their names, defined by
        ``reverse_program(net, of).compact_deltas()`` (see the module notes).
        ``delta``: in adjoint symbols ``delta{l}{j}`` (see :func:`reverse_program`
        for their definitions).  ``compact`` and ``delta`` need ``method="reverse"``.

    Returns
    -------
    dict
        ``{parameter Symbol: Expr}`` in ``net.parameters`` order.

    Examples
    --------
    >>> from symgrad import Network
    >>> net = Network([2, 2, 1], activation="tanh")
    >>> gradients(net, "output", form="compact")[net.weights[0]]
    w211*x1*(1 - a11**2)
    """
    if method not in METHODS:
        raise SpecError(choices_message("method", method, METHODS))
    if form not in FORMS:
        raise SpecError(choices_message("form", form, FORMS))
    if method == "diff":
        if form != "expanded":
            raise SpecError(f"form {form!r} needs method='reverse' (diff gives base symbols only)")
        expr = _of_expression(net, of)
        return {p: sp.diff(expr, p) for p in net.parameters}
    prog = reverse_program(net, of)
    if form == "delta":
        return dict(prog.grads)
    return prog.compact() if form == "compact" else prog.expanded()



def node_gradients(net: Network, of: str | sp.Symbol = "output") -> dict:
    """``d(of)/d(node)`` for every node: ``z{l}{j}``, ``a{l}{j}`` and the inputs ``x{k}``.

    Each derivative is total through the network with the node's own inputs cut,
    which is what backprop computes: by ``z{l}{j}`` it is the delta of that neuron,
    by ``a{l}{j}`` (or an input, ``a0k``) one more chain-rule step,
    ``sum_i w{l+1}{i}{j} * delta{l+1}{i}``.  A node that ``of`` does not depend on
    (a later node, another node of the same layer) gets 0.  Values are in
    intermediate names (``z11``, ``a11``), deltas substituted.
    """
    kind, node = _parse_of(net, of)
    prog = reverse_program(net, of)
    deltas = prog.delta_values()
    L, W = net.depth, net.widths
    top = L if node is None else node[0]
    out: dict[sp.Symbol, sp.Expr] = {}
    for l in range(top + 1, L + 1):
        for j in range(1, W[l] + 1):
            out[net.z_symbol(l, j)] = out[net.a_symbol(l, j)] = sp.S.Zero
    for l in range(1, top + 1):
        for j in range(1, W[l] + 1):
            out[net.z_symbol(l, j)] = deltas[delta_symbol(l, j)]
    for j in range(1, W[top] + 1):          # the top layer's a: the seed
        a = net.a_symbol(top, j)
        if kind == "loss":
            outs = [net.a_symbol(L, i) for i in range(1, W[L] + 1)]
            out[a] = sp.diff(loss_expr(net.loss_name, outs, net.targets), a)
        elif kind in ("output", "a"):
            out[a] = sp.S.One if j == (node[1] if node else 1) else sp.S.Zero
        else:
            out[a] = sp.S.Zero
    for l in range(top - 1, -1, -1):
        for j in range(1, W[l] + 1):
            out[net.a_symbol(l, j)] = sp.Add(*[net.weight(l + 1, i, j) * out[net.z_symbol(l + 1, i)]
                                               for i in range(1, W[l + 1] + 1)])
    return out
