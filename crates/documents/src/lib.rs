//! Vigil documents: is there personal data in this PDF, and where?
//!
//! [`extract`] reads the text of each page with lopdf within [`Limits`]; [`recognizers`]
//! find identifiers by pattern, checksum and context; [`ner`] runs the Rampart BERT token
//! classifier with candle for names and addresses; [`classify`] decides the verdict.
//! [`onnx`] imports the model once from its ONNX file; [`scanned`] reads pages without a
//! text layer by OCR.

pub mod classify;
pub mod error;
pub mod extract;
pub mod filing;
pub mod ner;
pub mod onnx;
pub mod ownership;
pub mod recognizers;
pub mod scanned;

pub use classify::{Classified, Classifier, NerMode};
pub use error::Error;
pub use extract::{Limits, Page};
pub use ner::{ModelFiles, NerModel};
pub use ownership::{AllowList, Ownership, OwnershipModel};
pub use scanned::OcrUse;
pub use vigil_ocr::{Error as OcrError, Ocr, OcrSettings};
