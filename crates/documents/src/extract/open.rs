//! Opening a file as viewers do: lopdf parses it; when its cross-reference table or
//! trailer is broken, the table is rebuilt by scanning for `N G obj` headers (what
//! poppler and pdf.js do) and appended, so that lopdf reads the repaired file. Files
//! encrypted with the standard security handler open with the empty user password
//! (lopdf's RC4 and AES, revisions 2–6); a real user password is said plainly.

use std::collections::BTreeMap;

use lopdf::Document;
use regex::bytes::Regex;
use std::sync::LazyLock;

use super::find;
use crate::Error;

pub(super) fn load(bytes: &[u8]) -> Result<Document, Error> {
    // Junk before the header (a banner, an HTTP header) shifts every offset: read from
    // the header on, as the offsets of most such files count from it.
    let header = bytes.windows(5).position(|w| w == b"%PDF-").unwrap_or(0);
    let bytes = &bytes[header..];
    let mut doc = match Document::load_mem(bytes) {
        Ok(doc) if doc.page_iter().next().is_some() => doc,
        first => {
            let repaired = rebuild_xref(bytes).and_then(|b| Document::load_mem(&b).ok());
            match (repaired, first) {
                (Some(doc), _) if doc.page_iter().next().is_some() => doc,
                (_, Ok(doc)) => doc,
                (_, Err(lopdf::Error::Unimplemented(_))) => {
                    return Err(unknown_filter(bytes).map_or_else(
                        || Error::Damaged("it uses a feature this reader does not support".into()),
                        Error::Filter,
                    ));
                }
                (_, Err(e)) => return Err(Error::Damaged(e.to_string())),
            }
        }
    };
    if doc.trailer.get(b"Encrypt").is_err() {
        recover_stream_data(&mut doc, bytes);
        latest_compressed_objects(&mut doc);
    }
    if doc.trailer.get(b"Encrypt").is_ok() && doc.encryption_state.is_none() {
        // lopdf refuses a /Length in a V 1 (40-bit RC4) handler, which old Acrobat
        // versions wrote and viewers ignore: blank it out in place and read again.
        // A file without an /ID is keyed as if the ID were empty, as pdf.js does.
        for fixed in [
            without_v1_key_length(bytes, &doc),
            with_empty_id(bytes, &doc),
        ]
        .into_iter()
        .flatten()
        {
            if let Ok(again) = Document::load_mem(&fixed)
                && again.encryption_state.is_some()
            {
                return Ok(again);
            }
        }
        return Err(match doc.authenticate_password("") {
            Err(lopdf::Error::Decryption(
                lopdf::encryption::DecryptionError::IncorrectPassword,
            )) => Error::NeedsPassword,
            Err(e) => Error::Encrypted(e.to_string()),
            Ok(()) => Error::Encrypted(
                "the empty password opens it, but its objects could not be decrypted".into(),
            ),
        });
    }
    Ok(doc)
}

/// Most objects the recovery below re-reads in one file.
const MAX_RECOVERED: usize = 10_000;

/// Objects lopdf dropped or left empty because a stream's `/Length` was wrong (data
/// edited after writing, junk before `endstream`): each is read again from its offset,
/// its data taken from `stream` to `endstream` as viewers do, and its dictionary parsed
/// by lopdf on its own. The offsets are those of `bytes` or, after a rebuild, of
/// `bytes` with a table appended, which starts the same.
fn recover_stream_data(doc: &mut Document, bytes: &[u8]) {
    let damaged: Vec<(lopdf::ObjectId, usize)> = doc
        .reference_table
        .entries
        .iter()
        .filter_map(|(&number, entry)| {
            let lopdf::xref::XrefEntry::Normal { offset, generation } = entry else {
                return None;
            };
            let id = (number, *generation);
            let missing = match doc.objects.get(&id) {
                None => true,
                Some(lopdf::Object::Stream(s)) => {
                    s.content.is_empty() && declared_length(doc, s) > 0
                }
                // A stream whose data could not be read comes back as its dictionary.
                Some(lopdf::Object::Dictionary(d)) => d.has(b"Length"),
                Some(_) => false,
            };
            missing.then_some((id, *offset as usize))
        })
        .take(MAX_RECOVERED)
        .collect();
    // Each re-read searches forward for `endobj`; the bytes searched are bounded in all,
    // so that a hostile table of offsets cannot make the scan quadratic.
    let mut scan_budget = MAX_RECOVERY_SCAN;
    for (id, offset) in damaged {
        let window = bytes.len().min(offset.saturating_add(scan_budget));
        let Some(tail) = bytes.get(offset..window) else {
            continue;
        };
        // Up to the first `endobj` after the header (or the whole window).
        let scanned =
            find(tail.get(8..).unwrap_or_default(), b"endobj").map_or(tail.len(), |e| e + 14);
        scan_budget = scan_budget.saturating_sub(scanned);
        if let Some(object) = reread(&bytes[..offset + scanned.min(tail.len())], offset) {
            doc.objects.insert(id, object);
        }
        if scan_budget == 0 {
            break;
        }
    }
}

