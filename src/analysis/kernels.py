"""The kernels the pack runs notebooks in: started fresh for each notebook, or kept alive and
reused for pack after pack in a batch.

A fresh kernel per notebook costs a kernel start and every import again (pandas, matplotlib,
statsmodels, the ``analysis`` package: about 2 s of CPU per notebook). A batch that runs the
same notebooks for many councils instead keeps one kernel per notebook in each worker process
(:class:`KernelPool`) and hands it to papermill (``km=``), which nbclient then neither starts
nor shuts down. Before each run the kept kernel's namespace is cleared (IPython's
``reset(new_session=True)``: every variable, the output history and the execution counter)
and every matplotlib figure closed, so nothing one council's run defined is visible to the
next; the modules it imported stay loaded, which is the saving. A kernel that fails to reset,
dies, or ran a notebook that failed or timed out is shut down and replaced by a fresh one.

Kernels talk over Unix sockets with unique names (:class:`IPCKernelManager`) rather than TCP,
so parallel kernels cannot collide on ports (papermill #511), and they exit by themselves if
the process that started them dies (ipykernel watches its parent).

The pack's papermill engine (:data:`PACK_ENGINE`) writes the executed notebook when a run
starts and once when it ends, failed or not, instead of after every cell: each write encodes
every output so far, charts included, which cost about 3.5 s of CPU per pack of four
notebooks.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
import uuid
from collections.abc import Mapping
from pathlib import Path

import nbformat
import papermill
from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from papermill.engines import NBClientEngine, papermill_engines
from papermill.utils import nb_kernel_name
from traitlets import default

#: The papermill engine the pack runs notebooks with (registered when this module loads).
PACK_ENGINE = "csc-pack"
#: Seconds a kept kernel may take to answer and clear its namespace before it is replaced.
RESET_TIMEOUT_S = 30
#: Seconds a new kernel may take to start.
START_TIMEOUT_S = 60
#: IPython history kept in memory, as nbclient does for the kernels it starts: a history file
#: on disk would be shared, and locked, by every kernel.
KERNEL_ARGUMENTS = ("--HistoryManager.hist_file=:memory:",)

#: Run in a kept kernel before each notebook. No forced garbage collection: with pandas,
#: matplotlib and statsmodels loaded one costs about 0.1 s, and Python's own collector frees
#: the closed figures' cycles anyway.
_RESET_CODE = """\
import os as _os, sys as _sys
_os.chdir({cwd!r})
if "matplotlib.pyplot" in _sys.modules:
    _sys.modules["matplotlib.pyplot"].close("all")
get_ipython().reset(new_session=True)
"""


class IPCKernelManager(AsyncKernelManager):
    """A kernel manager whose kernels talk over Unix sockets with unique names.

    Parallel kernels over TCP can race for the same port (papermill #511). The default IPC
    socket name is relative to the working directory and numbered from 1, so two kernels would
    share it; each kernel here gets its own absolute name in the temporary folder, removed
    when the kernel shuts down.
    """

    @default("transport")
    def _default_transport(self) -> str:
        return "ipc"

    @default("ip")
    def _default_ip(self) -> str:
        return os.path.join(tempfile.gettempdir(), f"csc-kernel-{uuid.uuid4().hex[:16]}")


def _manager_class() -> type[AsyncKernelManager]:
    # Unix sockets need a POSIX system; elsewhere kernels use jupyter's default, TCP.
    return KeptKernelManager if os.name == "posix" else _KeptTcpKernelManager


class _ClientTracking:
    """Remembers the clients made for a kept kernel, so each run's can be closed after it.

    nbclient leaves open the client of a kernel it does not own; left open, each would go on
    receiving every later run's output.
    """

    def client(self, **kwargs: object) -> AsyncKernelClient:
        made = super().client(**kwargs)  # type: ignore[misc]
        self.__dict__.setdefault("_open_clients", []).append(made)
        return made

    def close_clients(self) -> None:
        """Stop the channels of every client made since the last call."""
        clients = self.__dict__.setdefault("_open_clients", [])
        while clients:
            clients.pop().stop_channels()


class KeptKernelManager(_ClientTracking, IPCKernelManager):
    """An IPC kernel kept alive between notebook runs."""


class _KeptTcpKernelManager(_ClientTracking, AsyncKernelManager):
    """A TCP kernel kept alive between notebook runs (where Unix sockets are not available)."""


class _SaveAtEndsEngine(NBClientEngine):
    """papermill's nbclient engine, writing the executed notebook only as a run starts and
    ends, not after every cell.

    A run that completes is written once at its end, by ``papermill.execute_notebook`` (which
    also marks a cell that raised); the engine's own end step writes only when the run stopped
    otherwise (a cell timed out, the kernel died), so the cell reached is still in the file.
    Each write of a full notebook encodes every chart again.
    """

    @classmethod
    def execute_managed_notebook(cls, nb_man, kernel_name, **kwargs):  # noqa: ANN001, ANN206
        output_path, nb_man.output_path = nb_man.output_path, None
        try:
            return super().execute_managed_notebook(nb_man, kernel_name, **kwargs)
        except BaseException:
            nb_man.output_path = output_path
            raise


papermill_engines.register(PACK_ENGINE, _SaveAtEndsEngine)


async def _start(manager: AsyncKernelManager, cwd: str) -> None:
    await manager.start_kernel(cwd=cwd, extra_arguments=list(KERNEL_ARGUMENTS))


async def _reset(manager: AsyncKernelManager, cwd: str, timeout_s: float) -> bool:
    """Clear a kept kernel's namespace; ``False`` when it is dead or did not answer cleanly."""
    if not await manager.is_alive():
        return False
    client = manager.client()
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=timeout_s)
        reply = await client.execute_interactive(
            _RESET_CODE.format(cwd=cwd),
            silent=True,
            store_history=False,
            allow_stdin=False,
            timeout=timeout_s,
        )
    finally:
        manager.close_clients()
    return reply["content"]["status"] == "ok"


