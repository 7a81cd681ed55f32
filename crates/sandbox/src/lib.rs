//! A TrackingTech-compatible server for tests and the demo.