/// Most bytes the recovery of damaged objects searches, over all of them.
const MAX_RECOVERY_SCAN: usize = 256 << 20;

/// lopdf expands every object stream it reads, and when an incremental update has put
/// a newer version of an object in a newer stream, the older version may win (which
/// one depends on the order its threads finish). A filled form saved that way read as
/// blank. Each compressed object is taken again from the stream the cross-reference
/// table names for it.
fn latest_compressed_objects(doc: &mut Document) {
    let mut by_container: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    for (&number, entry) in &doc.reference_table.entries {
        if let lopdf::xref::XrefEntry::Compressed { container, .. } = entry {
            by_container.entry(*container).or_default().push(number);
        }
    }
    // One object stream is the common case, and then no version can be stale.
    if by_container.len() < 2 {
        return;
    }
    for (container, numbers) in by_container {
        let Some(mut stream) = doc
            .objects
            .get(&(container, 0))
            .and_then(|o| o.as_stream().ok())
            .cloned()
        else {
            continue;
        };
        let Ok(parsed) = lopdf::ObjectStream::new(&mut stream) else {
            continue;
        };
        for number in numbers {
            if let Some(object) = parsed.objects.get(&(number, 0)) {
                doc.objects.insert((number, 0), object.clone());
            }
        }
    }
}

fn declared_length(doc: &Document, stream: &lopdf::Stream) -> i64 {
    stream
        .dict
        .get(b"Length")
        .ok()
        .and_then(|l| doc.dereference(l).ok())
        .and_then(|(_, l)| l.as_i64().ok())
        .unwrap_or(0)
}

/// The object at `offset`, its stream data delimited by keywords, not by `/Length`.
fn reread(bytes: &[u8], offset: usize) -> Option<lopdf::Object> {
    let tail = bytes.get(offset..)?;
    let head_end = find(&tail[..tail.len().min(64)], b"obj")? + 3;
    // The end is searched after the header: the `obj` found may be the end of an
    // `endobj` when the offset is wrong.
    let end = head_end + find(tail.get(head_end..)?, b"endobj")?;
    let body = &tail[head_end..end];
    let (dict, data) = match find(body, b"stream") {
        Some(at) => {
            let mut start = at + 6;
            if body.get(start) == Some(&b'\r') {
                start += 1;
            }
            if body.get(start) == Some(&b'\n') {
                start += 1;
            }
            let stop = find_last(body, b"endstream").filter(|&e| e >= start)?;
            (&body[..at], Some(body[start..stop].to_vec()))
        }
        None => (body, None),
    };
    // The dictionary alone, as the only object of a minimal file lopdf can read.
    let mut mini = b"%PDF-1.4\n".to_vec();
    let object_at = mini.len();
    mini.extend_from_slice(b"1 0 obj\n");
    mini.extend_from_slice(dict);
    mini.extend_from_slice(b"\nendobj\n");
    let xref_at = mini.len();
    mini.extend_from_slice(
        format!(
            "xref\n0 2\n0000000000 65535 f \n{object_at:010} 00000 n \ntrailer\n<< /Size 2 /Root 1 0 R >>\nstartxref\n{xref_at}\n%%EOF\n"
        )
        .as_bytes(),
    );
    let parsed = Document::load_mem(&mini).ok()?.objects.remove(&(1, 0))?;
    match data {
        Some(data) => Some(lopdf::Object::Stream(lopdf::Stream::new(
            parsed.as_dict().ok()?.clone(),
            data,
        ))),
        None => Some(parsed),
    }
}

