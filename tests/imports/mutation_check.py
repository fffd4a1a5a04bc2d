"""Mutation check of the importer's row decision: ``python -m tests.imports.mutation_check``.

Each mutant breaks one place of ``collections_app/importer/decide.py`` (a statement replaced by
``pass``, a condition or comparison negated, ``and``/``or`` swapped, one value of a dict literal
replaced by ``None``), then the decision tests run in the same pytest session until one fails: the
mutant is killed. A mutant no test kills is a line the tests do not pin; the check exits 1 then.

It runs on SQLite and, when ``DATABASE_URL`` names a PostgreSQL server, on PostgreSQL too (one pytest
process per database). ``--db sqlite`` or ``--db postgres`` runs one of them.
"""

import argparse
import ast
import copy
import os
import subprocess
import sys
import time
import types
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TARGET = ROOT / "collections_app" / "importer" / "decide.py"
MODULE = "collections_app.importer.decide"
TESTS = ["tests/imports/test_decide.py", "tests/imports/test_importer.py"]


@dataclass(frozen=True)
class Mutant:
    line: int
    what: str
    tree: ast.Module


class _Sites(ast.NodeTransformer):
    """Walks the functions of the module in a fixed order, numbering every place a mutant can break;
    with ``target`` set it breaks that one place."""

    def __init__(self, target: int = -1):
        self.target, self.count, self.done = target, 0, None
        self.depth = 0

    def _site(self, node, what: str) -> bool:
        if not self.depth:
            return False
        hit = self.count == self.target
        self.count += 1
        if hit:
            self.done = (node.lineno, what)
        return hit

    def visit_FunctionDef(self, node):
        self.depth += 1
        docstring = ast.get_docstring(node) is not None
        body = node.body[1:] if docstring else node.body
        node.body = node.body[:1] * docstring + [self._statement(s) for s in body]
        self.depth -= 1
        return node

    def _statement(self, node):
        if not isinstance(node, ast.Pass) and self._site(node, "statement replaced by pass"):
            return ast.copy_location(ast.Pass(), node)
        for name in ("body", "orelse"):
            nested = isinstance(node, ast.If | ast.For | ast.While) or name == "body"
            if nested and isinstance(getattr(node, name, None), list):
                setattr(node, name, [self._statement(s) for s in getattr(node, name)])
        for name, value in ast.iter_fields(node):
            if name not in ("body", "orelse"):
                self._visit_field(node, name, value)
        return node

    def _visit_field(self, node, name, value):
        if isinstance(value, list):
            setattr(node, name, [self.visit(v) if isinstance(v, ast.AST) else v for v in value])
        elif isinstance(value, ast.AST):
            setattr(node, name, self.visit(value))

    def _negated(self, test, what: str):
        if self._site(test, what):
            return ast.copy_location(ast.UnaryOp(op=ast.Not(), operand=test), test)
        return self.visit(test)

    def visit_If(self, node):  # reached through _statement's fields: the test only
        return node

    def visit_comprehension(self, node):
        node.target, node.iter = self.visit(node.target), self.visit(node.iter)
        node.ifs = [self._negated(test, "comprehension condition negated") for test in node.ifs]
        return node

    def visit_IfExp(self, node):
        node.test = self._negated(node.test, "conditional expression negated")
        node.body, node.orelse = self.visit(node.body), self.visit(node.orelse)
        return node

    def visit_Compare(self, node):
        if self._site(node, "comparison negated"):
            return ast.copy_location(ast.UnaryOp(op=ast.Not(), operand=node), node)
        return self.generic_visit(node)

    def visit_BoolOp(self, node):
        if self._site(node, "and/or swapped"):
            node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        return self.generic_visit(node)

    def visit_Dict(self, node):
        for index, value in enumerate(node.values):
            if self._site(value, "dict value replaced by None"):
                node.values[index] = ast.copy_location(ast.Constant(None), value)
        return self.generic_visit(node)


def _negate_if_tests(tree: ast.Module) -> list[Mutant]:
    """``if``/``elif`` conditions negated (the statement walk above replaces whole ``if`` blocks)."""
    mutants = []
    for index, node in enumerate(ast.walk(tree)):
        if isinstance(node, ast.If | ast.While):
            broken = copy.deepcopy(tree)
            target = list(ast.walk(broken))[index]
            target.test = ast.copy_location(ast.UnaryOp(op=ast.Not(), operand=target.test), target.test)
            mutants.append(Mutant(node.lineno, "condition negated", ast.fix_missing_locations(broken)))
    return mutants


