//! PDF bytes → text: any input gives pages or an error, never a panic, a hang or an
//! out-of-memory kill (libFuzzer's -timeout and -rss_limit_mb catch the last two).
#![no_main]

use libfuzzer_sys::fuzz_target;
use vigil_documents::extract::{Limits, extract};

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        time_budget: std::time::Duration::from_secs(2),
        ..Limits::default()
    };
    let _ = extract(data, &limits);
});
