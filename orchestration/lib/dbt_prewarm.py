"""A dbt process started at the beginning of a run, so that importing dbt (~6 s of one core
here) overlaps extraction instead of delaying the build.

dagster-dbt runs dbt as a subprocess it starts itself (`dbt_executable`). The bridge names
`bridge-dbt` as that executable: a small launcher that hands its arguments, environment,
working directory and standard streams (SCM_RIGHTS over a Unix socket) to the waiting
process, which then *is* dbt for that one invocation, writing its JSON log straight into
dagster-dbt's pipe. The launcher relays signals to it and exits with its exit code. With no
waiting process (none started, already used, or dead) the launcher simply execs `dbt`.

One waiting process per run, used once; it exits if its parent goes away.
"""

from __future__ import annotations

import array
import contextlib
import json
import os
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ENV_SOCKET = "BRIDGE_DBT_PREWARMED"
# The parse `bridge prepare` made (dbt's target folder of the project): a new warehouse's
# build starts from it, and its classes are those every build reads and writes.
PREPARED_PARSE = Path(__file__).resolve().parents[2] / "dbt_project" / "target" / "partial_parse.msgpack"
_HEADER = struct.Struct("!Q")

# What of the environment dbt's process gets: dbt's own variables (DBT_*, which includes
# dbt's names for a project's own: DBT_ENV_SECRET_*, DBT_ENV_CUSTOM_ENV_*), those the dbt
# project reads (profiles.yml, macros/as_of_date.sql, int_identity__links, the sources'
# freshness thresholds) and the system's
# basics. Not the sources' tokens and passwords nor the warehouse URL, which dbt never
# needs; dbt also scans its whole environment for secrets to scrub from every log line it
# writes (~1 s of a build with the ~70 variables of a run's process).
DBT_ENV_PREFIXES = ("DBT_", "BRIDGE_PG_", "BRIDGE_FRESHNESS_", "PG", "PYTHON", "LC_", "DAGSTER_DBT")
DBT_ENV_NAMES = frozenset({
    "PATH", "HOME", "USER", "LOGNAME", "LANG", "TZ", "TMPDIR", "VIRTUAL_ENV", "DO_NOT_TRACK",
    "BRIDGE_WORK_DB", "BRIDGE_AS_OF", "LRS_ACCOUNT_HOMEPAGE",
})


def dbt_visible(env: Mapping[str, str]) -> dict[str, str]:
    """The part of `env` dbt's process gets (DBT_ENV_PREFIXES, DBT_ENV_NAMES)."""
    return {k: v for k, v in env.items() if k in DBT_ENV_NAMES or k.startswith(DBT_ENV_PREFIXES)}


@dataclass
class Waiting:
    proc: subprocess.Popen
    path: Path      # its socket, which appears once it accepts
    folder: Path    # private to it (0700)

    def alive(self) -> bool:
        return self.proc.poll() is None


_current: Waiting | None = None


# ---------------------------------------------------------------- the orchestrating process

def start(adapter: str) -> None:
    """Start a waiting dbt for this run (idempotent while one is waiting)."""
    global _current
    if _current is not None and _current.alive():
        return
    stop()
    _sweep_orphans()
    # 0700; short enough for AF_UNIX; named by this process so a later run can tell it is stale
    folder = Path(tempfile.mkdtemp(prefix=f"bridge-dbt-{os.getpid()}-"))
    path = folder / "dbt.sock"
    proc = subprocess.Popen(
        [sys.executable, "-m", "orchestration.lib.dbt_prewarm", str(path), adapter],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env=dbt_visible(os.environ),
    )
    _current = Waiting(proc, path, folder)


@contextlib.contextmanager
def waiting(adapter: str) -> Iterator[None]:
    """A waiting dbt for the block (a run started inside it uses this one)."""
    start(adapter)
    try:
        yield
    finally:
        stop()


def _sweep_orphans() -> None:
    """Folders of runs killed outright (SIGKILL takes the waiting dbt with it, so nobody
    tidied): those whose run process no longer exists."""
    for folder in Path(tempfile.gettempdir()).glob("bridge-dbt-*-*"):
        try:
            pid = int(folder.name.split("-")[2])
            os.kill(pid, 0)
        except ValueError:
            continue
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except PermissionError:
            continue  # another user's live process


def environment(timeout: float = 60.0) -> dict[str, str]:
    """What the dbt step adds to dbt's environment: the socket of the waiting dbt. A dbt
    still importing is waited for (it is ahead of a fresh one); a dead one is not."""
    deadline = time.monotonic() + timeout
    while _current is not None and _current.alive() and time.monotonic() < deadline:
        if _current.path.exists():
            return {ENV_SOCKET: str(_current.path)}
        time.sleep(0.05)
    return {}


def stop() -> None:
    """End a waiting dbt that was not used, and tidy its socket folder."""
    global _current
    waiting, _current = _current, None
    if waiting is None:
        return
    if waiting.alive():
        waiting.proc.terminate()
        try:
            waiting.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            waiting.proc.kill()
            waiting.proc.wait()
    shutil.rmtree(waiting.folder, ignore_errors=True)  # a used one removed it itself


# ---------------------------------------------------------------- the launcher (`bridge-dbt`)

