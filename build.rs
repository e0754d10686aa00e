//! One cfg for "this build has the netns backend": the `netns` feature (on by default) on Linux.
//! Elsewhere the feature means nothing, so `cargo build` works on any Unix, without netns.
//!
//! Must not: probe the host (what a machine has is `halab doctor`'s business, at run time).

fn main() {
    println!("cargo::rustc-check-cfg=cfg(netns)");
    println!("cargo::rerun-if-changed=build.rs");
    let linux = std::env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "linux");
    if linux && std::env::var_os("CARGO_FEATURE_NETNS").is_some() {
        println!("cargo::rustc-cfg=netns");
    }
}
