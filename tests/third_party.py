"""Servers nobody on this project wrote, each in a virtual environment of its own.

Like the PostgreSQL test server, the set-up makes what it needs from a fresh clone with only
Python and pip: `server_venv(name)` creates a venv with the pinned packages from PyPI, cached
under `~/.cache/hris-lms-bridge/venvs/<name>-<hash>` (the hash covers the pins and the Python
version, so a new pin makes a new venv). Creation holds a file lock and marks the venv complete
last, so two pytest-xdist workers never race and a half-made venv is rebuilt, not used.

Own venvs because their pins clash with the bridge's (ralph-malph pins a starlette that Dagster's
webserver does not accept). `running_server` starts a command on a free loopback port and stops
it (its whole process group) afterwards.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import requests

from tests.waiting import wait_until

# exact pins: the interoperability tests are about these servers' behaviour, which moves with versions
SERVERS: dict[str, tuple[str, ...]] = {
    "scim2-server": ("scim2-server==0.8.3",),
    # ralph-malph 5.1.0 imports requests (its OIDC auth) without declaring it
    "ralph": ("ralph-malph[cli,lrs]==5.1.0", "requests==2.34.2"),
}

INSTALL_TIMEOUT = 900       # seconds for one venv's pip install (a fresh machine downloads everything)
START_TIMEOUT = 60          # seconds for a server to answer


def cache_root() -> Path:
    base = os.environ.get("BRIDGE_TEST_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "hris-lms-bridge")
    return Path(base) / "venvs"


def venv_key(name: str) -> str:
    spec = {"pins": SERVERS[name], "python": sys.version_info[:2]}
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:12]


def server_venv(name: str) -> Path:
    """The venv of one third-party server (made on first use); returns its directory."""
    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)
    target = root / f"{name}-{venv_key(name)}"
    done = target / ".complete"
    if done.exists():
        return target
    with open(root / f"{target.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)        # another worker making it: wait, then find it complete
        try:
            if done.exists():
                return target
            shutil.rmtree(target, ignore_errors=True)   # a half-made one left by a killed set-up
            subprocess.run([sys.executable, "-m", "venv", str(target)], check=True, capture_output=True)
            pip = [str(target / "bin" / "python"), "-m", "pip", "install", "--quiet",
                   "--disable-pip-version-check"]
            done_pip = subprocess.run([*pip, *SERVERS[name]], check=False, capture_output=True, text=True,
                                      timeout=INSTALL_TIMEOUT)
            if done_pip.returncode != 0:
                tail = "\n".join(done_pip.stderr.strip().splitlines()[-15:])
                raise RuntimeError(f"could not install {' '.join(SERVERS[name])} into {target}:\n{tail}")
            done.write_text(json.dumps({"pins": SERVERS[name]}) + "\n")
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return target


def venv_bin(name: str, program: str) -> str:
    return str(server_venv(name) / "bin" / program)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerFailed(RuntimeError):
    pass


@contextmanager
def running_server(args: Sequence[str], *, ready_url: str, cwd: Path, env: Mapping[str, str] | None = None,
                   log_name: str = "server", timeout: float = START_TIMEOUT) -> Iterator[subprocess.Popen]:
    """Run `args` in its own process group until the `with` ends; ready when `ready_url` answers any
    HTTP status. Its output goes to `<cwd>/<log_name>.log` (quoted when it fails to start)."""
    log_path = cwd / f"{log_name}.log"
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_"))}
    full_env.update(env or {})
    full_env.pop("VIRTUAL_ENV", None)
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(list(args), cwd=cwd, env=full_env, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    def answers() -> bool:
        if proc.poll() is not None:
            raise ServerFailed(f"{args[0]} exited with {proc.returncode}:\n{_tail(log_path)}")
        try:
            requests.get(ready_url, timeout=2)
        except requests.ConnectionError:
            return False
        return True

    try:
        wait_until(answers, lambda: f"{args[0]} did not answer {ready_url}:\n{_tail(log_path)}", timeout=timeout,
                   interval=0.2)
        yield proc
    finally:
        _stop(proc)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=15)
    except ProcessLookupError:
        pass


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


@contextmanager
def scim2_server(workdir: Path, *, token: str, service_provider_config: dict | None = None,
                 args: Sequence[str] = ()) -> Iterator[str]:
    """scim2-server (in-memory, RFC 7643 schemas) on a free loopback port, accepting only `token`;
    yields its base URL (ends before /Users). `service_provider_config` replaces the one it announces."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    cmd = [venv_bin("scim2-server", "scim2-server"), "--hostname", "127.0.0.1", "--port", str(port),
           "--bearer-token", token, *args]
    if service_provider_config is not None:
        spc = workdir / "service_provider_config.json"
        spc.write_text(json.dumps(service_provider_config))
        cmd += ["--service-provider-config", str(spc)]
    base = f"http://127.0.0.1:{port}"
    with running_server(cmd, ready_url=f"{base}/ServiceProviderConfig", cwd=workdir, log_name="scim2-server"):
        yield base


@contextmanager
def ralph_lrs(workdir: Path, *, username: str, password: str,
              agent_mbox: str = "mailto:bridge@example.org") -> Iterator[tuple[str, Path]]:
    """ralph's LRS on its file-system backend (`ralph runserver -b fs`) on a free loopback port, with
    HTTP Basic credentials written by its own `ralph auth ... -w`; yields (xAPI base URL, the folder
    holding its JSON-lines statements file)."""
    workdir.mkdir(parents=True, exist_ok=True)
    data = workdir / "lrs-data"
    data.mkdir(exist_ok=True)
    env = {"RALPH_APP_DIR": str(workdir / "ralph-app"), "RALPH_RUNSERVER_BACKEND": "fs"}
    ralph = venv_bin("ralph", "ralph")
    subprocess.run([ralph, "auth", "-u", username, "-p", password, "-s", "all", "-M", agent_mbox, "-w"],
                   check=True, capture_output=True, env={**os.environ, **env}, cwd=workdir, timeout=120)
    port = free_port()
    cmd = [ralph, "runserver", "-b", "fs", "--fs-default-directory-path", str(data),
           "-h", "127.0.0.1", "-p", str(port)]
    base = f"http://127.0.0.1:{port}"
    with running_server(cmd, ready_url=f"{base}/__heartbeat__", cwd=workdir, env=env, log_name="ralph"):
        yield f"{base}/xAPI", data
