//! Any text through the recognizers: no panic (offsets stay on character boundaries).
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigil_documents::recognizers::recognize;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        for c in recognize(text) {
            assert!(text.is_char_boundary(c.start) && text.is_char_boundary(c.end));
        }
    }
});
