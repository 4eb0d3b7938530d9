"""Extract-and-land throughput per feed and peak RSS (run via `make bench`; not a test).

    python bench/bench_extract.py [--profile large] [--seed 1] [--workdir DIR]

Starts the simulator, then per feed runs, each in a fresh child process:
  * fetch: the feed's own page client only (HTTP + JSON, nothing landed): the serving rate
    (xAPI: page bytes only, no JSON decoding at all, the simulator's raw serving rate);
  * land:  a full extract into an empty DuckDB file (fetch + land + cursor commits);
  * xAPI only, duckdb: DuckDB's own load of the same pages in the same run, the floor the
    bridge's landing is measured against (the issue's ratio, which carries across machines).
    The fetch child writes each page body it fetched, as served, to a file of its own in a temp
    dir (outside its timed part; the pages are never all held in memory), and a fresh child
    times one statement: `read_json` of those files with `statements` read as a list of JSON
    values, unnested into a new table in an empty DuckDB file whose `payload` column is declared
    as the bridge's raw table declares it, with the same memory limit as the land (the run's
    work-file share). It is what the bridge must do at the least (every statement parsed and
    stored as a JSON value), without what it adds: the HTTP fetch, the key and change stamp
    read from each statement, the hash, the anti-join against what is already landed and the
    cursor commits. The pages are read from the OS page cache (just written), as the
    bridge reads them from the socket;
then advances the simulator one day and runs an incremental extract of every feed
into its database (the next day's sync).
Prints records/s, MB/s and peak RSS of each, land/fetch as the ratio of the
bridge's throughput to the simulator's raw serving rate, for xAPI DuckDB's load rate and
land/DuckDB (the issue's target: at least 250,000 statements/s landed), and each incremental
day's time as a share of its full extract's (target: under 5%). Under each feed:
CPU seconds per 100k records of the bridge child and of the simulator during
each run, and the load average: on a shared machine wall-clock rates move with
the load, CPU per record much less.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
for _k, _v in {"DAGSTER_DISABLE_TELEMETRY": "1", "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
               "GX_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1"}.items():
    os.environ.setdefault(_k, _v)

FEEDS = ("hris", "xapi", "lms", "checkins", "payroll")


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0     # Linux: KiB


_MORE_TAIL = re.compile(rb'"more"\s*:\s*"([^"]*)"\s*}\s*$')
_UNTIMED = [0.0, 0.0]   # wall and CPU seconds a fetch child spent on bookkeeping not part of the measurement


def _fetch_only(feed: str, env: dict, pages_dir: Path | None = None) -> tuple[int, int]:
    """Read every page of a feed without landing: (records, bytes). xAPI: each page body is also
    written to a file of its own in `pages_dir` (untimed), for DuckDB's own load of the same pages."""
    from connectors import checkins, lms, payroll, scim, xapi
    from connectors.config import sources_from_mapping
    from connectors.rest import list_pages

    cfg = sources_from_mapping(env).get(feed)
    records = nbytes = 0
    if feed == "hris":
        with scim.client(cfg) as http:
            spc = scim.provider_config(http)
            count = min(cfg.page_size, spc.max_results or cfg.page_size)
            for page in scim.user_pages(http, count=count):
                records, nbytes = records + len(page.records), nbytes + page.nbytes
    elif feed == "xapi":
        # the raw serving rate: page bytes only, `more` read off the tail of the body (the simulator
        # ends each page with it); statements are counted by DuckDB, outside the timed part
        pages = 0
        with xapi.client(cfg) as http, xapi.PageDecoder(max_stored=False) as decoder:
            until = xapi.consistent_through(http)
            url: str | None = "statements"
            q = {"ascending": "true", "limit": cfg.page_size, **({"until": until} if until else {})}
            while url:
                raw = http.get_json(xapi.STREAM, url, params=q, decode=bytes).raw
                nbytes += len(raw)
                tail = _MORE_TAIL.search(raw[-4096:])
                url, q = (tail.group(1).decode() if tail else json.loads(raw)["more"]) or None, None
                t0, c0 = time.perf_counter(), time.process_time()
                records += decoder(raw).count
                if pages_dir is not None:
                    (pages_dir / f"{pages:07d}.json").write_bytes(raw)
                pages += 1
                _UNTIMED[0] += time.perf_counter() - t0
                _UNTIMED[1] += time.process_time() - c0
    elif feed in ("lms", "checkins"):
        mod = lms if feed == "lms" else checkins
        with mod.client(cfg) as http:
            for stream in mod.STREAMS:
                for page in list_pages(http, stream, f"api/v1/{stream}", updated_since=None, cursor=None,
                                       limit=cfg.page_size):
                    records, nbytes = records + page.count, nbytes + page.nbytes
    else:
        for f in payroll.list_files(cfg.inbox):
            data = Path(f.path).read_bytes()
            records, nbytes = records + data.count(b"\n") - 1, nbytes + len(data)
    return records, nbytes


