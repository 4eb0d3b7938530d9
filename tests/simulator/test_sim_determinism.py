"""Same (profile, seed) -> the same organisation, feeds and truth, whatever the hash seed or wall clock."""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = (
    "import sys; from pathlib import Path; from simulator.world import World; from simulator.truth import write_truth;"
    "w = World('pilot', int(sys.argv[2]), Path(sys.argv[1])); w.advance(3); write_truth(w)"
)


def _digest(workdir: Path) -> dict[str, str]:
    out = {}
    for p in sorted(workdir.rglob("*.csv")):
        out[str(p.relative_to(workdir))] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def _run(workdir: Path, seed: int, hash_seed: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-c", SCRIPT, str(workdir), str(seed)], check=True, env=env, cwd=ROOT)
    return _digest(workdir)


def test_same_seed_same_truth_and_files(tmp_path):
    a = _run(tmp_path / "a", 5, "1")
    b = _run(tmp_path / "b", 5, "999")
    c = _run(tmp_path / "c", 6, "1")
    assert "truth/employees.csv" in a and any(k.startswith("inbox/") for k in a)
    assert a == b
    assert a["truth/employees.csv"] != c["truth/employees.csv"]
