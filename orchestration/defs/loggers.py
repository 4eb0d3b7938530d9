"""Dagster loggers: the default console one, and `bridge_progress`, which `bridge sync`
turns on in its run config to show one line per step."""

import dagster as dg

from orchestration.lib import progress


@dg.logger(description="Step lines for the `bridge sync` display of the process running the job.")
def bridge_progress(init_context: dg.InitLoggerContext):
    return progress.dagster_logger()


loggers = {"console": dg.colored_console_logger, "bridge_progress": bridge_progress}
