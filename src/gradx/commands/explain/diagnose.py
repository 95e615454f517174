"""Say which cause of an error applies, by reading the user's script around the failing line.

The catalog lists the possible causes of an error; this module looks at the code (its AST, and
the tensors alive in the failing frame when ``--run`` collected them) to point at the one the
script shows: the ``with torch.no_grad():`` block, the ``.detach()`` call, the integer literal,
the in-place operation on a saved tensor. It is a heuristic: it returns evidence it found and
nothing when it is unsure, never a guess presented as a fact.

``diagnose`` returns ``{cause_id: evidence line or None}`` for the causes that apply.
"""

from __future__ import annotations

import ast
import linecache
from collections.abc import Callable, Iterator, Mapping
from functools import cached_property
from pathlib import Path

from gradx.commands.explain.model import SourceLine

_MAX_SOURCE = 2 * 1024 * 1024
_SLICE_LIMIT = 80

_GRAD_OFF = ("no_grad", "inference_mode")
_FACTORIES = {
    "tensor", "ones", "zeros", "randn", "rand", "arange", "linspace", "full", "empty",
    "from_numpy", "as_tensor", "ones_like", "zeros_like", "randn_like", "rand_like", "eye",
}  # fmt: skip
_INTEGER_OPS = {
    "argmax", "argmin", "long", "int", "bool", "short", "byte", "randint", "nonzero",
    "argsort", "bucketize", "searchsorted", "floor_divide", "eq", "ne", "gt", "lt", "ge", "le",
}  # fmt: skip
_INTEGER_DTYPES = {"long", "int", "int64", "int32", "int16", "int8", "uint8", "bool", "short"}
_TO_PYTHON = {"item", "tolist", "numpy"}
_INIT_METHODS = {
    "fill_", "zero_", "normal_", "uniform_", "copy_", "constant_", "ones_", "zeros_",
    "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "orthogonal_",
}  # fmt: skip
_NOT_DATA_CHANGES = {"requires_grad_", "retain_grad_", "share_memory_", "register_hook_"}
_MOVES = {"to", "cuda", "cpu", "float", "double", "half", "bfloat16", "type", "view", "reshape"}
_NOT_TENSORS = {"torch", "nn", "F", "np", "numpy", "math", "optim", "self", "print", "range", "len"}
_CONVERTERS = {"np", "numpy", "plt", "pd", "pandas", "sklearn", "matplotlib", "scipy"}


def read_user_source(file: str) -> str | None:
    """The text of a user's file (or notebook cell, via linecache), or None when it is
    missing, unreadable or huge."""
    try:
        path = Path(file)
        if path.exists():
            # Only regular files: a pasted traceback may name /dev/zero or a pipe.
            if not path.is_file() or path.stat().st_size > _MAX_SOURCE:
                return None
            return path.read_text(encoding="utf-8", errors="replace")
    except (OSError, ValueError):
        return None
    # Notebook cells live in linecache's cache only; read it without touching the disk.
    entry = linecache.cache.get(file)
    cached = "".join(entry[2]) if entry and len(entry) > 2 else ""
    return cached if 0 < len(cached) <= _MAX_SOURCE else None


def diagnose(
    entry_id: str,
    *,
    where: SourceLine | None,
    forward: SourceLine | None = None,
    runtime: Mapping[str, Mapping] | None = None,
    read_source: Callable[[str], str | None] = read_user_source,
) -> dict[str, SourceLine | None]:
    """Causes of ``entry_id`` that the code at ``where`` shows, each with the line that shows it."""
    detector = _DETECTORS.get(entry_id)
    if detector is None or where is None:
        return {}
    source = read_source(where.file)
    if not source:
        return {}
    try:
        script = Script(source, where.file)
    except (SyntaxError, ValueError, RecursionError):
        return {}
    statement = script.statement_at(where.line)
    if statement is None:
        return {}
    forward_statement = None
    if forward is not None and _same_file(forward.file, where.file):
        forward_statement = script.statement_at(forward.line)
    try:
        return detector(script, statement, forward_statement, runtime or {})
    except RecursionError:
        return {}


def _same_file(a: str, b: str) -> bool:
    try:
        return Path(a).resolve() == Path(b).resolve()
    except (OSError, ValueError):
        return a == b


