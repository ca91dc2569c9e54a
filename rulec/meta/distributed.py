"""Joining a multi-process run on JAX's distributed runtime (one controller per process, as JAX runs on several
GPUs or hosts).

Every process runs the same `rulec meta-train` command with its own process id. `connect` calls
`jax.distributed.initialize` before anything else touches JAX; from then on `jax.devices()` lists the devices of
every process, and the population engine's mesh spans them all. Process 0 hosts the coordinator.

JAX's own failure on a missing coordinator or peer is a C++ abort with a stack trace, after its timeout. A
watchdog that fires first turns that into a message and exit status 1. A peer that dies later, mid-run, is caught
by the runtime's heartbeat within the same timeout: JAX ends every process, saying that another task died.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import sys
import threading

import jax

from rulec.data.errors import DataError

DEFAULT_TIMEOUT = 120  # seconds
# Cluster managers under which a bare `jax.distributed.initialize()` finds the coordinator, the process count and
# the process id by itself (JAX's SlurmCluster and OmpiCluster), each with its variable for the task count.
CLUSTER_TASK_COUNTS = {"SLURM": "SLURM_STEP_NUM_TASKS", "Open MPI": "OMPI_COMM_WORLD_SIZE"}


@dataclasses.dataclass(frozen=True)
class Cluster:
    """Where a process stands in a multi-process run. All None: ask the cluster manager (SLURM, Open MPI)."""
    coordinator: str | None = None  # HOST:PORT of process 0
    processes: int | None = None
    process_id: int | None = None
    timeout: int = DEFAULT_TIMEOUT

    def describe(self) -> str:
        if self.coordinator is None:
            return "the cluster manager's coordinator"
        return f"process {self.process_id} of {self.processes}, coordinator {self.coordinator}"


def detected_manager(environment=os.environ) -> str | None:
    """The cluster manager that launched this process as one task of several, if any."""
    for manager, variable in CLUSTER_TASK_COUNTS.items():
        if environment.get(variable, "").isdigit() and int(environment[variable]) > 1:
            return manager
    return None


def wanted(cluster: Cluster, environment=os.environ) -> bool:
    """Whether this run is one of several processes: flags say so, or a cluster manager started several tasks."""
    if cluster.coordinator is not None:
        return True
    return detected_manager(environment) is not None


def _give_up(cluster: Cluster) -> None:
    if cluster.process_id == 0:
        message = (f"not every one of the {cluster.processes} processes joined the coordinator at "
                   f"{cluster.coordinator} within {cluster.timeout} s")
        hint = (f"start processes 1 to {cluster.processes - 1} with --coordinator {cluster.coordinator} "
                f"--num-processes {cluster.processes} --process-id I, or give them longer with --distributed-timeout")
    else:
        message = f"could not join the multi-process run within {cluster.timeout} s ({cluster.describe()})"
        hint = ("start process 0 too (it hosts the coordinator); check the host name, the port and the firewall; "
                "or give it longer with --distributed-timeout")
    sys.stderr.write(f"error: {message}\n  hint: {hint}\n")
    sys.stderr.flush()
    os._exit(1)  # the main thread is blocked inside JAX's C++ connect, so no exception can reach it


class DistributedError(DataError):
    """A multi-process run that cannot start or go on. The command line reports it as it reports bad data: the
    message and a hint, then exit status 1."""


_joined: list[Cluster] = []  # the run this process joined, if any
_barrier_ids = itertools.count()


def connect(cluster: Cluster) -> None:
    """Joins the run described by `cluster`. Must come before any other use of JAX in this process."""
    _joined.append(cluster)
    jax.config.update("jax_cpu_collectives_implementation", "gloo")  # CPU processes exchange arrays over TCP
    watchdog = threading.Timer(cluster.timeout, _give_up, args=(cluster,))
    watchdog.daemon = True
    watchdog.start()
    try:
        # JAX's own deadline is later than the watchdog's, so that the user sees the watchdog's message.
        jax.distributed.initialize(cluster.coordinator, cluster.processes, cluster.process_id,
                                   initialization_timeout=2 * cluster.timeout + 10,
                                   heartbeat_timeout_seconds=cluster.timeout)
    except (RuntimeError, ValueError) as error:  # called too late, or a cluster manager with missing settings
        raise DistributedError(f"cannot start the multi-process run: {error}") from None
    finally:
        watchdog.cancel()
    if cluster.processes is not None:
        _refuse_other_counts(cluster)


def _refuse_other_counts(cluster: Cluster) -> None:
    """Every process must have been started with process 0's --num-processes. JAX takes process 0's count and
    lets a process that says otherwise join (2 and 3 both run to the end), so each process posts its own count
    through the coordinator and reads every other's."""
    from jax._src.distributed import global_state

    client, processes = global_state.client, jax.process_count()
    client.key_value_set(f"rulec/num-processes/{cluster.process_id}", str(cluster.processes))
    counts = {i: client.blocking_key_value_get(f"rulec/num-processes/{i}", cluster.timeout * 1000)
              for i in range(processes)}
    others = {i: count for i, count in counts.items() if count != str(processes)}
    if others:
        said = ", ".join(f"process {i} --num-processes {count}" for i, count in others.items())
        raise DistributedError(f"the processes disagree on how many they are: process 0 hosts a run of "
                               f"{processes}, and {said}", "start every process with the same --num-processes")


def is_leader() -> bool:
    """Process 0 writes the files; the others compute alongside it and stay quiet."""
    return jax.process_index() == 0


def synchronise(what: str) -> None:
    """Waits until every process of the run gets here, through the coordinator rather than the collectives.

    Gloo gives a process 30 s, which cannot be changed, to meet the others at the first collective of a program,
    and compiling a program can take one process longer than that more than another on a busy machine. So every
    process compiles first, then meets the others here, with the run's own timeout. A no-op in one process."""
    if jax.process_count() == 1:
        return
    from jax._src.distributed import global_state

    timeout = _joined[-1].timeout if _joined else DEFAULT_TIMEOUT
    try:
        global_state.client.wait_at_barrier(f"rulec-{next(_barrier_ids)}", timeout * 1000)
    except Exception as error:  # the runtime's own error type; its message names the missing processes
        raise DistributedError(f"not every process reached {what} within {timeout} s ({error})",
                               "a process may have died or be far slower; give it longer with "
                               "--distributed-timeout") from None
