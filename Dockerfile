# The Dagster code location of hris-lms-bridge (user code image for Dagster's Helm chart).
# Untested here: this machine has no Docker engine. See docs/deploy.md.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DAGSTER_DISABLE_TELEMETRY=1 \
    DBT_SEND_ANONYMOUS_USAGE_STATS=false \
    DBT_VERSION_CHECK=false \
    GX_ANALYTICS_ENABLED=false \
    DO_NOT_TRACK=1

WORKDIR /opt/bridge
COPY pyproject.toml uv.lock README.md ./
COPY orchestration ./orchestration
COPY connectors ./connectors
COPY simulator ./simulator
COPY dbt_project ./dbt_project
COPY workspace.yaml dagster.yaml ./

# Exactly the versions of uv.lock (the dev group left out), installed with the uv it names
RUN pip install --no-cache-dir "uv==$(sed -n '/^name = "uv"$/{n;s/^version = "\(.*\)"$/\1/p;}' uv.lock)" \
 && uv export -q --frozen --no-dev --no-emit-project -o /tmp/requirements.txt \
 && uv pip install --system --no-cache --compile-bytecode --require-hashes -r /tmp/requirements.txt \
 && uv pip install --system --no-cache --compile-bytecode --no-deps . \
 && rm /tmp/requirements.txt \
 # the dbt manifest is built once at image build, never at import in a step process
 && BRIDGE_WORK_DB=/tmp/parse.duckdb bridge prepare \
 && rm -f /tmp/parse.duckdb

# gRPC server for the Dagster webserver and daemon to load the code location from.
EXPOSE 4000
CMD ["dagster", "api", "grpc", "-h", "0.0.0.0", "-p", "4000", "-m", "orchestration.definitions"]
