//! Frame sources. Today: synthetic frames for simulation, demos and tests;
//! the USB camera (nokhwa), replay and demo sources and the capture thread
//! arrive with the operator station.

pub mod synth;
