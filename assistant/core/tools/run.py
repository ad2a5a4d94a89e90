"""The tool that runs a command the model wrote, in the project folder.

It is the sandbox's (core/sandbox.py) to make that safe to the extent a program
can: an allow-listed environment (`[tools] run_env` besides the usual names; no
credential ever), the `[edits] check_*` limits on memory, file size and
processes, and the whole process tree ended at the timeout (the smaller of what
the model asks and `[tools] run_timeout`) or when the task is cancelled. The
model is told the exit status and the first and last lines of the output; a
stopped command is said to be stopped, not reported as a failure of its own.
"""

from __future__ import annotations

from assistant.core import sandbox
from assistant.core.edits.checks import limits
from assistant.core.text import clean_text
from assistant.core.tools.types import Args, ToolContext, ToolResult


def run(args: Args, ctx: ToolContext) -> ToolResult:
    command = args["command"]
    if not command.strip():
        return ToolResult.failed("`command` is empty; give the shell command to run")
    if "\0" in command or clean_text(command) != command:
        return ToolResult.failed("`command` holds a NUL or a lone surrogate, which no shell command can")
    timeout = float(min(args.get("timeout", ctx.tools.run_timeout), ctx.tools.run_timeout))
    head = ctx.tools.output_lines // 2
    result = sandbox.run(
        command, ctx.root, timeout=timeout, cancel=ctx.cancel, limits=limits(ctx.edits),
        pass_env=ctx.tools.run_env, on_start=ctx.on_start, head=head, tail=ctx.tools.output_lines - head,
    )  # fmt: skip
    status = _status(result, timeout)
    output = result.output.rstrip("\n")
    if result.status == "could not start":
        return ToolResult(f"{status}: {output}", False, status)
    content = f"{status}\n{output}" if output else f"{status}, with no output"
    ok = result.status == "exited" and result.exit_code == 0
    # The step's line shows its time beside the summary: the summary does not say it again.
    return ToolResult(content, ok, _status(result, timeout, timed=False), exit_code=result.exit_code)


def _status(result: sandbox.Result, timeout: float, *, timed: bool = True) -> str:
    """The run's outcome, as one plain line: "exit 1 in 2.3 s", "timed out after 120 s: …"
    (without `timed`, no "in 2.3 s": "exit 1")."""
    took = f"{result.seconds:.1f} s"
    if not timed and result.status == "exited":
        code = result.exit_code
        return f"exit {code}" if code is None or 0 <= code <= 128 else _status(result, timeout).rsplit(" in ", 1)[0]
    if result.status == "timed out":
        return f"timed out after {timeout:g} s: stopped, with every process it started"
    if result.status == "cancelled":
        return f"cancelled after {took}: stopped, with every process it started"
    if result.status == "could not start":
        return "could not start"
    code = result.exit_code
    if code is not None and code < 0:
        return f"stopped by signal {-code} in {took} (its supervisor was killed)"
    if code is not None and code > 128:
        return f"exit {code} (signal {code - 128}, if it was killed) in {took}"
    return f"exit {code} in {took}"
