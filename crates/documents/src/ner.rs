//! The Rampart PII token classifier (BERT, 6 layers, 384 wide), run by candle.
//!
//! Long text is cut into overlapping windows of tokens; each token keeps the label of the
//! window where it sits farthest from an edge. B-/I- tags are merged into spans, given
//! name + surname into a person, address parts into an address.

use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Module, Tensor};
use candle_nn::{Linear, VarBuilder};
use candle_transformers::models::bert::{BertModel, Config};
use tokenizers::Tokenizer;

use crate::Error;

/// The labels the model tags, without their B-/I- prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tag {
    GivenName,
    Surname,
    Email,
    Phone,
    Url,
    TaxId,
    BankAccount,
    RoutingNumber,
    GovernmentId,
    Passport,
    DriversLicense,
    BuildingNumber,
    StreetName,
    SecondaryAddress,
    City,
    State,
    ZipCode,
}

impl Tag {
    fn parse(label: &str) -> Option<(bool, Tag)> {
        let (begin, name) = match label.split_once('-') {
            Some(("B", name)) => (true, name),
            Some(("I", name)) => (false, name),
            _ => return None,
        };
        let tag = match name {
            "GIVEN_NAME" => Tag::GivenName,
            "SURNAME" => Tag::Surname,
            "EMAIL" => Tag::Email,
            "PHONE" => Tag::Phone,
            "URL" => Tag::Url,
            "TAX_ID" => Tag::TaxId,
            "BANK_ACCOUNT" => Tag::BankAccount,
            "ROUTING_NUMBER" => Tag::RoutingNumber,
            "GOVERNMENT_ID" => Tag::GovernmentId,
            "PASSPORT" => Tag::Passport,
            "DRIVERS_LICENSE" => Tag::DriversLicense,
            "BUILDING_NUMBER" => Tag::BuildingNumber,
            "STREET_NAME" => Tag::StreetName,
            "SECONDARY_ADDRESS" => Tag::SecondaryAddress,
            "CITY" => Tag::City,
            "STATE" => Tag::State,
            "ZIP_CODE" => Tag::ZipCode,
            _ => return None,
        };
        Some((begin, tag))
    }

    pub fn is_name(self) -> bool {
        matches!(self, Tag::GivenName | Tag::Surname)
    }

    pub fn is_address(self) -> bool {
        matches!(
            self,
            Tag::BuildingNumber
                | Tag::StreetName
                | Tag::SecondaryAddress
                | Tag::City
                | Tag::State
                | Tag::ZipCode
        )
    }
}

/// A tagged stretch of text: byte offsets into the text given to [`NerModel::spans`].
#[derive(Debug, Clone, PartialEq)]
pub struct Span {
    pub tag: Tag,
    pub start: usize,
    pub end: usize,
    /// Mean probability of the span's tokens' labels.
    pub score: f32,
}

/// Where the files of an imported model live.
#[derive(Debug, Clone)]
pub struct ModelFiles {
    pub config: PathBuf,
    pub tokenizer: PathBuf,
    pub weights: PathBuf,
}

impl ModelFiles {
    /// The layout `vigil model import` writes: `config.json`, `tokenizer.json`,
    /// `model.safetensors` in one directory.
    pub fn in_dir(dir: &Path) -> ModelFiles {
        ModelFiles {
            config: dir.join("config.json"),
            tokenizer: dir.join("tokenizer.json"),
            weights: dir.join("model.safetensors"),
        }
    }
}

pub struct NerModel {
    bert: BertModel,
    head: Linear,
    tokenizer: Tokenizer,
    labels: Vec<Option<(bool, Tag)>>,
    /// Tokens per window, [CLS] and [SEP] included.
    window: usize,
    /// Tokens shared by neighbouring windows.
    overlap: usize,
    cls: u32,
    sep: u32,
}

#[derive(serde::Deserialize)]
struct Labels {
    id2label: std::collections::BTreeMap<String, String>,
}

