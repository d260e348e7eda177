//! One-time import of the Rampart PII model from its 4-bit ONNX file into safetensors
//! that candle's BERT loads (`vigil model import`).
//!
//! Only the parts of the ONNX protobuf that hold weights are declared here: the graph's
//! initializers and the nodes that say how they are quantized.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{Device, Tensor};
use prost::Message;

use crate::Error;

#[derive(Clone, PartialEq, Message)]
struct ModelProto {
    #[prost(message, optional, tag = "7")]
    graph: Option<GraphProto>,
}

#[derive(Clone, PartialEq, Message)]
struct GraphProto {
    #[prost(message, repeated, tag = "1")]
    node: Vec<NodeProto>,
    #[prost(message, repeated, tag = "5")]
    initializer: Vec<TensorProto>,
}

#[derive(Clone, PartialEq, Message)]
struct NodeProto {
    #[prost(string, repeated, tag = "1")]
    input: Vec<String>,
    #[prost(string, tag = "3")]
    name: String,
    #[prost(string, tag = "4")]
    op_type: String,
    #[prost(message, repeated, tag = "5")]
    attribute: Vec<AttributeProto>,
}

#[derive(Clone, PartialEq, Message)]
struct AttributeProto {
    #[prost(string, tag = "1")]
    name: String,
    #[prost(int64, tag = "3")]
    i: i64,
}

#[derive(Clone, PartialEq, Message)]
struct TensorProto {
    #[prost(int64, repeated, tag = "1")]
    dims: Vec<i64>,
    #[prost(int32, tag = "2")]
    data_type: i32,
    #[prost(float, repeated, tag = "4")]
    float_data: Vec<f32>,
    #[prost(int32, repeated, tag = "5")]
    int32_data: Vec<i32>,
    #[prost(string, tag = "8")]
    name: String,
    #[prost(bytes = "vec", tag = "9")]
    raw_data: Vec<u8>,
}

// ONNX TensorProto.DataType values used by this model.
const FLOAT: i32 = 1;
const UINT8: i32 = 2;

impl TensorProto {
    fn shape(&self) -> Vec<usize> {
        self.dims.iter().map(|&d| d.max(0) as usize).collect()
    }

    fn floats(&self) -> Result<Vec<f32>, Error> {
        if self.data_type != FLOAT {
            return Err(bad(&self.name, "expected float data"));
        }
        if !self.float_data.is_empty() {
            return Ok(self.float_data.clone());
        }
        if !self.raw_data.len().is_multiple_of(4) {
            return Err(bad(
                &self.name,
                "raw float data is not a multiple of 4 bytes",
            ));
        }
        Ok(self
            .raw_data
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect())
    }

    fn bytes(&self) -> Result<Vec<u8>, Error> {
        if self.data_type != UINT8 {
            return Err(bad(&self.name, "expected uint8 data"));
        }
        if !self.raw_data.is_empty() {
            return Ok(self.raw_data.clone());
        }
        // Small uint8 tensors (zero points) may be stored one value per int32.
        Ok(self.int32_data.iter().map(|&v| v as u8).collect())
    }
}

fn bad(name: &str, message: &str) -> Error {
    Error::Model(format!("ONNX tensor `{name}`: {message}"))
}

/// A weight's shape and its values, row-major.
pub type Weight = (Vec<usize>, Vec<f32>);

