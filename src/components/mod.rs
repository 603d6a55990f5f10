//! Components shared by several views.

pub mod backend_panel;
pub mod chat_box;
pub mod deferred;
pub mod nav_bar;
pub mod own_model_panel;
pub mod problem_picker;
pub mod race_column;
