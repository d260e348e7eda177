//! The page: one HTML file with the charts inline as SVG, so it opens with no network.

use std::fmt::Write;

use crate::Report;

/// Escapes text for HTML content and attributes.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn money(v: f64) -> String {
    format!("{v:.2}")
}

/// The page for `report`, with `charts` as (name, title, svg) and `source` naming the data.
pub fn page(report: &Report, charts: &[(&str, &str, String)], source: &str) -> String {
    let mut h = String::new();
    let total = report.total();
    let pct = |n: u64| {
        if total == 0 {
            0.0
        } else {
            100.0 * n as f64 / total as f64
        }
    };
    let _ = write!(
        h,
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Vigil — transactions report</title>
<style>
body{{font-family:"DejaVu Sans",Arial,sans-serif;margin:24px;color:#222;max-width:980px}}
h1{{font-size:22px;margin-bottom:4px}} .sub{{color:#666;font-size:13px;margin-bottom:18px}}
.tiles{{display:flex;gap:12px;margin-bottom:18px}} .tile{{border:1px solid #ddd;border-radius:6px;padding:10px 14px;min-width:120px}}
.tile b{{display:block;font-size:20px}} .approve b{{color:#2e8b57}} .review b{{color:#e6911e}} .block b{{color:#c82828}}
figure{{margin:0 0 18px 0}} figcaption{{font-size:14px;color:#444;margin-bottom:4px}}
table{{border-collapse:collapse;font-size:13px;margin-bottom:18px}} td,th{{border:1px solid #ddd;padding:4px 8px;text-align:right}}
td:first-child,th:first-child{{text-align:left}} .notes{{background:#fff7e0;border:1px solid #f0d890;padding:8px 12px;font-size:13px}}
</style></head><body>
<h1>Transactions report</h1>
<div class="sub">{source} · events {first} to {last} · per {unit}</div>
<div class="tiles">
<div class="tile" id="total">transactions<b>{total}</b></div>
<div class="tile approve">approve<b>{a}</b>{ap:.2} %</div>
<div class="tile review">review<b>{v}</b>{vp:.2} %</div>
<div class="tile block">block (alerts)<b>{b}</b>{bp:.2} %</div>
</div>
"#,
        source = escape(source),
        first = escape(&report.first_event),
        last = escape(&report.last_event),
        unit = report.unit.as_str(),
        a = report.totals[0],
        v = report.totals[1],
        b = report.totals[2],
        ap = pct(report.totals[0]),
        vp = pct(report.totals[1]),
        bp = pct(report.totals[2]),
    );
    if !report.notes.is_empty() {
        h.push_str("<div class=\"notes\"><b>Notes on the data</b><ul>");
        for n in &report.notes {
            let _ = write!(h, "<li>{}</li>", escape(n));
        }
        h.push_str("</ul></div>\n");
    }
    for (name, title, svg) in charts {
        // plotters writes a complete SVG document; the XML prolog is dropped to inline it.
        let body = svg.trim_start_matches(|c| c != '<');
        let body = if body.starts_with("<?xml") {
            body.split_once("?>").map_or(body, |(_, rest)| rest)
        } else {
            body
        };
        let _ = writeln!(
            h,
            "<figure id=\"{name}\" class=\"chart\"><figcaption>{}</figcaption>{body}</figure>",
            escape(title)
        );
    }
    h.push_str("<h2>Amounts by outcome</h2><table id=\"amounts\"><tr><th>outcome</th><th>transactions</th><th>total</th><th>mean</th><th>median</th><th>p99</th><th>max</th></tr>");
    for a in &report.amounts {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            a.outcome,
            a.transactions,
            money(a.total),
            money(a.mean),
            money(a.median),
            money(a.p99),
            money(a.max)
        );
    }
    h.push_str("</table>\n<h2>Top reasons for review and block</h2><table id=\"reasons\"><tr><th>reason</th><th>transactions</th></tr>");
    for (reason, n) in &report.reasons {
        let _ = write!(h, "<tr><td>{}</td><td>{n}</td></tr>", escape(reason));
    }
    h.push_str("</table>\n<h2>Rule hits</h2><table id=\"rule-hits\"><tr><th>rule</th><th>matches</th></tr>");
    for (rule, n) in &report.rule_hits {
        let _ = write!(h, "<tr><td>{}</td><td>{n}</td></tr>", escape(rule));
    }
    if !report.precision.is_empty() {
        h.push_str("</table>\n<h2>Precision by rule (labelled transactions)</h2><table id=\"precision\"><tr><th>rule</th><th>labelled</th><th>fraud</th><th>precision</th></tr>");
        for (rule, n, fraud, p) in &report.precision {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{n}</td><td>{fraud}</td><td>{:.1} %</td></tr>",
                escape(rule),
                p * 100.0
            );
        }
    }
    if !report.shadow.is_empty() {
        h.push_str("</table>\n<h2>Shadow run against the active versions</h2><table id=\"shadow\"><tr><th>active versions</th><th>shadow versions</th><th>active outcome</th><th>shadow outcome</th><th>transactions</th></tr>");
        for row in &report.shadow {
            h.push_str("<tr>");
            for cell in row {
                let _ = write!(h, "<td>{}</td>", escape(cell));
            }
            h.push_str("</tr>");
        }
    }
    h.push_str("</table>\n<div class=\"sub\">Medians and p99 are approximate (t-digest). The charts are also saved as PNG files beside this page, and each query's result as CSV under data/.</div>\n</body></html>\n");
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}
