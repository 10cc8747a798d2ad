//! Snapshot files: arbitrary text as a snapshot; one that parses must survive
//! render -> parse unchanged, since the approved file is compared by its parsed matrix.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use lowpriv::snapshot::Matrix;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(matrix) = Matrix::parse(&text, Path::new("x.snap")) else {
        return;
    };
    let rendered = matrix.render();
    let again = Matrix::parse(&rendered, Path::new("x.snap"))
        .unwrap_or_else(|error| panic!("a rendered snapshot parses: {error}\n{rendered}"));
    assert_eq!(again, matrix, "render then parse gives the same matrix\n{rendered}");
});
