"""The xAPI 1.0.3 statement log: columnar (numpy) storage, encoded to JSON bytes only when served.

Columns are kept in `stored` order so `since`/`until` are binary searches and a `more` token is just a
position. Voided statements are hidden from queries (xAPI 1.0.3 section 2.2.2: an LRS returns a
voided statement only to a `voidedStatementId` request), their voiding statements are served.
"""
from __future__ import annotations

import hashlib
import json

import numpy as np

from simulator.clock import DAY_MS, HOUR_MS

VERBS = ("attempted", "experienced", "completed", "passed", "failed", "satisfied", "voided")
V_ATTEMPTED, V_EXPERIENCED, V_COMPLETED, V_PASSED, V_FAILED, V_SATISFIED, V_VOIDED = range(7)
VERB_IRI = {v: f"http://adlnet.gov/expapi/verbs/{v}" for v in VERBS}
VERB_IRI["satisfied"] = "https://w3id.org/xapi/adl/verbs/satisfied"
VERB_JSON = [json.dumps({"id": VERB_IRI[v], "display": {"en-US": v}}, separators=(",", ":")) for v in VERBS]
AUTHORITY = ('{"objectType":"Agent","name":"Example Corp LMS","account":'
             '{"homePage":"https://lms.example-corp.com","name":"lrs-writer"}}')
ACCOUNT_HOMEPAGE = "https://hris.example-corp.com"
# actor identifier kinds: the three IFIs of CONTRACT 2.2, mbox in two spellings
K_MBOX, K_MBOX_MIXED, K_ACCOUNT, K_SHA1, K_FOREIGN_ACCOUNT = range(5)

COLUMNS = ("stored", "ts", "actor", "kind", "verb", "course", "success", "score", "duration", "id_hi", "id_lo",
           "target")
DTYPES = (np.int64, np.int64, np.int32, np.int8, np.int8, np.int32, np.int8, np.int16, np.int32, np.uint64,
          np.uint64, np.int64)


def mixed_case(email: str) -> str:
    local, dom = email.split("@")
    return ".".join(p.capitalize() for p in local.split(".")) + "@" + dom.upper()


def sha1_mbox(email: str) -> str:
    return hashlib.sha1(f"mailto:{email.strip().lower()}".encode()).hexdigest()


class Actors:
    """Actor table: index -> (email, employee number); employees first, then external guests."""

    def __init__(self) -> None:
        self.emails: list[str] = []
        self.numbers: list[str] = []
        self.names: list[str] = []
        self.employee_idx: list[int] = []  # -1 for guests
        self._cache: dict[tuple[int, int], str] = {}

    def add(self, email: str, number: str, name: str, employee_idx: int) -> int:
        self.emails.append(email)
        self.numbers.append(number)
        self.names.append(name)
        self.employee_idx.append(employee_idx)
        return len(self.emails) - 1

    def ifi(self, a: int, kind: int) -> tuple[str, str]:
        """(truth source_key, JSON fragment of the identifying property)."""
        email = self.emails[a]
        if kind == K_MBOX:
            v = f"mailto:{email}"
            return f"mbox:{v}", f'"mbox":{json.dumps(v)}'
        if kind == K_MBOX_MIXED:
            v = f"mailto:{mixed_case(email)}"
            return f"mbox:{v}", f'"mbox":{json.dumps(v)}'
        if kind == K_SHA1:
            v = sha1_mbox(email)
            return f"mbox_sha1sum:{v}", f'"mbox_sha1sum":"{v}"'
        home = ACCOUNT_HOMEPAGE if kind == K_ACCOUNT else "https://partner-academy.org"
        return (f"account:{home}|{self.numbers[a]}",
                f'"account":{{"homePage":"{home}","name":{json.dumps(self.numbers[a])}}}')

    def json(self, a: int, kind: int) -> str:
        key = (a, kind)
        s = self._cache.get(key)
        if s is None:
            s = self._cache[key] = f'{{"objectType":"Agent","name":{json.dumps(self.names[a])},{self.ifi(a, kind)[1]}}}'
        return s


def statement_id(hi: int, lo: int) -> str:
    h = "%016x%016x" % (hi, lo)  # noqa: UP031 - the fastest spelling on the serving path
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-8{h[17:20]}-{h[20:32]}"


def iso_many(ms: np.ndarray) -> list[str]:
    """Vectorised iso_ms without the trailing Z."""
    return np.datetime_as_string(ms.astype("datetime64[ms]"), unit="ms").tolist()


