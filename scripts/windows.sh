#!/usr/bin/env bash
# gradcap on Windows, built and tested on this Debian machine.
#
#   scripts/windows.sh setup              the cross toolchain (run by build on its own)
#   scripts/windows.sh build              target/x86_64-pc-windows-gnu/release/gradcap.exe
#   scripts/windows.sh test               the Windows tests, under Wine
#   scripts/windows.sh run DIR -- ARGS…   the .exe under Wine, DIR as its current folder
#   scripts/windows.sh package            gradcap-windows-x64.zip
#
# Everything comes from Debian's and crates.io's registries. rustup cannot
# install a Windows target here, so the toolchain is Debian sid's own rustc,
# cargo and rust-src in a chroot (debootstrap) with MinGW-w64; std is built for
# the target from rust-src (-Zbuild-std), and the two start-up objects the
# windows-gnu target links (rsbegin.o, rsend.o) are compiled from rust-src's
# library/rtstartup. Wine is sid's too, in the same chroot (bookworm's Wine 8
# lacks bcryptprimitives.dll, which Rust's std needs), run through a wrapper
# that bind-mounts /tmp and the checkout at their own paths, so a folder on
# this machine is the .exe's current folder and its files are checked here.
#
# What is set up is kept between runs on one machine, outside the checkout:
# GRADCAP_WINDOWS_CACHE (default /var/cache/gradcap-windows) holds the chroot,
# cargo's registry and the cross build's target folder. A fresh checkout in
# another folder reuses all of it; only gradcap's own crate is built again.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${GRADCAP_WINDOWS_CACHE:-/var/cache/gradcap-windows}"
SYSROOT="$CACHE/sid"
TARGET=x86_64-pc-windows-gnu
EXE="$ROOT/target/$TARGET/release/gradcap.exe"
MIRROR="${GRADCAP_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
# The chroot's packages: Debian's Rust toolchain with its std sources, and the
# MinGW-w64 C compiler (the bundled SQLite and the linker driver).
# MinGW-w64 C compiler (the bundled SQLite and the linker driver); Wine with
# Mesa's software OpenGL for the window.
CHROOT_PKGS=(rustc cargo rust-src gcc-mingw-w64-x86-64-win32 binutils-mingw-w64-x86-64 ca-certificates
             wine wine64 libgl1-mesa-dri libgl1 libegl1)
# The host's packages: zip to package.
HOST_PKGS=(zip unzip)

say() { printf '== %s\n' "$*" >&2; }
die() { printf 'windows.sh: %s\n' "$*" >&2; exit 1; }
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

in_chroot() {
  chroot "$SYSROOT" /usr/bin/env -i HOME=/root PATH=/usr/local/bin:/usr/bin:/bin \
    LANG=C.UTF-8 "$@"
}

apt_chroot() {
  in_chroot env DEBIAN_FRONTEND=noninteractive apt-get \
    -o Acquire::Check-Valid-Until=false -o APT::Install-Recommends=false -qq "$@"
}

