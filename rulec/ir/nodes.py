"""IR nodes: the checked rule with every name, index and layer role made explicit.

Interpreters (the NumPy reference, SymPy, JAX) run these, not the AST. Every node keeps the span of the source
it came from, so any stage can still raise a located error.
"""

from __future__ import annotations

import enum
from typing import Union, assert_never

from rulec.diagnostics import Span
from rulec.syntax import ast
from rulec.syntax.ast import node  # the IR's nodes are frozen, slotted dataclasses, as the AST's are


class Source(enum.Enum):
    """What a load reads, or a write stores into (writes store only neurons, synapses and persistent scalars)."""

    NEURON = "neuron"
    SYNAPSE = "synapse"
    GENOME = "genome"
    LET = "let"
    INPUT = "input"
    TARGET = "target"
    STEP = "step"  # the step counter, a scalar: 0 on the first step
    SCALAR = "scalar"  # a persistent scalar (`persistent baseline = 0`): one number per network, kept across steps


class Role(enum.StrEnum):
    """The layer a neuron index ranges over in an instance of a phase, as the header names it (`j in post`), or a
    layer set a write is narrowed to (`for j in output`). A str, so that `Role.POST == "post"`: the instance
    bindings `{Role.PRE: 0, Role.POST: 1}` read the same by member or by name."""

    INPUT = "input"
    HIDDEN = "hidden"
    OUTPUT = "output"
    PRE = "pre"
    POST = "post"


class Scheme(enum.Enum):
    """The instances a phase, a synapse or a per-synapse genome entry ranges over."""

    PAIRS = "pairs"  # each adjacent pair of layers (pre, post)
    HIDDEN = "hidden"  # each hidden layer with the output layer (hidden, output)
    INPUT = "input"  # the input layer
    OUTPUT = "output"  # the output layer
    LATERAL = "lateral"  # each layer that is a `post` (layers 1..depth), for a lateral synapse post -> post
    SKIP = "skip"  # the input layer with the output layer, for a skip synapse input -> output (or back)

# ---- positions: what each index of a load or a write means ---------------------------------------------------


@node
class Layer:
    """A neuron index. `role` is the layer it ranges over in an instance (`pre`, `post`, `input`, ...).
    `bias` says whether the index includes the bias unit; `axis_bias` whether the stored axis has a bias row."""

    index: str
    role: Role
    bias: bool
    axis_bias: bool


@node
class State:
    index: str
    extent: int


@node
class StateAt:
    value: int


Position = Union[Layer, State, StateAt]

# ---- expressions -----------------------------------------------------------------------------------------------


@node
class Const:
    value: float
    span: Span


@node
class Load:
    kind: Source
    name: str
    positions: tuple[Position, ...]
    batch: bool
    span: Span


@node
class Func:
    name: str
    primes: int
    arg: Expr
    span: Span


@node
class PerState:
    """`phi[c](arg)`: the function of state c, applied for each state."""

    functions: tuple[tuple[str, int], ...]
    selector: Position
    arg: Expr
    span: Span


@node
class Loss:
    """`loss(h, t)` (primes 0) or `loss'(h, t)` (primes 1) of the rule's declared loss."""

    name: str
    primes: int
    prediction: Expr
    target: Expr
    span: Span


@node
class Arith:
    op: ast.BinOp
    left: Expr
    right: Expr
    span: Span


@node
class Neg:
    arg: Expr
    span: Span


@node
class Binding:
    """A neuron index bound to a layer role, by a phase header (`i in pre+bias`) or a reduction (`sum(r in pre)`)."""

    index: str
    role: Role
    bias: bool


@node
class Reduce:
    """`kind` is sum, mean or normalize. `axes` are index names or BATCH ("batch"); `fresh` binds new neuron indices."""

    kind: ast.Reducer
    axes: tuple[str, ...]
    fresh: tuple[Binding, ...]
    body: Expr
    span: Span


@node
class Pairwise:
    """A function of two values, elementwise: a comparison (`z > 0`, 1 or 0) or `maximum`/`minimum`; `name` is
    a key of rulec.functions.PAIRWISE."""

    name: str
    left: Expr
    right: Expr
    span: Span


@node
class IndexCompare:
    """`[k <= j]` between two neuron indices of one layer set: 1 where the positions compare so, 0 elsewhere."""

    op: str
    left: Layer
    right: Layer
    span: Span


@node
class Draw:
    """`let xi[j] = normal(0, 1)`: a fresh array over `positions` (the let's) and the batch, at every step.

    `distribution` is a name of rulec.functions.STEP_DRAWS and `args` its scalar arguments. `site` numbers the
    draws of the program: with the instance's layers it is folded into the step's key, so each draw site and
    instance has its own stream, the same in every interpreter, whatever else the schedule runs or skips."""

    distribution: str
    args: tuple[Expr, ...]
    site: int
    positions: tuple[Position, ...]
    span: Span


@node
class Size:
    """`size(i)`: how many neurons the index `layer` ranges over in an instance, its bias unit counted when it has
    one; with `layer=None`, `size(batch)`, the batch size. A number of the network, fixed when it is built."""

    layer: Union[Layer, None]
    span: Span


Expr = Union[Const, Load, Func, PerState, Loss, Arith, Neg, Reduce, Pairwise, IndexCompare, Draw, Size]

# ---- statements and phases -------------------------------------------------------------------------------------


@node
class Let:
    name: str
    positions: tuple[Position, ...]
    value: Expr
    span: Span


