"""Artifacts of a compiled network: StableHLO (jax.export), a stand-alone Python module, and a printed jaxpr.

The Python module is printed from the jaxpr of the lowered step, so it is exactly the program rulec runs, with
one comment per rule equation (from the named scopes the lowering opens) and no dependency on rulec.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from rulec.api import Network

# Primitives printed as calls into jax.lax (name -> how the parameters are passed).
_LAX_CALLS = {
    "dot_general": lambda p: f"dimension_numbers={_tuple(p['dimension_numbers'])}",
    "broadcast_in_dim": lambda p: f"shape={tuple(p['shape'])}, broadcast_dimensions={tuple(p['broadcast_dimensions'])}",
    "reshape": lambda p: f"new_sizes={tuple(p['new_sizes'])}",
    "transpose": lambda p: f"permutation={tuple(p['permutation'])}",
    "squeeze": lambda p: f"dimensions={tuple(p['dimensions'])}",
    "slice": lambda p: (f"start_indices={tuple(p['start_indices'])}, limit_indices={tuple(p['limit_indices'])}"
                        + (f", strides={tuple(p['strides'])}" if p.get("strides") else "")),
    "integer_pow": lambda p: f"y={p['y']}",
    "convert_element_type": lambda p: f"new_dtype=jnp.{np.dtype(p['new_dtype']).name}",
    "reduce_max": lambda p: f"axes={tuple(p['axes'])}",
    "bitcast_convert_type": lambda p: f"new_dtype=jnp.{np.dtype(p['new_dtype']).name}",  # in a draw
    # a contraction of convolution form on a convolutional pair, and its transposes (rulec/lower/patch_views.py)
    "conv_general_dilated": lambda p: (
        f"window_strides={tuple(p['window_strides'])}, padding={_tuple(p['padding'])}, "
        f"lhs_dilation={tuple(p['lhs_dilation'])}, rhs_dilation={tuple(p['rhs_dilation'])}, "
        f"dimension_numbers=lax.{p['dimension_numbers']!r}, feature_group_count={p['feature_group_count']}, "
        f"batch_group_count={p['batch_group_count']}"),
    "rev": lambda p: f"dimensions={tuple(p['dimensions'])}",
}
_UNARY = {"neg": "lax.neg", "tanh": "lax.tanh", "exp": "lax.exp", "log": "lax.log", "sqrt": "lax.sqrt",
          "rsqrt": "lax.rsqrt", "abs": "lax.abs", "sign": "lax.sign", "logistic": "lax.logistic",
          "log1p": "lax.log1p", "expm1": "lax.expm1", "square": "lax.square", "copy": "", "erf_inv": "lax.erf_inv"}
_BINARY = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "**"}
_OTHER_CALLS = {
    # iota takes no operands; lax.iota is one-dimensional, broadcasted_iota takes the primitive's parameters.
    "iota": lambda i, p: f"lax.broadcasted_iota(jnp.{np.dtype(p['dtype']).name}, {tuple(p['shape'])}, "
                         f"{p['dimension']})",
    "reduce_sum": lambda i, p: f"jnp.sum({i[0]}, axis={tuple(p['axes'])})",
    "stack": lambda i, p: f"jnp.stack([{', '.join(i)}], axis={p['axis']})",
    "concatenate": lambda i, p: f"lax.concatenate([{', '.join(i)}], dimension={p['dimension']})",
    "select_n": lambda i, p: f"lax.select_n({', '.join(i)})",
    "dynamic_update_slice": lambda i, p: f"lax.dynamic_update_slice({i[0]}, {i[1]}, ({', '.join(i[2:])},))",
    "dynamic_slice": lambda i, p: f"lax.dynamic_slice({i[0]}, ({', '.join(i[1:])},), {tuple(p['slice_sizes'])})",
    # a convolutional pair's patches (rulec/ir/spatial.py) and their fold (rulec/lower/convolution.py)
    "gather": lambda i, p: (f"lax.gather({i[0]}, {i[1]}, lax.{p['dimension_numbers']!r}, {tuple(p['slice_sizes'])}, "
                            f"indices_are_sorted={p['indices_are_sorted']}, unique_indices={p['unique_indices']}, "
                            f"mode=lax.GatherScatterMode.{p['mode'].name}, fill_value={_number(p['fill_value'])})"),
    "pad": lambda i, p: f"lax.pad({i[0]}, {i[1]}, {tuple(tuple(c) for c in p['padding_config'])})",
    # The key of the network state: split at every step, folded per draw site (rulec/ir/draws.py).
    "random_split": lambda i, p: f"jax.random.split({i[0]}, {tuple(p['shape'])})",
    "random_fold_in": lambda i, p: f"jax.random.fold_in({i[0]}, {i[1]})",
    "random_bits": lambda i, p: f"jax.random.bits({i[0]}, {tuple(p['shape'])}, jnp.uint{p['bit_width']})",
    "random_unwrap": lambda i, p: f"jax.random.key_data({i[0]})",
    "random_wrap": lambda i, p: f"jax.random.wrap_key_data({i[0]})",
}
_LAX_BINARY = {"max": "lax.max", "min": "lax.min", "gt": "lax.gt", "lt": "lax.lt", "ge": "lax.ge", "le": "lax.le",
               "eq": "lax.eq", "ne": "lax.ne", "nextafter": "lax.nextafter",
               # the bit operations of a draw (rulec/ir/draws.py); NumPy-style, so a printed literal takes the
               # unsigned type of the other operand
               "shift_right_logical": "jnp.right_shift", "shift_left": "jnp.left_shift",
               "or": "jnp.bitwise_or", "and": "jnp.bitwise_and", "xor": "jnp.bitwise_xor"}


class EmitError(Exception):
    """The step uses a primitive the Python printer does not know."""


def _number(value) -> str:
    """A parameter that is None or a number, nan and infinities included, as Python source."""
    return "None" if value is None else f"float({str(value)!r})"


def _tuple(value) -> str:
    return repr(tuple(_tuple_value(v) for v in value))


def _tuple_value(value):
    return tuple(_tuple_value(v) for v in value) if isinstance(value, (tuple, list)) else value


def example_arguments(net: Network, batch: int, dtype=jnp.float32, with_target: bool = True):
    genome = jax.eval_shape(lambda: net.init_genome(jax.random.key(0), dtype))
    state = jax.eval_shape(lambda: net.init(jax.random.key(0), dtype))
    x = jax.ShapeDtypeStruct((batch, net.sizes[0]), dtype)
    y = jax.ShapeDtypeStruct((batch, net.sizes[-1]), dtype)
    return (genome, state, x, y) if with_target else (genome, state, x)


def emit_stablehlo(net: Network, batch: int) -> bytearray:
    """The jitted step, serialised with jax.export; load it with jax.export.deserialize and `.call(...)`."""
    return jax.export.export(jax.jit(net.step))(*example_arguments(net, batch)).serialize()


def emit_jaxpr(net: Network, batch: int) -> str:
    return str(jax.make_jaxpr(net.step)(*example_arguments(net, batch)))


def emit_python(net: Network, batch: int) -> str:
    """A stand-alone JAX module with `step(genome, state, x, y)` and `predict(genome, state, x)`."""
    rule = net.rule
    header = [
        f'"""The learning rule `{rule.name}` compiled by rulec for layer sizes {list(net.sizes)}, batch {batch}.',
        "",
        f"Rule source hash: {rule.source_hash}. Dims: {rule.dims or 'none'}.",
        "Arguments are pytrees: genome {name: array}, and state, a NetworkState: synapses {synapse: [array per",
        "layer pair]}, channel-major [channels, source, target] with the bias unit as the last source row;",
        "persistent neurons {neuron: [array per layer]}; the key of the draws; the step counter.",
        '"""',
        "",
        "import dataclasses",
        "",
        "import jax",
        "import jax.numpy as jnp",
        "import numpy as np",
        "from jax import lax",
        "",
        "",
        "@jax.tree_util.register_dataclass",
        "@dataclasses.dataclass(frozen=True)",
        "class NetworkState:",
        "    synapses: dict",
        "    neurons: dict",
        "    key: jax.Array",
        "    step: jax.Array",
        "",
        "",
    ]
    body = []
    for name, function, arguments in (("step", net.step, example_arguments(net, batch)),
                                      ("predict", net.predict, example_arguments(net, batch, with_target=False))):
        closed = jax.make_jaxpr(function)(*arguments)
        body += _function(name, function, closed, arguments)
    return "\n".join(header + body) + "\n"


