"""Patch arrays that XLA never has to build: each remembers the layer it was cut from, so that the JAX lowering
can compute on the layer and hand XLA a convolution instead of a gather followed by a matmul.

On a convolutional pair the dense equations run on patches (rulec/ir/spatial.py). Every patch array the JAX
lowering makes is a real array of the trace, and exact; when nothing reads it, XLA drops it. `Views` records, for
each patch array, its source (the layer in neuron layout, [..., batch, neurons]) and the value of its padding, so
that:
* an elementwise expression of patch arrays and values without the batch or the pre index (`a[i, 1] * g`,
  `relu_tanh(f * a[i, c] + t)`) is computed on the sources, and its patches cut from the result;
* a contraction of convolution form is one XLA convolution on the source (rulec/lower/convolution.py): the
  forward sum `sum(i) w[i, j] * a[i, s]`, the transposed sum `sum(j) w[i, j] * a[j, s]` (the input transpose,
  which comes out already summed over the patches: no fold, no second cut), and the kernel update
  `sum(batch) a[i, s] * a[j, t]` (the kernel transpose). State-mixing matrices (`nu[d, c]`) are applied to the
  layer first, a `+bias` unit's row is contracted apart, and an axis that both factors keep (a state `c` of
  `w[i, j, c] * m[c, i]`) is one convolution per value, stacked; a kernel update whose two layers each carry a
  summed state axis of their own is one convolution of every state with every state, then mixed
  (`crossed_update`);
* a state written with the value of such an expression is read back as its source, not gathered from its patches.
A convolution needs zeros in the padding: a patch array whose padding holds another value (`exp(a[i, 0])` holds 1
there) goes through the patch path, as does every expression of any other form.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from rulec.check.symbols import BATCH
from rulec.geometry import ConvPair
from rulec.ir import named as nm
from rulec.lower import contraction, convolution
from rulec.syntax.ast import BinOp


# Whether an operator's result is zero where its operands are, from which of them are (zero times anything).
ZERO_KEEPING = {BinOp.ADD: all, BinOp.SUB: all, BinOp.MUL: any, BinOp.DIV: lambda zeros: zeros[0] and not zeros[1],
                BinOp.POW: lambda zeros: False}


def keeps_zero(fn) -> bool:
    """Whether fn(0) = 0, evaluated at trace time."""
    with jax.ensure_compile_time_eval():
        return bool(fn(jnp.zeros(())) == 0)


@dataclasses.dataclass(frozen=True)
class View:
    """What a patch array [..., batch x positions, receptive field (+ bias unit)] was cut from."""

    source: Any  # [..., batch, neurons]
    pair: ConvPair
    fill: Any | None  # the padding's value, broadcastable to the leading axes; None for zero
    bias: float | None = None  # the bias unit appended as a last entry of the receptive field, if any
    folded: bool = False  # a transposed sum, already summed over the patches that hold each neuron


class Views:
    """The patch arrays of one trace of a step, by identity, with what each was cut from."""

    def __init__(self) -> None:
        self.table: dict[int, tuple[Any, View]] = {}

    def cut(self, view: View):
        """The patch array of `view`, recorded."""
        data = convolution.cut(view.source, view.pair, view.fill)
        if view.bias is not None:
            unit = jnp.full(data.shape[:-1] + (1,), view.bias, data.dtype)
            data = jnp.concatenate([data, unit], axis=-1)
        self.table[id(data)] = (data, view)
        return data

    def of(self, data) -> View | None:
        entry = self.table.get(id(data))
        return entry[1] if entry is not None and entry[0] is data else None

    def view(self, t: nm.Named) -> View | None:
        """The view of a Named patch array whose last two axes are the batch and the pre index."""
        found = self.of(t.data)
        return found if found is not None and t.axes[-2:-1] == (BATCH,) else None

    def with_unit(self, data, bias: float):
        """`data`, a recorded patch array, with the bias unit appended (the `+bias` index of a load)."""
        found = self.of(data)
        assert found is not None and found.bias is None
        return self.cut(dataclasses.replace(found, bias=bias))

    def stacked(self, parts: list):
        """jnp.stack(parts), recorded when every part is a patch array of the same pair without its bias unit."""
        found = [f for f in (self.of(p) for p in parts) if f is not None]
        if len(found) != len(parts) or any(f.bias is not None or f.pair != found[0].pair for f in found):
            return jnp.stack(parts)
        fills = None if all(f.fill is None for f in found) else jnp.stack([
            jnp.zeros(f.source.shape[:-2], f.source.dtype) if f.fill is None
            else jnp.broadcast_to(f.fill, f.source.shape[:-2]) for f in found])
        return self.cut(View(jnp.stack([f.source for f in found]), found[0].pair, fills))

    def elementwise(self, fn: Callable, operands: list[nm.Named], keeps_zero: Callable[[list[bool]], bool]):
        """fn(*operands) computed on the sources when the operands are patch arrays of one pair and values
        without the batch or the pre index; None otherwise. `keeps_zero` says, from which operands are zero in
        the padding, whether the result is."""
        views = [self.view(t) for t in operands]
        present = [v for v in views if v is not None]
        if not present or any(v.bias is not None or v.pair != present[0].pair for v in present):
            return None
        pre = next(t.axes[-1] for t, v in zip(operands, views) if v is not None)
        if any(t.axes[-1] != pre for t, v in zip(operands, views) if v is not None) or any(
                BATCH in t.axes or pre in t.axes for t, v in zip(operands, views) if v is None):
            return None
        result = fn(*[nm.Named(v.source, t.axes) if v else t for t, v in zip(operands, views)])
        axes = tuple(a for a in result.axes if a not in (BATCH, pre)) + (BATCH, pre)
        source = nm.align(result, axes)
        fill = None
        if not keeps_zero([v is not None and v.fill is None for v in views]):
            fills = fn(*[nm.Named(jnp.zeros((), v.source.dtype) if v.fill is None else v.fill, t.axes[:-2]) if v
                         else t for t, v in zip(operands, views)])
            fill = jnp.broadcast_to(nm.align(fills, axes[:-2]), source.shape[:-2])
        return nm.Named(self.cut(View(source, present[0].pair, fill)), axes)

    def scaled(self, t: nm.Named, coefficient: float) -> nm.Named:
        """t * coefficient, recorded as t is."""
        found = self.of(t.data)
        if found is None or found.bias is not None:
            return nm.Named(t.data * coefficient, t.axes)
        fill = None if found.fill is None else found.fill * coefficient
        return nm.Named(self.cut(dataclasses.replace(found, source=found.source * coefficient, fill=fill)), t.axes)

    def take(self, t: nm.Named, axis: str, index: int) -> nm.Named:
        """nm.take(t, axis, index), recorded as t is when `axis` is one of its leading axes."""
        found = self.view(t)
        if found is None or found.bias is not None or axis not in t.axes[:-2]:
            return nm.take(t, axis, index)
        position = t.axes.index(axis)
        at = (slice(None),) * position + (index,)  # an index, not jnp.take: a slice, not a gather
        fill = None if found.fill is None else found.fill[at]
        source = found.source[at]
        return nm.Named(self.cut(dataclasses.replace(found, source=source, fill=fill)), t.axes[:position]
                        + t.axes[position + 1:])

    def mixing_einsum(self, spec: str, small, host):
        """jnp.einsum(spec, small, host) for a state-mixing matrix applied to `host` (rulec/lower/contraction.py
        `fold_mixing_matrices`), on the source when `host` is a patch array: mixing states is linear."""
        found = self.of(host)
        inputs, output = spec.split("->")
        if found is None or found.bias is not None or found.fill is not None or (
                output[-2:] != inputs.split(",")[1][-2:]):
            return jnp.einsum(spec, small, host)
        return self.cut(View(jnp.einsum(spec, small, found.source), found.pair, None))

    def contract(self, arrays: list[nm.Named], reduced, layers, pair: ConvPair, transposes) -> nm.Named | None:
        """The sum over `reduced` of the product of `arrays`, as a convolution when, its state-mixing matrices
        applied, it has one of the forms above; None otherwise. `transposes` is (pre, post) when the sum is over
        the post index and keeps the pre index (rulec/ir/spatial.py `transposes`). A patch array with the bias
        unit is contracted without it, and the bias unit's row apart."""
        for k, t in enumerate(arrays):
            found = self.view(t)
            if found is not None and found.bias is not None and t.axes[-1] not in reduced:
                without = nm.Named(self.cut(dataclasses.replace(found, bias=None)), t.axes)
                main = self.contract(arrays[:k] + [without] + arrays[k + 1:], reduced, layers, pair, transposes)
                if main is None:
                    return None
                row = self.unit_row(t, found.bias, arrays[:k] + arrays[k + 1:], reduced, layers)
                return nm.Named(jnp.concatenate([main.data, nm.align(row, main.axes)],
                                                axis=main.axes.index(t.axes[-1])), main.axes)
        if not any(self.view(t) for t in arrays) and transposes is None:
            return None
        crossed = self.crossed_update(arrays, reduced, layers, pair)
        if crossed is not None:
            return crossed
        arrays = contraction.fold_mixing_matrices(arrays, reduced, layers, self.mixing_einsum)
        reduced = tuple(a for a in reduced if any(a in t.axes for t in arrays))
        if len(arrays) != 2:
            return None
        first, second = arrays
        for left, right in ((first, second), (second, first)):
            found = self.view(left)
            if found is not None and found.fill is None and found.bias is None and found.pair == pair:
                done = (self.forward(left, found, right, reduced) if BATCH not in right.axes
                        else self.kernel_update(left, found, right, reduced))
                if done is not None:
                    return done
            if transposes is not None and BATCH in right.axes and BATCH not in left.axes:
                done = self.transposed(left, right, reduced, pair, transposes)
                if done is not None:
                    return done
        return None

    @staticmethod
    def unit_row(t: nm.Named, bias: float, others: list[nm.Named], reduced, layers) -> nm.Named:
        """The bias unit's row of a contraction of `t` with `others`. The unit is the same for every example:
        summed over the batch, the one other factor that carries it is summed first, before any mixing matrix
        is applied to it (a pass over a whole layer, for a row)."""
        if BATCH in reduced and sum(BATCH in f.axes for f in others) == 1:
            axes = tuple(a for a in t.axes if a != BATCH)
            unit = nm.Named(jnp.full([t.size(a) if a in axes[:-1] else 1 for a in axes], bias, t.data.dtype), axes)
            others = [nm.reduce_sum(f, (BATCH,)) if BATCH in f.axes else f for f in others]
            reduced = tuple(a for a in reduced if a != BATCH)
        else:
            unit = nm.Named(jnp.full(t.data.shape[:-1] + (1,), bias, t.data.dtype), t.axes)
        return contraction.contract(others + [unit], reduced, layers, "mix")

    def crossed_update(self, arrays: list[nm.Named], reduced, layers, pair: ConvPair) -> nm.Named | None:
        """sum(batch, e, d) a[e, batch, i] * nu_h[e, c] * mu_h[c, d] * a[d, batch, j], a kernel update whose
        two layers each carry a summed state axis of their own: the kernel update of every state e with every
        state d as one convolution (`convolution.kernel_gradients`), then the small sum over the states. With
        the mixing applied first it is one convolution per state c, each with its two layers transposed for
        XLA's kernel transpose, and a twin update (BLUR's wb, the same states read the other way) runs as many
        again; this one is the same for both, which XLA computes once. It computes e x d blocks where mixing
        first computes c per update, so it runs where e x d is at most twice c: blur.rule's whole step on
        benchmarks/conv_bench.py's network took 3.38 -> 3.02 times the hand-written step with k = 2, and
        6.2 -> 7.6 times with k = 4 (4 x 4 blocks against 2 x 4 convolutions)."""
        hosts = [t for t in arrays if BATCH in t.axes]
        if BATCH not in reduced or len(hosts) != 2:
            return None
        for patches, post in (hosts, hosts[::-1]):
            found = self.view(patches)
            states = [a for a in post.axes if a != BATCH and a not in layers]
            if (found is None or found.fill is not None or found.bias is not None or found.pair != pair
                    or len(patches.axes) != 3 or len(post.axes) != 3 or len(states) != 1):
                continue
            (mine, _, pre), (theirs,) = patches.axes, states
            index = next(a for a in post.axes if a not in (BATCH, theirs))
            rest = [t for t in arrays if t is not patches and t is not post]
            kept = {a: t.size(a) for t in rest for a in t.axes if a not in reduced}
            if (len({mine, theirs, pre, index}) == 4 and {mine, theirs} <= set(reduced)
                    and patches.size(mine) * post.size(theirs) <= 2 * math.prod(kept.values())):
                cross = convolution.kernel_gradients(found.source, nm.align(post, (theirs, BATCH, index)),
                                                     pair)
                return contraction.contract([nm.Named(cross, (mine, theirs, pre, index))] + rest,
                                            tuple(a for a in reduced if a != BATCH), layers, "mix")
        return None

    def forward(self, patches: nm.Named, found: View, weights: nm.Named, reduced) -> nm.Named | None:
        """sum(i) w[groups, i, j] * a[groups, batch, i]."""
        pre, groups = patches.axes[-1], patches.axes[:-2]
        free = [a for a in weights.axes if a not in groups and a != pre]
        if (tuple(reduced) != (pre,) or len(free) != 1
                or not set(groups) <= set(weights.axes)):
            return None
        kernel = nm.align(weights, groups + (pre, free[0]))
        out = _mapped(lambda s, k: convolution.convolve(s, k, found.pair), len(groups))(found.source, kernel)
        return nm.Named(out, groups + (BATCH, free[0]))

    def kernel_update(self, patches: nm.Named, found: View, post: nm.Named, reduced) -> nm.Named | None:
        """sum(batch) a[groups, batch, i] * a[groups, batch, j]."""
        pre, groups = patches.axes[-1], patches.axes[:-2]
        free = [a for a in post.axes if a not in groups and a != BATCH]
        if (tuple(reduced) != (BATCH,) or len(free) != 1 or free[0] == pre
                or set(post.axes) != set(groups) | {BATCH, free[0]}):
            return None
        cotangent = nm.align(post, groups + (BATCH, free[0]))
        out = _mapped(lambda s, d: convolution.kernel_gradient(s, d, found.pair), len(groups))(found.source,
                                                                                               cotangent)
        return nm.Named(out, groups + (pre, free[0]))

    def transposed(self, weights: nm.Named, post: nm.Named, reduced, pair: ConvPair, transposes) -> nm.Named | None:
        """sum(j) w[groups, i, j] * a[groups, batch, j], already summed over the patches (see `View.folded`)."""
        pre, index = transposes
        groups = tuple(a for a in post.axes if a not in (BATCH, index))
        if (tuple(reduced) != (index,) or pre in post.axes or set(weights.axes) != set(groups) | {pre, index}
                or weights.size(pre) != pair.receptive_field):
            return None
        kernel = nm.align(weights, groups + (pre, index))
        cotangent = nm.align(post, groups + (BATCH, index))
        out = _mapped(lambda k, d: convolution.convolve_transposed(k, d, pair), len(groups))(kernel, cotangent)
        return nm.Named(self.cut(View(out, pair, None, folded=True)), groups + (BATCH, pre))


def _mapped(fn: Callable, depth: int) -> Callable:
    """`fn` mapped over `depth` leading axes of both its arguments, as one convolution per group, stacked: on
    the CPU, a vmapped convolution (a grouped one) measured 2.5 to 24 times slower on the two convolutions of
    benchmarks/conv_bench.py with two states (docs/compiler.md)."""
    def mapped(left, right):
        lead = left.shape[:depth]
        count = math.prod(lead)
        lefts = jnp.reshape(left, (count,) + left.shape[depth:])
        rights = jnp.reshape(right, (count,) + right.shape[depth:])
        out = jnp.stack([fn(lefts[g], rights[g]) for g in range(count)])
        return jnp.reshape(out, lead + out.shape[1:])
    return mapped if depth else fn
