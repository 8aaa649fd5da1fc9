"""``minicluster``: run dataflow job scripts on a cluster on this machine.

    minicluster run JOB.py [-p N] [-D key=value ...] [-- job args]

``run`` executes the script in this process, like ``python JOB.py``, with
``-p``/``-D`` as the defaults of every ``StreamExecutionEnvironment`` it creates; the
job's ``execute()`` then starts an embedded cluster, whose TaskManagers' output is
streamed to this terminal. A failed job prints the error and the user's traceback and
exits with status 1; Ctrl-C cancels the job and exits with 130.
"""

from __future__ import annotations

import os
import runpy
import sys
import traceback
from pathlib import Path
from typing import List, Optional

import typer

from minicluster.datastream.stream_execution_environment import set_process_defaults
from minicluster.errors import MiniClusterError

app = typer.Typer(
    help="Run Flink-shaped dataflow jobs on a real cluster on this machine.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def parse_definitions(definitions: list[str]) -> dict[str, str]:
    """``["a=1", "b=x"]`` -> ``{"a": "1", "b": "x"}``; a missing ``=`` is an error."""
    config = {}
    for definition in definitions:
        key, sep, value = definition.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(
                f"{definition!r} is not key=value (e.g. -D taskmanager.numberOfTaskSlots=2)",
                param_hint="-D",
            )
        config[key.strip()] = value.strip()
    return config


@app.callback()
def main_callback() -> None:
    """Run Flink-shaped dataflow jobs on a real cluster on this machine."""


@app.command()
def run(
    job: Path = typer.Argument(..., help="The job script, a Python file that calls env.execute().", exists=True, dir_okay=False),
    parallelism: Optional[int] = typer.Option(None, "--parallelism", "-p", min=1, help="Default parallelism of the job's operators (parallelism.default)."),
    define: List[str] = typer.Option([], "--define", "-D", help="Configuration key=value, Flink's key names (repeatable), e.g. -D taskmanager.numberOfTaskSlots=2."),
    job_args: List[str] = typer.Argument(None, help="Arguments for the job script, after `--`."),
) -> None:
    """Run JOB.py on an embedded cluster and stream its output."""
    config = parse_definitions(define)
    if parallelism is not None:
        config["parallelism.default"] = str(parallelism)
    set_process_defaults(config)
    script = str(job)
    sys.argv = [script, *(job_args or [])]
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
    try:
        runpy.run_path(script, run_name="__main__")
    except KeyboardInterrupt:
        typer.echo("Cancelled.", err=True)
        raise typer.Exit(130) from None
    except BrokenPipeError:  # e.g. `minicluster run job.py | head`: the job was cancelled
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise typer.Exit(141) from None
    except MiniClusterError as error:
        cause = error.__cause__
        if cause is not None:
            typer.echo(str(cause).strip().strip('"').strip(), err=True)
        typer.echo(f"Error: {error}", err=True)
        raise typer.Exit(1) from None
    except SystemExit:
        raise
    except BaseException:
        traceback.print_exc()
        raise typer.Exit(1) from None


def main() -> None:
    app()


if __name__ == "__main__":
    main()
