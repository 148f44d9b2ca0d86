#!/usr/bin/env python3
"""The licences of every crate linked into gradcap for one target.

Reads `cargo metadata --format-version 1 --filter-platform TARGET` on stdin,
follows the normal (not dev, not build) dependencies from gradcap, and prints
a list of the crates with their licence expressions, then each licence text
found in the crates' sources (LICENSE*, LICENCE*, COPYING*, NOTICE*), once per
distinct text with the crates that carry it. Usage:

    cargo metadata --locked --format-version 1 --filter-platform T | \\
        python3 scripts/third_party_licenses.py T > THIRD-PARTY.txt
"""
import hashlib
import json
import os
import sys


def main() -> int:
    target = sys.argv[1] if len(sys.argv) > 1 else "the host"
    meta = json.load(sys.stdin)
    packages = {p["id"]: p for p in meta["packages"]}
    nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
    root = meta["resolve"]["root"]
    seen, todo = set(), [root]
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        for dep in nodes[pid]["deps"]:
            if any(k["kind"] is None for k in dep["dep_kinds"]):
                todo.append(dep["pkg"])
    seen.discard(root)
    crates = sorted((packages[p] for p in seen), key=lambda p: (p["name"], p["version"]))
    texts = {}
    print(f"Third-party crates in gradcap for {target}: {len(crates)}")
    print("Rust's standard library (MIT OR Apache-2.0) and the MinGW-w64 runtime")
    print("(ZPL-2.1 and public domain, its start-up code) are linked in too.")
    print()
    for p in crates:
        lic = p.get("license") or ("see " + p["license_file"] if p.get("license_file") else "unstated")
        print(f"{p['name']} {p['version']}: {lic}")
        root_dir = os.path.dirname(p["manifest_path"])
        for name in sorted(os.listdir(root_dir)):
            upper = name.upper()
            if upper.startswith(("LICENSE", "LICENCE", "COPYING", "NOTICE", "UNLICENSE")):
                path = os.path.join(root_dir, name)
                if not os.path.isfile(path):
                    continue
                with open(path, encoding="utf-8", errors="replace") as f:
                    text = f.read().strip()
                key = hashlib.sha256(text.encode()).hexdigest()
                texts.setdefault(key, (text, []))[1].append(f"{p['name']} {p['version']} ({name})")
    for text, owners in texts.values():
        print()
        print("=" * 78)
        print("Carried by: " + ", ".join(owners))
        print("=" * 78)
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
