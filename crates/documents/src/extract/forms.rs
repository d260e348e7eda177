//! Filled form data as page text, so that the recognizers see it: AcroForm field values
//! (`/V` of text, choice, check and radio fields) on the page their widget sits on, as
//! `label: value` lines, and an XFA form's datasets (parsed with `roxmltree`) on the
//! first page, where the viewer would show them.

use std::collections::{HashMap, HashSet};

use lopdf::{Dictionary, Document, Object, ObjectId};

use super::filters;

/// Most fields read from one form.
const MAX_FIELDS: usize = 20_000;
/// Deepest field tree followed.
const MAX_DEPTH: usize = 32;

/// Extra text per page index.
pub(super) fn field_text(
    doc: &Document,
    pages: &[ObjectId],
    budget: usize,
) -> HashMap<usize, String> {
    let mut out: HashMap<usize, String> = HashMap::new();
    let Some(form) = doc
        .catalog()
        .ok()
        .and_then(|c| c.get(b"AcroForm").ok())
        .and_then(|o| doc.dereference(o).ok())
        .and_then(|(_, o)| o.as_dict().ok())
    else {
        return out;
    };
    let annot_page = annotation_pages(doc, pages);
    let page_of = |id: ObjectId, dict: &Dictionary| -> usize {
        if let Some(&p) = annot_page.get(&id) {
            return p;
        }
        dict.get(b"P")
            .and_then(Object::as_reference)
            .ok()
            .and_then(|p| pages.iter().position(|&q| q == p))
            .unwrap_or(0)
    };
    if let Ok(Object::Array(fields)) = form.get(b"Fields").map(|o| deref(doc, o)) {
        let mut walk = FieldWalk {
            doc,
            seen: HashSet::new(),
            lines: Vec::new(),
        };
        for field in fields {
            walk.visit(field, &Inherited::default(), 0);
        }
        for (id, label, value) in walk.lines {
            let Ok(dict) = doc.get_dictionary(id) else {
                continue;
            };
            let page = page_of(id, dict);
            let text = out.entry(page).or_default();
            if label.is_empty() {
                text.push_str(&format!("{value}\n"));
            } else {
                text.push_str(&format!("{label}: {value}\n"));
            }
        }
    }
    if let Some(datasets) = xfa_datasets(doc, form, budget) {
        out.entry(0).or_default().push_str(&datasets);
    }
    out
}

fn deref<'a>(doc: &'a Document, o: &'a Object) -> &'a Object {
    doc.dereference(o).map(|(_, o)| o).unwrap_or(o)
}

/// Which page each annotation (widget) is listed on.
fn annotation_pages(doc: &Document, pages: &[ObjectId]) -> HashMap<ObjectId, usize> {
    let mut map = HashMap::new();
    for (index, &page) in pages.iter().enumerate() {
        let annots = doc
            .get_dictionary(page)
            .ok()
            .and_then(|d| d.get(b"Annots").ok())
            .map(|o| deref(doc, o));
        if let Some(Object::Array(list)) = annots {
            for a in list {
                if let Ok(id) = a.as_reference() {
                    map.entry(id).or_insert(index);
                }
            }
        }
    }
    map
}

/// What a field inherits from its parent.
#[derive(Default, Clone)]
struct Inherited {
    name: String,
    value: Option<Object>,
}

struct FieldWalk<'a> {
    doc: &'a Document,
    seen: HashSet<ObjectId>,
    /// Widget or field object, label, value.
    lines: Vec<(ObjectId, String, String)>,
}

impl FieldWalk<'_> {
    fn visit(&mut self, field: &Object, parent: &Inherited, depth: usize) {
        let Ok(id) = field.as_reference() else { return };
        if depth > MAX_DEPTH || self.seen.len() >= MAX_FIELDS || !self.seen.insert(id) {
            return;
        }
        let Ok(dict) = self.doc.get_dictionary(id) else {
            return;
        };
        let partial = dict.get(b"T").ok().and_then(|o| text_string(self.doc, o));
        let label = dict
            .get(b"TU")
            .ok()
            .and_then(|o| text_string(self.doc, o))
            .or_else(|| partial.clone())
            .unwrap_or_else(|| parent.name.clone());
        let here = Inherited {
            name: label,
            value: dict
                .get(b"V")
                .ok()
                .map(|o| deref(self.doc, o).clone())
                .or(parent.value.clone()),
        };
        let kids: Vec<Object> = match dict.get(b"Kids").map(|o| deref(self.doc, o)) {
            Ok(Object::Array(k)) => k.clone(),
            _ => Vec::new(),
        };
        // A field whose kids are all widgets (no names of their own) holds the value.
        let kids_are_fields = kids.iter().any(|k| {
            k.as_reference()
                .ok()
                .and_then(|k| self.doc.get_dictionary(k).ok())
                .is_some_and(|d| d.has(b"T"))
        });
        if kids_are_fields {
            for kid in &kids {
                self.visit(kid, &here, depth + 1);
            }
            return;
        }
        if let Some(value) = here.value.as_ref().and_then(|v| value_text(self.doc, v)) {
            // The value is placed on the first widget's page.
            let widget = kids
                .first()
                .and_then(|k| k.as_reference().ok())
                .unwrap_or(id);
            self.lines.push((widget, clean_label(&here.name), value));
        }
    }
}

