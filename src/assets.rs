//! The files built into the binary (`include_bytes!`): the CJK font and the
//! face models. One place, so the PDFs, the CLI and the UI share one copy of
//! each and a rebuilt asset is swapped in here only.

/// The embedded CJK font (a renamed subset of Noto Sans CJK SC covering GBK;
/// OFL): the UI's fallback font and the PDFs' only font.
pub const CJK_FONT: &[u8] = include_bytes!("../assets/fonts/GradcapSansSC-Regular.otf");

/// The face model (BlazeFace, `assets/face/`): weights in the order
/// `photo::net` reads them.
pub const FACE_MODEL: &[u8] = include_bytes!("../assets/face/blazeface.bin");

/// The dense landmark model (Face Mesh, 468 points, `assets/face/`).
pub const FACE_MESH_MODEL: &[u8] = include_bytes!("../assets/face/face_mesh.bin");
