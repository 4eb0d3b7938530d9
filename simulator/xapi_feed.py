"""The xAPI 1.0.3 statement log: columnar (numpy) storage, encoded to JSON bytes only when served.

Columns are kept in `stored` order so `since`/`until` are binary searches and a `more` token is just a
position. Voided statements are hidden from queries (xAPI 1.0.3 section 2.2.2: an LRS returns a
voided statement only to a `voidedStatementId` request), their voiding statements are served.

A page is encoded column-wise, never statement by statement in Python: fixed-width parts (ids,
timestamps) are numpy byte matrices, the variable ones (actor, verb, object, result) are taken from
small tables of ready JSON fragments, and pyarrow's `binary_join_element_wise` concatenates them,
so a page's statements come out of one Arrow buffer already comma-separated (`page_json`).
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from simulator.clock import DAY_MS, HOUR_MS

VERBS = ("attempted", "experienced", "completed", "passed", "failed", "satisfied", "voided")
V_ATTEMPTED, V_EXPERIENCED, V_COMPLETED, V_PASSED, V_FAILED, V_SATISFIED, V_VOIDED = range(7)
VERB_IRI = {v: f"http://adlnet.gov/expapi/verbs/{v}" for v in VERBS}
VERB_IRI["satisfied"] = "https://w3id.org/xapi/adl/verbs/satisfied"
VERB_JSON = [json.dumps({"id": VERB_IRI[v], "display": {"en-US": v}}, separators=(",", ":")) for v in VERBS]
AUTHORITY = ('{"objectType":"Agent","name":"Example Corp LMS","account":'
             '{"homePage":"https://lms.example-corp.com","name":"lrs-writer"}}')
ACCOUNT_HOMEPAGE = "https://hris.example-corp.com"
FOREIGN_CONTEXT = ('{"platform":"Acme Learning Cloud","language":"fr-CA","extensions":'
                   '{"https://acme.example/xapi/extensions/session":"web-7"}}')
# actor identifier kinds: the three IFIs of CONTRACT 2.2, mbox in two spellings
K_MBOX, K_MBOX_MIXED, K_ACCOUNT, K_SHA1, K_FOREIGN_ACCOUNT = range(5)
N_KINDS = 5

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
        self._table_parts: list[pa.Array] = []
        self._table: pa.Array = pa.array([], pa.string())
        self._table_len = 0

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
            s = self._cache[key] = self._json(a, kind)
        return s

    def _json(self, a: int, kind: int) -> str:
        return f'{{"objectType":"Agent","name":{json.dumps(self.names[a])},{self.ifi(a, kind)[1]}}}'

    def table(self) -> pa.Array:
        """The Agent JSON of every actor in every identifier kind, at index `actor * N_KINDS + kind`
        (built once, extended when actors are added)."""
        n = len(self.emails)
        if self._table_len < n:
            self._table_parts.append(pa.array([self._json(a, k) for a in range(self._table_len, n)
                                               for k in range(N_KINDS)], pa.string()))
            self._table = pa.concat_arrays(self._table_parts)
            self._table_len = n
        return self._table


def statement_id(hi: int, lo: int) -> str:
    h = "%016x%016x" % (hi, lo)  # noqa: UP031 - the fastest spelling on the serving path
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-8{h[17:20]}-{h[20:32]}"


_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def _ids_matrix(hi: np.ndarray, lo: np.ndarray) -> np.ndarray:
    """`statement_id` of many rows at once: an (n, 36) uint8 matrix of the UUID texts."""
    n = len(hi)
    both = np.empty((n, 2), dtype=">u8")      # big-endian: bytes in the order the hex digits are read
    both[:, 0], both[:, 1] = hi, lo
    raw = both.view(np.uint8).reshape(n, 16)
    h = np.empty((n, 32), dtype=np.uint8)
    h[:, 0::2], h[:, 1::2] = _HEX[raw >> 4], _HEX[raw & 15]
    out = np.empty((n, 36), dtype=np.uint8)
    out[:, [8, 13, 18, 23]] = ord("-")
    out[:, 14], out[:, 19] = ord("4"), ord("8")
    out[:, 0:8], out[:, 9:13], out[:, 15:18], out[:, 20:23], out[:, 24:36] = (
        h[:, 0:8], h[:, 8:12], h[:, 13:16], h[:, 17:20], h[:, 20:32])
    return out


def _iso_matrix(ms: np.ndarray) -> np.ndarray:
    """ISO 8601 millisecond timestamps without the trailing Z (`2026-01-31T09:05:07.250`): an (n, 23)
    uint8 matrix. Dates come from numpy per distinct day, the time of day from integer arithmetic."""
    n = len(ms)
    days, rem = np.divmod(ms.astype(np.int64), DAY_MS)
    uniq, inv = np.unique(days, return_inverse=True)
    dates = np.datetime_as_string(uniq.astype("datetime64[D]"), unit="D").astype("S10")
    out = np.empty((n, 23), dtype=np.uint8)
    out[:, 0:10] = dates.view(np.uint8).reshape(len(uniq), 10)[inv.reshape(-1)]
    out[:, [10, 13, 16, 19]] = np.frombuffer(b"T::.", dtype=np.uint8)
    for at, value, width in ((11, rem // HOUR_MS, 2), (14, rem // 60_000 % 60, 2), (17, rem // 1000 % 60, 2),
                             (20, rem % 1000, 3)):
        for k in range(width - 1, -1, -1):
            value, out[:, at + k] = np.divmod(value, 10)
            out[:, at + k] += 48
    return out


def _fixed(*parts: bytes | np.ndarray, n: int) -> pa.Array:
    """Rows of equal width, built from constant bytes and (n, w) uint8 matrices, as an Arrow string array."""
    width = sum(p.shape[1] if isinstance(p, np.ndarray) else len(p) for p in parts)
    out = np.empty((n, width), dtype=np.uint8)
    at = 0
    for p in parts:
        w = p.shape[1] if isinstance(p, np.ndarray) else len(p)
        out[:, at:at + w] = p if isinstance(p, np.ndarray) else np.frombuffer(p, dtype=np.uint8)
        at += w
    offsets = np.arange(0, width * (n + 1), width, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(out))


def _numbers(values: np.ndarray, fmt: Callable[[int], str], cache: dict[Callable, pa.Array]) -> pa.Array:
    """`fmt(v)` for small non-negative ints, from a table of them grown as larger values appear."""
    top = int(values.max()) + 1 if len(values) else 0
    table = cache.get(fmt)
    if table is None or len(table) < top:
        table = cache[fmt] = pa.array([fmt(v) for v in range(max(top, 128))], pa.string())
    return table.take(pa.array(values))


def _score(v: int) -> str:
    return f',"score":{{"scaled":{v / 100:.2f}}}'


def _duration(v: int) -> str:
    return f',"duration":"PT{v // 60}M{v % 60}S"'


def _duration_hms(v: int) -> str:
    """The foreign dialect's spelling: hours, minutes, seconds with a fraction (`PT1H2M3.0S`)."""
    return f',"duration":"PT{v // 3600}H{v // 60 % 60}M{v % 60}.0S"'


