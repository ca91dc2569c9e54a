"""The JAX lowering: the IR as one pure step function (jax_step.py), and how contractions are formed."""
