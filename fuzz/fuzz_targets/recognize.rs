//! Any text through the recognizers and the ownership evidence: no panic (offsets stay
//! on character boundaries, every feature in 0..=1), the text split into pages at form
//! feeds so that repetition across pages is exercised too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigil_documents::Ownership;
use vigil_documents::ownership::DocumentContext;
use vigil_documents::recognizers::recognize;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let pages: Vec<&str> = text.split('\u{c}').collect();
        let candidates: Vec<_> = pages.iter().map(|p| recognize(p)).collect();
        let context = DocumentContext::new(&pages, &candidates);
        let ownership = Ownership::default();
        for (i, (page, found)) in pages.iter().zip(&candidates).enumerate() {
            for c in found {
                assert!(page.is_char_boundary(c.start) && page.is_char_boundary(c.end));
                let x = context.evidence(i, c);
                assert!(x.iter().all(|v| (0.0..=1.0).contains(v)), "{x:?}");
                let judgement = ownership.judge(&context, i, c, &page[c.start..c.end]);
                assert!((0.0..=1.0).contains(&judgement.probability));
            }
        }
    }
});