def _real_dbt() -> str:
    return str(Path(sys.executable).parent / "dbt")


def launch() -> None:
    """Entry point of `bridge-dbt`: run this dbt invocation in the waiting process, or exec dbt."""
    args = sys.argv[1:]
    path = os.environ.pop(ENV_SOCKET, "")
    env = dbt_visible(os.environ)
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        if not path:
            raise OSError("no waiting dbt")
        conn.connect(path)
    except OSError:
        conn.close()
        os.execve(_real_dbt(), [_real_dbt(), *args], env)
    payload = json.dumps({"argv": args, "env": env, "cwd": os.getcwd()}).encode()
    conn.sendmsg([_HEADER.pack(len(payload))], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [0, 1, 2]))])
    conn.sendall(payload)
    replies = conn.makefile("r", encoding="utf-8")
    first = replies.readline()
    if not first:
        sys.exit(1)
    pid = json.loads(first)["pid"]
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda signum, _frame: _relay(pid, signum))
    last = replies.readline()
    sys.exit(json.loads(last)["exit"] if last else 1)


def _relay(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass


# ---------------------------------------------------------------- the waiting process

def _serve(path: str, adapter: str) -> None:
    import importlib

    import dbt.cli.main  # noqa: F401  (the point: import while the run extracts)

    from orchestration.lib import dbt_event_gate

    with contextlib.suppress(Exception):  # an optimisation: a dbt-common it does not fit runs as shipped
        dbt_event_gate.install()
    try:
        importlib.import_module(f"dbt.adapters.{adapter}")
    except ImportError:
        pass
    parent = os.getppid()
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path + ".binding")
    server.listen(1)
    os.rename(path + ".binding", path)  # the path appears only once it accepts
    warm_up(server, _warm_ups(adapter))
    server.settimeout(1.0)
    while True:
        try:
            conn, _ = server.accept()
            break
        except TimeoutError:
            if os.getppid() != parent:  # the run's process is gone: nobody will call
                _remove(path)
                return
    server.close()
    _remove(path)  # used once
    conn.settimeout(None)
    header, fds, _, _ = socket.recv_fds(conn, _HEADER.size, 3)
    (size,) = _HEADER.unpack(header)
    payload = b""
    while len(payload) < size:
        chunk = conn.recv(size - len(payload))
        if not chunk:
            return
        payload += chunk
    request = json.loads(payload)
    for target, fd in zip((0, 1, 2), fds, strict=True):
        os.dup2(fd, target)
        os.close(fd)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    sys.argv = ["dbt", *request["argv"]]
    conn.sendall((json.dumps({"pid": os.getpid()}) + "\n").encode())
    code = _run_dbt(request["argv"])
    conn.sendall((json.dumps({"exit": code}) + "\n").encode())
    conn.close()
    os._exit(code)


def warm_up(server: socket.socket, steps: Sequence[Callable[[], object]]) -> int:
    """Run the steps until a caller is waiting; return how many ran. Each is an optimisation
    only: a failing one ends the warm-up, and dbt meets (and reports) the problem itself."""
    done = 0
    for step in steps:
        if select.select([server], [], [], 0)[0]:  # a caller: serve it now
            break
        try:
            step()
        except Exception:  # noqa: BLE001
            break
        done += 1
    return done


def _warm_ups(adapter: str, partial_parse: Path = PREPARED_PARSE) -> list[Callable[[], object]]:
    """What every dbt invocation builds on first use, once per process (~1.2 s of the start
    and end of a build here): the JSON schemas it validates dbt_project.yml, the profile and
    packages against, and mashumaro's code that reads the partial-parse file and writes
    manifest.json. Built while the run extracts, they are ready when the build starts."""
    import importlib

    from dbt.contracts import project

    def read_and_write_a_manifest() -> None:
        from dbt.contracts.graph.manifest import Manifest
        from dbt.parser.manifest import extended_mashumuro_decoder

        manifest = Manifest.from_msgpack(partial_parse.read_bytes(), decoder=extended_mashumuro_decoder)
        one_of_each = {}
        for collection in (manifest.nodes, manifest.sources, manifest.macros):
            for node in collection.values():
                one_of_each.setdefault(type(node), node)
        for node in one_of_each.values():
            (node.to_resource() if hasattr(node, "to_resource") else node).to_dict(omit_none=False)

    def credentials_schema() -> None:
        importlib.import_module(f"dbt.adapters.{adapter}").Plugin.credentials.json_schema()

    schemas = [project.ProjectFlags, project.Project, project.Configuration, project.PackageConfig]
    return [*(cls.json_schema for cls in schemas), credentials_schema, read_and_write_a_manifest]


def _remove(path: str) -> None:
    """The socket and its private folder (start() made it for this process alone)."""
    Path(path).unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        Path(path).parent.rmdir()


def _run_dbt(argv: list[str]) -> int:
    """What dbt's console script does: click's main, whose SystemExit carries the code. An
    uncaught error ends this process with its traceback on dbt's stderr and the launcher,
    told no code, exits 1, as dbt would."""
    from dbt.cli.main import cli

    try:
        cli.main(args=argv, prog_name="dbt")
        return 0
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass


if __name__ == "__main__":
    _serve(sys.argv[1], sys.argv[2])
