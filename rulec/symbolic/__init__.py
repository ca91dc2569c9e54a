"""Stage 4: SymPy. Proofs of `prove` statements, gradient-field analysis, genome specialisation and LaTeX."""

from __future__ import annotations

from rulec import losses
from rulec.check import CheckedRule
from rulec.diagnostics import Diagnostic, RuleError, Span
from rulec.ir import nodes as ir
from rulec.ir import resolve
from rulec.ir.named import REDUCTIONS
from rulec.syntax import ast
from rulec.symbolic.proofs import ProofResult, prove_sgd
from rulec.symbolic.time_limit import TimeLimitExceeded, cpu_time_limit

_RESIDUAL_SHOWN = 400  # characters of a residual printed in a failed proof
# CPU seconds one `prove` statement may take. A proof of a loop-free rule takes about a second; one over a
# relaxation loop unrolls it, and each iteration nests the expressions of the last (20 s to 1 min for two
# iterations of a settling network, unbounded beyond).
PROOF_SECONDS = 60.0


def too_deep(span: Span, task: str) -> Diagnostic:
    """SymPy differentiates and simplifies nested calls recursively, some eight Python frames a level, so a rule
    within the parser's nesting limit can still exhaust Python's recursion limit here."""
    return Diagnostic(span, f"this rule nests too deeply for SymPy to {task}",
                      "SymPy manages about 60 nested calls; `rulec check --no-prove` checks the rule without "
                      "proving it", "sympy-too-deep")


def prove_all(checked: CheckedRule) -> list[ProofResult]:
    """Proves every `prove` statement of a rule.

    Raises:
        RuleError: located at each statement that does not hold, naming the weight, the residual and a numeric
            counter-example.
    """
    program = resolve(checked)
    if checked.rule.proofs:
        refuse_what_sympy_cannot_read(program, "prove this rule")
    results, errors = [], []
    for statement in checked.rule.proofs:
        try:
            with cpu_time_limit(PROOF_SECONDS):
                result = prove_sgd(program, statement)
        except RecursionError:
            errors.append(too_deep(statement.span, "prove it"))
            continue
        except TimeLimitExceeded:
            errors.append(_timeout(statement.span, checked))
            continue
        results.append(result)
        if not result.proved:
            errors.append(_failure_diagnostic(statement, result))
    if errors:
        raise RuleError(errors)
    return results


def _timeout(span: Span, checked: CheckedRule) -> Diagnostic:
    """A proof past PROOF_SECONDS; the hint names the loops' dims that make it long, if any."""
    counts = [loop.count.id for loop in checked.rule.loops if isinstance(loop.count, ast.Name)]
    if checked.rule.loops:
        hint = ("a proof unrolls each relaxation loop symbolically, and every iteration nests the last: prove it "
                "with fewer iterations" + (f", as with `--set {counts[0]}=1`" if counts else "")
                + ", or skip the proofs with `rulec check --no-prove`")
    else:
        hint = "`rulec check --no-prove` checks the rule without proving it"
    return Diagnostic(span, f"this proof did not finish within {PROOF_SECONDS:g} s of CPU time", hint,
                      "proof-timeout")


def refuse_what_sympy_cannot_read(program, task: str) -> None:
    """Comparisons, `maximum`, `minimum` and the max, logsumexp and softmax reductions have no generic SymPy
    reading (the reference interpreter would compare symbols): a rule that uses them is refused where it first
    uses one. `task` says what was asked, as in "prove it"."""
    for phase in program.phases:
        for statement in phase.statements:
            for e in ir.walk(statement.value):
                if isinstance(e, ir.Pairwise) or (isinstance(e, ir.Reduce) and e.kind.value in REDUCTIONS):
                    raise RuleError([Diagnostic(
                        e.span, f"SymPy cannot {task}: it does not read comparisons of values, `maximum`, "
                        "`minimum`, `max`, `logsumexp` or `softmax`",
                        "the rule still checks, trains and compiles; `rulec check --no-prove` skips its proofs",
                        "sympy-unsupported")])


def _failure_diagnostic(statement, result: ProofResult) -> Diagnostic:
    failure = result.failure
    residual = str(failure.residual)
    if len(residual) > _RESIDUAL_SHOWN:
        residual = residual[:_RESIDUAL_SHOWN] + " ..."
    message = (f"cannot prove {result.claim}: the update of weight {failure.weight} is not -lr * dL/dw "
               f"(network {'-'.join(map(str, result_shape(result)))}, batch {result.batch})")
    hint = (f"update + lr * dL/dw simplifies to {residual}\n"
            f"  counter-example: at {failure.point}, the rule changes {failure.weight} by {failure.rule_update:.6g}"
            f" where gradient descent changes it by {failure.gradient_step:.6g}")
    return Diagnostic(statement.span, message, hint, "proof-failed")


def result_shape(result: ProofResult):
    return result.failing_shape or result.shapes[0]


def summary(result: ProofResult) -> str:
    shapes = " and ".join("-".join(map(str, s)) for s in result.shapes)
    return (f"proved {result.claim}: every weight update equals -lr * dL/dw of {losses.summed(result.loss)}, on "
            f"networks {shapes} (batch {result.batch}, symbolic weights, biases, inputs and targets, any "
            f"differentiable activation) in {result.seconds:.2f} s")