setup_host() {
  local need=() p
  for p in "${HOST_PKGS[@]}"; do have_pkg "$p" || need+=("$p"); done
  command -v debootstrap >/dev/null || need+=(debootstrap)
  if [ ${#need[@]} -gt 0 ]; then
    say "installing on the host: ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  fi
}

setup_chroot() {
  if [ ! -f "$SYSROOT/.gradcap-debootstrap-done" ]; then
    say "debootstrap sid into $SYSROOT (once per machine)"
    unmount_all
    rm -rf --one-file-system "$SYSROOT"
    mkdir -p "$SYSROOT"
    debootstrap --variant=minbase --no-check-gpg sid "$SYSROOT" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 \
      || { tail -20 "$CACHE/debootstrap.log" >&2; die "debootstrap failed (log: $CACHE/debootstrap.log)"; }
    touch "$SYSROOT/.gradcap-debootstrap-done"
  fi
  cp -L /etc/resolv.conf "$SYSROOT/etc/resolv.conf" 2>/dev/null || true
  # The host's trusted certificates (a proxy's own CA, where the host has
  # one), for cargo's downloads from crates.io.
  cp -L "${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}" "$SYSROOT/etc/ssl/host-ca.crt" 2>/dev/null \
    || cp -L "$SYSROOT/etc/ssl/certs/ca-certificates.crt" "$SYSROOT/etc/ssl/host-ca.crt"
  if [ ! -f "$SYSROOT/.gradcap-packages-done" ] \
     || [ "$(cat "$SYSROOT/.gradcap-packages-done")" != "${CHROOT_PKGS[*]}" ]; then
    say "installing in the chroot: ${CHROOT_PKGS[*]}"
    apt_chroot update
    apt_chroot install -y "${CHROOT_PKGS[@]}" >/dev/null
    printf '%s' "${CHROOT_PKGS[*]}" >"$SYSROOT/.gradcap-packages-done"
  fi
  local rtlib=/opt/gradcap-rt
  if [ ! -f "$SYSROOT$rtlib/rsend.o" ]; then
    say "compiling rsbegin.o and rsend.o from rust-src"
    local src
    src="$(in_chroot sh -c 'ls -d /usr/lib/rustlib/src/rust/library/rtstartup 2>/dev/null || true')"
    [ -n "$src" ] || die "rust-src in the chroot has no library/rtstartup"
    in_chroot sh -c "mkdir -p $rtlib && cd $rtlib \
      && RUSTC_BOOTSTRAP=1 rustc --target $TARGET --emit=obj -o rsbegin.o $src/rsbegin.rs \
      && RUSTC_BOOTSTRAP=1 rustc --target $TARGET --emit=obj -o rsend.o $src/rsend.rs"
  fi
}

setup() {
  mkdir -p "$CACHE"
  setup_host
  setup_chroot
  say "toolchain: $(in_chroot rustc --version), $(in_chroot x86_64-w64-mingw32-gcc --version | head -1)"
}

# The sources as git knows them (tracked and new, not ignored) copied into the
# chroot; the cross build's target folder stays there between runs.
sync_sources() {
  local dest="$SYSROOT/build/gradcap"
  rm -rf "$dest"
  mkdir -p "$dest"
  if git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    (cd "$ROOT" && git ls-files -z -co --exclude-standard | tar --null -T - -cf -) | tar -xf - -C "$dest"
  else
    (cd "$ROOT" && tar --exclude=./target -cf - .) | tar -xf - -C "$dest"
  fi
}

build() {
  setup
  sync_sources
  local commit
  commit="$(git -C "$ROOT" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)"
  if [ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null)" ]; then commit="$commit-dirty"; fi
  say "cargo build --release --target $TARGET (std from rust-src)"
  local t0=$SECONDS
  in_chroot env \
    RUSTC_BOOTSTRAP=1 \
    CARGO_TARGET_DIR=/build/target \
    CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc \
    CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUSTFLAGS="-L native=/opt/gradcap-rt" \
    CC_x86_64_pc_windows_gnu=x86_64-w64-mingw32-gcc \
    AR_x86_64_pc_windows_gnu=x86_64-w64-mingw32-ar \
    GRADCAP_GIT_COMMIT="$commit" \
    CARGO_TERM_COLOR=never \
    CARGO_HTTP_CAINFO=/etc/ssl/host-ca.crt \
    sh -c "cd /build/gradcap && cargo build --release --locked --target $TARGET \
      -Zbuild-std=std,panic_abort --bin gradcap ${GRADCAP_WINDOWS_CARGO_FLAGS:-}"
  mkdir -p "$(dirname "$EXE")"
  cp "$SYSROOT/build/target/$TARGET/release/gradcap.exe" "$EXE.partial"
  mv "$EXE.partial" "$EXE"
  say "built $EXE ($(du -h "$EXE" | cut -f1)) in $((SECONDS - t0)) s"
}

# The chroot sees /proc, /dev, /tmp and the checkout as the host does, for
# as long as this command runs: what it mounted it unmounts when it ends, so
# the cache folder never holds a way into /tmp or the checkout (remove it
# with `rm -rf` only when nothing is mounted under it: `findmnt -R`).
MOUNTED=()
mount_binds() {
  local d
  if ! mountpoint -q "$SYSROOT/proc"; then
    mount -t proc proc "$SYSROOT/proc" && MOUNTED+=("$SYSROOT/proc")
  fi
  for d in /dev /tmp "$ROOT"; do
    mkdir -p "$SYSROOT$d"
    if ! mountpoint -q "$SYSROOT$d"; then
      mount --bind "$d" "$SYSROOT$d" && MOUNTED+=("$SYSROOT$d")
    fi
  done
  trap unmount_ours EXIT
}

unmount_ours() {
  local i
  for ((i = ${#MOUNTED[@]} - 1; i >= 0; i--)); do
    umount -l "${MOUNTED[$i]}" 2>/dev/null || true
  done
  MOUNTED=()
}

unmount_all() {
  local m
  [ -d "$SYSROOT" ] || return 0
  for m in $(awk -v r="$SYSROOT" 'index($2, r) == 1 { print $2 }' /proc/self/mounts | sort -r); do
    umount -l "$m" || true
  done
}

# Wine: the chroot's, through $CACHE/bin/wine and wineserver (the caller's
# folder stays the current one); one prefix in the chroot, made once; no
# Mono or Gecko prompts.
wine_env() {
  mount_binds
  mkdir -p "$CACHE/bin"
  local tool
  for tool in wine wineserver; do
    cat >"$CACHE/bin/$tool" <<WRAP
#!/bin/sh
# $tool from the Windows chroot ($SYSROOT), run in the caller's folder, with
# the caller's environment (GRADCAP_DATA_DIR and the like reach the .exe).
exec chroot "$SYSROOT" /usr/bin/env HOME=/root PATH=/usr/lib/x86_64-linux-gnu/wine:/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 \\
  WINEPREFIX=/root/wineprefix WINEDEBUG="\${WINEDEBUG:--all}" WINEDLLOVERRIDES="mscoree,mshtml=d" \\
  DISPLAY="\${DISPLAY:-}" XAUTHORITY="\${XAUTHORITY:-}" \\
  sh -c 'cd "\$0" 2>/dev/null || cd /; exec $tool "\$@"' "\$PWD" "\$@"
WRAP
    chmod +x "$CACHE/bin/$tool"
  done
  export GRADCAP_WINE="$CACHE/bin/wine" GRADCAP_WINESERVER="$CACHE/bin/wineserver"
  export WINEPREFIX="$SYSROOT/root/wineprefix"
  if [ ! -f "$WINEPREFIX/.gradcap-ready" ]; then
    say "making the Wine prefix $WINEPREFIX (once per machine)"
    (cd / && DISPLAY= "$GRADCAP_WINE" wineboot --init >/dev/null 2>&1) || true
    "$GRADCAP_WINESERVER" -w || true
    [ -f "$WINEPREFIX/system.reg" ] || die "wineboot made no prefix in $WINEPREFIX"
    touch "$WINEPREFIX/.gradcap-ready"
  fi
}

need_exe() {
  [ -f "$EXE" ] || die "$EXE is missing: run scripts/windows.sh build first"
}

# scripts/windows.sh run DIR -- ARGS…: the .exe under Wine in DIR, its exit code.
run() {
  local dir="${1:-}"
  [ -n "$dir" ] || die "usage: scripts/windows.sh run DIR -- ARGS…"
  shift
  [ "${1:-}" = "--" ] && shift
  [ -d "$dir" ] || die "no folder $dir"
  setup_host
  need_exe
  wine_env
  cd "$dir"
  set +e
  "$GRADCAP_WINE" "$EXE" "$@"
  local code=$?
  set -e
  exit "$code"
}

# The tests of tests/windows.rs, one at a time (one Wine prefix), with the
# Linux build beside the Windows one to check what each wrote.
run_tests() {
  setup_host
  need_exe
  wine_env
  say "the Windows tests under Wine ($("$GRADCAP_WINE" --version))"
  cd "$ROOT"
  GRADCAP_WINDOWS_EXE="$EXE" cargo test --test windows -- --ignored --test-threads=1 "$@"
}

# gradcap-windows-x64.zip: the .exe, the operator's 使用说明, the README and
# the licences of the font, the face models and every crate in the build.
package() {
  need_exe
  setup_host
  local stage="$ROOT/target/windows-package/gradcap-windows-x64"
  rm -rf "$ROOT/target/windows-package"
  mkdir -p "$stage/licenses"
  cp "$EXE" "$stage/gradcap.exe"
  crlf() { sed 's/\r\{0,1\}$/\r/' "$1" >"$2"; }
  # UTF-8 with a byte-order mark and CRLF: Notepad on every Windows reads it.
  { printf '\xef\xbb\xbf'; sed 's/\r\{0,1\}$/\r/' "$ROOT/docs/windows/使用说明.txt"; } >"$stage/使用说明.txt"
  crlf "$ROOT/README.md" "$stage/README.md"
  crlf "$ROOT/assets/fonts/OFL.txt" "$stage/licenses/font-OFL.txt"
  crlf "$ROOT/assets/fonts/README.md" "$stage/licenses/font-README.md"
  crlf "$ROOT/assets/face/LICENSE-Apache-2.0.txt" "$stage/licenses/face-models-Apache-2.0.txt"
  crlf "$ROOT/assets/face/README.md" "$stage/licenses/face-models-README.md"
  (cd "$ROOT" && cargo metadata --locked --format-version 1 --filter-platform "$TARGET") \
    | python3 "$ROOT/scripts/third_party_licenses.py" "$TARGET" >"$stage/licenses/THIRD-PARTY.txt.lf"
  crlf "$stage/licenses/THIRD-PARTY.txt.lf" "$stage/licenses/THIRD-PARTY.txt"
  rm "$stage/licenses/THIRD-PARTY.txt.lf"
  local zip="$ROOT/gradcap-windows-x64.zip"
  rm -f "$zip.partial"
  (cd "$ROOT/target/windows-package" && zip -q -r -X "$zip.partial" gradcap-windows-x64)
  mv "$zip.partial" "$zip"
  say "packaged $zip ($(du -h "$zip" | cut -f1))"
}

case "${1:-}" in
  setup|build|run|package) cmd="$1"; shift; "$cmd" "$@" ;;
  test) shift; run_tests "$@" ;;
  *) sed -n 2,8p "$0" >&2; exit 2 ;;
esac