def _land(feed: str, env: dict, db: str) -> tuple[int, int]:
    from connectors import duck
    from connectors.config import sources_from_mapping
    from connectors.sync import extract_source
    from orchestration.lib.warehouse import MemoryBudget

    con = duck.connect(db, memory_limit=MemoryBudget().work)    # the run's work file, as bounded
    try:
        results = extract_source(con, feed, sources_from_mapping(env).get(feed), "bench",
                                 date.fromisoformat(env["BRIDGE_AS_OF"]))
    finally:
        con.close()
    return sum(r.records for r in results), sum(r.bytes for r in results)


def _duckdb_load(pages_dir: Path, db: str) -> tuple[int, int]:
    """DuckDB's own load of the page files into a new table (the module docstring says what and why)."""
    from connectors import duck
    from connectors.landing import PAYLOAD_TYPES
    from orchestration.lib.warehouse import MemoryBudget

    files = sorted(pages_dir.glob("*.json"))
    largest = max((f.stat().st_size for f in files), default=0)
    con = duck.connect(db, memory_limit=MemoryBudget().work)
    try:
        con.execute(f"create table statements (payload {PAYLOAD_TYPES['xapi', 'statements']})")
        records = con.execute(
            "insert into statements select unnest(statements) from read_json(?, records = true, "
            "format = 'auto', columns = {'statements': 'json[]'}, maximum_object_size = ?)",
            [[str(f) for f in files], max(largest + 1, 16 * duck.MiB)]).fetchall()[0][0]
    finally:
        con.close()
    return records, sum(f.stat().st_size for f in files)


def child(mode: str, feed: str, env_file: str, db: str) -> None:
    env = json.loads(Path(env_file).read_text())
    import connectors.sync  # noqa: F401  (imports are not part of the measurement)
    import orchestration.lib.warehouse  # noqa: F401
    t0, c0 = time.perf_counter(), time.process_time()
    if mode == "fetch":     # `db` is then the folder the xAPI pages are written to
        records, nbytes = _fetch_only(feed, env, Path(db) if feed == "xapi" else None)
    elif mode == "duckdb":  # `db`: the pages folder; DuckDB's file goes beside it
        records, nbytes = _duckdb_load(Path(db), str(Path(db).with_suffix(".duckdb")))
    else:
        records, nbytes = _land(feed, env, db)
    secs = time.perf_counter() - t0 - _UNTIMED[0]
    cpu = time.process_time() - c0 - _UNTIMED[1]
    print(json.dumps({"records": records, "bytes": nbytes, "seconds": secs, "cpu_s": cpu,
                      "peak_rss_mb": _peak_rss_mb()}))


