"""What a piece of the book's code defines and reads: the names the generator follows.

scripts/sync_exports.py decides what each chapter's generated first cell and each
package module must hold from the names that code reads and binds. Those names must
not depend on the Python that runs the generator, or two contributors would generate
different cells from the same notebooks. Python 3.12 inlines list, set and dict
comprehensions (PEP 709): `symtable` then reports a module-level comprehension's loop
variable as a name of the module that the module reads, where 3.11 gives the
comprehension a scope of its own. `read_names` rewrites each module-level
comprehension as the call of a lambda first, which gives it its own scope under every
Python, so 3.11 and 3.12 read the same names.

Standard library alone, so that a test can run it under another Python:

    python3.12 scripts/names.py < sources.json   # [source, ...] -> [[name, ...], ...]
"""

import ast
import json
import symtable
import sys

COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


def bound_names(node):
    """Names a top-level statement binds, without looking inside function bodies."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in node.names}
    names = set()
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store):
            names.add(child.id)
        elif not isinstance(child, (*SCOPES, *COMPREHENSIONS)):
            names |= bound_names(child)
    return names


class _ScopedComprehensions(ast.NodeTransformer):
    """`[f(x) for x in xs]` at module level becomes `(lambda: [f(x) for x in xs])()`:
    the same names read, in a scope of its own under every Python. Code inside
    functions, lambdas and classes is left alone: there the loop variables are the
    scope's own locals, which read_names leaves out anyway."""

    def generic_visit(self, node):
        if isinstance(node, SCOPES):
            return node
        return super().generic_visit(node)

    def _scoped(self, node):
        call = ast.Call(
            func=ast.Lambda(
                args=ast.arguments(
                    posonlyargs=[], args=[], kwonlyargs=[], kw_defaults=[], defaults=[]
                ),
                body=node,
            ),
            args=[],
            keywords=[],
        )
        return ast.copy_location(call, node)

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _scoped


def read_names(source):
    """The global names a piece of code reads: at its top level, or from inside its
    functions and classes (their own parameters and locals left out), the same under
    Python 3.11 and 3.12."""
    tree = _ScopedComprehensions().visit(ast.parse(source))
    code = ast.unparse(ast.fix_missing_locations(tree))
    names, tables = set(), [symtable.symtable(code, "<export>", "exec")]
    while tables:
        table = tables.pop()
        top = str(table.get_type()).lower().endswith("module")
        for symbol in table.get_symbols():
            if symbol.is_referenced() and (top or symbol.is_global()):
                names.add(symbol.get_name())
        tables += table.get_children()
    return names


if __name__ == "__main__":
    sources = json.load(sys.stdin)
    json.dump([sorted(read_names(source)) for source in sources], sys.stdout)
