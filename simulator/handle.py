"""`Simulator`: the test/demo handle that runs `python -m simulator serve` in a subprocess."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any


class Simulator:
    def __init__(self, profile: str = "pilot", seed: int = 42, workdir: str | Path = "sim", faults: float = 0.0,
                 no_filter: bool = False, startup_timeout: float = 180.0, dialect: str = "reference") -> None:
        self.profile, self.seed, self.workdir = profile, seed, Path(workdir).resolve()
        self.dialect = dialect
        self.faults, self.no_filter, self.startup_timeout = faults, no_filter, startup_timeout
        self.proc: subprocess.Popen | None = None
        self.ready: dict[str, Any] = {}

    @property
    def truth_dir(self) -> Path:
        return self.workdir / "truth"

    @property
    def env(self) -> dict[str, str]:
        return dict(self.ready.get("env", {}))

    @property
    def admin_url(self) -> str:
        return self.ready["admin_url"]

    def start(self) -> Simulator:
        self.workdir.mkdir(parents=True, exist_ok=True)
        ready = self.workdir / "ready.json"
        ready.unlink(missing_ok=True)
        cmd = [sys.executable, "-m", "simulator", "serve", "--profile", self.profile, "--seed", str(self.seed),
               "--workdir", str(self.workdir), "--faults", str(self.faults), "--dialect", self.dialect]
        if self.no_filter:
            cmd.append("--no-filter")
        root = str(Path(__file__).resolve().parent.parent)
        env = {**os.environ, "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", "")}
        log = self.workdir / "simulator.log"
        self.log = open(log, "ab")  # noqa: SIM115 - lives as long as the process
        self.ready = {}
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + self.startup_timeout
        try:
            while not ready.exists():
                if self.proc.poll() is not None:
                    raise RuntimeError(f"simulator exited with {self.proc.returncode}; see {log}")
                if time.monotonic() > deadline:
                    raise TimeoutError(f"simulator ({self.profile}) not ready after {self.startup_timeout:.0f} s "
                                       f"(startup_timeout); it was stopped; see {log}")
                time.sleep(0.05)
        except BaseException:
            self.stop()     # a start that fails (or is interrupted) leaves no process behind
            raise
        self._reload()
        return self

    def _reload(self) -> None:
        self.ready = json.loads((self.workdir / "ready.json").read_text())

    def _call(self, method: str, path: str, body: dict | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.admin_url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=600) as resp:
                return json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as exc:
            raise RuntimeError(f"simulator admin {method} {path} -> {exc.code}: {exc.read().decode()}") from None

    def advance_days(self, n: int = 1) -> dict:
        out = self._call("POST", "/advance", {"days": n})
        self._reload()
        return out

    def inject(self, kind: str, **params: Any) -> dict:
        out = self._call("POST", "/inject", {"kind": kind, **params})
        self._reload()
        return out

    def set_faults(self, rate: float) -> dict:
        return self._call("POST", "/reset-faults", {"rate": rate})

    def set_lagging(self, on: bool = True) -> dict:
        return self._call("POST", "/lagging", {"on": on})

    def set_filter(self, supported: bool) -> dict:
        return self._call("POST", "/filter", {"supported": supported})

    def expire_tokens(self) -> dict:
        return self._call("POST", "/expire-tokens", {})

    def stats(self) -> dict[str, int]:
        return self._call("GET", "/stats")

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            if not self.ready:
                self.proc.terminate()  # never ready: there is no admin API to ask
            else:
                try:
                    self._call("POST", "/shutdown", {})
                except (OSError, RuntimeError):
                    self.proc.terminate()  # admin API unreachable: fall back to SIGTERM
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.terminate()
                try:
                    self.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
        self.proc = None
        self.log.close()

    def __enter__(self) -> Simulator:  # noqa: PYI034
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
