#!/usr/bin/env python3
"""layers.py - prints the include graph of node/ by layer, and fails on an
include that goes up a layer or closes a cycle between modules.

The layers and their order are read from the one place they are written:
the RUCHE_LAYERS line of node/CMakeLists.txt (lowest first). A module is a
file pair (ru_x.c, ru_x.h) in one layer's folder; ruched.c sits above every
layer. A module's unit test beside it (ru_x_test.c) is not a module: it
may use any layer to build its fixture. A module may include the headers of its own layer and of the layers
below it; the build enforces the same rule (each layer's library sees only
its own headers and those below), this script says where a change broke it
and draws the picture. Modules of one layer must not include each other in
a cycle either: a cycle is a layer that cannot be split or read in order.

Usage: layers.py [NODE_DIR]   (default: the node/ beside this script's tests/)
Exit status 0 when the graph is clean, 1 otherwise.
"""
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def layer_order(node):
    with open(os.path.join(node, "CMakeLists.txt")) as f:
        m = re.search(r"set\(RUCHE_LAYERS\s+([^)]*)\)", f.read())
    if not m:
        sys.exit("layers.py: no set(RUCHE_LAYERS ...) in node/CMakeLists.txt")
    return m.group(1).split()


def scan(node, layers):
    """{module: (layer, set of included header names)} and {header: module}."""
    modules, headers = {}, {}
    for layer in layers:
        for name in sorted(os.listdir(os.path.join(node, layer))):
            base, ext = os.path.splitext(name)
            if ext not in (".c", ".h") or base.endswith("_test"):
                continue  # a unit test may use any layer for its fixture
            with open(os.path.join(node, layer, name)) as f:
                incs = set(INCLUDE.findall(f.read()))
            mod = modules.setdefault(base, (layer, set()))
            if mod[0] != layer:
                sys.exit(f"layers.py: {base} is in both {mod[0]} and {layer}")
            mod[1].update(incs)
            if ext == ".h":
                headers[name] = base
    with open(os.path.join(node, "ruched.c")) as f:
        modules["ruched"] = ("ruched", set(INCLUDE.findall(f.read())))
    return modules, headers


def cycles(graph):
    """The strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    node = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "node")
    layers = layer_order(node)
    rank = {layer: i for i, layer in enumerate(layers)}
    rank["ruched"] = len(layers)
    modules, headers = scan(node, layers)

    graph, bad = {}, []
    for mod, (layer, incs) in modules.items():
        deps = {headers[h] for h in incs if h in headers and headers[h] != mod}
        graph[mod] = deps
        for d in deps:
            if rank[modules[d][0]] > rank[layer]:
                bad.append(f"{layer}/{mod} includes {modules[d][0]}/{d}.h, a layer above")

    for layer in layers + ["ruched"]:
        mods = sorted(m for m, (l, _) in modules.items() if l == layer)
        print(f"{layer}:")
        for m in mods:
            by_layer = {}
            for d in graph[m]:
                by_layer.setdefault(modules[d][0], []).append(d)
            parts = [f"{l}: {' '.join(sorted(by_layer[l]))}"
                     for l in layers + ["ruched"] if l in by_layer]
            print(f"  {m:<20} -> {'; '.join(parts) if parts else '(nothing in node/)'}")

    for comp in cycles(graph):
        bad.append("include cycle: " + " -> ".join(comp))
    if bad:
        print("\nlayering broken:", file=sys.stderr)
        for line in sorted(bad):
            print("  " + line, file=sys.stderr)
        return 1
    print(f"\n{len(modules)} modules in {len(layers)} layers: no upward include, no cycle")
    return 0


if __name__ == "__main__":
    sys.exit(main())