/// The file with an update appended whose trailer adds an empty `/ID`; `None` when the
/// trailer has one.
fn with_empty_id(bytes: &[u8], doc: &Document) -> Option<Vec<u8>> {
    if doc.trailer.get(b"ID").is_ok() {
        return None;
    }
    let reference = |key: &[u8]| -> Option<String> {
        let (n, g) = doc.trailer.get(key).ok()?.as_reference().ok()?;
        Some(format!("{n} {g} R"))
    };
    let (root, encrypt) = (reference(b"Root")?, reference(b"Encrypt")?);
    let mut out = bytes.to_vec();
    out.extend_from_slice(b"\n");
    let xref_at = out.len();
    out.extend_from_slice(
        format!(
            "xref\n0 1\n0000000000 65535 f \ntrailer\n<< /Size {} /Root {root} /Encrypt {encrypt} /ID [<> <>] /Prev {} >>\nstartxref\n{xref_at}\n%%EOF\n",
            doc.max_id + 1,
            doc.xref_start
        )
        .as_bytes(),
    );
    Some(out)
}

static FILTER_NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?-u)/Filter\s*\[?\s*/([A-Za-z0-9]+)").expect("a valid pattern"));

/// The first filter named in the file that this reader does not decode.
fn unknown_filter(bytes: &[u8]) -> Option<String> {
    FILTER_NAME
        .captures_iter(bytes)
        .map(|c| String::from_utf8_lossy(&c[1]).into_owned())
        .find(|name| !super::filters::KNOWN.contains(&name.as_str()))
}

static V1_HANDLER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?-u)/V\s*1\b").expect("a valid pattern"));
static KEY_LENGTH: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?-u)/Length\s*\d+").expect("a valid pattern"));

/// The file with the `/Length` of a V 1 encryption dictionary overwritten by spaces
/// (offsets unchanged); `None` when the dictionary is not V 1 or has no such entry.
fn without_v1_key_length(bytes: &[u8], doc: &Document) -> Option<Vec<u8>> {
    let id = doc.trailer.get(b"Encrypt").ok()?.as_reference().ok()?;
    let lopdf::xref::XrefEntry::Normal { offset, .. } = doc.reference_table.get(id.0)? else {
        return None;
    };
    let start = *offset as usize;
    let end = start
        + find_last(
            bytes.get(start..start.checked_add(4096)?.min(bytes.len()))?,
            b"endobj",
        )?;
    let object = &bytes[start..end];
    if !V1_HANDLER.is_match(object) {
        return None;
    }
    let length = KEY_LENGTH.find(object)?;
    let mut out = bytes.to_vec();
    out[start + length.start()..start + length.end()].fill(b' ');
    Some(out)
}

static OBJECT_HEADER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?-u)(?:^|[\r\n\s])(\d{1,10})\s+(\d{1,5})\s+obj\b").expect("a valid pattern")
});
static TRAILER_REF: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?-u)/(Root|Encrypt|Info)\s*(\d{1,10})\s+(\d{1,5})\s+R").expect("a valid pattern")
});
static TRAILER_ID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?-u)/ID\s*\[\s*(<[0-9A-Fa-f\s]*>|\([^)]*\))\s*(<[0-9A-Fa-f\s]*>|\([^)]*\))\s*\]")
        .expect("a valid pattern")
});
static CATALOG: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?-u)/Type\s*/Catalog\b").expect("a valid pattern"));

