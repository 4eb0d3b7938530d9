"""`bridge`'s exit status is its command's, and it exits as Python does: output flushed, exit
handlers run, the interpreter torn down (no early exit that would skip them)."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# A command replaced by `body`, run as the program (`main()` without arguments).
PROGRAM = """
import atexit, sys
from orchestration import cli

class Teardown:
    def __del__(self):
        sys.stderr.write("interpreter torn down\\n")

keep = Teardown()

def command(args):
{body}

cli.cmd_status = command
sys.argv = ["bridge", "status"]
sys.exit(cli.main())
"""


def run(argv: list[str], tmp_path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(argv, check=False, cwd=REPO, capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "BRIDGE_WAREHOUSE": str(tmp_path / "bridge.duckdb")})


def run_program(body: str, tmp_path: Path, call: str = "cli.main()") -> subprocess.CompletedProcess:
    code = PROGRAM.format(body="\n".join("    " + line for line in body.splitlines()))
    return run([sys.executable, "-c", code.replace("cli.main()", call)], tmp_path)


def test_status_output_and_handlers_are_pythons(tmp_path):
    body = (
        "import tempfile\n"
        "global scratch\n"
        "scratch = tempfile.TemporaryDirectory()  # as Dagster's ephemeral instance keeps one\n"
        "print(scratch.name)\n"
        "atexit.register(lambda: print('handler registered by the command ran', flush=True))\n"
        "print('x' * 200_000)  # far more than a pipe buffer: nothing may stay unflushed\n"
        "return 3"
    )
    done = run_program(body, tmp_path)
    assert done.returncode == 3, done.stderr
    scratch, *lines = done.stdout.splitlines()
    assert lines == ["x" * 200_000, "handler registered by the command ran"]
    assert not Path(scratch).exists()
    assert "interpreter torn down" in done.stderr


def test_system_exit_keeps_its_status_and_message(tmp_path):
    done = run_program("raise SystemExit('bridge: configuration error: BRIDGE_X is not set')", tmp_path)
    assert done.returncode == 1
    assert done.stderr.splitlines()[0] == "bridge: configuration error: BRIDGE_X is not set"
    done = run_program("raise SystemExit(3)", tmp_path)
    assert done.returncode == 3


def test_an_uncaught_error_exits_as_python_does(tmp_path):
    done = run_program("raise RuntimeError('broken command')", tmp_path)
    assert done.returncode == 1
    assert "RuntimeError: broken command" in done.stderr
    assert "interpreter torn down" in done.stderr


def test_a_caller_in_the_same_process_keeps_its_interpreter(tmp_path):
    done = run_program("return 0", tmp_path, call="cli.main(['status']) + 4")
    assert done.returncode == 4
    assert "interpreter torn down" in done.stderr


def test_the_real_program_reports_a_missing_warehouse(tmp_path):
    bridge = Path(sys.executable).parent / "bridge"
    done = run([str(bridge), "status"], tmp_path)
    assert done.returncode == 2
    assert "no warehouse at" in done.stderr and "run `bridge sync` first" in done.stderr
