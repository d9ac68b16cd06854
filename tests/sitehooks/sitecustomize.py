"""Test hooks for zslbench processes the tests start (and for the test process itself).

Python imports `sitecustomize` at start-up from the first folder on sys.path that has one, so
a process started with this folder on PYTHONPATH (see tests/helpers.py: `hooked_env`) runs the
code below; processes it spawns (sweep workers) inherit the variable and run it too.  Nothing
happens unless one of these variables is set:

ZSLBENCH_TEST_CPU_VENDOR   zslbench.environment reports this CPU vendor (and a CPU model that
                           names it): how the tests are run as on a machine of another vendor,
                           e.g. ``ZSLBENCH_TEST_CPU_VENDOR=AuthenticAMD PYTHONPATH=tests/sitehooks
                           pytest``.
ZSLBENCH_TEST_MARKS        a folder: the first step of each optimizer writes a file
                           ``start-<n>`` there (n = 0, 1, ... across all processes, in the order
                           the training loops begin), so a test waits for "a run is training"
                           on a file instead of a delay.
ZSLBENCH_TEST_HOLD         with ZSLBENCH_TEST_MARKS: comma-separated loop numbers; those loops
                           stop at their first step until the process is signalled or killed.
"""

import os


def _fake_vendor(vendor: str) -> None:
    from zslbench import environment

    real = environment._cpuinfo

    def cpuinfo() -> dict:
        info = dict(real())
        info["vendor"] = vendor
        info["model"] = f"{vendor} test CPU"
        return info

    environment._cpuinfo = cpuinfo


def _marks(folder: str, hold: set[int]) -> None:
    import time

    from torch.optim.optimizer import register_optimizer_step_pre_hook

    seen: set[int] = set()

    def first_step(optimizer, args, kwargs):
        if id(optimizer) in seen:
            return
        seen.add(id(optimizer))
        n = 0
        while True:  # the next free number, claimed atomically across processes
            try:
                fd = os.open(os.path.join(folder, f"start-{n}"), os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                n += 1
                continue
            os.write(fd, f"{os.getpid()}\n".encode())
            os.close(fd)
            break
        if n in hold:
            while True:  # until a signal handler raises or the process is killed
                time.sleep(0.05)

    register_optimizer_step_pre_hook(first_step)


if os.environ.get("ZSLBENCH_TEST_CPU_VENDOR"):
    _fake_vendor(os.environ["ZSLBENCH_TEST_CPU_VENDOR"])
if os.environ.get("ZSLBENCH_TEST_MARKS"):
    _hold = os.environ.get("ZSLBENCH_TEST_HOLD", "")
    _marks(os.environ["ZSLBENCH_TEST_MARKS"], {int(n) for n in _hold.split(",") if n.strip()})
