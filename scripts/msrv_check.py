#!/usr/bin/env python3
"""Fails when Cargo.toml's rust-version is older than a locked dependency needs.

    cargo metadata --locked --format-version 1 | python3 scripts/msrv_check.py
"""
import json
import sys


def version(text: str) -> tuple:
    return tuple(int(p) for p in text.split(".")) + (0,) * (3 - len(text.split(".")))


def main() -> int:
    meta = json.load(sys.stdin)
    root = meta["resolve"]["root"]
    packages = {p["id"]: p for p in meta["packages"]}
    declared = packages[root].get("rust_version")
    if not declared:
        print("Cargo.toml declares no rust-version", file=sys.stderr)
        return 1
    needs = max(
        ((version(p["rust_version"]), p["name"], p["version"]) for p in meta["packages"] if p.get("rust_version")),
        default=((0, 0, 0), "", ""),
    )
    if version(declared) < needs[0]:
        print(
            f"rust-version = {declared} in Cargo.toml, but {needs[1]} {needs[2]} needs "
            f"{'.'.join(map(str, needs[0][:2]))}",
            file=sys.stderr,
        )
        return 1
    print(f"rust-version {declared}: the newest a dependency needs is {'.'.join(map(str, needs[0][:2]))} ({needs[1]} {needs[2]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