class _Code(str):
    """A variable name that prints without quotes inside a printed pytree."""

    def __repr__(self) -> str:
        return str(self)


def _function(name: str, function, closed, arguments) -> list[str]:
    parameters = ["genome", "state", "x", "y"][: len(arguments)]
    leaves, treedef = jax.tree.flatten(arguments)
    names = {}
    lines = [f"def {name}({', '.join(parameters)}):",
             f'    """The rule\'s {name}, as traced by rulec."""',
             f"    flat = jax.tree.leaves(({', '.join(parameters)},))",
             f"    if len(flat) != {len(leaves)}:",
             f"        raise ValueError('expected {len(leaves)} arrays in the arguments, got %d' % len(flat))"]
    for i, var in enumerate(closed.jaxpr.invars):
        names[var] = f"in{i}"
        lines.append(f"    in{i} = flat[{i}]")
    for i, (var, const) in enumerate(zip(closed.jaxpr.constvars, closed.consts)):
        names[var] = f"const{i}"
        lines.append(f"    const{i} = jnp.asarray(np.array({np.asarray(const).tolist()!r}, "
                     f"dtype=np.{np.asarray(const).dtype.name}))")
    counter = [0]
    scope = [None]
    _emit(closed.jaxpr, names, lines, counter, scope, "    ")
    outputs = [_Code(_atom(v, names)) for v in closed.jaxpr.outvars]
    structure = jax.tree.structure(jax.eval_shape(function, *arguments))
    lines.append(f"    return {jax.tree.unflatten(structure, outputs)!r}")
    lines.append("")
    lines.append("")
    return lines