/// The file with a new cross-reference table and trailer appended, built from the
/// objects found by scanning; `None` when no object or no catalog is found. A later
/// definition of an object replaces an earlier one, as in an incremental update.
fn rebuild_xref(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut objects: BTreeMap<u32, (u16, usize)> = BTreeMap::new();
    let mut catalog = None;
    let headers: Vec<(u32, u16, usize)> = OBJECT_HEADER
        .captures_iter(bytes)
        .filter_map(|c| {
            let num = std::str::from_utf8(&c[1]).ok()?.parse().ok()?;
            let generation = std::str::from_utf8(&c[2]).ok()?.parse().ok()?;
            Some((num, generation, c.get(1)?.start()))
        })
        .collect();
    for (i, &(num, generation, offset)) in headers.iter().enumerate() {
        objects.insert(num, (generation, offset));
        let end = headers.get(i + 1).map_or(bytes.len(), |h| h.2);
        let body = &bytes[offset..end];
        // Only the object's dictionary, not stream data, is searched for the type.
        let head = &body[..body.len().min(4096)];
        if CATALOG.is_match(head) {
            catalog = Some((num, generation));
        }
    }
    // The trailer's own references, where any survive, win over the scan's guess.
    let (mut root, mut encrypt, mut info, mut id) = (None, None, None, None);
    if let Some(at) = find_last(bytes, b"trailer") {
        let tail = &bytes[at..];
        for c in TRAILER_REF.captures_iter(tail) {
            let reference = format!(
                "{} {} R",
                String::from_utf8_lossy(&c[2]),
                String::from_utf8_lossy(&c[3])
            );
            match &c[1] {
                b"Root" => root = Some(reference),
                b"Encrypt" => encrypt = Some(reference),
                _ => info = Some(reference),
            }
        }
    }
    if let Some(c) = TRAILER_ID.captures_iter(bytes).last() {
        id = Some(format!(
            "[{} {}]",
            String::from_utf8_lossy(&c[1]),
            String::from_utf8_lossy(&c[2])
        ));
    }
    if encrypt.is_none() {
        // An encryption dictionary is recognisable by its handler entry.
        for (&num, &(generation, offset)) in &objects {
            let head = &bytes[offset..bytes.len().min(offset + 512)];
            if find_last(head, b"/Filter/Standard").is_some()
                || find_last(head, b"/Filter /Standard").is_some()
            {
                encrypt = Some(format!("{num} {generation} R"));
            }
        }
    }
    let root = root
        .filter(|r| {
            r.split(' ')
                .next()
                .and_then(|n| n.parse::<u32>().ok())
                .is_some_and(|n| objects.contains_key(&n))
        })
        .or_else(|| catalog.map(|(n, g)| format!("{n} {g} R")))?;
    let size = objects.keys().next_back()? + 1;

    let mut out = bytes.to_vec();
    out.extend_from_slice(b"\n");
    let xref_at = out.len();
    out.extend_from_slice(b"xref\n0 1\n0000000000 65535 f \n");
    // Subsections of consecutive object numbers.
    let numbers: Vec<u32> = objects.keys().copied().collect();
    let mut i = 0;
    while i < numbers.len() {
        let mut j = i;
        while j + 1 < numbers.len() && numbers[j + 1] == numbers[j] + 1 {
            j += 1;
        }
        out.extend_from_slice(format!("{} {}\n", numbers[i], j - i + 1).as_bytes());
        for n in &numbers[i..=j] {
            let (generation, offset) = objects[n];
            out.extend_from_slice(format!("{offset:010} {generation:05} n \n").as_bytes());
        }
        i = j + 1;
    }
    let mut trailer = format!("trailer\n<< /Size {size} /Root {root}");
    for (key, value) in [("Encrypt", encrypt), ("Info", info), ("ID", id)] {
        if let Some(v) = value {
            trailer.push_str(&format!(" /{key} {v}"));
        }
    }
    trailer.push_str(&format!(" >>\nstartxref\n{xref_at}\n%%EOF\n"));
    out.extend_from_slice(trailer.as_bytes());
    Some(out)
}