@node
class StateRange:
    """`for c in low..high`: the write covers states [low, high) of index `index`."""

    index: str
    low: int
    high: int


@node
class Condition:
    """`for j in output` when `j` ranges over `post`: the write runs only where the layer of `role` is in `subset`."""

    role: Role
    subset: Role


@node
class Write:
    """Writes `value` into a neuron, a synapse or a persistent scalar (`kind` is Source.NEURON, Source.SYNAPSE or
    Source.SCALAR; a scalar's write has no positions, and runs only where `post` is the output layer)."""

    kind: Source
    name: str
    positions: tuple[Position, ...]
    ranges: tuple[StateRange, ...]
    when: tuple[Condition, ...]
    value: Expr
    span: Span


Statement = Union[Let, Write]


@node
class Phase:
    kind: ast.PhaseKind
    scheme: Scheme
    bindings: tuple[Binding, ...]
    statements: tuple[Statement, ...]
    span: Span


@node
class Loop:
    """`repeat n` ... `end`: the phases of `kinds`, a contiguous run of the phase table in its order, run `count`
    times in a row at each step (and, for those that predict or settle the prediction, at each `predict`)."""

    count: int
    kinds: tuple[ast.PhaseKind, ...]
    span: Span


@node
class NeuronDecl:
    name: str
    states: int | None  # None for a neuron without a state axis
    initial: float | None = None  # for a persistent neuron (one value per neuron, kept across steps), its start

    @property
    def persistent(self) -> bool:
        return self.initial is not None


@node
class ScalarDecl:
    """A persistent scalar: one number per network, `initial` before the first step (written once a step)."""

    name: str
    initial: float


@node
class SynapseDecl:
    """Stored per instance of its scheme: one array per adjacent pair, or per hidden layer."""

    name: str
    scheme: Scheme
    source: tuple[Role, bool]
    target: tuple[Role, bool]
    channels: tuple[int, ...]
    fixed: bool
    init: ast.Expr | None
    span: Span


@node
class GenomeDecl:
    name: str
    shape: tuple[int, ...]  # state dims, for a shared entry
    per_synapse: tuple[tuple[Role, bool], ...] | None  # layer axes, for a per-synapse entry
    sampled: bool
    init: ast.Expr
    span: Span
    bounds: tuple[float, float] | None = None  # `in [low, high]`: meta-training keeps the entry in it


@node
class Program:
    name: str
    dims: dict
    genome: tuple[GenomeDecl, ...]
    presets: dict  # name -> {entry: nested list, number or preset_functions.Call}
    default_preset: str | None
    neurons: tuple[NeuronDecl, ...]
    synapses: tuple[SynapseDecl, ...]
    bias: float | None
    phases: tuple[Phase, ...]
    rule: ast.Rule
    loops: tuple[Loop, ...] = ()
    scalars: tuple[ScalarDecl, ...] = ()

    def phase(self, kind: ast.PhaseKind) -> Phase | None:
        return next((p for p in self.phases if p.kind is kind), None)


def scheme_of(layer_sets: set[Role]) -> Scheme:
    if layer_sets == {Role.INPUT, Role.OUTPUT}:
        return Scheme.SKIP  # a skip synapse's per-synapse genome entry: one instance, as the synapse
    if layer_sets & {Role.PRE, Role.POST}:
        return Scheme.PAIRS
    if Role.HIDDEN in layer_sets:
        return Scheme.HIDDEN
    return Scheme.INPUT if Role.INPUT in layer_sets else Scheme.OUTPUT


def synapse_scheme(source: Role, target: Role) -> Scheme:
    """The scheme a synapse is stored per: a lateral synapse (`post -> post`) once per non-input layer, a skip
    synapse (`input -> output`) once, any other once per instance of the layer pair it joins."""
    return Scheme.LATERAL if source == target == Role.POST else scheme_of({source, target})


def neuron_layer(positions: tuple[Position, ...]) -> Layer:
    """The layer index of a neuron's load or write, `j` in `a[j, c]`: it comes first."""
    layer = positions[0]
    assert isinstance(layer, Layer), positions
    return layer


def neuron_state(positions: tuple[Position, ...]) -> State | StateAt:
    """The state index of a neuron's load or write, `c` in `a[j, c]`; `a[j]` is `a[j, 0]`."""
    state = positions[1] if len(positions) > 1 else StateAt(0)
    assert not isinstance(state, Layer), positions
    return state


# ---- walking expressions ---------------------------------------------------------------------------------------


def children(e: Expr) -> tuple[Expr, ...]:
    match e:
        case Arith() | Pairwise():
            return (e.left, e.right)
        case Func() | PerState() | Neg():
            return (e.arg,)
        case Loss():
            return (e.prediction, e.target)
        case Reduce():
            return (e.body,)
        case Draw():
            return e.args
        case Const() | Load() | IndexCompare() | Size():
            return ()
        case _:
            assert_never(e)


def walk(e: Expr):
    """Every subexpression of `e`, `e` first."""
    yield e
    for child in children(e):
        yield from walk(child)


def state_extents(e: Expr) -> dict[str, int]:
    """The extent of every state index used in an expression."""
    found: dict[str, int] = {}
    for sub in walk(e):
        if isinstance(sub, Load):
            found.update({p.index: p.extent for p in sub.positions if isinstance(p, State)})
        elif isinstance(sub, PerState) and isinstance(sub.selector, State):
            found[sub.selector.index] = sub.selector.extent
    return found
