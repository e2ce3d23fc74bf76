//! The committed header is what cbindgen generates from the sources now.

use std::path::Path;

#[test]
fn the_committed_header_is_up_to_date() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(dir.join("cbindgen.toml")).unwrap();
    let mut generated = Vec::new();
    cbindgen::Builder::new()
        .with_crate(dir)
        .with_config(config)
        .generate()
        .expect("cbindgen reads the crate")
        .write(&mut generated);
    let generated = String::from_utf8(generated).unwrap();
    let path = dir.join("include/isochord.h");
    if std::env::var_os("ISOCHORD_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{} is stale: regenerate it with `ISOCHORD_BLESS=1 cargo test -p isochord-capi --test header`",
        path.display()
    );
    for f in [
        "isochord_create_preset",
        "isochord_create_toml",
        "isochord_render",
        "isochord_set_param",
        "isochord_push_sample",
        "isochord_poll_event",
        "isochord_string_free",
        "isochord_end",
        "isochord_free",
        "isochord_last_error",
    ] {
        assert!(
            generated.contains(&format!("{f}(")),
            "{f} is missing from the header"
        );
    }
}
