#!/usr/bin/env bash
# Regenerates vendor/v4l2-sys-mit/src/<arch>-linux-gnu.rs the way the
# original crate's build script does (bindgen 0.65.1, default options, on
# vendor/v4l2-sys-mit/wrapper.h). Needs libclang (apt-get install libclang-dev).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
arch="$(uname -m)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/src"
cat > "$work/Cargo.toml" <<TOML
[package]
name = "regen-v4l2"
version = "0.0.0"
edition = "2021"
[build-dependencies]
bindgen = "=0.65.1"
TOML
echo 'fn main() {}' > "$work/src/main.rs"
cat > "$work/build.rs" <<RS
fn main() {
    bindgen::Builder::default()
        .header("$root/vendor/v4l2-sys-mit/wrapper.h")
        .generate()
        .expect("bindgen")
        .write_to_file("$root/vendor/v4l2-sys-mit/src/$arch-linux-gnu.rs")
        .expect("write");
}
RS
(cd "$work" && cargo build --quiet)
echo "wrote vendor/v4l2-sys-mit/src/$arch-linux-gnu.rs from linux-libc-dev $(dpkg-query -W -f='${Version}' linux-libc-dev 2>/dev/null || echo '?')"
