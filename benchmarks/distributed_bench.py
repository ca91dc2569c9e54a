"""Multi-process meta-training speed on this machine's CPU: steps per second of one `rulec meta-train` run as one
process, and as two processes on JAX's distributed runtime (gloo collectives over localhost).

Run: python benchmarks/distributed_bench.py [--method cmaes] [--steps 12]

The fixed small configuration: blur.rule with k = 2, a 2-20-2 network on xor, population 16, 10 inner batches of
64 and 5 held-out batches. Each configuration is launched as fresh processes, one configuration after the other
from this script; its rate is taken from the run's log over the steps that neither compile (the first two) nor
meta-validate (the last). Configurations:
  1 process x 1 CPU device, 1 process x 2 CPU devices, 2 processes x 1 CPU device each.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RULE = ROOT / "stdlib_rules" / "blur.rule"
CONFIGURATIONS = ((1, 1), (1, 2), (2, 1))  # (processes, CPU devices per process)


def command(method: str, steps: int, output: Path) -> list[str]:
    return [sys.executable, "-m", "rulec", "meta-train", str(RULE), "--set", "k=2", "--method", method,
            "--data", "xor", "--layers", "20", "--population", "16", "--batch", "64", "--unroll", "10",
            "--eval-batches", "5", "--steps", str(steps), "--eval-every", str(steps), "-o", str(output)]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("localhost", 0))
        return probe.getsockname()[1]


def steps_per_second(method: str, steps: int, processes: int, devices: int, directory: Path) -> float:
    output = directory / f"{processes}x{devices}.npz"
    environment = dict(os.environ, JAX_PLATFORMS="cpu", PYTHONPATH=str(ROOT),
                       XLA_FLAGS=f"--xla_force_host_platform_device_count={devices}")
    cluster = [] if processes == 1 else ["--coordinator", f"localhost:{free_port()}", "--num-processes",
                                         str(processes)]
    runs = [subprocess.Popen(command(method, steps, output) + (cluster + ["--process-id", str(i)] if cluster else []),
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=environment)
            for i in range(processes)]
    for run in runs:
        _, err = run.communicate()
        if run.returncode != 0:
            sys.exit(f"the run {processes}x{devices} failed:\n{err}")
    seconds = [r["seconds"] for r in json.loads(output.with_suffix(".log.json").read_text())["history"]]
    return (len(seconds) - 3) / (seconds[-2] - seconds[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--method", default="cmaes", help="cmaes or grad")
    parser.add_argument("--steps", type=int, default=40, help="meta-steps per run (at least 4)")
    args = parser.parse_args()
    rates = {}
    with tempfile.TemporaryDirectory() as directory:
        for processes, devices in CONFIGURATIONS:
            rates[processes, devices] = steps_per_second(args.method, args.steps, processes, devices, Path(directory))
    base = rates[CONFIGURATIONS[0]]
    print(f"{args.method}, blur k=2, 2-20-2 on xor, population 16, unroll 10, {args.steps} steps, {os.cpu_count()} "
          "CPU cores")
    for (processes, devices), rate in rates.items():
        label = f"{processes} process{'es' if processes > 1 else ''} x {devices} device{'s' if devices > 1 else ''}"
        print(f"  {label + ':':26} {rate:6.1f} steps/s  ({rate / base:.2f}x)")


if __name__ == "__main__":
    main()
