//! The one integration test binary: each module is a group that `cargo test --test it GROUP::`
//! selects (`cli`, `conventions`, `package`, `lab_names`, `content_safety`, `layers`, `no_chapter` need no lab; `netns`,
//! `backends`, `lesson`, `lxd`, `class`, `watch` build real labs and take the lab slot one at a time).
//!
//! Must not: hold tests of its own; they live in the group modules.

mod support;

mod backends;
mod class;
mod cli;
mod content_safety;
mod conventions;
mod lab_names;
mod layers;
mod lesson;
mod lxd;
mod netns;
mod no_chapter;
mod package;
mod watch;