fn text_string(doc: &Document, o: &Object) -> Option<String> {
    let o = deref(doc, o);
    lopdf::decode_text_string(o)
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// The text of a field value: strings as they are, a chosen state's name unless `Off`,
/// the items of a multiple choice joined.
fn value_text(doc: &Document, v: &Object) -> Option<String> {
    match v {
        Object::String(..) => text_string(doc, v),
        Object::Name(n) if n.as_slice() != b"Off" => Some(String::from_utf8_lossy(n).into_owned()),
        Object::Array(items) => {
            let parts: Vec<String> = items.iter().filter_map(|i| text_string(doc, i)).collect();
            (!parts.is_empty()).then(|| parts.join(", "))
        }
        _ => None,
    }
    .map(|s| s.replace(['\r', '\n'], " "))
}

/// A generated name such as `topmostSubform[0].Page1[0].f1_01[0]` says nothing; its
/// last part without the index is kept, and a readable tooltip is kept whole.
fn clean_label(name: &str) -> String {
    if name.contains(' ') {
        return name.replace(['\r', '\n'], " ").trim().to_string();
    }
    let last = name.rsplit('.').next().unwrap_or(name);
    let base = last.split('[').next().unwrap_or(last);
    base.replace(['\r', '\n'], " ").trim().to_string()
}

/// The XFA datasets packet's leaf values as `name: value` lines.
fn xfa_datasets(doc: &Document, form: &Dictionary, budget: usize) -> Option<String> {
    let xfa = deref(doc, form.get(b"XFA").ok()?);
    let data = match xfa {
        Object::Array(parts) => {
            let mut found = None;
            for pair in parts.chunks(2) {
                let [name, stream] = pair else { continue };
                let name = deref(doc, name);
                if name.as_str().is_ok_and(|n| n == b"datasets") {
                    found = Some(stream_bytes(doc, stream, budget)?);
                }
            }
            found?
        }
        Object::Stream(_) => stream_bytes(doc, xfa, budget)?,
        _ => return None,
    };
    let xml = String::from_utf8_lossy(&data);
    // A whole XDP document holds the datasets among other packets; cut them out so that
    // the other packets' markup need not parse.
    let xml = match (xml.find("<xfa:datasets"), xml.find("</xfa:datasets>")) {
        (Some(a), Some(b)) if a < b => &xml[a..b + "</xfa:datasets>".len()],
        _ => &xml[..],
    };
    // Producers leave bare ampersands in values ("Humanitarian & Compassionate"), which
    // XML forbids and viewers accept.
    let xml = escape_bare_ampersands(xml);
    let options = roxmltree::ParsingOptions {
        allow_dtd: false,
        nodes_limit: 1_000_000,
        ..roxmltree::ParsingOptions::default()
    };
    let tree = roxmltree::Document::parse_with_options(&xml, options).ok()?;
    // The form's values are under `xfa:data`; other children of the datasets (lists of
    // values for drop-downs, descriptions) are not what was filled in.
    let data = tree
        .descendants()
        .find(|n| n.is_element() && n.tag_name().name() == "data")
        .unwrap_or(tree.root());
    let mut lines = String::new();
    for node in data.descendants().filter(|n| n.is_element()) {
        let leaf = !node.children().any(|c| c.is_element());
        if !leaf {
            continue;
        }
        let Some(value) = node.text().map(str::trim).filter(|t| !t.is_empty()) else {
            continue;
        };
        lines.push_str(&format!(
            "{}: {}\n",
            node.tag_name().name(),
            value.replace(['\r', '\n'], " ")
        ));
    }
    (!lines.is_empty()).then_some(lines)
}

fn escape_bare_ampersands(xml: &str) -> std::borrow::Cow<'_, str> {
    static BARE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"&(?:[A-Za-z][A-Za-z0-9]*;|#[0-9]+;|#x[0-9A-Fa-f]+;)?")
            .expect("a valid pattern")
    });
    BARE.replace_all(xml, |c: &regex::Captures<'_>| {
        if c[0].len() == 1 {
            "&amp;".to_string()
        } else {
            c[0].to_string()
        }
    })
}

fn stream_bytes(doc: &Document, o: &Object, budget: usize) -> Option<Vec<u8>> {
    let stream = deref(doc, o).as_stream().ok()?;
    filters::decode(doc, stream, budget).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_field_names_are_shortened() {
        assert_eq!(clean_label("topmostSubform[0].Page1[0].SSN[0]"), "SSN");
        assert_eq!(
            clean_label("Social security number"),
            "Social security number"
        );
        assert_eq!(
            clean_label("SOCIAL SECURITY NO. (MANDATORY)"),
            "SOCIAL SECURITY NO. (MANDATORY)"
        );
    }

    #[test]
    fn bare_ampersands_are_escaped() {
        assert_eq!(
            escape_bare_ampersands("A & B &amp; &#38; &#x26;"),
            "A &amp; B &amp; &#38; &#x26;"
        );
    }

    #[test]
    fn values_of_each_field_kind() {
        let doc = Document::with_version("1.5");
        assert_eq!(
            value_text(&doc, &Object::string_literal("Jane Roe")).as_deref(),
            Some("Jane Roe")
        );
        assert_eq!(
            value_text(&doc, &Object::Name(b"Yes".to_vec())).as_deref(),
            Some("Yes")
        );
        assert_eq!(value_text(&doc, &Object::Name(b"Off".to_vec())), None);
        let choice = Object::Array(vec![
            Object::string_literal("A"),
            Object::string_literal("B"),
        ]);
        assert_eq!(value_text(&doc, &choice).as_deref(), Some("A, B"));
    }
}