async def _shutdown(manager: AsyncKernelManager) -> None:
    if await manager.is_alive():
        await manager.shutdown_kernel(now=True)
    else:
        await manager.cleanup_resources()


class KernelPool:
    """One kernel per notebook, kept alive for run after run of that notebook.

    Use it from one thread (the kernels' sockets belong to that thread's event loop) and
    :meth:`close` it when done; kernels left behind exit when this process does.
    """

    def __init__(self) -> None:
        self._kernels: dict[Path, AsyncKernelManager] = {}
        self.thread = threading.get_ident()

    def __len__(self) -> int:
        return len(self._kernels)

    def process_ids(self) -> dict[str, int]:
        """The process id of each kept kernel, by notebook file name (for monitoring)."""
        return {
            notebook.name: manager.provisioner.pid
            for notebook, manager in self._kernels.items()
            if manager.provisioner is not None
        }

    def ready(self, notebook: Path) -> AsyncKernelManager:
        """Return ``notebook``'s kernel with a cleared namespace, starting one if it has none
        or its kernel cannot be cleared (dead, or not answering)."""
        key = Path(notebook).resolve()
        manager = self._kernels.get(key)
        if manager is not None:
            try:
                cleared = run_sync(_reset)(manager, str(key.parent), RESET_TIMEOUT_S)
            except Exception:  # a dead or wedged kernel is replaced, whatever the error
                cleared = False
            if cleared:
                return manager
            self.discard(notebook)
        name = nb_kernel_name(nbformat.read(key, as_version=4))
        manager = _manager_class()(kernel_name=name)
        run_sync(_start)(manager, str(key.parent))
        self._kernels[key] = manager
        return manager

    def finished(self, notebook: Path) -> None:
        """Close the clients of a run of ``notebook``; its kernel stays alive."""
        manager = self._kernels.get(Path(notebook).resolve())
        if manager is not None:
            manager.close_clients()

    def discard(self, notebook: Path) -> None:
        """Shut down ``notebook``'s kernel (the next run starts a fresh one)."""
        manager = self._kernels.pop(Path(notebook).resolve(), None)
        if manager is None:
            return
        manager.close_clients()
        with contextlib.suppress(Exception):  # already dead: nothing left to stop
            run_sync(_shutdown)(manager)

    def close(self) -> None:
        """Shut down every kernel."""
        for notebook in list(self._kernels):
            self.discard(notebook)


def execute_notebook(
    notebook: Path,
    executed_path: Path,
    parameters: Mapping[str, object],
    timeout_s: int,
    kernels: KernelPool | None = None,
) -> nbformat.NotebookNode:
    """Run a notebook with papermill, writing the executed copy to ``executed_path``.

    Parameters
    ----------
    notebook, executed_path
        The notebook and where its executed copy goes.
    parameters
        Injected after its ``parameters`` cell.
    timeout_s
        Seconds one cell may run.
    kernels
        Kept kernels to run in; ``None`` starts a fresh kernel and shuts it down after. A kept
        kernel whose run fails is replaced, since a timed-out cell may still be running in it.

    Returns
    -------
    nbformat.NotebookNode
        The executed notebook, as written.

    Raises
    ------
    papermill.exceptions.PapermillExecutionError
        When a cell raises (the executed copy is still written, with the error shown).
    Exception
        From nbclient when a cell times out or the kernel dies.
    """
    # Kernels inherit this process's environment. With OpenBLAS's default threads each tiny
    # statsmodels fit spreads over both cores and fights the other job of a batch (measured
    # about ten times slower), so kernels run single-threaded BLAS unless the user chose.
    for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        os.environ.setdefault(variable, "1")
    if kernels is None:
        kernel: dict[str, object] = {
            "kernel_manager_class": (
                IPCKernelManager if os.name == "posix" else AsyncKernelManager
            ),
            "shutdown_kernel": "immediate",
        }
    else:
        kernel = {"km": kernels.ready(notebook)}
    try:
        return papermill.execute_notebook(
            str(notebook),
            str(executed_path),
            parameters=dict(parameters),
            cwd=str(notebook.parent),
            engine_name=PACK_ENGINE,
            progress_bar=False,
            log_output=False,
            execution_timeout=timeout_s,
            **kernel,
        )
    except BaseException:
        if kernels is not None:
            kernels.discard(notebook)
        raise
    finally:
        if kernels is not None:
            kernels.finished(notebook)
