"""The ``gradx`` command line: parses options and dispatches; no computation lives here.

torch and sympy are imported inside the command bodies (through the core modules), so that
``gradx --help`` and ``gradx explain-error`` start without them.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Protocol

import typer
import typer.core

from gradx import __version__
from gradx.errors import ExitCode, GradxError
from gradx.numerics.settings import DType, Method

try:  # typer 0.2x vendors click; older typers use click itself
    from typer._click.exceptions import ClickException, NoArgsIsHelpError
except ImportError:  # pragma: no cover - depends on the installed typer
    from click.exceptions import (  # type: ignore[no-redef,import-not-found]
        ClickException,
        NoArgsIsHelpError,
    )
from typer.core import TyperGroup


class _OneRedLineGroup(TyperGroup):
    """typer's command group, except that bad usage is one red line and exit 2.

    typer draws a usage line, a hint and a boxed panel for an unknown option or command;
    gradx answers every kind of unusable input the same way: ``error: ...`` in red. It also lets
    ``eval``/``graph`` take an expression that starts with ``-`` (see ``cli_args``) before the
    options are parsed, for the console script and CliRunner alike.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # A flag takes no value, so help must not show one (typer writes "<bool>").
        for command in (self, *self.commands.values()):
            # --help is made on demand (and cached by click), the others are in .params
            help_option = command.get_help_option(typer.Context(command))
            for param in (*command.params, help_option):
                if param is not None and getattr(param, "is_flag", False) and param.metavar is None:
                    param.metavar = ""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        from gradx.cli_args import EXPRESSION_COMMANDS, expression_last

        index = next((i for i, a in enumerate(args) if not a.startswith("-")), None)
        if index is not None and args[index] in EXPRESSION_COMMANDS:
            command = self.commands[args[index]]
            options = [p for p in command.params if p.param_type_name == "option"]
            flag = {
                o: bool(getattr(p, "is_flag", False))
                for p in options
                for o in (*p.opts, *p.secondary_opts)
            }
            flags = {o for o, is_flag in flag.items() if is_flag}
            valued = {o for o, is_flag in flag.items() if not is_flag}
            rest = expression_last(args[index + 1 :], {*flags, "--help"}, valued)
            args = [*args[: index + 1], *rest]
        return super().parse_args(ctx, args)

    def main(  # type: ignore[override]
        self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra
    ):
        """Run the command line; usage errors become one red line (exit 2)."""
        try:
            code = super().main(
                args=args,
                prog_name=prog_name,
                complete_var=complete_var,
                standalone_mode=False,
                **extra,
            )
        except NoArgsIsHelpError as error:  # bare `gradx`: typer has printed the help
            code = error.exit_code
        except ClickException as error:
            from gradx.render.console import print_error

            print_error(GradxError(_usage_message(error)))
            code = error.exit_code
        except typer.Abort:  # end of input where a prompt waited
            code = 130
        if not standalone_mode:
            return code
        sys.exit(code if isinstance(code, int) else 0)


def _usage_message(error: ClickException) -> str:
    """click's message as gradx says things: lower case, one line, where to look for help."""
    import re

    message = " ".join(error.format_message().split()).rstrip(".")
    message = message[:1].lower() + message[1:]
    # click's suggestions, "(Possible options: --csv, --json)" and ". Did you mean 'graph'?"
    possible = re.search(r"\s*\(Possible options: (.*)\)$", message)
    if possible:
        names = possible.group(1).split(", ")
        message = message[: possible.start()]
        if len(names) <= 2:  # more is guessing
            message += f"; did you mean {' or '.join(names)}?"
    message = re.sub(r"\. Did you mean ", "; did you mean ", message)
    ctx = getattr(error, "ctx", None)
    if ctx is None:
        return message
    if message.startswith("no such command"):
        name = message.split("'")[1] if "'" in message else ""
        if f"--{name}" in {opt for p in ctx.command.params for opt in p.opts}:
            return f"{message}; did you mean {ctx.command_path} --{name}?"
    if "did you mean" in message:
        return message
    return f"{message} (see {ctx.command_path} --help)"


