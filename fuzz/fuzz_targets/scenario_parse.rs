//! Scenario files: arbitrary bytes as a scenario (lossy UTF-8), with every `${VAR}` resolved.
//! A parse that fails must still render its diagnostics: spans, columns and source quoting over
//! arbitrary UTF-8 are where a panic would hide.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let source = String::from_utf8_lossy(data);
    let env = |_: &str| Some("a-long-enough-value-123".to_string());
    match lowpriv::scenario::parse(&source, Path::new("fuzz.toml"), &env) {
        Ok(scenario) => {
            // What `lowpriv check` prints about a valid scenario is built from these.
            let _ = format!("{scenario:?}");
        }
        Err(error) => {
            let _ = error.to_string();
            let _ = format!("{error:?}");
        }
    }
});