def mutants(source: str) -> list[Mutant]:
    tree = ast.parse(source)
    counter = _Sites()
    counter.visit(copy.deepcopy(tree))
    found, seen = [], {ast.unparse(tree)}
    for target in range(counter.count):
        sites = _Sites(target)
        broken = ast.fix_missing_locations(sites.visit(copy.deepcopy(tree)))
        found.append(Mutant(sites.done[0], sites.done[1], broken))
    found += _negate_if_tests(tree)
    unique = []
    for mutant in found:
        text = ast.unparse(mutant.tree)
        if text not in seen:
            seen.add(text)
            unique.append(mutant)
    return sorted(unique, key=lambda m: m.line)


class MutationPlugin:
    """Runs the collected tests once as they are, then once per mutant until the first failure."""

    def __init__(self, found: list[Mutant]):
        self.found, self.survivors, self.killed, self.baseline_failed = found, [], [], False

    def _first_failure(self, session) -> str:
        """The id of the first test that fails, or ""."""
        from _pytest.runner import runtestprotocol

        items = session.items
        for index, item in enumerate(items):
            item._initrequest()
            following = items[index + 1] if index + 1 < len(items) else items[0]
            reports = runtestprotocol(item, nextitem=following, log=False)
            failed = [report for report in reports if report.failed]
            if failed:
                session._setupstate.teardown_exact(items[0])
                self.last_failure = f"{item.nodeid}\n{failed[0].longreprtext[-3000:]}"
                return item.nodeid
        return ""

    def pytest_runtestloop(self, session):
        import importlib

        module = importlib.import_module(MODULE)
        originals = _functions(vars(module))
        saved = {name: function.__code__ for name, function in originals.items()}
        if self._first_failure(session):
            self.baseline_failed = self.last_failure
            return True
        for mutant in self.found:
            namespace = {"__name__": MODULE}
            exec(compile(mutant.tree, str(TARGET), "exec"), namespace)  # noqa: S102
            # Only the functions' code is swapped: the module's classes and constants stay the ones
            # the tests imported.
            for name, function in _functions(namespace).items():
                originals[name].__code__ = function.__code__
            try:
                killer = self._first_failure(session)
            finally:
                for name, code in saved.items():
                    originals[name].__code__ = code
            if killer:
                self.killed.append((mutant, killer))
            else:
                self.survivors.append(mutant)
        return True


def _functions(namespace: dict) -> dict:
    """The functions and methods written in decide.py, by qualified name."""
    found = {}
    for name, value in namespace.items():
        members = vars(value).items() if isinstance(value, type) else [("", value)]
        for attr, member in members:
            member = member.fget if isinstance(member, property) else member
            if isinstance(member, types.FunctionType) and member.__code__.co_filename == str(TARGET):
                found[f"{name}.{attr}" if attr else name] = member
    return found


def run_here(label: str) -> int:
    import pytest

    found = mutants(TARGET.read_text())
    plugin = MutationPlugin(found)
    started = time.perf_counter()
    pytest.main([*TESTS, "-q", "-p", "no:cacheprovider", "--no-header", "-o", "addopts="], plugins=[plugin])
    seconds = time.perf_counter() - started
    if plugin.baseline_failed:
        print(f"{label}: the decision tests fail without any mutant; fix them first:\n{plugin.baseline_failed}")
        return 1
    by_database = sum(1 for _m, killer in plugin.killed if not killer.startswith(TESTS[0]))
    print(
        f"{label}: {len(plugin.killed)}/{len(found)} mutants killed ({seconds:.0f} s); "
        f"{by_database} of them first by the importer's database tests"
    )
    for mutant in plugin.survivors:
        print(f"  survived: decide.py:{mutant.line} {mutant.what}")
    return 0 if not plugin.survivors else 1


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    args = parser.parse_args(argv)
    server = os.environ.get("DATABASE_URL", "")
    if args.db == "sqlite":
        return run_here("SQLite")
    if args.db == "postgres":
        if not server.startswith("postgres"):
            print("PostgreSQL: DATABASE_URL names no PostgreSQL server")
            return 1
        return run_here("PostgreSQL")
    status = 0
    runs = [("sqlite", {k: v for k, v in os.environ.items() if k != "DATABASE_URL"})]
    if server.startswith("postgres"):
        runs.append(("postgres", dict(os.environ)))
    else:
        print("PostgreSQL: skipped, DATABASE_URL names no PostgreSQL server")
        status = 1 if os.environ.get("CI") else 0
    for db, env in runs:
        command = [sys.executable, "-m", "tests.imports.mutation_check", "--db", db]
        status |= subprocess.run(command, cwd=ROOT, env=env, check=False).returncode
    return status


if __name__ == "__main__":
    sys.exit(main())
