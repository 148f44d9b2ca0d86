"""Export MediaPipe's face models to gradcap's graph format.

Sources, from the `mediapipe` 0.10.14 wheel on PyPI (Apache-2.0):
- face_detection_short_range.tflite (mediapipe/modules/face_detection/):
  BlazeFace, -> assets/face/blazeface.bin
- face_landmark.tflite (mediapipe/modules/face_landmark/): Face Mesh, 468
  points, -> assets/face/face_mesh.bin
Their weights are float16 tensors behind DEQUANTIZE ops; they are widened to
float32 here.

Output: b"GCNN", u32 little-endian length of a
JSON header, the header, then float32 little-endian data. The header lists
tensors (shape, offset into the data in floats or null) and operators in
order (op name, inputs, outputs, stride, padding, activation, ...), all that
src/photo/net.rs needs to run it. Conversion-time only: needs `tflite` and
`numpy` from PyPI.

usage: python export_tflite.py face_detection_short_range.tflite assets/face/blazeface.bin
       python export_tflite.py face_landmark.tflite assets/face/face_mesh.bin
"""
import json
import struct
import sys

import numpy as np
import tflite

src, dst = sys.argv[1], sys.argv[2]
buf = open(src, "rb").read()
m = tflite.Model.GetRootAsModel(buf, 0)
g = m.Subgraphs(0)
names = {v: k for k, v in tflite.BuiltinOperator.__dict__.items() if not k.startswith("_")}
pad_names = {tflite.Padding.SAME: "same", tflite.Padding.VALID: "valid"}
act_names = {tflite.ActivationFunctionType.NONE: "none", tflite.ActivationFunctionType.RELU: "relu"}


def tensor_data(t):
    b = m.Buffers(t.Buffer())
    if b.DataLength() == 0:
        return None
    raw = b.DataAsNumpy().tobytes()
    if t.Type() == tflite.TensorType.FLOAT32:
        return np.frombuffer(raw, dtype="<f4")
    if t.Type() == tflite.TensorType.FLOAT16:
        return np.frombuffer(raw, dtype="<f2").astype("<f4")
    if t.Type() == tflite.TensorType.INT32:
        return np.frombuffer(raw, dtype="<i4").astype("<f4")
    raise SystemExit(f"tensor type {t.Type()} not handled")


alias = {}  # DEQUANTIZE output -> its constant input
tensors, data, chunks = [], 0, []
for i in range(g.TensorsLength()):
    t = g.Tensors(i)
    values = tensor_data(t)
    offset = None
    if values is not None:
        offset = data
        chunks.append(values)
        data += len(values)
    tensors.append({"shape": [int(x) for x in t.ShapeAsNumpy()] if t.ShapeLength() else [], "offset": offset})

ops = []
for i in range(g.OperatorsLength()):
    op = g.Operators(i)
    code = m.OperatorCodes(op.OpcodeIndex())
    name = names[max(code.BuiltinCode(), code.DeprecatedBuiltinCode())]
    ins = [alias.get(op.Inputs(j), op.Inputs(j)) for j in range(op.InputsLength())]
    outs = [op.Outputs(j) for j in range(op.OutputsLength())]
    if name == "DEQUANTIZE":
        alias[outs[0]] = ins[0]
        tensors[outs[0]]["offset"] = tensors[ins[0]]["offset"]
        continue
    entry = {"op": name.lower(), "inputs": ins, "outputs": outs}
    opts = op.BuiltinOptions()
    if name == "CONV_2D":
        o = tflite.Conv2DOptions()
        o.Init(opts.Bytes, opts.Pos)
        entry.update(stride=[o.StrideH(), o.StrideW()], padding=pad_names[o.Padding()],
                     activation=act_names[o.FusedActivationFunction()],
                     dilation=[o.DilationHFactor(), o.DilationWFactor()])
    elif name == "DEPTHWISE_CONV_2D":
        o = tflite.DepthwiseConv2DOptions()
        o.Init(opts.Bytes, opts.Pos)
        entry.update(stride=[o.StrideH(), o.StrideW()], padding=pad_names[o.Padding()],
                     activation=act_names[o.FusedActivationFunction()], multiplier=o.DepthMultiplier(),
                     dilation=[o.DilationHFactor(), o.DilationWFactor()])
    elif name == "MAX_POOL_2D":
        o = tflite.Pool2DOptions()
        o.Init(opts.Bytes, opts.Pos)
        entry.update(stride=[o.StrideH(), o.StrideW()], padding=pad_names[o.Padding()],
                     filter=[o.FilterHeight(), o.FilterWidth()], activation=act_names[o.FusedActivationFunction()])
    elif name == "ADD":
        o = tflite.AddOptions()
        o.Init(opts.Bytes, opts.Pos)
        entry.update(activation=act_names[o.FusedActivationFunction()])
    elif name == "CONCATENATION":
        o = tflite.ConcatenationOptions()
        o.Init(opts.Bytes, opts.Pos)
        entry.update(axis=o.Axis(), activation=act_names[o.FusedActivationFunction()])
    elif name in ("RELU", "PRELU", "PAD", "RESHAPE"):
        pass
    else:
        raise SystemExit(f"operator {name} not handled")
    ops.append(entry)

header = {
    "source": f"mediapipe {src.rsplit('/', 1)[-1]} (Apache-2.0)",
    "inputs": [g.Inputs(i) for i in range(g.InputsLength())],
    "outputs": [g.Outputs(i) for i in range(g.OutputsLength())],
    "tensors": tensors,
    "ops": ops,
}
blob = json.dumps(header, separators=(",", ":")).encode()
with open(dst, "wb") as f:
    f.write(b"GCNN")
    f.write(struct.pack("<I", len(blob)))
    f.write(blob)
    for c in chunks:
        f.write(c.astype("<f4").tobytes())
print(f"{len(ops)} ops, {data} floats, {len(blob)} header bytes -> {dst}")