def _atom(var, names) -> str:
    if hasattr(var, "val"):  # a literal
        value = np.asarray(var.val)
        return repr(value.item()) if value.ndim == 0 else f"np.array({value.tolist()!r})"
    return names[var]


def _emit(jaxpr, names, lines, counter, scope, indent) -> None:
    for eqn in jaxpr.eqns:
        stack = str(eqn.source_info.name_stack)
        if stack and stack != scope[0]:
            scope[0] = stack
            lines.append(f"{indent}# {stack.replace('/', ' | ')}")
        inputs = [_atom(v, names) for v in eqn.invars]
        if eqn.primitive.name in ("pjit", "jit", "closed_call", "custom_jvp_call", "custom_vjp_call", "remat"):
            inner = eqn.params.get("jaxpr") or eqn.params.get("call_jaxpr") or eqn.params.get("fun_jaxpr")
            inner_jaxpr = getattr(inner, "jaxpr", inner)
            inner_names = dict(zip(inner_jaxpr.invars, inputs))
            for var, const in zip(inner_jaxpr.constvars, getattr(inner, "consts", ())):
                inner_names[var] = f"jnp.asarray(np.array({np.asarray(const).tolist()!r}))"
            _emit(inner_jaxpr, inner_names, lines, counter, scope, indent)
            for out, inner_out in zip(eqn.outvars, inner_jaxpr.outvars):
                names[out] = _atom(inner_out, inner_names)
            continue
        expression = _expression(eqn, inputs)
        targets = []
        for out in eqn.outvars:
            counter[0] += 1
            names[out] = f"v{counter[0]}"
            targets.append(names[out])
        lines.append(f"{indent}{', '.join(targets)} = {expression}")


def _expression(eqn, inputs) -> str:
    name, params = eqn.primitive.name, eqn.params
    if name in _BINARY:
        return f"{inputs[0]} {_BINARY[name]} {inputs[1]}"
    if name in _UNARY:
        return f"{_UNARY[name]}({inputs[0]})" if _UNARY[name] else inputs[0]
    if name in _LAX_BINARY:
        return f"{_LAX_BINARY[name]}({inputs[0]}, {inputs[1]})"
    if name in _LAX_CALLS:
        return f"lax.{name}({', '.join(inputs)}, {_LAX_CALLS[name](params)})"
    if name in _OTHER_CALLS:
        return _OTHER_CALLS[name](inputs, params)
    raise EmitError(f"the Python printer does not know the primitive `{name}`")
