//! Raw V4L2 bindings: `linux/videodev2.h` run through bindgen 0.65 once
//! (`scripts/regen-v4l2-bindings.sh`) and committed, instead of at every
//! build — a fresh machine needs no libclang to build gradcap.
#![allow(clippy::all)]
#![allow(deref_nullptr)]
#![allow(non_camel_case_types)]
#![allow(non_snake_case)]
#![allow(non_upper_case_globals)]
#![allow(unused)]

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
include!("x86_64-linux-gnu.rs");

#[cfg(all(target_os = "linux", not(target_arch = "x86_64")))]
compile_error!(
    "pre-generated V4L2 bindings exist for x86_64 only: run scripts/regen-v4l2-bindings.sh on this machine \
     (it needs libclang) and add the file for this architecture"
);