/// The weights of the ONNX file, dequantized to f32, under the names of a Hugging Face
/// `BertForTokenClassification` checkpoint.
pub fn dequantize(onnx: &[u8]) -> Result<HashMap<String, Weight>, Error> {
    let model =
        ModelProto::decode(onnx).map_err(|e| Error::Model(format!("not an ONNX model: {e}")))?;
    let graph = model
        .graph
        .ok_or_else(|| Error::Model("the ONNX model has no graph".into()))?;
    let inits: HashMap<&str, &TensorProto> = graph
        .initializer
        .iter()
        .map(|t| (t.name.as_str(), t))
        .collect();
    let mut out = HashMap::new();
    let mut used = std::collections::HashSet::new();

    for node in graph.node.iter().filter(|n| n.op_type == "MatMulNBits") {
        let attr = |name: &str| node.attribute.iter().find(|a| a.name == name).map(|a| a.i);
        let (Some(k), Some(n), Some(bits), Some(block)) =
            (attr("K"), attr("N"), attr("bits"), attr("block_size"))
        else {
            return Err(Error::Model(format!(
                "{}: missing K, N, bits or block_size",
                node.name
            )));
        };
        if bits != 4 || node.input.len() != 3 {
            return Err(Error::Model(format!(
                "{}: only 4-bit symmetric MatMulNBits is supported",
                node.name
            )));
        }
        let get = |i: usize| {
            inits
                .get(node.input[i].as_str())
                .copied()
                .ok_or_else(|| Error::Model(format!("{}: input {i} is not a weight", node.name)))
        };
        let (packed, scales) = (get(1)?.bytes()?, get(2)?.floats()?);
        let weight = dequantize_nbits(&packed, &scales, n as usize, k as usize, block as usize)
            .map_err(|m| Error::Model(format!("{}: {m}", node.name)))?;
        used.insert(node.input[1].clone());
        used.insert(node.input[2].clone());
        out.insert(
            weight_name(&node.name)?,
            (vec![n as usize, k as usize], weight),
        );
    }

    for t in &graph.initializer {
        if used.contains(&t.name) {
            continue;
        }
        if let Some(base) = t.name.strip_suffix(".weight_quantized") {
            let scale = inits
                .get(format!("{base}.weight_scale").as_str())
                .ok_or_else(|| bad(&t.name, "no scale"))?
                .floats()?;
            let zero = inits
                .get(format!("{base}.weight_zero_point").as_str())
                .ok_or_else(|| bad(&t.name, "no zero point"))?
                .bytes()?;
            let (Some(&scale), Some(&zero)) = (scale.first(), zero.first()) else {
                return Err(bad(&t.name, "empty scale or zero point"));
            };
            let values = t
                .bytes()?
                .iter()
                .map(|&q| (f32::from(q) - f32::from(zero)) * scale)
                .collect();
            out.insert(format!("{base}.weight"), (t.shape(), values));
        } else if t.data_type == FLOAT && !t.name.ends_with(".weight_scale") && !t.dims.is_empty() {
            out.insert(t.name.clone(), (t.shape(), t.floats()?));
        }
    }
    Ok(out)
}

/// `[N, K/block, block/2]` packed nibbles, low nibble first, symmetric around 8:
/// `W[n, k] = (q − 8) · scale[n, k / block]`, in the `[out, in]` layout of a Linear.
fn dequantize_nbits(
    packed: &[u8],
    scales: &[f32],
    n: usize,
    k: usize,
    block: usize,
) -> Result<Vec<f32>, String> {
    let blocks = k.div_ceil(block);
    if packed.len() != n * blocks * block / 2 || scales.len() != n * blocks {
        return Err(format!(
            "packed weight of {} bytes and {} scales do not fit N={n}, K={k}",
            packed.len(),
            scales.len()
        ));
    }
    let mut w = vec![0f32; n * k];
    for row in 0..n {
        for col in 0..k {
            let (b, within) = (col / block, col % block);
            let byte = packed[(row * blocks + b) * block / 2 + within / 2];
            let q = if within % 2 == 0 {
                byte & 0x0f
            } else {
                byte >> 4
            };
            w[row * k + col] = (f32::from(q) - 8.0) * scales[row * blocks + b];
        }
    }
    Ok(w)
}

/// `/bert/encoder/layer.0/attention/self/query/MatMul_Q4` →
/// `bert.encoder.layer.0.attention.self.query.weight`.
fn weight_name(node: &str) -> Result<String, Error> {
    let path = node
        .trim_start_matches('/')
        .strip_suffix("/MatMul_Q4")
        .ok_or_else(|| Error::Model(format!("unexpected MatMulNBits node name {node}")))?;
    Ok(format!("{}.weight", path.replace('/', ".")))
}

/// Reads the ONNX file and writes the safetensors file the NER model loads.
pub fn import(onnx_path: &Path, out_path: &Path) -> Result<usize, Error> {
    let bytes = std::fs::read(onnx_path).map_err(|e| Error::ModelFile {
        path: onnx_path.display().to_string(),
        message: e.to_string(),
    })?;
    let weights = dequantize(&bytes)?;
    let mut tensors = HashMap::new();
    for (name, (shape, values)) in weights {
        tensors.insert(name, Tensor::from_vec(values, shape, &Device::Cpu)?);
    }
    let count = tensors.len();
    candle_core::safetensors::save(&tensors, out_path)?;
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unpacks_low_nibble_first_around_eight() {
        // One row, K = 4, block 4: bytes 0x9F → q = 15 then 9; 0x80 → 0 then 8.
        let w = dequantize_nbits(&[0x9f, 0x80], &[0.5], 1, 4, 4).unwrap();
        assert_eq!(w, vec![3.5, 0.5, -4.0, 0.0]);
    }

    #[test]
    fn rejects_shapes_that_do_not_fit() {
        assert!(dequantize_nbits(&[0x9f], &[0.5], 1, 4, 4).is_err());
    }

    #[test]
    fn maps_node_names_to_bert_weights() {
        assert_eq!(
            weight_name("/bert/encoder/layer.0/attention/self/query/MatMul_Q4").unwrap(),
            "bert.encoder.layer.0.attention.self.query.weight"
        );
        assert_eq!(
            weight_name("/classifier/MatMul_Q4").unwrap(),
            "classifier.weight"
        );
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(dequantize(b"definitely not protobuf \xff\xff\xff").is_err());
    }
}
