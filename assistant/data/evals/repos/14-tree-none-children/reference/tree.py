"""A menu tree read from JSON: each node {"name": ..., "children": [...]}."""

import json


def load(text):
    return json.loads(text)


def children(node):
    """A node's children: none when it has no "children", or null."""
    return node.get("children") or []


def names(node, prefix=""):
    """Every node's path ("File/Open/Recent"), depth first, in the file's order."""
    path = f"{prefix}/{node['name']}" if prefix else node["name"]
    found = [path]
    for child in children(node):
        found.extend(names(child, path))
    return found


def depth(node):
    """Levels in the tree: 1 for a node without children."""
    return 1 + max((depth(child) for child in children(node)), default=0)


def find(node, path):
    """The node at `path` ("File/Open"), or None."""
    first, _, rest = path.partition("/")
    if node["name"] != first:
        return None
    if not rest:
        return node
    for child in children(node):
        found = find(child, rest)
        if found is not None:
            return found
    return None
