"""A throw-away single-node SLURM cluster on 127.0.0.1 (munged, slurmctld, slurmd).

Used by tests/test_slurm.py, and runnable by hand to try the slurm executor:

    python tests/slurm_cluster.py -- zslbench run --all --profile quick --executor slurm ...

starts the cluster, runs the command with SLURM_CONF pointing at it, and stops the daemons.
Needs root and the Debian packages slurmctld, slurmd, slurm-client and munge.  Everything lives
in a temporary folder (config, state, logs, the munge socket); nothing under /etc is written.
The daemons are children of this process and are stopped by PID.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BINARIES = ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "sinfo")


def missing_requirements() -> str | None:
    """Why a cluster cannot start here, or None."""
    if os.name != "posix" or os.geteuid() != 0:
        return "needs root (slurmd and munged run as root/munge)"
    missing = [b for b in BINARIES if shutil.which(b) is None and not Path("/usr/sbin", b).exists()]
    if missing:
        return (
            "SLURM/munge binaries missing: " + ", ".join(missing) + " (apt-get install slurmctld slurmd "
            "slurm-client munge)"
        )
    try:
        pwd.getpwnam("munge")
    except KeyError:
        return "no 'munge' user (install the munge package)"
    if not Path("/etc/munge/munge.key").exists():
        return "no /etc/munge/munge.key (install the munge package)"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _exe(name: str) -> str:
    return shutil.which(name) or str(Path("/usr/sbin") / name)


CONF = """ClusterName=zslbenchci
SlurmctldHost=localhost(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket={munge_socket}
CredType=cred/munge
SlurmctldPort={ctld_port}
SlurmdPort={d_port}
StateSaveLocation={tmp}/state
SlurmdSpoolDir={tmp}/spool
SlurmctldPidFile={tmp}/slurmctld.pid
SlurmdPidFile={tmp}/slurmd.pid
SlurmctldLogFile={tmp}/slurmctld.log
SlurmdLogFile={tmp}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
NodeName=localhost NodeAddr=127.0.0.1 CPUs={cpus} RealMemory=4000 State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
"""


@contextlib.contextmanager
def local_slurm_cluster(cpus: int = 2, timeout: float = 60):
    """Start the cluster; yield the environment (SLURM_CONF) to use it; stop it by PID."""
    why = missing_requirements()
    if why:
        raise RuntimeError(why)
    tmp = Path(tempfile.mkdtemp(prefix="zslbench-slurm-", dir="/tmp"))
    os.chmod(tmp, 0o755)  # munged (user munge) must reach its socket folder
    munge_dir = tmp / "munge"
    munge_dir.mkdir()
    shutil.chown(munge_dir, "munge", "munge")
    os.chmod(munge_dir, 0o755)
    for sub in ("state", "spool"):
        (tmp / sub).mkdir()
    sock = munge_dir / "munge.socket"
    conf = tmp / "slurm.conf"
    conf.write_text(CONF.format(tmp=tmp, munge_socket=sock, ctld_port=_free_port(), d_port=_free_port(), cpus=cpus))
    env = dict(os.environ, SLURM_CONF=str(conf))
    procs: list[subprocess.Popen] = []
    try:
        procs.append(
            subprocess.Popen(
                [
                    "runuser",
                    "-u",
                    "munge",
                    "--",
                    _exe("munged"),
                    "--foreground",
                    f"--socket={sock}",
                    f"--pid-file={munge_dir}/munged.pid",
                    f"--seed-file={munge_dir}/munged.seed",
                    f"--log-file={munge_dir}/munged.log",
                ],
                stdout=subprocess.DEVNULL,
                stderr=open(tmp / "munged.err", "wb"),
            )
        )
        _wait(lambda: sock.exists(), timeout, f"munged did not start (see {tmp}/munged.err)")
        procs.append(
            subprocess.Popen(
                [_exe("slurmctld"), "-D", "-i"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=open(tmp / "slurmctld.err", "wb"),
            )
        )
        procs.append(
            subprocess.Popen(
                [_exe("slurmd"), "-D", "-N", "localhost"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=open(tmp / "slurmd.err", "wb"),
            )
        )

        def idle() -> bool:
            for p in procs:
                if p.poll() is not None:
                    raise RuntimeError(f"{p.args[0]} exited with {p.returncode}; logs in {tmp}")
            out = subprocess.run(["sinfo", "-h", "-o", "%T"], env=env, capture_output=True, text=True)
            return out.returncode == 0 and out.stdout.strip() == "idle"

        _wait(idle, timeout, f"the SLURM node did not become idle (logs in {tmp})")
        yield env
    finally:
        for p in reversed(procs):  # slurmd, slurmctld, munged: by PID, then wait
            if p.poll() is None:
                p.terminate()
        for p in reversed(procs):
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        if os.environ.get("ZSLBENCH_KEEP_SLURM_LOGS"):
            print(f"SLURM logs kept in {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def _wait(cond, timeout: float, message: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.3)
    raise RuntimeError(message)


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["--"]:
        args = args[1:]
    if not args:
        sys.exit("usage: python tests/slurm_cluster.py -- COMMAND...")
    with local_slurm_cluster() as cluster_env:
        print("SLURM cluster up (SLURM_CONF=" + cluster_env["SLURM_CONF"] + ")", file=sys.stderr, flush=True)
        code = subprocess.run(args, env=cluster_env).returncode
    sys.exit(code)