fn file_error(path: &Path, message: impl ToString) -> Error {
    Error::ModelFile {
        path: path.display().to_string(),
        message: message.to_string(),
    }
}

impl NerModel {
    pub fn load(files: &ModelFiles) -> Result<NerModel, Error> {
        let config_text =
            std::fs::read_to_string(&files.config).map_err(|e| file_error(&files.config, e))?;
        let config: Config =
            serde_json::from_str(&config_text).map_err(|e| file_error(&files.config, e))?;
        let labels: Labels =
            serde_json::from_str(&config_text).map_err(|e| file_error(&files.config, e))?;
        let mut ordered = vec![None; labels.id2label.len()];
        for (id, label) in &labels.id2label {
            let id: usize = id.parse().map_err(|e| file_error(&files.config, e))?;
            if id >= ordered.len() {
                return Err(file_error(&files.config, "id2label ids are not 0..n"));
            }
            ordered[id] = Tag::parse(label);
        }
        let tokenizer =
            Tokenizer::from_file(&files.tokenizer).map_err(|e| file_error(&files.tokenizer, e))?;
        let token = |t: &str| {
            tokenizer
                .token_to_id(t)
                .ok_or_else(|| file_error(&files.tokenizer, format!("no {t} token")))
        };
        let (cls, sep) = (token("[CLS]")?, token("[SEP]")?);
        if !files.weights.exists() {
            return Err(file_error(
                &files.weights,
                "not found (run `vigil model import` or infra/setup.sh)",
            ));
        }
        // SAFETY: the weights file is written once by `vigil model import` and not changed
        // while it is mapped.
        let vb = unsafe {
            VarBuilder::from_mmaped_safetensors(&[&files.weights], DType::F32, &Device::Cpu)
        }
        .map_err(|e| file_error(&files.weights, e))?;
        let bert =
            BertModel::load(vb.pp("bert"), &config).map_err(|e| file_error(&files.weights, e))?;
        let head = candle_nn::linear(config.hidden_size, ordered.len(), vb.pp("classifier"))
            .map_err(|e| file_error(&files.weights, e))?;
        Ok(NerModel {
            bert,
            head,
            tokenizer,
            labels: ordered,
            window: 128,
            overlap: 32,
            cls,
            sep,
        })
    }

    /// Changes the window size (tokens, [CLS] and [SEP] included; at most 512).
    pub fn with_window(mut self, window: usize, overlap: usize) -> NerModel {
        self.window = window.clamp(16, 512);
        self.overlap = overlap.min(self.window / 2);
        self
    }

    /// The token ids of `text` as the model sees a single window: [CLS] … [SEP].
    pub fn token_ids(&self, text: &str) -> Result<Vec<u32>, Error> {
        let encoding = self
            .tokenizer
            .encode(text, false)
            .map_err(|e| Error::Model(format!("tokenizer: {e}")))?;
        let mut ids = vec![self.cls];
        ids.extend(encoding.get_ids().iter().take(self.window - 2));
        ids.push(self.sep);
        Ok(ids)
    }

    /// Raw logits for one sequence of token ids, [CLS]/[SEP] included: `[len, labels]`.
    pub fn logits(&self, ids: &[u32]) -> Result<Vec<Vec<f32>>, Error> {
        let input = Tensor::new(ids, &Device::Cpu)?.unsqueeze(0)?;
        let types = input.zeros_like()?;
        let hidden = self.bert.forward(&input, &types, None)?;
        let logits = self.head.forward(&hidden)?.squeeze(0)?;
        Ok(logits.to_vec2()?)
    }

    /// The tagged spans of `text`.
    pub fn spans(&self, text: &str) -> Result<Vec<Span>, Error> {
        Ok(self.spans_until(text, None)?.0)
    }

