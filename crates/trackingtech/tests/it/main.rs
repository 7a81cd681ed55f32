//! The client against the sandbox (in-process, random port), and the sandbox's answers checked
//! against `docs/trackingtech-api.yaml`.

mod client;
mod helpers;
mod malformed;
mod openapi;
