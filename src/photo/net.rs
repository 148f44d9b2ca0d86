//! A small convolutional-network runner for the face models: NHWC float32
//! tensors and the nine operators BlazeFace and Face Mesh use (2-D and
//! depthwise convolution, ReLU, PReLU, add, pad, max-pool, reshape,
//! concatenation).
//!
//! The graphs come from `assets/face/blazeface.bin` and
//! `assets/face/face_mesh.bin` (made from the TFLite files by
//! `scripts/export_tflite.py`): a JSON header of tensors and operators and
//! the float32 weights. A dedicated runner instead of a general
//! inference engine keeps the build small; the operators follow TFLite's
//! definitions (SAME padding puts the extra row/column at the end).

use serde::Deserialize;

/// Errors loading or running a network.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    #[error("模型文件无效：{0} / invalid model file: {0}")]
    Format(String),
    #[error("模型运行出错：{0} / model failed: {0}")]
    Run(String),
}

impl crate::text::Bilingual for NetError {
    fn text(&self) -> crate::text::Text {
        use crate::text::Text;
        match self {
            Self::Format(f0) => Text::new(format!("模型文件无效：{f0}"), format!("invalid model file: {f0}")),
            Self::Run(f0) => Text::new(format!("模型运行出错：{f0}"), format!("model failed: {f0}")),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
struct TensorSpec {
    shape: Vec<usize>,
    offset: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Padding {
    Same,
    Valid,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
enum Activation {
    #[default]
    None,
    Relu,
}

#[derive(Debug, Clone, Deserialize)]
struct OpSpec {
    op: String,
    inputs: Vec<i64>,
    outputs: Vec<usize>,
    #[serde(default)]
    stride: Option<[usize; 2]>,
    #[serde(default)]
    padding: Option<Padding>,
    #[serde(default)]
    activation: Activation,
    #[serde(default)]
    filter: Option<[usize; 2]>,
    #[serde(default)]
    axis: Option<i64>,
}

#[derive(Debug, Clone, Deserialize)]
struct Header {
    inputs: Vec<usize>,
    outputs: Vec<usize>,
    tensors: Vec<TensorSpec>,
    ops: Vec<OpSpec>,
}

/// A tensor: shape and data (NHWC, row-major).
#[derive(Debug, Clone, Default)]
struct Tensor {
    shape: Vec<usize>,
    data: Vec<f32>,
}

impl Tensor {
    /// (height, width, channels) of a 4-D NHWC tensor with batch 1.
    fn hwc(&self) -> Result<(usize, usize, usize), NetError> {
        match self.shape.as_slice() {
            [1, h, w, c] => Ok((*h, *w, *c)),
            other => Err(NetError::Run(format!("expected a 1×H×W×C tensor, got {other:?}"))),
        }
    }
}

/// A loaded network, ready to run (immutable: share it between threads).
#[derive(Debug)]
pub struct Net {
    header: Header,
    /// Constant tensors by index; `None` for activations.
    constants: Vec<Option<Tensor>>,
    /// Convolution weights transposed to `[kh][kw][in][out]` for the inner loop.
    conv_weights: Vec<Option<Vec<f32>>>,
    /// For each tensor, the last operator that reads it (`usize::MAX` for
    /// the graph's outputs): a run drops each activation after its last
    /// reader, so only the live ones are in memory.
    last_use: Vec<usize>,
}

fn read_u32(bytes: &[u8], at: usize) -> Option<u32> {
    bytes.get(at..at + 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

impl Net {
    /// Loads a network from the bytes of a `GCNN` file.
    pub fn from_bytes(bytes: &[u8]) -> Result<Net, NetError> {
        if bytes.get(..4) != Some(b"GCNN") {
            return Err(NetError::Format("not a GCNN file".into()));
        }
        let len = read_u32(bytes, 4).ok_or_else(|| NetError::Format("truncated".into()))? as usize;
        let json = bytes.get(8..8 + len).ok_or_else(|| NetError::Format("truncated header".into()))?;
        let header: Header = serde_json::from_slice(json).map_err(|e| NetError::Format(e.to_string()))?;
        let floats: Vec<f32> =
            bytes[8 + len..].chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
        let mut constants = Vec::with_capacity(header.tensors.len());
        for (i, t) in header.tensors.iter().enumerate() {
            constants.push(match t.offset {
                Some(offset) => {
                    let n: usize = t.shape.iter().product();
                    let data = floats
                        .get(offset..offset + n)
                        .ok_or_else(|| NetError::Format(format!("tensor {i} outside the data")))?
                        .to_vec();
                    Some(Tensor { shape: t.shape.clone(), data })
                }
                None => None,
            });
        }
        let mut conv_weights = vec![None; header.tensors.len()];
        for op in header.ops.iter().filter(|o| o.op == "conv_2d") {
            let idx = usize::try_from(*op.inputs.get(1).unwrap_or(&-1))
                .map_err(|_| NetError::Format("conv without weights".into()))?;
            let w = constants
                .get(idx)
                .and_then(Option::as_ref)
                .ok_or_else(|| NetError::Format("conv weights are not constant".into()))?;
            let [o, kh, kw, i] = w.shape[..] else {
                return Err(NetError::Format(format!("conv weights of shape {:?}", w.shape)));
            };
            // [out][kh][kw][in] → [kh][kw][in][out]
            let mut t = vec![0f32; w.data.len()];
            for oc in 0..o {
                for y in 0..kh {
                    for x in 0..kw {
                        for ic in 0..i {
                            t[((y * kw + x) * i + ic) * o + oc] = w.data[((oc * kh + y) * kw + x) * i + ic];
                        }
                    }
                }
            }
            conv_weights[idx] = Some(t);
        }
        let mut last_use = vec![0usize; header.tensors.len()];
        for (i, op) in header.ops.iter().enumerate() {
            for t in op.inputs.iter().filter_map(|&t| usize::try_from(t).ok()) {
                if let Some(slot) = last_use.get_mut(t) {
                    *slot = i;
                }
            }
        }
        for &t in &header.outputs {
            if let Some(slot) = last_use.get_mut(t) {
                *slot = usize::MAX;
            }
        }
        let net = Net { header, constants, conv_weights, last_use };
        for op in &net.header.ops {
            if ![
                "conv_2d",
                "depthwise_conv_2d",
                "relu",
                "prelu",
                "add",
                "pad",
                "max_pool_2d",
                "reshape",
                "concatenation",
            ]
            .contains(&op.op.as_str())
            {
                return Err(NetError::Format(format!("operator {} is not supported", op.op)));
            }
        }
        Ok(net)
    }

    /// The shape of the first input.
    pub fn input_shape(&self) -> Vec<usize> {
        self.header
            .inputs
            .first()
            .and_then(|&i| self.header.tensors.get(i))
            .map(|t| t.shape.clone())
            .unwrap_or_default()
    }

    /// Runs the network on `input` (the first input's shape, row-major);
    /// returns the outputs' data in order.
    pub fn run(&self, input: &[f32]) -> Result<Vec<Vec<f32>>, NetError> {
        let mut values: Vec<Option<Tensor>> = vec![None; self.header.tensors.len()];
        let first = *self.header.inputs.first().ok_or_else(|| NetError::Format("no input".into()))?;
        let shape = self.header.tensors[first].shape.clone();
        if shape.iter().product::<usize>() != input.len() {
            return Err(NetError::Run(format!("input of {} values for shape {shape:?}", input.len())));
        }
        values[first] = Some(Tensor { shape, data: input.to_vec() });
        for (i, op) in self.header.ops.iter().enumerate() {
            let out = self.apply(op, &values)?;
            let idx = *op.outputs.first().ok_or_else(|| NetError::Format("operator without output".into()))?;
            values[idx] = Some(out);
            for t in op.inputs.iter().filter_map(|&t| usize::try_from(t).ok()) {
                if self.last_use.get(t) == Some(&i) {
                    if let Some(v) = values.get_mut(t) {
                        *v = None;
                    }
                }
            }
        }
        self.header
            .outputs
            .iter()
            .map(|&i| {
                values
                    .get_mut(i)
                    .and_then(Option::take)
                    .map(|t| t.data)
                    .ok_or_else(|| NetError::Run(format!("output {i} not computed")))
            })
            .collect()
    }

    fn get<'a>(&'a self, values: &'a [Option<Tensor>], index: i64) -> Result<&'a Tensor, NetError> {
        let i = usize::try_from(index).map_err(|_| NetError::Run("missing operand".into()))?;
        values
            .get(i)
            .and_then(Option::as_ref)
            .or_else(|| self.constants.get(i).and_then(Option::as_ref))
            .ok_or_else(|| NetError::Run(format!("tensor {i} used before it is computed")))
    }

    fn apply(&self, op: &OpSpec, values: &[Option<Tensor>]) -> Result<Tensor, NetError> {
        let input = |k: usize| self.get(values, *op.inputs.get(k).unwrap_or(&-1));
        let out_shape =
            op.outputs.first().and_then(|&i| self.header.tensors.get(i)).map(|t| t.shape.clone()).unwrap_or_default();
        let mut out = match op.op.as_str() {
            "conv_2d" => {
                let widx = usize::try_from(op.inputs[1]).unwrap_or(usize::MAX);
                let w = self.conv_weights.get(widx).and_then(Option::as_ref);
                let w = w.ok_or_else(|| NetError::Run("conv weights".into()))?;
                conv2d(input(0)?, input(1)?, w, input(2)?, op, &out_shape)?
            }
            "depthwise_conv_2d" => depthwise(input(0)?, input(1)?, input(2)?, op, &out_shape)?,
            "relu" => {
                let x = input(0)?;
                Tensor { shape: x.shape.clone(), data: x.data.iter().map(|v| v.max(0.0)).collect() }
            }
            "prelu" => prelu(input(0)?, input(1)?)?,
            "add" => {
                let (a, b) = (input(0)?, input(1)?);
                if a.data.len() != b.data.len() {
                    return Err(NetError::Run(format!("add of {:?} and {:?}", a.shape, b.shape)));
                }
                Tensor { shape: a.shape.clone(), data: a.data.iter().zip(&b.data).map(|(x, y)| x + y).collect() }
            }
            "pad" => pad(input(0)?, input(1)?, &out_shape)?,
            "max_pool_2d" => max_pool(input(0)?, op, &out_shape)?,
            "reshape" => Tensor { shape: out_shape.clone(), data: input(0)?.data.clone() },
            "concatenation" => concat(op, values, self, &out_shape)?,
            other => return Err(NetError::Run(format!("operator {other}"))),
        };
        if op.activation == Activation::Relu {
            out.data.iter_mut().for_each(|v| *v = v.max(0.0));
        }
        if out.shape.iter().product::<usize>() != out.data.len() {
            return Err(NetError::Run(format!("{}: {:?} with {} values", op.op, out.shape, out.data.len())));
        }
        Ok(out)
    }
}

/// Leading padding of a SAME convolution along one axis (TFLite puts the
/// odd extra at the end).
fn pad_before(input: usize, output: usize, kernel: usize, stride: usize, padding: Padding) -> usize {
    match padding {
        Padding::Valid => 0,
        Padding::Same => (((output - 1) * stride + kernel).saturating_sub(input)) / 2,
    }
}

fn conv2d(
    x: &Tensor,
    w: &Tensor,
    wt: &[f32],
    b: &Tensor,
    op: &OpSpec,
    out_shape: &[usize],
) -> Result<Tensor, NetError> {
    let (h, wd, c) = x.hwc()?;
    let [oc, kh, kw, ic] = w.shape[..] else { return Err(NetError::Run("conv weights".into())) };
    if ic != c || b.data.len() != oc {
        return Err(NetError::Run(format!("conv of {:?} with {:?}", x.shape, w.shape)));
    }
    let [sh, sw] = op.stride.unwrap_or([1, 1]);
    let padding = op.padding.unwrap_or(Padding::Valid);
    let [1, oh, ow, _] = out_shape[..] else { return Err(NetError::Run("conv output shape".into())) };
    let (py, px) = (pad_before(h, oh, kh, sh, padding), pad_before(wd, ow, kw, sw, padding));
    if (kh, kw, sh, sw) == (1, 1, 1, 1) && (oh, ow) == (h, wd) {
        return Ok(Tensor { shape: out_shape.to_vec(), data: pointwise(&x.data, wt, &b.data, c, oc) });
    }
    // Any other kernel: gather each output pixel's patch (zeros outside),
    // in the weights' [kh][kw][in] order, and multiply as a 1×1.
    let patch = kh * kw * ic;
    let mut patches = vec![0f32; oh * ow * patch];
    for oy in 0..oh {
        for ox in 0..ow {
            let dst = &mut patches[(oy * ow + ox) * patch..(oy * ow + ox + 1) * patch];
            for ky in 0..kh {
                let Some(iy) = (oy * sh + ky).checked_sub(py).filter(|&v| v < h) else { continue };
                for kx in 0..kw {
                    let Some(ix) = (ox * sw + kx).checked_sub(px).filter(|&v| v < wd) else { continue };
                    dst[(ky * kw + kx) * ic..(ky * kw + kx + 1) * ic]
                        .copy_from_slice(&x.data[(iy * wd + ix) * c..(iy * wd + ix + 1) * c]);
                }
            }
        }
    }
    Ok(Tensor { shape: out_shape.to_vec(), data: pointwise(&patches, wt, &b.data, patch, oc) })
}

/// A 1×1 convolution: a matrix product of the pixels (`ic` values each)
/// with the `[ic][oc]` weights, four pixels at a time so each weight row is
/// loaded once per four pixels.
fn pointwise(x: &[f32], wt: &[f32], bias: &[f32], ic: usize, oc: usize) -> Vec<f32> {
    let pixels = x.len() / ic;
    let mut out = vec![0f32; pixels * oc];
    let mut quads = out.chunks_exact_mut(4 * oc);
    let mut p = 0;
    for quad in &mut quads {
        let (a0, rest) = quad.split_at_mut(oc);
        let (a1, rest) = rest.split_at_mut(oc);
        let (a2, a3) = rest.split_at_mut(oc);
        for acc in [&mut *a0, &mut *a1, &mut *a2, &mut *a3] {
            acc.copy_from_slice(bias);
        }
        let (x0, x1, x2, x3) = (
            &x[p * ic..(p + 1) * ic],
            &x[(p + 1) * ic..(p + 2) * ic],
            &x[(p + 2) * ic..(p + 3) * ic],
            &x[(p + 3) * ic..(p + 4) * ic],
        );
        for k in 0..ic {
            let row = &wt[k * oc..(k + 1) * oc];
            let (v0, v1, v2, v3) = (x0[k], x1[k], x2[k], x3[k]);
            for o in 0..oc {
                let w = row[o];
                a0[o] += v0 * w;
                a1[o] += v1 * w;
                a2[o] += v2 * w;
                a3[o] += v3 * w;
            }
        }
        p += 4;
    }
    for acc in quads.into_remainder().chunks_exact_mut(oc) {
        acc.copy_from_slice(bias);
        for (k, &v) in x[p * ic..(p + 1) * ic].iter().enumerate() {
            for (a, &w) in acc.iter_mut().zip(&wt[k * oc..(k + 1) * oc]) {
                *a += v * w;
            }
        }
        p += 1;
    }
    out
}

fn depthwise(x: &Tensor, w: &Tensor, b: &Tensor, op: &OpSpec, out_shape: &[usize]) -> Result<Tensor, NetError> {
    let (h, wd, c) = x.hwc()?;
    let [1, kh, kw, wc] = w.shape[..] else { return Err(NetError::Run("depthwise weights".into())) };
    if wc != c || b.data.len() != c {
        return Err(NetError::Run(format!("depthwise of {:?} with {:?} (multiplier 1 only)", x.shape, w.shape)));
    }
    let [sh, sw] = op.stride.unwrap_or([1, 1]);
    let padding = op.padding.unwrap_or(Padding::Valid);
    let [1, oh, ow, _] = out_shape[..] else { return Err(NetError::Run("depthwise output shape".into())) };
    let (py, px) = (pad_before(h, oh, kh, sh, padding), pad_before(wd, ow, kw, sw, padding));
    let mut out = vec![0f32; oh * ow * c];
    for oy in 0..oh {
        for ox in 0..ow {
            let acc = &mut out[(oy * ow + ox) * c..(oy * ow + ox + 1) * c];
            acc.copy_from_slice(&b.data);
            for ky in 0..kh {
                let Some(iy) = (oy * sh + ky).checked_sub(py).filter(|&v| v < h) else { continue };
                for kx in 0..kw {
                    let Some(ix) = (ox * sw + kx).checked_sub(px).filter(|&v| v < wd) else { continue };
                    let pixel = &x.data[(iy * wd + ix) * c..(iy * wd + ix + 1) * c];
                    let taps = &w.data[(ky * kw + kx) * c..(ky * kw + kx + 1) * c];
                    for ((a, &v), &wv) in acc.iter_mut().zip(pixel).zip(taps) {
                        *a += v * wv;
                    }
                }
            }
        }
    }
    Ok(Tensor { shape: out_shape.to_vec(), data: out })
}

/// Parametric ReLU with one slope per channel (TFLite PRELU with its alpha
/// broadcast over height and width): `x` where positive, `alpha[c] · x` where not.
fn prelu(x: &Tensor, alpha: &Tensor) -> Result<Tensor, NetError> {
    let (_, _, c) = x.hwc()?;
    if alpha.data.len() != c {
        return Err(NetError::Run(format!("prelu of {:?} with slopes {:?}", x.shape, alpha.shape)));
    }
    let mut data = x.data.clone();
    for pixel in data.chunks_exact_mut(c) {
        for (v, &a) in pixel.iter_mut().zip(&alpha.data) {
            if *v < 0.0 {
                *v *= a;
            }
        }
    }
    Ok(Tensor { shape: x.shape.clone(), data })
}

fn pad(x: &Tensor, paddings: &Tensor, out_shape: &[usize]) -> Result<Tensor, NetError> {
    let (h, w, c) = x.hwc()?;
    let p: Vec<usize> = paddings.data.iter().map(|v| v.max(0.0) as usize).collect();
    let [_, _, top, _, left, _, front, _] = p[..] else { return Err(NetError::Run("pad of 4 axes".into())) };
    let [1, oh, ow, oc] = out_shape[..] else { return Err(NetError::Run("pad output shape".into())) };
    let mut out = vec![0f32; oh * ow * oc];
    for y in 0..h {
        for xx in 0..w {
            let src = &x.data[(y * w + xx) * c..(y * w + xx + 1) * c];
            let at = ((y + top) * ow + xx + left) * oc + front;
            out.get_mut(at..at + c).ok_or_else(|| NetError::Run("pad outside the output".into()))?.copy_from_slice(src);
        }
    }
    Ok(Tensor { shape: out_shape.to_vec(), data: out })
}

fn max_pool(x: &Tensor, op: &OpSpec, out_shape: &[usize]) -> Result<Tensor, NetError> {
    let (h, w, c) = x.hwc()?;
    let [kh, kw] = op.filter.unwrap_or([2, 2]);
    let [sh, sw] = op.stride.unwrap_or([2, 2]);
    let padding = op.padding.unwrap_or(Padding::Valid);
    let [1, oh, ow, _] = out_shape[..] else { return Err(NetError::Run("pool output shape".into())) };
    let (py, px) = (pad_before(h, oh, kh, sh, padding), pad_before(w, ow, kw, sw, padding));
    let mut out = vec![f32::NEG_INFINITY; oh * ow * c];
    for oy in 0..oh {
        for ox in 0..ow {
            let acc = &mut out[(oy * ow + ox) * c..(oy * ow + ox + 1) * c];
            for ky in 0..kh {
                let Some(iy) = (oy * sh + ky).checked_sub(py).filter(|&v| v < h) else { continue };
                for kx in 0..kw {
                    let Some(ix) = (ox * sw + kx).checked_sub(px).filter(|&v| v < w) else { continue };
                    for (a, &v) in acc.iter_mut().zip(&x.data[(iy * w + ix) * c..(iy * w + ix + 1) * c]) {
                        *a = a.max(v);
                    }
                }
            }
        }
    }
    Ok(Tensor { shape: out_shape.to_vec(), data: out })
}

fn concat(op: &OpSpec, values: &[Option<Tensor>], net: &Net, out_shape: &[usize]) -> Result<Tensor, NetError> {
    let parts: Vec<&Tensor> = op.inputs.iter().map(|&i| net.get(values, i)).collect::<Result<_, _>>()?;
    let rank = out_shape.len() as i64;
    let axis = op.axis.unwrap_or(-1);
    let axis =
        usize::try_from(if axis < 0 { axis + rank } else { axis }).map_err(|_| NetError::Run("concat axis".into()))?;
    let outer: usize = out_shape[..axis].iter().product();
    let mut data = Vec::with_capacity(out_shape.iter().product());
    for o in 0..outer {
        for p in &parts {
            let inner: usize = p.shape[axis..].iter().product();
            data.extend_from_slice(&p.data[o * inner..(o + 1) * inner]);
        }
    }
    Ok(Tensor { shape: out_shape.to_vec(), data })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_padding_puts_the_extra_at_the_end() {
        // 64 → 32 with a 3×3 kernel, stride 2: one padded column, at the end.
        assert_eq!(pad_before(64, 32, 3, 2, Padding::Same), 0);
        // 128 → 64 with a 5×5 kernel, stride 2: 3 padded, 1 before, 2 after.
        assert_eq!(pad_before(128, 64, 5, 2, Padding::Same), 1);
        assert_eq!(pad_before(16, 16, 3, 1, Padding::Same), 1);
    }

    #[test]
    fn prelu_scales_only_the_negative_values_per_channel() {
        let x = Tensor { shape: vec![1, 1, 2, 2], data: vec![1.0, -2.0, -4.0, 3.0] };
        let alpha = Tensor { shape: vec![1, 1, 2], data: vec![0.5, 0.25] };
        assert_eq!(prelu(&x, &alpha).map(|t| t.data).ok(), Some(vec![1.0, -0.5, -2.0, 3.0]));
        let wrong = Tensor { shape: vec![3], data: vec![0.0; 3] };
        assert!(prelu(&x, &wrong).is_err());
    }

    #[test]
    fn activations_are_dropped_after_their_last_reader_not_before() {
        // x → relu → r; r + x → out: x is read by both operators.
        let header = r#"{"inputs":[0],"outputs":[2],"tensors":[{"shape":[1,1,1,2],"offset":null},
            {"shape":[1,1,1,2],"offset":null},{"shape":[1,1,1,2],"offset":null}],
            "ops":[{"op":"relu","inputs":[0],"outputs":[1]},{"op":"add","inputs":[1,0],"outputs":[2]}]}"#;
        let mut bytes = b"GCNN".to_vec();
        bytes.extend_from_slice(&(header.len() as u32).to_le_bytes());
        bytes.extend_from_slice(header.as_bytes());
        let net = Net::from_bytes(&bytes).unwrap();
        assert_eq!(net.last_use, [1, 1, usize::MAX]);
        assert_eq!(net.run(&[-1.0, 2.0]).unwrap(), [vec![-1.0, 4.0]]);
    }

    #[test]
    fn a_bad_file_is_refused_not_run() {
        assert!(Net::from_bytes(b"nope").is_err());
        assert!(Net::from_bytes(b"GCNN\x05\0\0\0{}").is_err());
    }
}
