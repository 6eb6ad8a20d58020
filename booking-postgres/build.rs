//! Rebuilds the crate when a migration is added, removed or edited:
//! `sqlx::migrate!` embeds the files at compile time but cannot ask Cargo to
//! watch the folder itself on stable Rust.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