_OUTCOME_VERBS = [V_COMPLETED, V_PASSED, V_FAILED, V_SATISFIED]
_STR = pa.string()


class StatementLog:
    def __init__(self, actors: Actors, course_json: list[str], layout: str = "reference") -> None:
        self.actors = actors
        self.layout = layout
        self.course_json = course_json  # course index -> Activity JSON
        self.cols = {c: np.zeros(0, dtype=d) for c, d in zip(COLUMNS, DTYPES)}
        self.hidden = np.zeros(0, dtype=bool)  # voided (target of a stored voiding statement)
        self.pending = np.zeros(0, dtype=bool)  # not yet visible (lagging LRS)
        self.extra: dict[int, dict] = {}  # injected changes per row: {"drop": [...], "set": {...}}
        self._verbs = pa.array(VERB_JSON, _STR)
        self._courses = pa.array(course_json, _STR)
        self._texts: dict[Callable, pa.Array] = {}   # formatted small numbers (scores, durations)

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
        self.hidden = np.concatenate([self.hidden, np.zeros(k, dtype=bool)])
        self.pending = np.concatenate([self.pending, np.zeros(k, dtype=bool)])
        voiders = tgt[tgt >= 0]
        self.hidden[voiders] = True
        return np.arange(n0, n0 + k)

    def visible(self) -> np.ndarray:
        return ~(self.hidden | self.pending)

    def page_json(self, rows: np.ndarray) -> bytes:
        """The statements at `rows`, JSON-encoded and comma-separated (the inside of a `statements` array)."""
        rows = np.asarray(rows, dtype=np.int64)
        n = len(rows)
        if not n:
            return b""
        c = {k: v[rows] for k, v in self.cols.items()}
        verb = c["verb"]
        ids = _ids_matrix(c["id_hi"], c["id_lo"])
        head = _fixed(b',{"id":"', ids, b'","actor":', n=n)
        actor = self.actors.table().take(pa.array(c["actor"].astype(np.int64) * N_KINDS + c["kind"]))
        verbs = self._verbs.take(pa.array(verb))
        obj = self._courses.take(pa.array(c["course"]))
        void = verb == V_VOIDED
        if void.any():
            t = c["target"][void]
            refs = _fixed(b'{"objectType":"StatementRef","id":"', _ids_matrix(self.cols["id_hi"][t],
                          self.cols["id_lo"][t]), b'"}', n=int(void.sum()))
            obj = pc.replace_with_mask(obj, pa.array(void), refs)
        # result: its parts, each led by a comma; the first comma dropped, absent when it has no part
        succ = pa.array(['', ',"success":false', ',"success":true'], _STR).take(pa.array(c["success"] + 1))
        score, dur = c["score"], c["duration"]
        scored = _numbers(np.maximum(score, 0), _score, self._texts)
        scored = pc.if_else(pa.array(score >= 0), scored, "")
        done = pc.if_else(pa.array(np.isin(verb, _OUTCOME_VERBS)), ',"completion":true', "")
        timed = _numbers(np.maximum(dur, 0), _duration_hms if self.layout == "foreign" else _duration, self._texts)
        timed = pc.if_else(pa.array(dur >= 0), timed, "")
        parts = pc.binary_join_element_wise(succ, scored, done, timed, "")
        result = pc.if_else(pc.equal(pc.binary_length(parts), 0), "",
                            pc.binary_join_element_wise('"result":{', pc.utf8_slice_codeunits(parts, 1), "},", ""))
        if self.layout == "foreign":
            texts = self._foreign(c, ids, actor, verbs, obj, parts, n)
        else:
            tail = _fixed(b'"timestamp":"', _iso_matrix(c["ts"]), b'Z","stored":"', _iso_matrix(c["stored"]),
                          b'Z","authority":' + AUTHORITY.encode() + b',"version":"1.0.3"}', n=n)
            texts = pc.binary_join_element_wise(head, actor, ',"verb":', verbs, ',"object":', obj, ",", result, tail,
                                                "")
        if self.extra:
            changed = [j for j, i in enumerate(rows.tolist()) if i in self.extra]
            if changed:
                items = texts.to_pylist()
                for j in changed:
                    rec = json.loads(items[j][1:])
                    extra = self.extra[int(rows[j])]
                    for k, v in extra.get("set", {}).items():
                        rec[k] = v
                    for k in extra.get("drop", ()):
                        rec.pop(k, None)
                    items[j] = "," + json.dumps(rec, separators=(",", ":"))
                return "".join(items)[1:].encode()
        offsets = np.frombuffer(texts.buffers()[1], dtype=np.int32)[texts.offset:texts.offset + n + 1]
        return texts.buffers()[2][int(offsets[0]) + 1:int(offsets[-1])].to_pybytes()

    @staticmethod
    def _foreign(c: dict, ids: np.ndarray, actor: pa.Array, verbs: pa.Array, obj: pa.Array, parts: pa.Array,
                 n: int) -> pa.Array:
        """The foreign dialect: keys in another order, `stored` at +02:00 with six fractional digits,
        `timestamp` at -05:00 with none (truncated), a `context` with an extension."""
        stored = _iso_matrix(c["stored"] + 2 * HOUR_MS)
        ts = _iso_matrix(c["ts"] - 5 * HOUR_MS)[:, :19]
        head = _fixed(b',{"version":"1.0.3","stored":"', stored, b'000+02:00","timestamp":"', ts,
                      b'-05:00","context":' + FOREIGN_CONTEXT.encode() + b',"authority":' + AUTHORITY.encode()
                      + b',"id":"', ids, b'","actor":', n=n)
        result = pc.if_else(pc.equal(pc.binary_length(parts), 0), "",
                            pc.binary_join_element_wise(',"result":{', pc.utf8_slice_codeunits(parts, 1), "}", ""))
        return pc.binary_join_element_wise(head, actor, ',"verb":', verbs, ',"object":', obj, result, "}", "")

    def query(self, since: int | None, until: int, pos: int | None, limit: int, ascending: bool
              ) -> tuple[bytes, int, int | None]:
        """Visible statements with since < stored <= until from position `pos`: their JSON, comma-separated
        (`page_json`), how many, and the next position or None."""
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
        return self.page_json(np.asarray(out, dtype=np.int64)), len(out), nxt

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