def _sim_cpu(pid: int) -> float:
    """CPU seconds (user + system) the simulator process has used so far (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_child(mode: str, feed: str, env_file: Path, db: Path, sim_pid: int) -> dict:
    sim0 = _sim_cpu(sim_pid)
    out = subprocess.run([sys.executable, __file__, "--child", mode, feed, str(env_file), str(db)],
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"{mode} {feed} failed:\n{out.stderr[-3000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["sim_cpu_s"] = _sim_cpu(sim_pid) - sim0
    return result


def _per_100k(run: dict, key: str) -> float:
    return run[key] / run["records"] * 1e5 if run["records"] else float("nan")


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", default="large", choices=["pilot", "standard", "large"])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--feeds", default=",".join(FEEDS))
    ap.add_argument("--child", nargs=4, metavar=("MODE", "FEED", "ENV", "DB"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return
    from simulator import Simulator

    work = Path(args.workdir or tempfile.mkdtemp(prefix="bench-extract-"))
    t0 = time.perf_counter()
    with Simulator(args.profile, args.seed, work / "sim", startup_timeout=3600) as sim:
        print(f"simulator {args.profile} ready in {time.perf_counter() - t0:.1f}s; workdir {work}")
        env_file = work / "env.json"
        env_file.write_text(json.dumps(sim.env))
        print(f"{'feed':9} {'records':>9} {'MB':>8} {'fetch rec/s':>12} {'land rec/s':>11} {'land MB/s':>10} "
              f"{'ratio':>6} {'RSS fetch MB':>13} {'RSS land MB':>12}")
        feeds, full = args.feeds.split(","), {}
        for feed in feeds:
            pages = Path(tempfile.mkdtemp(prefix=f"{feed}-pages-", dir=work))
            try:
                fetch = run_child("fetch", feed, env_file, pages, sim.proc.pid)
                load_fetch = _load()
                own = run_child("duckdb", feed, env_file, pages, sim.proc.pid) if feed == "xapi" else None
            finally:    # gigabytes on the large profile
                shutil.rmtree(pages, ignore_errors=True)
                for leftover in work.glob(f"{pages.name}.duckdb*"):
                    leftover.unlink()
            land = full[feed] = run_child("land", feed, env_file, work / f"bench-{feed}.duckdb", sim.proc.pid)
            f_rate = fetch["records"] / fetch["seconds"] if fetch["seconds"] else float("nan")
            l_rate = land["records"] / land["seconds"] if land["seconds"] else float("nan")
            print(f"{feed:9} {land['records']:>9} {land['bytes'] / 1e6:>8.1f} {f_rate:>12.0f} {l_rate:>11.0f} "
                  f"{land['bytes'] / 1e6 / land['seconds']:>10.2f} {l_rate / f_rate:>6.2f} "
                  f"{fetch['peak_rss_mb']:>13.0f} {land['peak_rss_mb']:>12.0f}", flush=True)
            print(f"{'':9} CPU s/100k: fetch bridge {_per_100k(fetch, 'cpu_s'):.3f} simulator "
                  f"{_per_100k(fetch, 'sim_cpu_s'):.3f} (load {load_fetch}); land bridge "
                  f"{_per_100k(land, 'cpu_s'):.3f} simulator {_per_100k(land, 'sim_cpu_s'):.3f} (load {_load()})",
                  flush=True)
            if own is not None:
                o_rate = own["records"] / own["seconds"] if own["seconds"] else float("nan")
                print(f"{'':9} DuckDB's own load of the same pages: {own['records']} statements, {o_rate:.0f} rec/s, "
                      f"CPU s/100k {_per_100k(own, 'cpu_s'):.3f}, RSS {own['peak_rss_mb']:.0f} MB; "
                      f"land/DuckDB {l_rate / o_rate:.2f} (land {l_rate:.0f} rec/s)", flush=True)
        sim.advance_days(1)
        env_file.write_text(json.dumps(sim.env))
        print(f"\nincremental day: {'feed':9} {'records':>8} {'seconds':>8} {'full s':>7} {'of full':>8} "
              f"{'RSS MB':>7}")
        day = 0.0
        for feed in feeds:
            inc = run_child("land", feed, env_file, work / f"bench-{feed}.duckdb", sim.proc.pid)
            day += inc["seconds"]
            print(f"{'':17}{feed:9} {inc['records']:>8} {inc['seconds']:>8.2f} {full[feed]['seconds']:>7.2f} "
                  f"{inc['seconds'] / full[feed]['seconds']:>8.1%} {inc['peak_rss_mb']:>7.0f}", flush=True)
        # the target (issue #3) is for the sync: a day's extract of every feed against a full one
        whole = sum(full[f]["seconds"] for f in feeds)
        print(f"{'':17}{'together':9} {'':>8} {day:>8.2f} {whole:>7.2f} {day / whole:>8.1%}", flush=True)


if __name__ == "__main__":
    main()