class StatementLog:
    def __init__(self, actors: Actors, course_json: list[str]) -> None:
        self.actors = actors
        self.course_json = course_json  # course index -> Activity JSON
        self.cols = {c: np.zeros(0, dtype=d) for c, d in zip(COLUMNS, DTYPES)}
        self.hidden = np.zeros(0, dtype=bool)  # voided (target of a stored voiding statement)
        self.pending = np.zeros(0, dtype=bool)  # not yet visible (lagging LRS)
        self.extra: dict[int, dict] = {}  # injected changes per row: {"drop": [...], "set": {...}}
        self.cache: list[bytes | None] = []  # encoded rows (statements never change once stored)
        self.cache_limit = 1_500_000  # beyond this many rows, encode per request (memory stays bounded)

    def __len__(self) -> int:
        return len(self.cols["stored"])

    def append(self, new: dict[str, np.ndarray]) -> np.ndarray:
        """Append rows stored later than everything in the log (any order within the batch); returns their
        positions. `target` holds log positions, (1 << 40) + index within `new`, or -1."""
        n0 = len(self)
        order = np.argsort(new["stored"], kind="stable")
        # targets inside the new batch are relative (>= 1<<40 marks them): remap through the order
        for c, d in zip(COLUMNS, DTYPES):
            self.cols[c] = np.concatenate([self.cols[c], new[c][order].astype(d)])
        tgt = self.cols["target"][n0:]
        rel = tgt >= (1 << 40)
        if rel.any():
            inv = np.empty(len(order), dtype=np.int64)
            inv[order] = np.arange(len(order))
            tgt[rel] = n0 + inv[tgt[rel] - (1 << 40)]
        k = len(order)
        if len(self) <= self.cache_limit:
            self.cache.extend([None] * k)
        else:
            self.cache = []
        self.hidden = np.concatenate([self.hidden, np.zeros(k, dtype=bool)])
        self.pending = np.concatenate([self.pending, np.zeros(k, dtype=bool)])
        voiders = tgt[tgt >= 0]
        self.hidden[voiders] = True
        return np.arange(n0, n0 + k)

    def visible(self) -> np.ndarray:
        return ~(self.hidden | self.pending)

    def encode_many(self, rows: list[int]) -> list[bytes]:
        """JSON bytes for rows, from the cache when there is one."""
        cache = self.cache
        if not cache:
            return self._encode(rows)
        missing = [i for i in rows if cache[i] is None]
        if missing:
            for i, b in zip(missing, self._encode(missing)):
                cache[i] = b
        return [cache[i] for i in rows]

    def prewarm(self) -> None:
        if self.cache:
            for start in range(0, len(self), 20_000):
                self.encode_many(list(range(start, min(len(self), start + 20_000))))

    def _encode(self, rows: list[int]) -> list[bytes]:
        """Serve-time JSON for rows; columns fetched once per page (numpy scalar access is slow)."""
        if not rows:
            return []
        idx = np.asarray(rows, dtype=np.int64)
        c = self.cols
        cols = {k: c[k][idx].tolist() for k in ("actor", "kind", "verb", "course", "success",
                                                "score", "duration", "id_hi", "id_lo", "target")}
        cols["ts"] = iso_many(c["ts"][idx])
        cols["stored"] = iso_many(c["stored"][idx])
        actors, course_json = self.actors, self.course_json
        out = []
        for j, i in enumerate(rows):
            verb = cols["verb"][j]
            actor = actors.json(cols["actor"][j], cols["kind"][j])
            if verb == V_VOIDED:
                t = cols["target"][j]
                obj = f'{{"objectType":"StatementRef","id":"{statement_id(int(c["id_hi"][t]), int(c["id_lo"][t]))}"}}'
                result = ""
            else:
                obj = course_json[cols["course"][j]]
                parts = []
                succ = cols["success"][j]
                if succ >= 0:
                    parts.append('"success":true' if succ else '"success":false')
                score = cols["score"][j]
                if score >= 0:
                    parts.append(f'"score":{{"scaled":{score / 100:.2f}}}')
                if verb in (V_COMPLETED, V_PASSED, V_FAILED, V_SATISFIED):
                    parts.append('"completion":true')
                dur = cols["duration"][j]
                if dur >= 0:
                    parts.append(f'"duration":"PT{dur // 60}M{dur % 60}S"')
                result = f'"result":{{{",".join(parts)}}},' if parts else ""
            text = (f'{{"id":"{statement_id(cols["id_hi"][j], cols["id_lo"][j])}","actor":{actor},'
                    f'"verb":{VERB_JSON[verb]},"object":{obj},{result}"timestamp":"{cols["ts"][j]}Z",'
                    f'"stored":"{cols["stored"][j]}Z","authority":{AUTHORITY},"version":"1.0.3"}}')
            if i in self.extra:
                rec = json.loads(text)
                for k, v in self.extra[i].get("set", {}).items():
                    rec[k] = v
                for k in self.extra[i].get("drop", ()):
                    rec.pop(k, None)
                text = json.dumps(rec, separators=(",", ":"))
            out.append(text.encode())
        return out

    def query(self, since: int | None, until: int, pos: int | None, limit: int, ascending: bool
              ) -> tuple[list[bytes], int | None]:
        """Visible statements with since < stored <= until from position `pos`; next position or None."""
        stored = self.cols["stored"]
        lo = 0 if since is None else int(np.searchsorted(stored, since, side="right"))
        hi = int(np.searchsorted(stored, until, side="right"))
        vis = self.visible()
        out: list[int] = []
        if ascending:
            p = lo if pos is None else max(pos, lo)
            while p < hi and len(out) < limit:
                q = min(hi, p + max(256, 2 * (limit - len(out))))
                out.extend((p + np.flatnonzero(vis[p:q])).tolist()[: limit - len(out)])
                p = q if len(out) < limit else out[-1] + 1
            nxt = p if p < hi and vis[p:hi].any() else None
        else:
            p = hi if pos is None else min(pos, hi)  # exclusive upper position
            while p > lo and len(out) < limit:
                q = max(lo, p - max(256, 2 * (limit - len(out))))
                chunk = (q + np.flatnonzero(vis[q:p]))[::-1].tolist()
                out.extend(chunk[: limit - len(out)])
                p = q if len(out) < limit else out[-1]
            nxt = p if p > lo and vis[lo:p].any() else None
        return self.encode_many(out), nxt

    def ids(self, rows: np.ndarray) -> list[str]:
        rows = np.asarray(rows, dtype=np.int64)
        return [statement_id(h, lo) for h, lo in zip(self.cols["id_hi"][rows].tolist(),
                                                     self.cols["id_lo"][rows].tolist())]


