//! `wsdeck keys`: the console's effective key table, the defaults with the user's keymap.toml
//! applied; a broken file exits 2 naming file:line:col.

use crate::config::Paths;
use crate::exit;
use crate::keymap::Keymap;
use anyhow::Result;

pub fn run(paths: Option<&Paths>) -> Result<i32> {
    let file = paths.map(Paths::keymap_file);
    let keymap = match &file {
        Some(f) if f.exists() => {
            let text = match std::fs::read_to_string(f) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("wsdeck: {}: {e}", f.display());
                    return Ok(exit::USAGE);
                }
            };
            match Keymap::with_overrides(&text, &f.display().to_string()) {
                Ok(k) => k,
                Err(e) => {
                    eprintln!("wsdeck: {e}");
                    return Ok(exit::USAGE);
                }
            }
        }
        _ => Keymap::default(),
    };
    match &file {
        Some(f) if f.exists() => println!("# defaults with {} applied", f.display()),
        Some(f) => println!("# defaults ({} would change them)", f.display()),
        None => println!("# defaults"),
    }
    print!("{keymap}");
    Ok(exit::OK)
}
