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
    """Uses of private torch API in ``source``: a dotted name rooted at torch (or at a name bound by importing
    from torch, e.g. ``F`` or ``nn``) with an ``ops`` or ``_private`` segment, and ``from torch… import _x``.
    Code only (docstrings are not attributes); dunders such as ``torch.__version__`` are public."""
    def private(segment: str) -> bool:
        return segment == "ops" or (segment.startswith("_") and not segment.startswith("__"))

    tree = ast.parse(source)
    roots, found = set(), []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {(a.asname or a.name).split(".")[0] for a in node.names if a.name.split(".")[0] == "torch"}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "torch":
            roots |= {a.asname or a.name for a in node.names}
            found += [(node.lineno, f"{node.module}.{a.name}") for a in node.names if private(a.name)]
    inner = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and id(node) not in inner:
            segments, value = [node.attr], node.value
            while isinstance(value, ast.Attribute):
                segments.insert(0, value.attr)
                value = value.value
            if isinstance(value, ast.Name) and value.id in roots and any(map(private, segments)):
                found.append((node.lineno, ".".join([value.id, *segments])))
    return [f"{name} (line {line})" for line, name in sorted(found)]


def test_private_torch_uses_are_found():
    source = ("import torch\nimport torch.nn.functional as F\nfrom torch.optim import _functional\n"
              "torch.ops.aten._softmax.out(z)\ntorch._fused_sgd_(x)\nF._canonical_mask(m)\n"
              "torch.__version__\ntorch.softmax(z, 1)\nF.relu(x)\nother._private(x)\n")
    assert private_torch_uses(source) == [
        "torch.optim._functional (line 3)", "torch.ops.aten._softmax.out (line 4)", "torch._fused_sgd_ (line 5)",
        "F._canonical_mask (line 6)"]


def test_the_package_uses_public_torch_api_only():
    """Private torch ops change without notice between releases; every one was replaced by public API at the
    same speed (see rum_core.ensembles._common.stacked_sgd and rum_core.ensembles.mlp._train_chunk)."""
    uses = {str(p.relative_to(PACKAGE)): u for p in PACKAGE.rglob("*.py") if (u := private_torch_uses(p.read_text()))}
    assert not uses, uses