app = typer.Typer(
    name="gradx",
    cls=_OneRedLineGroup,
    help="A gradient explorer for PyTorch: see, check and explain derivatives.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


class _State:
    traceback = False


_state = _State()


@contextmanager
def _user_errors() -> Iterator[None]:
    """Turn failures into one red line and an exit code (a traceback only with --traceback)."""
    from gradx.render.console import print_error, print_internal_error

    try:
        yield
    except typer.Exit:
        raise
    except GradxError as error:
        if _state.traceback:
            raise
        print_error(error)
        raise typer.Exit(int(error.exit_code)) from None
    except KeyboardInterrupt as interrupt:  # Ctrl-C, or SIGTERM/SIGHUP (gradx.termination)
        raise typer.Exit(getattr(interrupt, "exit_status", int(ExitCode.INTERRUPTED))) from None
    except BrokenPipeError:
        # The reader went away (gradx ... | head): stop quietly, as a SIGPIPE would.
        _silence_stdout()
        raise typer.Exit(int(ExitCode.BROKEN_PIPE)) from None
    except OSError as exc:
        from gradx.atomic_file import WRITE_ERRORS, write_error

        if _state.traceback or exc.errno not in WRITE_ERRORS or exc.filename is not None:
            raise
        # Writing the report failed (a full disk behind stdout): one line, exit 2.
        _silence_stdout()
        print_error(write_error("-", exc))
        raise typer.Exit(int(ExitCode.USAGE)) from None
    except MemoryError:
        if _state.traceback:
            raise
        print_error(GradxError("out of memory: ask for fewer points (--steps) or a smaller input"))
        raise typer.Exit(int(ExitCode.USAGE)) from None
    except Exception as exc:  # noqa: BLE001 - the last line of defence against tracebacks
        if _state.traceback:
            raise
        print_internal_error(exc)
        raise typer.Exit(int(ExitCode.FAILED)) from None


class _Finished(Protocol):
    """A command's report: it says whether its verdict is good."""

    @property
    def exit_ok(self) -> bool: ...


def _exit_for(report: _Finished) -> typer.Exit:
    """The exit of a finished command: its report's verdict through the one ExitCode table.

    A report that can be incomplete (eval's: a point could not be checked, "inconclusive")
    says so with ``exit_complete``; exit 1 then too.
    """
    complete = getattr(report, "exit_complete", True)
    return typer.Exit(int(ExitCode.for_outcome(report.exit_ok, complete=complete)))


def _silence_stdout() -> None:
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # not a real file (a test runner's buffer)
        pass


def _version(value: bool) -> None:
    if value:
        print(f"gradx {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    traceback: Annotated[
        bool, typer.Option("--traceback", help="Show Python tracebacks (for bug reports).")
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """A gradient explorer for PyTorch: see, check and explain derivatives.

    Exit codes: 0 every check agrees, 1 a disagreement or failure was found (or a point could
    not be checked: eval's "inconclusive"), 2 unusable input.
    """
    _state.traceback = traceback


# Options shared by several commands.
DtypeOption = Annotated[DType, typer.Option("--dtype", help="Floating-point type to compute in.")]
RtolOption = Annotated[
    float | None,
    typer.Option("--rtol", metavar="RTOL", help="Relative tolerance (default per dtype)."),
]
AtolOption = Annotated[
    float | None,
    typer.Option("--atol", metavar="ATOL", help="Absolute tolerance (default per dtype)."),
]
LangOption = Annotated[
    str | None,
    typer.Option("--lang", help="en or zh (default: from LC_ALL, LC_MESSAGES or LANG)."),
]


# --------------------------------------------------------------------------- eval


def _functions_epilog() -> str:
    from gradx.expression.vocabulary import ALIASES, FUNCTIONS

    aliases = ", ".join(f"{a} = {t}" for a, t in ALIASES.items())
    return (
        f"Functions: {' '.join(FUNCTIONS)}. Aliases: {aliases}. Constants: pi, e. "
        "Operators: + - * / ** (^ also means power); where(cond, a, b) with < <= > >= == != "
        "and, or, not. torch./F./math./np. prefixes are accepted. An expression may start "
        "with '-', as in "
        'gradx eval "-x^2" --at 1. Exit codes: 0 every point ok, '
        "nondifferentiable or domain (explained); 1 a mismatch, or a point that could not be "
        "checked (inconclusive); 2 unusable input."
    )


@app.command("eval", epilog=_functions_epilog())
def eval_command(
    expression: Annotated[
        str,
        typer.Argument(
            metavar="EXPRESSION", help="A math expression such as 'sin(x)*exp(-x^2/10)'."
        ),
    ],
    at: Annotated[
        list[str] | None,
        typer.Option(
            "--at",
            metavar="POINT",
            help="Points: x=1.5, x=1,y=2, x=0,1,2 (a vector: three points; vectors pair up), "
            "or a bare 1.5 for a one-variable expression. Repeatable.",
        ),
    ] = None,
    range_: Annotated[
        list[str] | None,
        typer.Option(
            "--range",
            metavar="RANGE",
            help="A range such as -6.28:6.28, 0:1:0.1 (with a step) or x=-1:1 (one per variable: a grid).",
        ),
    ] = None,
    steps: Annotated[
        int | None,
        typer.Option("--steps", metavar="N", help="Points per range without a step (default 13)."),
    ] = None,
    order: Annotated[
        int,
        typer.Option(
            "--order", metavar="K", help="Derivative order (2 with several variables: the Hessian)."
        ),
    ] = 1,
    wrt: Annotated[
        list[str] | None,
        typer.Option(
            "--wrt",
            metavar="VARS",
            help="Differentiate only with respect to these variables (x or x,y).",
        ),
    ] = None,
    dtype: DtypeOption = DType.FLOAT64,
    rtol: RtolOption = None,
    atol: AtolOption = None,
    all_rows: Annotated[
        bool, typer.Option("--all", help="Print every row, not only the interesting ones.")
    ] = False,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print one JSON document instead of the table.")
    ] = False,
    csv_path: Annotated[
        Path | None,
        typer.Option("--csv", metavar="FILE", help="Also write every row to this CSV file."),
    ] = None,
    plot: Annotated[
        bool,
        typer.Option(
            "--plot", help="Also draw f and its derivatives over the range on the terminal."
        ),
    ] = False,
    overlay: Annotated[
        bool,
        typer.Option(
            "--overlay",
            help="With --plot or --save: draw f and its derivatives on the same axes (as d2l "
            "does), not one panel each.",
        ),
    ] = False,
    save: Annotated[
        Path | None,
        typer.Option(
            "--save",
            metavar="FILE",
            help="Also save the plot as FILE.png, .svg or .pdf (needs matplotlib: gradx\\[plot]).",
        ),
    ] = None,
    quotient: Annotated[
        bool,
        typer.Option(
            "--quotient",
            help="At one --at point: the forward and central difference quotients for "
            "h = 1e-1 ... 1e-16, their errors against autograd, and where rounding takes over.",
        ),
    ] = False,
    lang: LangOption = None,
) -> None:
    """Evaluate an expression and its derivatives; check autograd against sympy and finite differences.

    Examples: gradx eval "sin(x)" --range -6.28:6.28 · gradx eval "x^2*y" --at x=1,y=2 --order 2
    """
    with _user_errors():
        from gradx.commands.eval.pipeline import EvalRequest
        from gradx.render.eval_output import emit, eval_writers

        request = EvalRequest.from_cli(
            expression=expression,
            at=tuple(at or ()),
            ranges=tuple(range_ or ()),
            steps=steps,
            order=order,
            wrt=tuple(wrt or ()),
            dtype=dtype,
            rtol=rtol,
            atol=atol,
            all_rows=all_rows,
            quotient=quotient,
            overlay=overlay,
            json_out=json_out,
            csv=csv_path,
            plot=plot,
            save=save,
            lang=lang,
        )
        output = request.output
        with eval_writers(json_out=output.json, csv_path=output.csv) as on_event:
            report = request.run(on_event=on_event)
        emit(
            report,
            json_out=output.json,
            csv_path=output.csv,
            plot=output.plot,
            save=output.save,
            lang=output.lang,
        )
    raise _exit_for(report)


# --------------------------------------------------------------------------- check


@app.command("check")
def check_command(
    target: Annotated[
        str,
        typer.Argument(
            metavar="FILE.py[::NAME]",
            help="A Python file (every function, autograd.Function and nn.Module in it) "
            "or one target in it.",
        ),
    ],
    shape: Annotated[
        list[str] | None,
        typer.Option(
            "--shape",
            metavar="SHAPE",
            help="Input shape: 7 (every tensor argument), x=3,4 or x=() (a scalar). Repeatable.",
        ),
    ] = None,
    at: Annotated[
        list[str] | None,
        typer.Option(
            "--at",
            metavar="VALUES",
            help="Input values: x=1.5, x=0,1,2 (a vector), a=[[1,2],[3,4]] (a matrix) or a bare "
            "1.5 for all. Repeatable.",
        ),
    ] = None,
    samples: Annotated[
        int, typer.Option("--samples", metavar="K", help="Check K random input draws.")
    ] = 1,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the random inputs.")] = 0,
    order: Annotated[
        int, typer.Option("--order", help="2: also check second derivatives (double backward).")
    ] = 1,
    timeout: Annotated[
        float,
        typer.Option("--timeout", metavar="SECONDS", help="Time limit per target."),
    ] = 20.0,
    dtype: DtypeOption = DType.FLOAT64,
    rtol: RtolOption = None,
    atol: AtolOption = None,
    method: Annotated[
        Method,
        typer.Option(
            "--method",
            help="auto (random directions from 32 to 10,000 input elements, full Jacobian below, "
            "projections above), full, directions or projections.",
        ),
    ] = Method.AUTO,
    against: Annotated[
        str | None,
        typer.Option(
            "--against",
            metavar="FILE.py::NAME",
            help="Compare FILE::NAME (a kernel) with this reference implementation instead of "
            "finite differences: outputs and gradients, in --dtype float16|bfloat16|float32|"
            "float64 against the reference in that dtype and in float64.",
        ),
    ] = None,
    device: Annotated[
        str,
        typer.Option("--device", metavar="DEVICE", help="Run the code on cpu, cuda or mps."),
    ] = "cpu",
    json_out: Annotated[
        bool, typer.Option("--json", help="Print one JSON document instead of the report.")
    ] = False,
    values: Annotated[
        bool,
        typer.Option(
            "--values", help="Also show each target's inputs and the gradients autograd gives."
        ),
    ] = False,
    memory: Annotated[
        str | None,
        typer.Option(
            "--memory",
            metavar="SIZE",
            help="Memory limit of the process running the targets, e.g. 8G or none "
            "(default: half of this machine's memory).",
        ),
    ] = None,
    lang: LangOption = None,
) -> None:
    """Check the gradients of the functions, autograd.Functions and nn.Modules in a file.

    Each target runs in a separate process with a time limit; wrong Jacobian entries are
    listed with their likely cause. Examples: gradx check model.py · gradx check
    model.py::MySquare --shape x=3,4 --order 2. Exit codes: 0 all pass, 1 a failure, error or
    timeout, 2 unusable input.
    """
    with _user_errors():
        from gradx.commands.check.command import CheckRequest
        from gradx.render.check_report import CheckProgress, emit

        request = CheckRequest.from_cli(
            target=target,
            shapes=tuple(shape or ()),
            at=tuple(at or ()),
            samples=samples,
            seed=seed,
            order=order,
            timeout=timeout,
            dtype=dtype,
            rtol=rtol,
            atol=atol,
            method=method,
            against=against,
            device=device,
            memory=memory,
            json_out=json_out,
            values=values,
            lang=lang,
        )
        output = request.output
        with CheckProgress(timeout=request.settings.timeout, lang=output.lang) as progress:
            report = request.run(on_event=progress)
        emit(report, json_out=output.json, values=output.values, lang=output.lang)
    raise _exit_for(report)


# --------------------------------------------------------------------------- explain-error


@app.command(
    "explain-error",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def explain_error(
    ctx: typer.Context,
    text: Annotated[
        str | None,
        typer.Argument(
            help="Error text or traceback, or a catalog id such as backward-twice. "
            "Omit it (or give -) to read standard input. With --run: the script's arguments.",
            metavar="TEXT",
            show_default=False,
        ),
    ] = None,
    run: Annotated[
        Path | None,
        typer.Option(
            "--run",
            metavar="SCRIPT",
            help="Run this Python script (with the arguments that follow) and explain the "
            "autograd error or warning it raises. Put -- before arguments that look like "
            "gradx options.",
        ),
    ] = None,
    timeout: Annotated[
        float,
        typer.Option("--timeout", help="With --run: stop the script after this many seconds."),
    ] = 60.0,
    anomaly: Annotated[
        bool,
        typer.Option(
            "--anomaly",
            help="With --run: run under torch.autograd.set_detect_anomaly(True) from the start "
            "(NaN gradients become errors).",
        ),
    ] = False,
    rerun: Annotated[
        bool,
        typer.Option(
            "--rerun/--no-rerun",
            help="With --run: when it helps, run again under anomaly detection to find the "
            "forward line.",
        ),
    ] = True,
    list_catalog: Annotated[
        bool, typer.Option("--list", help="List the catalog: the id and title of every entry.")
    ] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
    lang: LangOption = None,
) -> None:
    """Explain an autograd error: what happened, why, how to fix it, and where in your code.

    Exit codes: 0 recognised, 1 not recognised (general advice is printed), 2 unusable input.
    """
    with _user_errors():
        from gradx.commands.explain.command import ExplainRequest
        from gradx.render.explanation import emit

        request = ExplainRequest.from_cli(
            text=text,
            extra=tuple(ctx.args),
            script=run,
            timeout=timeout,
            anomaly=anomaly,
            rerun=rerun,
            list_catalog=list_catalog,
            lang=lang,
            json_out=json_out,
        )
        output = request.output
        report = request.run()
        emit(report, lang=request.lang, json_out=output.json)
    raise _exit_for(report)


# --------------------------------------------------------------------------- graph


@app.command("graph")
def graph_command(
    target: Annotated[
        str,
        typer.Argument(
            metavar="EXPRESSION|FILE.py::NAME",
            help="An expression such as '2*x*x' or '2*dot(x,x)' (sum, mean, dot, norm work on "
            "tensors here), or a function in a file (as for gradx check).",
        ),
    ],
    at: Annotated[
        list[str] | None,
        typer.Option(
            "--at",
            metavar="VALUES",
            help="Input values: x=1.5, x=0,1,2 (a vector), a=[[1,2],[3,4]] (a matrix), x=1,y=2 "
            "or a bare 1.5 for all. Repeatable.",
        ),
    ] = None,
    shape: Annotated[
        list[str] | None,
        typer.Option("--shape", metavar="SHAPE", help="For a file: x=3,4 gives x that shape."),
    ] = None,
    dtype: DtypeOption = DType.FLOAT64,
    depth: Annotated[
        int | None,
        typer.Option("--depth", metavar="N", min=1, help="Show N levels of the tree at most."),
    ] = None,
    dot: Annotated[
        Path | None,
        typer.Option(
            "--dot",
            metavar="FILE",
            help="Also write the whole graph as Graphviz DOT text (.dot or .gv; - for stdout).",
        ),
    ] = None,
    save: Annotated[
        Path | None,
        typer.Option(
            "--save",
            metavar="FILE",
            help="Also draw the whole graph as FILE.svg (no graphviz needed), .png or .pdf "
            "(needs matplotlib: gradx\\[plot]).",
        ),
    ] = None,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print one JSON document instead of the tree.")
    ] = False,
    backward: Annotated[
        bool,
        typer.Option(
            "--backward/--no-backward", help="Run backward and show each leaf's gradient."
        ),
    ] = True,
    frozen: Annotated[
        list[str] | None,
        typer.Option(
            "--frozen",
            metavar="NAME",
            help="Give this leaf requires_grad=False (a constant, a frozen parameter). Repeatable.",
        ),
    ] = None,
    gradient: Annotated[
        str | None,
        typer.Option(
            "--gradient",
            metavar="VALUES",
            help="The vector backward() gets for a non-scalar output: 1,0,0,0 or "
            "[[1,0],[0,1]] (default: ones, the gradient of output.sum()).",
        ),
    ] = None,
    order: Annotated[
        int,
        typer.Option(
            "--order",
            metavar="K",
            help="The graphs create_graph=True builds for f', f'', ... up to order K, with "
            "node counts, saved tensors, time and memory of each backward.",
        ),
    ] = 1,
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout", metavar="SECONDS", help="For a file: time limit for loading and tracing."
        ),
    ] = 20.0,
    lang: LangOption = None,
) -> None:
    """Show the autograd graph: grad_fn nodes, saved tensors, leaves and their gradients.

    Examples: gradx graph "2*x*x" --at x=0,1,2,3 · gradx graph model.py::loss --depth 6.
    Exit codes: 0 every leaf that requires grad got a gradient; 1 one did not, backward
    failed, or a saved tensor was changed through .data; 2 unusable input.
    """
    with _user_errors():
        from gradx.commands.graph.command import GraphRequest
        from gradx.render.graph_output import emit

        request = GraphRequest.from_cli(
            target=target,
            at=tuple(at or ()),
            shapes=tuple(shape or ()),
            dtype=dtype,
            depth=depth,
            backward=backward,
            frozen=tuple(frozen or ()),
            gradient=gradient,
            order=order,
            timeout=timeout,
            json_out=json_out,
            dot=dot,
            save=save,
            lang=lang,
        )
        output = request.output
        report = request.run()
        emit(report, json_out=output.json, dot_path=output.dot, save=output.save, lang=output.lang)
    raise _exit_for(report)


