//! Contact points: phones (in country / area / number parts), emails, websites and others.

pub mod graphql;
pub mod input;
pub mod loader;
pub mod mutation;
pub mod service;
pub mod write;