    /// The tagged spans of `text`, stopping at `deadline`; the flag says whether the
    /// whole text was tagged.
    pub fn spans_until(
        &self,
        text: &str,
        deadline: Option<std::time::Instant>,
    ) -> Result<(Vec<Span>, bool), Error> {
        let encoding = self
            .tokenizer
            .encode(text, false)
            .map_err(|e| Error::Model(format!("tokenizer: {e}")))?;
        let ids = encoding.get_ids();
        let offsets = encoding.get_offsets();
        if ids.is_empty() {
            return Ok((Vec::new(), true));
        }
        let inner = self.window - 2;
        let step = inner - self.overlap;
        // Best (distance from a window edge, label, probability) per token.
        let mut best: Vec<(usize, usize, f32)> = vec![(0, 0, 0.0); ids.len()];
        let mut start = 0;
        let mut complete = true;
        loop {
            if deadline.is_some_and(|d| std::time::Instant::now() > d) {
                complete = false;
                break;
            }
            let end = (start + inner).min(ids.len());
            let mut seq = Vec::with_capacity(end - start + 2);
            seq.push(self.cls);
            seq.extend_from_slice(&ids[start..end]);
            seq.push(self.sep);
            let logits = self.logits(&seq)?;
            for (i, row) in logits[1..=end - start].iter().enumerate() {
                let token = start + i;
                // Distance from a window edge that cuts the text; the text's own start
                // and end are not cuts.
                let left = if start == 0 { usize::MAX } else { i + 1 };
                let right = if end == ids.len() {
                    usize::MAX
                } else {
                    end - start - i
                };
                let edge = left.min(right);
                if edge > best[token].0 {
                    let (label, p) = argmax_softmax(row);
                    best[token] = (edge, label, p);
                }
            }
            if end == ids.len() {
                break;
            }
            start += step;
        }
        Ok((self.merge(&best, offsets, text), complete))
    }

    fn merge(
        &self,
        best: &[(usize, usize, f32)],
        offsets: &[(usize, usize)],
        text: &str,
    ) -> Vec<Span> {
        let mut spans: Vec<(Span, usize)> = Vec::new();
        for (i, &(_, label, p)) in best.iter().enumerate() {
            let Some(Some((begin, tag))) = self.labels.get(label).copied() else {
                continue;
            };
            let (s, e) = offsets[i];
            if let Some((last, n)) = spans.last_mut() {
                let gap = text.get(last.end..s).unwrap_or("x");
                let joined =
                    gap.is_empty() || (!begin && gap.chars().all(|c| c == ' ' || c == '-'));
                // A word piece (no gap) always continues its word, whatever its tag says.
                if last.tag == tag && joined || gap.is_empty() && last.end == s {
                    last.end = e;
                    last.score += p;
                    *n += 1;
                    continue;
                }
            }
            spans.push((
                Span {
                    tag,
                    start: s,
                    end: e,
                    score: p,
                },
                1,
            ));
        }
        spans
            .into_iter()
            .map(|(mut s, n)| {
                s.score /= n as f32;
                s
            })
            .collect()
    }
}

fn argmax_softmax(row: &[f32]) -> (usize, f32) {
    let (mut arg, mut max) = (0, f32::NEG_INFINITY);
    for (i, &v) in row.iter().enumerate() {
        if v > max {
            (arg, max) = (i, v);
        }
    }
    let sum: f32 = row.iter().map(|&v| (v - max).exp()).sum();
    (arg, 1.0 / sum)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bio_labels() {
        assert_eq!(Tag::parse("B-GIVEN_NAME"), Some((true, Tag::GivenName)));
        assert_eq!(Tag::parse("I-ZIP_CODE"), Some((false, Tag::ZipCode)));
        assert_eq!(Tag::parse("O"), None);
        assert_eq!(Tag::parse("B-SOMETHING_NEW"), None);
    }

    #[test]
    fn softmax_of_the_largest() {
        let (arg, p) = argmax_softmax(&[0.0, 2.0, 0.0]);
        assert_eq!(arg, 1);
        assert!((p - 0.7870).abs() < 1e-3);
    }
}
