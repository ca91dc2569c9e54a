"""Joining a multi-process run on JAX's distributed runtime (one controller per process, as JAX runs on several
GPUs or hosts).

Every process runs the same `rulec meta-train` command with its own process id. `joined` calls
`jax.distributed.initialize` before anything else touches JAX; from then on `jax.devices()` lists the devices of
every process, and the population engine's mesh spans them all. Process 0 hosts the coordinator.

JAX's C++ runtime ends a process with an abort (exit status 134) on any failure it detects by itself: a missing
coordinator or peer, a task id that connects twice, a peer that stops sending heartbeats. Its Python binding gives
no way to replace that ending (a Python callback cannot receive its status). So rulec finds each failure first,
and ends with a message and exit status 1:
* before connecting: a process id already taken on this machine, a coordinator port that process 0 cannot bind,
  a host name that does not resolve;
* while connecting: a watchdog that fires before JAX's own deadline;
* mid-run: a peer that died breaks the collectives' connections at once, and rulec's own barriers wait the run's
  timeout, while JAX's heartbeat deadline is set later than both.
A lost peer ends the process without the interpreter's teardown, where JAX's shutdown would wait for the dead
peer and then abort.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import itertools
import os
import re
import socket
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import jax

from rulec.data.errors import DataError
from rulec.diagnostics import RuleError
from rulec.runtime.lock import holding

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


class LostPeer(DistributedError):
    """A process of the run died or stopped answering. The process that finds it ends without the interpreter's
    teardown, where JAX's shutdown would wait for the lost process and then abort. (Every other DistributedError
    goes through the teardown, whose shutdown lets the processes that are still running leave together.)"""
    skips_teardown = True


_joined: list[Cluster] = []  # the run this process joined, if any
_barrier_ids = itertools.count()


@contextlib.contextmanager
def joined(cluster: Cluster) -> Iterator[None]:
    """Joins the run described by `cluster`, if it is one of several processes, for the duration of the block;
    a collective broken mid-run by a peer that died becomes a DistributedError. Must come before any other use of
    JAX in this process."""
    if not wanted(cluster):
        yield
        return
    connect(cluster)
    try:
        yield
    except (RuntimeError, ValueError) as error:  # JAX's runtime errors are ValueErrors; Gloo names itself
        if "Gloo" not in str(error):
            raise
        raise LostPeer(f"another process of the run died or lost its connection ({error})",
                               "the last checkpoint is whole: start every process again with --resume") from None


def _refuse_what_jax_would_abort_on(cluster: Cluster) -> None:
    """What JAX's connect turns into an abort or a wait of the whole timeout, found beforehand where this machine
    can tell: a process id that another process here already runs as, a port process 0 cannot listen on (JAX
    listens on every interface), a coordinator host name that does not resolve."""
    host, _, port = cluster.coordinator.rpartition(":")
    try:
        socket.getaddrinfo(host.strip("[]"), int(port))
    except (OSError, UnicodeError) as error:
        raise DistributedError(f"cannot find the coordinator's host {host!r}: {error}",
                               "give --coordinator the host name or address of process 0's machine") from None
    if cluster.process_id == 0:
        dual = socket.has_dualstack_ipv6()
        try:  # with SO_REUSEADDR, as JAX's server: a port left by a run that just ended is free
            socket.create_server(("", int(port)), family=socket.AF_INET6 if dual else socket.AF_INET,
                                 dualstack_ipv6=dual).close()
        except OSError as error:
            raise DistributedError(f"process 0 cannot host the coordinator on port {port}: "
                                   f"{error.strerror or error}",
                                   "choose a free port for --coordinator (another run may hold this one)") from None
    try:
        _held.enter_context(holding([process_id_lock(cluster)]))
    except RuleError as error:
        if error.diagnostics[0].code != "locked":
            raise
        raise DistributedError(f"another process on this machine already runs as process {cluster.process_id} "
                               f"of the run at {cluster.coordinator}",
                               f"give every process its own --process-id, from 0 to {cluster.processes - 1}"
                               ) from None


def process_id_lock(cluster: Cluster) -> Path:
    """The path whose lock a process holds while it runs as `cluster.process_id` of the run at
    `cluster.coordinator` on this machine."""
    place = re.sub(r"[^A-Za-z0-9.-]", "_", cluster.coordinator or "")
    return Path(tempfile.gettempdir()) / f"rulec-{place}-process-{cluster.process_id}"


_held = contextlib.ExitStack()  # the lock on this process's id, held until the process ends
atexit.register(_held.close)  # removes its file on a normal exit; after os._exit the kernel still releases it


def connect(cluster: Cluster) -> None:
    """Joins the run described by `cluster`. Must come before any other use of JAX in this process."""
    if cluster.coordinator is not None:
        _refuse_what_jax_would_abort_on(cluster)
    _joined.append(cluster)
    jax.config.update("jax_cpu_collectives_implementation", "gloo")  # CPU processes exchange arrays over TCP
    # JAX's preemption service catches SIGTERM and lets the process run on, for sync points rulec does not use:
    # without it, `kill` (or a scheduler's cancel) ends a process of the run as it ends a run of one.
    jax.config.update("jax_enable_preemption_service", False)
    watchdog = threading.Timer(cluster.timeout, _give_up, args=(cluster,))
    watchdog.daemon = True
    watchdog.start()
    try:
        # JAX's own deadlines are later than the watchdog's and rulec's barriers', so that the user sees rulec's
        # message rather than JAX's abort.
        jax.distributed.initialize(cluster.coordinator, cluster.processes, cluster.process_id,
                                   initialization_timeout=2 * cluster.timeout + 10,
                                   heartbeat_timeout_seconds=2 * cluster.timeout + 10)
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
        raise LostPeer(f"not every process reached {what} within {timeout} s ({error})",
                               "a process may have died or be far slower; give it longer with "
                               "--distributed-timeout") from None