def random_ids(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    return (rng.integers(0, 2**63, n, dtype=np.int64).astype(np.uint64),
            rng.integers(0, 2**63, n, dtype=np.int64).astype(np.uint64))


def sessions_to_statements(rng: np.random.Generator, actor: np.ndarray, kind: np.ndarray, course: np.ndarray,
                           t0: np.ndarray, now_ms: int, late_share: float = 0.02) -> dict[str, np.ndarray]:
    """Learning sessions -> statements: attempted, maybe experienced, then an outcome verb."""
    n = len(actor)
    exp = rng.random(n) < 0.6
    outcome = rng.choice([V_COMPLETED, V_PASSED, V_FAILED, V_SATISFIED, -1], size=n,
                         p=[0.45, 0.2, 0.1, 0.1, 0.15])
    has_out = outcome >= 0
    blocks = []
    # attempted
    blocks.append((np.arange(n), np.full(n, V_ATTEMPTED), t0))
    e_idx = np.flatnonzero(exp)
    blocks.append((e_idx, np.full(len(e_idx), V_EXPERIENCED), t0[e_idx] + rng.integers(5, 60, len(e_idx)) * 60_000))
    o_idx = np.flatnonzero(has_out)
    blocks.append((o_idx, outcome[o_idx], t0[o_idx] + rng.integers(61, 180, len(o_idx)) * 60_000))
    src = np.concatenate([b[0] for b in blocks])
    verb = np.concatenate([b[1] for b in blocks]).astype(np.int8)
    ts = np.concatenate([b[2] for b in blocks]).astype(np.int64)
    m = len(src)
    success = np.full(m, -1, dtype=np.int8)
    success[verb == V_PASSED] = 1
    success[verb == V_FAILED] = 0
    score = np.full(m, -1, dtype=np.int16)
    graded = (verb == V_PASSED) | (verb == V_FAILED)
    score[graded] = np.where(verb[graded] == V_PASSED, rng.integers(70, 101, graded.sum()),
                             rng.integers(10, 70, graded.sum()))
    duration = np.full(m, -1, dtype=np.int32)
    timed = (verb == V_COMPLETED) | graded | (verb == V_EXPERIENCED)
    duration[timed] = rng.integers(300, 7200, timed.sum())
    stored = ts + rng.integers(200, 90_000, m)
    late = rng.random(m) < late_share
    stored[late] = ts[late] + rng.integers(1, 5, late.sum()) * DAY_MS + rng.integers(0, HOUR_MS, late.sum())
    stored = np.minimum(stored, now_ms - rng.integers(1, 60_000, m))
    stored = np.maximum(stored, ts)
    hi, lo = random_ids(rng, m)
    return {"stored": stored, "ts": ts, "actor": actor[src], "kind": kind[src], "verb": verb,
            "course": course[src], "success": success, "score": score, "duration": duration, "id_hi": hi,
            "id_lo": lo, "target": np.full(m, -1, dtype=np.int64)}


def voiding_rows(rng: np.random.Generator, src: dict[str, np.ndarray], idx: np.ndarray, stored: np.ndarray,
                 target_values: np.ndarray) -> dict[str, np.ndarray]:
    """Voiding statements (same actor as the target) for rows `idx` of `src`, stored at `stored`.
    `target_values` are log positions, or (1 << 40) + index within the batch being appended."""
    k = len(idx)
    hi, lo = random_ids(rng, k)
    return {"stored": stored, "ts": stored - 1000, "actor": src["actor"][idx], "kind": src["kind"][idx],
            "verb": np.full(k, V_VOIDED, dtype=np.int8), "course": src["course"][idx],
            "success": np.full(k, -1, dtype=np.int8), "score": np.full(k, -1, dtype=np.int16),
            "duration": np.full(k, -1, dtype=np.int32), "id_hi": hi, "id_lo": lo,
            "target": target_values.astype(np.int64)}


def concat(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {c: np.concatenate([p[c] for p in parts]) for c in COLUMNS}


def daily_window(day: int, rng: np.random.Generator, n: int) -> np.ndarray:
    """Session start times spread over the working part of a day."""
    return day * DAY_MS + 6 * HOUR_MS + rng.integers(0, 13 * HOUR_MS, n)