def _fold_help_paragraphs() -> None:
    """Join the lines of each paragraph of every command's docstring.

    typer's rich help keeps a docstring's line breaks and then wraps each line again, so a
    sentence broken for the source's line length came out with a stray one-word line.
    """
    import inspect

    for info in app.registered_commands:
        doc = info.help or (info.callback.__doc__ if info.callback is not None else None)
        if doc:
            paragraphs = inspect.cleandoc(doc).split("\n\n")
            info.help = "\n\n".join(" ".join(p.split()) for p in paragraphs)


_fold_help_paragraphs()


def main() -> None:
    """Entry point of the ``gradx`` console script."""
    from gradx.termination import install

    install()
    if _stdout_closed():
        sys.stderr.write("gradx: standard output is closed (>&-): the output would be lost\n")
        sys.exit(int(ExitCode.USAGE))
    code: str | int | None = 0
    try:
        app(prog_name="gradx")
    except SystemExit as exit_:
        code = exit_.code
    except KeyboardInterrupt as interrupt:  # pragma: no cover - interactive only
        code = getattr(interrupt, "exit_status", int(ExitCode.INTERRUPTED))
    except BrokenPipeError:  # output closed while typer itself was writing (--help | head)
        _silence_stdout()
        code = int(ExitCode.BROKEN_PIPE)
    sys.exit(_flush_stdout(code))


def _stdout_closed() -> bool:
    import os

    if sys.stdout is None:
        return True
    try:
        os.fstat(sys.stdout.fileno())
    except (OSError, ValueError):
        return True
    return False


def _flush_stdout(code: str | int | None) -> str | int | None:
    """Flush what is still buffered; a full disk behind stdout is one line and exit 2."""
    try:
        if sys.stdout is not None:
            sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()
        return int(ExitCode.BROKEN_PIPE)
    except OSError as exc:
        from gradx.atomic_file import write_error

        _silence_stdout()
        sys.stderr.write(f"gradx: {write_error('-', exc).message}\n")
        return int(ExitCode.USAGE)
    return code