fn find_last(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lopdf::dictionary;

    fn tiny_pdf() -> Vec<u8> {
        save(tiny_doc())
    }

    fn save(mut doc: Document) -> Vec<u8> {
        let mut out = Vec::new();
        doc.save_to(&mut out).expect("writing to memory");
        out
    }

    fn tiny_doc() -> Document {
        let mut doc = Document::with_version("1.4");
        let pages = doc.new_object_id();
        let content = doc.add_object(lopdf::Stream::new(
            dictionary! {},
            b"BT /F1 12 Tf 72 700 Td (Hello) Tj ET".to_vec(),
        ));
        let font = doc.add_object(dictionary! {
            "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica",
        });
        let page = doc.add_object(dictionary! {
            "Type" => "Page", "Parent" => pages, "Contents" => content,
            "Resources" => dictionary! { "Font" => dictionary! { "F1" => font } },
            "MediaBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
        });
        doc.objects.insert(
            pages,
            lopdf::Object::Dictionary(dictionary! {
                "Type" => "Pages", "Kids" => vec![page.into()], "Count" => 1,
            }),
        );
        let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages });
        doc.trailer.set("Root", catalog);
        let id = lopdf::Object::string_literal(b"0123456789abcdef".to_vec());
        doc.trailer.set("ID", vec![id.clone(), id]);
        doc
    }

    /// The tiny document encrypted by lopdf with the given handler and passwords.
    fn encrypted(handler: u8, user: &str) -> Vec<u8> {
        use lopdf::encryption::crypt_filters::{Aes128CryptFilter, Aes256CryptFilter, CryptFilter};
        use lopdf::{EncryptionState, EncryptionVersion, Permissions};
        use std::sync::Arc;
        let mut doc = tiny_doc();
        let key = [7u8; 32];
        let version = match handler {
            1 => EncryptionVersion::V1 {
                document: &doc,
                owner_password: "owner",
                user_password: user,
                permissions: Permissions::PRINTABLE,
            },
            2 => EncryptionVersion::V2 {
                document: &doc,
                owner_password: "owner",
                user_password: user,
                key_length: 128,
                permissions: Permissions::PRINTABLE,
            },
            4 => EncryptionVersion::V4 {
                document: &doc,
                encrypt_metadata: true,
                crypt_filters: BTreeMap::from([(
                    b"StdCF".to_vec(),
                    Arc::new(Aes128CryptFilter) as Arc<dyn CryptFilter>,
                )]),
                stream_filter: b"StdCF".to_vec(),
                string_filter: b"StdCF".to_vec(),
                owner_password: "owner",
                user_password: user,
                permissions: Permissions::PRINTABLE,
            },
            _ => EncryptionVersion::V5 {
                encrypt_metadata: true,
                crypt_filters: BTreeMap::from([(
                    b"StdCF".to_vec(),
                    Arc::new(Aes256CryptFilter) as Arc<dyn CryptFilter>,
                )]),
                file_encryption_key: &key,
                stream_filter: b"StdCF".to_vec(),
                string_filter: b"StdCF".to_vec(),
                owner_password: "owner",
                user_password: user,
                permissions: Permissions::PRINTABLE,
            },
        };
        let state = EncryptionState::try_from(version).expect("a valid handler");
        doc.encrypt(&state).expect("encrypting");
        save(doc)
    }

    #[test]
    fn owner_password_only_files_open_as_viewers_open_them() {
        for handler in [1, 2, 4, 5] {
            let bytes = encrypted(handler, "");
            let doc = load(&bytes).unwrap_or_else(|e| panic!("V{handler}: {e}"));
            let page = doc.page_iter().next().unwrap();
            let content = doc.get_page_content(page).unwrap();
            assert!(
                content.windows(5).any(|w| w == b"Hello"),
                "V{handler}: content not decrypted"
            );
        }
    }

    #[test]
    fn a_user_password_is_said_plainly() {
        for handler in [2, 4, 5] {
            let bytes = encrypted(handler, "secret");
            assert!(
                matches!(load(&bytes), Err(Error::NeedsPassword)),
                "V{handler}: {:?}",
                load(&bytes).err()
            );
        }
    }

    #[test]
    fn an_offset_into_an_endobj_is_no_object() {
        // Found by the `extract` fuzz target: an xref offset pointing at `endobj`.
        assert!(
            reread(
                b"x endobj\n1 0 obj <</Length 5>> stream\nhello\nendstream endobj",
                2
            )
            .is_none()
        );
        assert!(reread(b"endobj", 0).is_none());
    }

    #[test]
    fn a_stream_with_a_wrong_length_is_read_to_endstream() {
        let good = tiny_pdf();
        let text = String::from_utf8_lossy(&good).into_owned();
        // Junk between the data and `endstream`, as a producer's stray output leaves.
        let broken = text.replacen("ET\nendstream", "ET\nPage 2\nendstream", 1);
        assert_ne!(broken, text, "the fixture has a content stream");
        let doc = load(broken.as_bytes()).unwrap();
        let page = doc.page_iter().next().unwrap();
        let content = doc.get_page_content(page).unwrap();
        assert!(content.windows(5).any(|w| w == b"Hello"));
    }

    #[test]
    fn a_file_without_its_xref_and_trailer_is_rebuilt() {
        let good = tiny_pdf();
        let cut = find_last(&good, b"xref").unwrap();
        let broken = &good[..cut];
        assert!(Document::load_mem(broken).is_err());
        let doc = load(broken).unwrap();
        assert_eq!(doc.page_iter().count(), 1);
    }

    #[test]
    fn a_wrong_startxref_is_rebuilt() {
        let mut bad = tiny_pdf();
        let at = find_last(&bad, b"startxref").unwrap() + 10;
        bad.truncate(at);
        bad.extend_from_slice(b"999999\n%%EOF\n");
        assert_eq!(load(&bad).unwrap().page_iter().count(), 1);
    }
}
