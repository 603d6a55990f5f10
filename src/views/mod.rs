//! The views of the app, one per file, each reachable by `?view=<slug>`.

pub mod about;
pub mod classroom;
pub mod compare;
pub mod experiment;
pub mod models;
