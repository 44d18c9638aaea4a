"""The package's layers import only downward: the import graph of rum_core has no cycle, function-level
imports included (a module that builds index sets from scores must not reach up to profiles and caches)."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "rum_core"


def _layer(module: str) -> str:
    """``rum_core.metrics.mia`` → ``metrics``: a subpackage is one layer."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def import_graph() -> dict[str, set[str]]:
    """Layer → the layers it imports anywhere in its source (module level or inside functions)."""
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = ["rum_core", *path.relative_to(PACKAGE).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text())):
            targets = []
            if isinstance(node, ast.ImportFrom) and node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
                targets = [f"{target}.{a.name}" if f"{target}.{a.name}" in modules else target for a in node.names]
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                targets = [n for n in names if n.startswith("rum_core.")]
            for target in targets:
                if target != "rum_core" and _layer(target) != _layer(module):
                    graph.setdefault(_layer(module), set()).add(_layer(target))
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a path ``[a, …, a]``, or None (depth-first search with colours)."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_find_cycle_finds_one():
    """The checker itself: it must see a cycle through three layers, and none in a chain."""
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}}) is None


def test_the_import_graph_has_no_cycle():
    graph = import_graph()
    assert {"partition", "memorization", "experiments", "metrics"} <= set(graph)  # the walk saw the package
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_only_the_experiment_layer_and_above_know_profiles():
    """Data, models, training, metrics, memorization, partition, unlearners and rum take arrays, bundles,
    models and scores; turning a profile into them is the experiment layer's job."""
    graph = import_graph()
    lower = ["data", "models", "training", "ensembles", "metrics", "memorization", "partition", "unlearners", "rum"]
    for layer in lower:
        assert not graph.get(layer, set()) & {"profiles", "experiments", "cli", "plots"}, layer


def private_torch_uses(source: str) -> list[str]:
    """``torch.ops.…`` and ``torch._…`` attribute uses in ``source`` (code only: docstrings are not parsed as
    attributes); dunders such as ``torch.__version__`` are public."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "torch":
            name = node.attr
            if name == "ops" or (name.startswith("_") and not name.startswith("__")):
                found.append((node.lineno, f"torch.{name} (line {node.lineno})"))
    return [text for _, text in sorted(found)]


def test_private_torch_uses_are_found():
    assert private_torch_uses("import torch\ntorch.ops.aten._softmax\ntorch._fused_sgd_(x)\n"
                              "torch.__version__\ntorch.softmax(z, 1)") == ["torch.ops (line 2)",
                                                                             "torch._fused_sgd_ (line 3)"]


def test_the_package_uses_public_torch_api_only():
    """Private torch ops change without notice between releases; every one was replaced by public API at the
    same speed (see ensembles._stacked_sgd and _train_chunk)."""
    uses = {str(p.relative_to(PACKAGE)): u for p in PACKAGE.rglob("*.py") if (u := private_torch_uses(p.read_text()))}
    assert not uses, uses
