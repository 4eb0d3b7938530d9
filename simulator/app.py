"""One running simulator: the world, the five HTTP servers, ready.json and the truth files."""
from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

from simulator.clock import iso_ms
from simulator.http_common import Faults, Stats, serve
from simulator.lms_scim import LmsDirectory, LmsScimHandler, write_lms_truth
from simulator.servers import AdminHandler, CheckinsHandler, LmsHandler, LrsHandler, ScimHandler, TokenBucket
from simulator.truth import write_truth
from simulator.world import World
from simulator.xapi_feed import ACCOUNT_HOMEPAGE

CREDS = {
    "HRIS_SCIM_TOKEN": "scim-token-not-a-secret",
    "LRS_USERNAME": "lrs-reader",
    "LRS_PASSWORD": "lrs-password-not-a-secret",
    "LMS_CLIENT_ID": "bridge-client",
    "LMS_CLIENT_SECRET": "lms-secret-not-a-secret",
    "CHECKINS_TOKEN": "checkins-token-not-a-secret",
    "LMS_SCIM_TOKEN": "lms-scim-token-not-a-secret",
}


class SimApp:
    def __init__(self, profile: str, seed: int, workdir: Path, faults: float = 0.0, no_filter: bool = False,
                 host: str = "127.0.0.1", dialect: str = "reference", history_years: int = 1) -> None:
        self.workdir = Path(workdir).resolve()
        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.workdir / "ready.json").unlink(missing_ok=True)
        t0 = time.monotonic()
        self.world = World(profile, seed, self.workdir, dialect, history_years)
        self.world.filter_supported = not no_filter
        self.generate_seconds = time.monotonic() - t0
        self.creds = dict(CREDS)
        self.faults = Faults(faults, seed)
        self.stats = Stats()
        self.tokens: dict[str, float] = {}
        self.bucket = TokenBucket(capacity=500, per_second=250)
        self.done = threading.Event()
        self._scim_cache: tuple | None = None
        self.version = 0
        self.env: dict[str, str] = {}
        self.servers = {name: serve(cls, self, host) for name, cls in (
            ("scim", ScimHandler), ("xapi", LrsHandler), ("lms", LmsHandler), ("checkins", CheckinsHandler),
            ("admin", AdminHandler), ("lms_scim", LmsScimHandler))}
        port = {n: s.server_address[1] for n, s in self.servers.items()}
        self.env = {
            "HRIS_SCIM_URL": f"http://{host}:{port['scim']}/scim/v2",
            "HRIS_SCIM_TOKEN": self.creds["HRIS_SCIM_TOKEN"],
            "LRS_URL": f"http://{host}:{port['xapi']}/xapi",
            "LRS_USERNAME": self.creds["LRS_USERNAME"],
            "LRS_PASSWORD": self.creds["LRS_PASSWORD"],
            "LRS_ACCOUNT_HOMEPAGE": ACCOUNT_HOMEPAGE,
            "LMS_URL": f"http://{host}:{port['lms']}",
            "LMS_CLIENT_ID": self.creds["LMS_CLIENT_ID"],
            "LMS_CLIENT_SECRET": self.creds["LMS_CLIENT_SECRET"],
            "CHECKINS_URL": f"http://{host}:{port['checkins']}",
            "CHECKINS_TOKEN": self.creds["CHECKINS_TOKEN"],
            "LMS_SCIM_URL": f"http://{host}:{port['lms_scim']}/scim/v2",
            "LMS_SCIM_TOKEN": self.creds["LMS_SCIM_TOKEN"],
            "PAYROLL_INBOX": str(self.world.inbox),
            "BRIDGE_AS_OF": self.world.as_of,
        }
        self.admin_url = f"http://{host}:{port['admin']}"
        self._lms_directory: LmsDirectory | None = None
        write_truth(self.world)
        write_lms_truth(self.world)
        self.write_ready()

    def write_ready(self) -> None:
        self.env["BRIDGE_AS_OF"] = self.world.as_of
        doc = {"env": self.env, "admin_url": self.admin_url, "pid": os.getpid(), "as_of": self.world.as_of,
               "dialect": self.world.dialect.name,
               "now": iso_ms(self.world.now_ms), "generate_seconds": round(self.generate_seconds, 3)}
        tmp = self.workdir / "ready.json.part"
        tmp.write_text(json.dumps(doc, indent=2))
        tmp.replace(self.workdir / "ready.json")

    # -- SCIM list cache (the match list is recomputed only when the world changed) -------------
    def scim_matches(self, since: int | None, op: str) -> list:
        key = (self.version, since, op)
        if self._scim_cache and self._scim_cache[0] == key:
            return self._scim_cache[1]
        emps = sorted((e for e in self.world.org.employees if not e.absent), key=self.world.dialect.scim_sort_key)
        if since is not None:
            emps = [e for e in emps if e.modified_ms > since or (op == "ge" and e.modified_ms == since)]
        self._scim_cache = (key, emps)
        return emps

    def lms_directory(self) -> LmsDirectory:
        """The LMS's SCIM view of its users, made on first use (call with the world's lock held)."""
        if self._lms_directory is None:
            self._lms_directory = LmsDirectory(self.world)
        return self._lms_directory

    # -- admin operations ---------------------------------------------------------------------
    def changed(self) -> None:
        with self.world.lock:
            self.version += 1
            write_truth(self.world)
            write_lms_truth(self.world)
            self.write_ready()

    def advance(self, days: int) -> None:
        with self.world.lock:
            self.world.advance(days)
            self.changed()

    def inject(self, kind: str, params: dict) -> dict:
        from simulator.inject import inject
        with self.world.lock:
            detail = inject(self, kind, params)
            self.world.injected.append({"kind": kind, "params": params, "detail": detail})
            self.changed()
        return {"kind": kind, "detail": detail, **self.state()}

    def set_lagging(self, on: bool) -> None:
        with self.world.lock:
            self.world.set_lagging(on)
            self.changed()

    def set_filter(self, supported: bool) -> None:
        self.world.filter_supported = supported

    def state(self) -> dict:
        w = self.world
        return {"as_of": w.as_of, "now": iso_ms(w.now_ms), "dialect": w.dialect.name, "faults": self.faults.rate,
                "lagging": w.lagging,
                "filter_supported": w.filter_supported, "env": self.env}

    def shutdown(self) -> None:
        # in parallel: each serve_forever notices the request only at its next poll (0.5 s)
        threads = [threading.Thread(target=s.shutdown) for s in self.servers.values()]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for s in self.servers.values():
            s.server_close()
        self.done.set()
