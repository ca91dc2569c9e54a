# Sourced by benchmarks/gpu.sh and reproductions/gpu.sh: makes `python3` a JAX that sees a CUDA GPU.
#
# It installs rulec with CUDA-enabled JAX into a fresh virtual environment (skipped when `jax` already sees a
# GPU) and checks that JAX found the GPU. Wheels for packages the machine cannot download (lark, for example)
# can be put in ./wheels and are installed from there first.
if ! python3 -c "import jax, sys; sys.exit(0 if jax.default_backend() == 'gpu' else 1)" 2>/dev/null; then
  python3 -m venv .venv-gpu
  . .venv-gpu/bin/activate
  if [ -d wheels ]; then pip install --no-index --find-links wheels wheels/*.whl || true; fi
  pip install "jax[cuda12]" .
fi
python3 -c "import jax; assert jax.default_backend() == 'gpu', jax.devices(); print('JAX devices:', jax.devices())"