class Script:
    """A parsed Python file with the few queries the detectors need."""

    def __init__(self, source: str, file: str) -> None:
        self.file = file
        self.lines = source.splitlines()
        self.tree = ast.parse(source)
        self.parent: dict[ast.AST, ast.AST] = {}
        for node in ast.walk(self.tree):
            for child in ast.iter_child_nodes(node):
                self.parent[child] = node

    # -- locating ---------------------------------------------------------------------------

    @cached_property
    def statements(self) -> list[ast.stmt]:
        """Every statement of the file, in source order."""
        found = [n for n in ast.walk(self.tree) if isinstance(n, ast.stmt)]
        return sorted(found, key=lambda n: (n.lineno, n.col_offset))

    def statement_at(self, line: int) -> ast.stmt | None:
        """The innermost statement that covers ``line``."""
        best: ast.stmt | None = None
        for node in self.statements:
            end = node.end_lineno or node.lineno
            if node.lineno <= line <= end and (
                best is None
                or (end - node.lineno) <= ((best.end_lineno or best.lineno) - best.lineno)
            ):
                best = node
        return best

    def line(self, node: ast.AST) -> SourceLine:
        """A SourceLine for a node of this file."""
        number = getattr(node, "lineno", 0)
        text = self.lines[number - 1].strip() if 0 < number <= len(self.lines) else ""
        return SourceLine(file=self.file, line=number, source=text)

    def ancestors(self, node: ast.AST) -> Iterator[ast.AST]:
        """Enclosing nodes, innermost first."""
        while node in self.parent:
            node = self.parent[node]
            yield node

    def scope(self, node: ast.AST) -> ast.AST:
        """The function (or the module) the node belongs to."""
        for ancestor in self.ancestors(node):
            if isinstance(ancestor, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                return ancestor
        return self.tree

    def scope_statements(self, scope: ast.AST) -> list[ast.stmt]:
        """Statements directly in ``scope`` (nested functions and classes excluded)."""
        return [s for s in self.statements if self.scope(s) is scope and s is not scope]

    def loop_of(self, node: ast.AST) -> ast.For | ast.AsyncFor | ast.While | None:
        """The innermost loop around ``node`` inside its own function."""
        for ancestor in self.ancestors(node):
            if isinstance(ancestor, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                return None
            if isinstance(ancestor, ast.For | ast.AsyncFor | ast.While):
                return ancestor
        return None

    # -- data flow --------------------------------------------------------------------------

    def definition(self, name: str, before: ast.stmt) -> ast.stmt | None:
        """The last statement before ``before`` (same function, else module) assigning ``name``."""
        for scope in (self.scope(before), self.tree):
            candidates = [
                s
                for s in self.scope_statements(scope)
                if s.lineno < before.lineno and name in assigned_names(s)
            ]
            if candidates:
                return candidates[-1]
            if scope is self.tree:
                break
        return None

    def backward_slice(
        self, statement: ast.stmt, expression: ast.AST | None = None
    ) -> list[ast.stmt]:
        """Statements whose results flow into ``expression`` (default: the whole statement)."""
        seen: list[ast.stmt] = []
        queue: list[tuple[str, ast.stmt]] = [
            (name, statement) for name in names_read(expression or statement)
        ]
        visited: set[tuple[str, int]] = set()
        while queue and len(seen) < _SLICE_LIMIT:
            name, reader = queue.pop(0)
            if (name, reader.lineno) in visited or name in _NOT_TENSORS:
                continue
            visited.add((name, reader.lineno))
            definition = self.definition(name, reader)
            if definition is None or definition in seen:
                continue
            seen.append(definition)
            reads = names_read(_value_part(definition))
            if isinstance(definition, ast.AugAssign):
                reads.append(_root_name(definition.target))  # x += 1 reads x as well
            for read in reads:
                queue.append((read, definition))
            for body in self._called_bodies(definition):
                if body not in seen:
                    seen.append(body)
                    queue.extend((read, body) for read in names_read(body))
        return sorted(seen, key=lambda s: s.lineno)

    def _called_bodies(self, statement: ast.stmt) -> list[ast.stmt]:
        """Return statements of functions (or ``forward`` methods) of this file called here."""
        bodies: list[ast.stmt] = []
        for call in _calls(statement):
            target = self._function_called(call)
            if target is not None:
                bodies.extend(s for s in ast.walk(target) if isinstance(s, ast.Return))
        return bodies[:_SLICE_LIMIT]

    def _function_called(self, call: ast.Call) -> ast.FunctionDef | None:
        if not isinstance(call.func, ast.Name):
            return None
        name = call.func.id
        for node in self.statements:
            if isinstance(node, ast.FunctionDef) and node.name == name:
                return node
        definition = self.definition(name, _statement_of(self, call))
        value = _value_part(definition) if definition is not None else None
        if isinstance(value, ast.Call):
            constructor = value.func
            if isinstance(constructor, ast.Name):
                for node in self.statements:
                    if isinstance(node, ast.ClassDef) and node.name == constructor.id:
                        for item in node.body:
                            if isinstance(item, ast.FunctionDef) and item.name == "forward":
                                return item
        return None

    def grad_disabled_at(self, node: ast.AST) -> ast.AST | None:
        """The ``with torch.no_grad():`` block (or decorated function) around ``node``, if any."""
        for ancestor in self.ancestors(node):
            if isinstance(ancestor, ast.With | ast.AsyncWith):
                if any(_disables_grad(item.context_expr) for item in ancestor.items):
                    return ancestor
            if isinstance(ancestor, ast.FunctionDef | ast.AsyncFunctionDef):
                if any(_disables_grad(d) for d in ancestor.decorator_list):
                    return ancestor
        statement = _statement_of(self, node)
        switched_off: ast.stmt | None = None
        for earlier in self.scope_statements(self.scope(statement)):
            if earlier.lineno >= statement.lineno:
                break
            for call in _calls(earlier):
                if dotted_name(call.func).endswith("set_grad_enabled") and call.args:
                    flag = call.args[0]
                    if isinstance(flag, ast.Constant):
                        switched_off = earlier if flag.value is False else None
        return switched_off


# -- AST helpers ------------------------------------------------------------------------------


def dotted_name(node: ast.AST) -> str:
    """``torch.nn.functional.relu`` for the expression naming it ("" for anything else)."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Call):
        return dotted_name(node.func) + "()." + ".".join(reversed(parts)) if parts else ""
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return ""


def _callee(call: ast.Call) -> str:
    """The last name of what a call calls: ``detach`` in ``(w * x).detach()``."""
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    if isinstance(call.func, ast.Name):
        return call.func.id
    return ""


def _is_compound(node: ast.AST) -> bool:
    return isinstance(
        node,
        ast.For | ast.AsyncFor | ast.While | ast.If | ast.With | ast.AsyncWith | ast.Try
        | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef,
    )  # fmt: skip


def _statement_of(script: Script, node: ast.AST) -> ast.stmt:
    if isinstance(node, ast.stmt):
        return node
    for ancestor in script.ancestors(node):
        if isinstance(ancestor, ast.stmt):
            return ancestor
    return script.tree.body[0] if script.tree.body else ast.Pass(lineno=1, col_offset=0)


def _walk(node: ast.AST | None) -> Iterator[ast.AST]:
    """ast.walk that does not enter nested functions, classes or lambdas (nor block bodies)."""
    if node is None:
        return
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        for child in ast.iter_child_nodes(current):
            if isinstance(
                child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda
            ):
                continue
            if isinstance(child, ast.stmt) and current is not node:
                continue
            if isinstance(child, ast.stmt) and _is_compound(current):
                continue
            stack.append(child)


def _value_part(statement: ast.stmt) -> ast.AST | None:
    """The expression that computes what a statement assigns (the iterator of a for loop…)."""
    if isinstance(statement, ast.Assign | ast.AugAssign | ast.AnnAssign | ast.Return | ast.Expr):
        return statement.value
    if isinstance(statement, ast.For | ast.AsyncFor):
        return statement.iter
    if isinstance(statement, ast.With | ast.AsyncWith):
        return ast.Tuple(elts=[item.context_expr for item in statement.items], ctx=ast.Load())
    return statement


def _calls(node: ast.AST | None) -> list[ast.Call]:
    return [n for n in _walk(node) if isinstance(n, ast.Call)]


def names_read(node: ast.AST | None) -> list[str]:
    """Names a statement or expression reads (functions it only calls are left out)."""
    called = {id(c.func) for c in _calls(node) if isinstance(c.func, ast.Name)}
    names: list[str] = []
    for n in _walk(node):
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and id(n) not in called:
            if n.id not in names:
                names.append(n.id)
    if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
        names.append(node.target.id)
    return names


def assigned_names(statement: ast.stmt) -> set[str]:
    """Names a statement binds (assignment targets, loop variables, ``with … as``)."""
    targets: list[ast.AST] = []
    if isinstance(statement, ast.Assign):
        targets = list(statement.targets)
    elif isinstance(statement, ast.AugAssign | ast.AnnAssign):
        targets = [statement.target]
    elif isinstance(statement, ast.For | ast.AsyncFor):
        targets = [statement.target]
    elif isinstance(statement, ast.With | ast.AsyncWith):
        targets = [item.optional_vars for item in statement.items if item.optional_vars]
    names: set[str] = set()
    for target in targets:
        for node in ast.walk(target):
            if isinstance(node, ast.Name):
                names.add(node.id)
    return names


def _disables_grad(expression: ast.AST) -> bool:
    call = expression if isinstance(expression, ast.Call) else None
    name = dotted_name(call.func if call else expression)
    last = name.rsplit(".", 1)[-1]
    if last in _GRAD_OFF:
        return True
    if last == "set_grad_enabled" and call and call.args:
        flag = call.args[0]
        return isinstance(flag, ast.Constant) and flag.value is False
    return False


def _keyword(call: ast.Call, name: str) -> ast.AST | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _is_true(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def _method_calls(node: ast.AST | None) -> Iterator[tuple[ast.Call, str]]:
    for call in _calls(node):
        if isinstance(call.func, ast.Attribute):
            yield call, call.func.attr


def _root_name(node: ast.AST) -> str:
    while isinstance(node, ast.Attribute | ast.Subscript | ast.Call):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else ""


def _integer_dtype(node: ast.AST | None) -> bool:
    return node is not None and dotted_name(node).rsplit(".", 1)[-1] in _INTEGER_DTYPES


def _integer_literal_tensor(call: ast.Call) -> bool:
    """``torch.tensor([1, 2, 3])``-like: the data is only integer literals and no float dtype."""
    if _callee(call) not in {"tensor", "Tensor", "arange", "as_tensor"}:
        return False
    dtype = _keyword(call, "dtype")
    if dtype is not None:
        return _integer_dtype(dtype)
    constants = [n for arg in call.args for n in ast.walk(arg) if isinstance(n, ast.Constant)]
    numbers = [c.value for c in constants if isinstance(c.value, int | float)]
    return bool(numbers) and all(isinstance(v, int) and not isinstance(v, bool) for v in numbers)


def _in_place_target(statement: ast.stmt) -> tuple[str, str] | None:
    """``(name, how)`` when ``statement`` modifies a named tensor in place."""
    if isinstance(statement, ast.AugAssign):
        return _root_name(statement.target), "augmented"
    if isinstance(statement, ast.Assign):
        for target in statement.targets:
            if isinstance(target, ast.Subscript):
                return _root_name(target), "item"
    for call, method in _method_calls(statement):
        if method.endswith("_") and not method.startswith("_") and method not in _NOT_DATA_CHANGES:
            root = _root_name(call.func)
            if root:
                return root, "method"
    return None


# -- detectors --------------------------------------------------------------------------------

Detector = Callable[[Script, ast.stmt, ast.stmt | None, Mapping[str, Mapping]], dict]


def _backward_target(statement: ast.stmt) -> ast.AST | None:
    """``loss`` in ``loss.backward()`` or ``torch.autograd.grad(loss, …)``."""
    for call, method in _method_calls(statement):
        if method == "backward" and isinstance(call.func, ast.Attribute):
            owner = call.func.value
            if dotted_name(owner).endswith("autograd") and call.args:
                return call.args[0]
            return owner
        if method == "grad" and dotted_name(call.func).endswith("autograd.grad") and call.args:
            return call.args[0]
    return None


def _no_grad_fn(script: Script, statement: ast.stmt, _forward, runtime) -> dict:
    target = _backward_target(statement)
    chain = [statement, *script.backward_slice(statement, target)]
    found: dict[str, SourceLine | None] = {}
    for step in chain:
        block = script.grad_disabled_at(step)
        if block is not None:
            found.setdefault("no-grad-block", script.line(block))
        for node in _walk(_value_part(step)):
            if (
                isinstance(node, ast.Attribute)
                and node.attr == "data"
                and isinstance(node.ctx, ast.Load)
            ):
                found.setdefault("detached", script.line(step))
            if isinstance(node, ast.Compare):
                found.setdefault("integer-tensor", script.line(step))
            if not isinstance(node, ast.Call):
                continue
            name = _callee(node)
            if name in {"detach", "detach_"}:
                found.setdefault("detached", script.line(step))
            elif name in _TO_PYTHON or (
                isinstance(node.func, ast.Name) and name in {"float", "int"}
            ):
                found.setdefault("item-or-numpy", script.line(step))
            elif (
                name in _INTEGER_OPS
                or _integer_dtype(_keyword(node, "dtype"))
                or _integer_literal_tensor(node)
            ):
                found.setdefault("integer-tensor", script.line(step))
            elif name == "checkpoint" and not _is_false(_keyword(node, "use_reentrant")):
                found.setdefault("checkpoint-inputs", script.line(step))
    target_name = _root_name(target) if target is not None else ""
    facts = runtime.get(target_name, {})
    if str(facts.get("dtype", "")).rsplit(".", 1)[-1] in _INTEGER_DTYPES:
        found.setdefault("integer-tensor", None)
    if found:
        return found
    frozen = _frozen_parameters(script, statement)
    all_frozen = any(
        fact.get("parameters") and not fact.get("trainable") for fact in runtime.values()
    )
    if frozen is None and all_frozen:
        return {"no-requires-grad": None}
    if frozen is not None:
        return {"no-requires-grad": script.line(frozen)}
    if not any(_asks_for_grad(step) for step in chain):
        creation = next((s for s in chain if _creates_tensor(s)), None)
        return {"no-requires-grad": script.line(creation) if creation else None}
    return {}


def _is_false(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is False


def _frozen_parameters(script: Script, before: ast.stmt) -> ast.stmt | None:
    for statement in script.statements:
        if statement.lineno >= before.lineno:
            break
        if isinstance(statement, ast.Assign):
            for target in statement.targets:
                if (
                    isinstance(target, ast.Attribute)
                    and target.attr == "requires_grad"
                    and _is_false(statement.value)
                ):
                    return statement
        for call, method in _method_calls(statement):
            if method == "requires_grad_" and call.args and _is_false(call.args[0]):
                return statement
    return None


def _asks_for_grad(statement: ast.stmt) -> bool:
    """True when a statement makes something require grad or uses a module (with parameters)."""
    for node in _walk(statement):
        if not isinstance(node, ast.Call):
            continue
        if _is_true(_keyword(node, "requires_grad")):
            return True
        name = dotted_name(node.func)
        last = name.rsplit(".", 1)[-1]
        if last in {"requires_grad_", "Parameter", "parameters", "named_parameters"}:
            return True
        if last[:1].isupper() or name.startswith("self."):
            return True  # a module built or called here probably has parameters
    return False


def _creates_tensor(statement: ast.stmt) -> bool:
    return any(_callee(call) in _FACTORIES for call in _calls(_value_part(statement)))


def _modified_in_place(script: Script, statement: ast.stmt, forward, _runtime) -> dict:
    # Names to watch, each from the line after which changing it in place breaks backward:
    # the inputs and outputs of the forward line anomaly mode blamed, else the loss's slice.
    if forward is not None:
        names = assigned_names(forward) | set(names_read(_value_part(forward)))
        watched = dict.fromkeys(names, forward.lineno)
        regions = [(script.scope(forward), forward.lineno), (script.scope(statement), 0)]
    else:
        watched = {}
        for step in script.backward_slice(statement, _backward_target(statement)):
            for name in assigned_names(step):
                watched.setdefault(name, step.lineno)
        regions = [(script.scope(statement), 0)]
    watched = {name: line for name, line in watched.items() if name not in _NOT_TENSORS}
    if not watched:
        return {}
    first_watched = min(watched.values())
    inplace_modules = _inplace_module_names(script)
    found: dict[str, SourceLine | None] = {}
    for scope, start in regions:
        for step in script.scope_statements(scope):
            if step.lineno <= start or _is_compound(step):
                continue
            if scope is script.scope(statement) and step.lineno > statement.lineno:
                continue
            changed = _in_place_target(step)
            if changed and changed[0] in watched and step.lineno > watched[changed[0]]:
                found.setdefault("in-place-op", script.line(step))
            for call in _calls(step):
                if not {_root_name(a) for a in call.args} & watched.keys():
                    continue
                callee = _callee(call)
                built_inplace = isinstance(call.func, ast.Call) and _is_true(
                    _keyword(call.func, "inplace")
                )
                if (
                    _is_true(_keyword(call, "inplace"))
                    or built_inplace
                    or callee in inplace_modules
                ):
                    found.setdefault("in-place-module", script.line(step))
            if step.lineno < statement.lineno and step.lineno > first_watched:
                if any(method == "step" for _call, method in _method_calls(step)):
                    found.setdefault("optimizer-step", script.line(step))
    return found


def _inplace_module_names(script: Script) -> set[str]:
    """Names bound to modules built with ``inplace=True`` (``self.act = nn.ReLU(inplace=True)``)."""
    names: set[str] = set()
    for statement in script.statements:
        if isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Call):
            if _is_true(_keyword(statement.value, "inplace")):
                for target in statement.targets:
                    if isinstance(target, ast.Name):
                        names.add(target.id)
                    elif isinstance(target, ast.Attribute):
                        names.add(target.attr)
    return names


def _backward_twice(script: Script, statement: ast.stmt, _forward, _runtime) -> dict:
    found: dict[str, SourceLine | None] = {}
    target = _backward_target(statement)
    chain = script.backward_slice(statement, target)
    loop = script.loop_of(statement)
    if loop is not None:
        inside = [s for s in chain if loop.lineno <= s.lineno <= (loop.end_lineno or s.lineno)]
        outside = [s for s in chain if s.lineno < loop.lineno]
        for step in inside:
            for name in assigned_names(step):
                if name in names_read(_value_part(step)) and any(
                    name in assigned_names(o) for o in outside
                ):
                    found.setdefault("state-across-iterations", script.line(step))
        assigned_inside = {n for s in inside for n in assigned_names(s)}
        for step in outside:
            names = assigned_names(step) - assigned_inside
            if names and _computes(step) and not isinstance(step, ast.For | ast.AsyncFor):
                found.setdefault("computed-outside-loop", script.line(step))
    for earlier in script.scope_statements(script.scope(statement)):
        if earlier.lineno >= statement.lineno:
            break
        if _backward_target(earlier) is not None and not any(
            _is_true(_keyword(call, "retain_graph")) for call in _calls(earlier)
        ):
            found.setdefault("second-backward", script.line(earlier))
    return found


def _computes(statement: ast.stmt) -> bool:
    """True when an assignment runs a computation (not a constructor of a module or optimizer)."""
    value = _value_part(statement)
    calls = _calls(value)
    if not calls:
        return isinstance(value, ast.BinOp)
    first = dotted_name(calls[0].func) if isinstance(value, ast.Call) else ""
    constructor = first.rsplit(".", 1)[-1][:1].isupper() or any(
        first.startswith(prefix) for prefix in ("nn.", "torch.nn.", "optim.", "torch.optim.")
    )
    return not constructor


def _int_requires_grad(script: Script, statement: ast.stmt, _forward, runtime) -> dict:
    for call in _calls(statement):
        if _integer_literal_tensor(call):
            return {"integer-literal": script.line(statement)}
        if _integer_dtype(_keyword(call, "dtype")):
            return {"integer-data": script.line(statement)}
    subject = None
    for call, method in _method_calls(statement):
        if method == "requires_grad_":
            subject = _root_name(call.func)
    if isinstance(statement, ast.Assign):
        for target in statement.targets:
            if isinstance(target, ast.Attribute) and target.attr == "requires_grad":
                subject = _root_name(target.value)
    for call in _calls(statement):
        if _callee(call) == "Parameter" and call.args:
            subject = _root_name(call.args[0]) or subject
    if not subject:
        return {}
    definition = script.definition(subject, statement)
    if definition is None:
        return {}
    for call in _calls(_value_part(definition)):
        if _integer_literal_tensor(call):
            return {"integer-literal": script.line(definition)}
    for call in _calls(_value_part(definition)):
        name = _callee(call)
        if name in _INTEGER_OPS or _integer_dtype(_keyword(call, "dtype")):
            return {"integer-data": script.line(definition)}
    if str(runtime.get(subject, {}).get("dtype", "")).rsplit(".", 1)[-1] in _INTEGER_DTYPES:
        return {"integer-data": script.line(definition)}
    return {}


def _leaf_in_place(script: Script, statement: ast.stmt, _forward, _runtime) -> dict:
    if any(isinstance(n, ast.Attribute) and n.attr == "grad" for n in _walk(statement)):
        return {"manual-update": script.line(statement)}
    methods = {m for _c, m in _method_calls(statement)}
    names = {dotted_name(c.func) for c in _calls(statement)}
    if methods & _INIT_METHODS or any(".init." in n or n.startswith("init.") for n in names):
        return {"initialisation": script.line(statement)}
    if _in_place_target(statement) is not None:
        return {"differentiable-in-place": script.line(statement)}
    return {}


def _view_of_leaf(script: Script, statement: ast.stmt, _forward, _runtime) -> dict:
    changed = _in_place_target(statement)
    if changed is None:
        return {}
    if changed[1] == "item":
        return {"item-assignment": script.line(statement)}
    return {"view-method": script.line(statement)}


def _non_scalar(script: Script, statement: ast.stmt, _forward, _runtime) -> dict:
    target = _backward_target(statement)
    chain = [statement, *script.backward_slice(statement, target)]
    for step in chain:
        for call in _calls(step):
            reduction = _keyword(call, "reduction")
            if isinstance(reduction, ast.Constant) and reduction.value == "none":
                return {"reduction-none": script.line(step)}
    for step in script.statements:
        if any(dotted_name(c.func).endswith("DataParallel") for c in _calls(step)):
            if not any(
                dotted_name(c.func).endswith("DistributedDataParallel") for c in _calls(step)
            ):
                return {"data-parallel": script.line(step)}
    definition = script.definition(_root_name(target), statement) if target is not None else None
    if definition is not None:
        return {"batch-output": script.line(definition)}
    return {}


def _numpy(script: Script, statement: ast.stmt, _forward, _runtime) -> dict:
    if any(m == "numpy" for _c, m in _method_calls(statement)):
        return {"explicit-numpy": script.line(statement)}
    if any(_root_name(c.func) in _CONVERTERS for c in _calls(statement)):
        return {"implicit-conversion": script.line(statement)}
    return {}


def _non_leaf_grad(script: Script, statement: ast.stmt, _forward, _runtime) -> dict:
    subjects = [
        _root_name(n.value)
        for n in _walk(statement)
        if isinstance(n, ast.Attribute) and n.attr == "grad"
    ]
    for subject in subjects:
        definition = script.definition(subject, statement) if subject else None
        if definition is None:
            continue
        value = _value_part(definition)
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute):
            if value.func.attr in _MOVES and _asks_for_grad_inside(value.func.value):
                return {"moved-leaf": script.line(definition)}
        return {"intermediate": script.line(definition)}
    return {}


def _asks_for_grad_inside(node: ast.AST) -> bool:
    return any(
        isinstance(n, ast.Call)
        and (
            _is_true(_keyword(n, "requires_grad")) or dotted_name(n.func).endswith("requires_grad_")
        )
        for n in ast.walk(node)
    )


def _requires_grad_non_leaf(script: Script, statement: ast.stmt, _forward, _runtime) -> dict:
    subject = ""
    if isinstance(statement, ast.Assign):
        for target in statement.targets:
            if isinstance(target, ast.Attribute) and target.attr == "requires_grad":
                subject = _root_name(target.value)
    for call, method in _method_calls(statement):
        if method == "requires_grad_":
            subject = _root_name(call.func)
    definition = script.definition(subject, statement) if subject else None
    return {"computed-tensor": script.line(definition)} if definition is not None else {}


def _no_grad_view(script: Script, statement: ast.stmt, _forward, _runtime) -> dict:
    changed = _in_place_target(statement)
    if changed is None:
        return {}
    definition = script.definition(changed[0], statement)
    block = script.grad_disabled_at(definition) if definition is not None else None
    return {"view-under-no-grad": script.line(block)} if block is not None else {}


def _grad_is_none(script: Script, statement: ast.stmt, _forward, _runtime) -> dict:
    earlier_backward = any(
        _backward_target(s) is not None for s in script.statements if s.lineno < statement.lineno
    )
    if not earlier_backward:
        return {"before-backward": script.line(statement)}
    return {}


_DETECTORS: dict[str, Detector] = {
    "no-grad-fn": _no_grad_fn,
    "modified-in-place": _modified_in_place,
    "backward-twice": _backward_twice,
    "int-requires-grad": _int_requires_grad,
    "leaf-in-place": _leaf_in_place,
    "view-of-leaf-in-place": _view_of_leaf,
    "non-scalar-backward": _non_scalar,
    "numpy-requires-grad": _numpy,
    "non-leaf-grad-access": _non_leaf_grad,
    "requires-grad-non-leaf": _requires_grad_non_leaf,
    "no-grad-view-in-place": _no_grad_view,
    "grad-is-none": _grad_is_none,
}
