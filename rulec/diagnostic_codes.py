"""The registry of diagnostic codes: every `Diagnostic.code` rulec can give, with its one-line meaning.

A code is a stable name for a kind of mistake, for tools and tests to match on instead of message text. A code
that is not here is a bug in rulec: `Diagnostic` refuses one when RULEC_CHECKS=1 (the test suite sets it), and a
test finds every code literal in the package. docs/language.md lists the same codes with the same meanings, which
a test checks too.
"""

from __future__ import annotations

from types import MappingProxyType

CODES = MappingProxyType({
    # ---- reading and parsing the file
    "io": "the rule file cannot be read, or is not UTF-8 text",
    "syntax": "the text does not follow the grammar",
    "unknown-keyword": "a line starts with a misspelled keyword",
    "invisible": "a character that prints as nothing (a byte-order mark, a control character)",
    "unclosed": "a bracket or parenthesis is never closed",
    "too-deep": "an expression nests more operators than rulec accepts",
    "not-integer": "a whole number is expected: an index, a dim or a state range",
    "bad-layer-set": "a layer set is extended by something other than `+bias`",
    # ---- declarations
    "reserved-name": "a declaration takes a built-in name",
    "duplicate-name": "a name is declared twice",
    "bad-dim": "a dim or shape entry is not a whole number in range",
    "unknown-dim": "a shape or range names a dim the rule does not declare",
    "layer-in-shape": "a layer axis where the declaration cannot have one",
    "neuron-shape": "a neuron declares more than one state axis",
    "no-neurons": "the rule declares no neurons",
    "no-synapses": "the rule declares no synapses",
    "bad-connection": "a synapse connects layer sets that are not a pair of layers",
    "unknown-layer-set": "a layer set name that is not one of the known sets",
    "unbound-layer-set": "a reduction's fresh index ranges over a layer set its phase does not bind",
    "bad-initialiser": "an initialiser reads something other than constants and dims, or reduces",
    "init-not-random": "`name ~ ...` with no distribution",
    "init-random": "`name = ...` that draws random numbers",
    "empty-bounds": "a genome entry's bounds `in [low, high]` have the lower bound above the upper",
    "bounds-on-draw": "bounds on a genome entry drawn at random, which rulec does not support",
    "init-out-of-bounds": "a bounded genome entry starts outside its bounds",
    "preset-out-of-bounds": "a preset sets a bounded genome entry outside its bounds",
    "arity": "a function or distribution is given the wrong number of arguments",
    "unknown-function": "a function name that is not built in",
    "no-derivative": "a derivative mark that is not defined for this function",
    "duplicate-loss": "the loss is declared twice",
    "unknown-loss": "a loss name that is not built in",
    "duplicate-bias": "the bias unit is declared twice",
    # ---- constants
    "not-finite": "a constant expression is NaN or infinite (a division by zero, an overflow)",
    "float32-overflow": "a constant is finite but too large for float32",
    # ---- presets
    "duplicate-preset": "two presets have the same name",
    "two-defaults": "more than one preset is marked `default`",
    "duplicate-preset-entry": "a preset sets an entry twice",
    "preset-unknown": "a preset sets a name that is not a genome entry",
    "preset-shape": "a preset value's shape differs from its genome entry's",
    "ragged-matrix": "the rows of a preset matrix differ in length",
    "preset-missing": "a preset leaves out a genome entry that has a random initialiser",
    "preset-function": "a preset value calls an unknown function, or gives it the wrong number of values",
    # ---- phases and equations
    "duplicate-phase": "a phase kind is defined twice",
    "missing-phase": "a required phase is missing",
    "bad-scheme": "a phase ranges over layer sets its kind does not allow",
    "repeated-index": "an index is bound or used twice where it must appear once",
    "shadowed-index": "an index hides a declared name or a binding of the phase header",
    "undeclared": "a name that is not declared",
    "bad-target": "the left-hand side is not a neuron or synapse",
    "phase-write": "a phase writes neurons or synapses its kind may not write",
    "fixed-write": "an update writes a synapse declared `fixed`",
    "bias-write": "a write to the constant bias unit",
    "free-index": "an index on the right-hand side that the left-hand side does not have",
    "unreduced-batch": "a synapse update varies over the batch without a reduction over it",
    "unbound-index": "an index at a neuron position that neither the phase header nor a sum binds",
    "no-bias": "a layer set with `+bias` in a rule that declares no bias",
    "index-as-value": "an index used as a number",
    "function-as-value": "an activation used as a value instead of being called",
    "init-only": "a random draw or initialiser-only name inside an equation",
    "index-count": "a name is given the wrong number of indices",
    "layer-position": "a state index or a number where a neuron index belongs",
    "layer-mismatch": "an index ranges over another layer than the position it indexes",
    "state-position": "a neuron index where a state index belongs",
    "state-range": "a state number beyond the states of its position",
    "shape-mismatch": "one index ranges over different numbers of states in two places",
    "bad-restriction": "a `for` restriction that does not fit the kind of its index",
    "bad-range": "a state range outside the states of its index",
    "restriction-unused": "a `for` restriction of an index the left-hand side does not use",
    "let-unused-index": "an index of a `let` that its value does not use",
    "coupled-loss": "a loss of the whole output layer (`xent`) read elementwise, or as its value",
    "index-compare": "a neuron index compared with a value, or with an index of another layer set",
    "let-index": "a `let` indexed by a number: its indices name its axes, and it has no stored states to fix",
    "reduce-unused": "a reduction over an index (or the batch) that its body does not vary over",
    "activation-selector": "a per-state activation without its state selector, or a single one with it",
    "no-loss": "`loss` is used but the rule declares no loss",
    # ---- noise and persistent state
    "draw-place": "a draw inside a step that is not the whole value of a `let`",
    "draw-index": "a draw's `let` indexed by something other than a neuron index of the phase header",
    "draw-argument": "an argument of a draw that varies over neurons, states or the batch",
    "persistent-batch": "a persistent neuron state is written a value that varies over the batch",
    "persistent-first": "the first neuron, the one `predict` reads, is declared persistent",
    # ---- proofs
    "unknown-claim": "`prove` names a claim rulec cannot prove",
    "prove-arg": "`prove` is given an argument its claim does not take",
    "sympy-unsupported": "a rule to prove or analyse uses what SymPy cannot read (a comparison, `maximum`, `softmax`)",
    "prove-loss": "`prove` names a loss that is not built in",
    "prove-lr": "`prove sgd` lacks a learning rate that is an expression of genome scalars",
    "unknown-preset": "a preset name the rule does not declare",
    "proof-failed": "a claimed property does not hold, with the residual that shows it",
    "sympy-too-deep": "an expression nests too deeply for SymPy to prove or analyse",
    # ---- overrides, flags and the API
    "not-a-dim": "an override (`--set`) names a declaration that is not a dim",
    "unknown-override": "an override (`--set`) names nothing the rule declares",
    "bad-flag": "a malformed `--set` or `--genome-set` flag",
    "genome-set-unknown": "`--genome-set` names something that is not a genome entry of the rule",
    "genome-set-out-of-bounds": "`--genome-set` sets a bounded genome entry outside its bounds",
    "per-synapse": "a genome with per-synapse entries is asked for without a network shape",
    # ---- files rulec reads and writes
    "genome-file": "a genome file or its metadata is unreadable, damaged, or for another rule",
    "checkpoint": "a meta-training checkpoint is unreadable, damaged, or for other settings",
    "locked": "another rulec run is writing the same output",
    # ---- warnings (`--werror` makes them errors)
    "unused-declaration": "a dim, genome entry, neuron, synapse or activation that nothing reads (warning)",
    "unread-result": "a `let` or a neuron write whose result nothing reads (warning)",
    "read-before-write": "a neuron state read before the step writes it, so it reads zero (warning)",
})
