/**
 * ONNX model files (https://onnx.ai): a protobuf ModelProto holding one GraphProto of nodes (operators), their
 * initializers (constant tensors: the weights) and the graph's typed inputs and outputs. Encoded and decoded by
 * protobufjs from the messages below, copied from onnx/onnx.proto (proto2; field numbers as there) and cut to the
 * fields of a plain tensor graph: no subgraphs, sparse tensors, external data, functions or training info. Protobuf
 * readers skip fields they do not know, so what this writes is a ModelProto to every ONNX runtime.
 *
 * The IR version goes with the opset, as onnx.helper's VERSION_TABLE pairs them (opset 13-14: IR 7, 15-18: IR 8,
 * 19-20: IR 9, 21: IR 10): a runtime refuses a model whose IR version is older than its opset needs.
 */
import { createRequire } from 'node:module';
import type * as Protobuf from 'protobufjs';
import { types } from 'node:util';
import { show } from '../util/show.js';

const SCHEMA = `
syntax = "proto2";
package onnx;

message AttributeProto {
  enum AttributeType {
    UNDEFINED = 0; FLOAT = 1; INT = 2; STRING = 3; TENSOR = 4; GRAPH = 5; SPARSE_TENSOR = 11;
    FLOATS = 6; INTS = 7; STRINGS = 8; TENSORS = 9; GRAPHS = 10; SPARSE_TENSORS = 12;
  }
  optional string name = 1;
  optional AttributeType type = 20;
  optional float f = 2;
  optional int64 i = 3;
  optional bytes s = 4;
  repeated float floats = 7;
  repeated int64 ints = 8;
}

message ValueInfoProto {
  optional string name = 1;
  optional TypeProto type = 2;
  optional string doc_string = 3;
}

message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  optional string name = 3;
  optional string op_type = 4;
  optional string domain = 7;
  repeated AttributeProto attribute = 5;
  optional string doc_string = 6;
}

message ModelProto {
  optional int64 ir_version = 1;
  repeated OperatorSetIdProto opset_import = 8;
  optional string producer_name = 2;
  optional string producer_version = 3;
  optional string domain = 4;
  optional int64 model_version = 5;
  optional string doc_string = 6;
  optional GraphProto graph = 7;
  repeated StringStringEntryProto metadata_props = 14;
}

message StringStringEntryProto {
  optional string key = 1;
  optional string value = 2;
}

message GraphProto {
  repeated NodeProto node = 1;
  optional string name = 2;
  repeated TensorProto initializer = 5;
  optional string doc_string = 10;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
  repeated ValueInfoProto value_info = 13;
}

message TensorProto {
  enum DataType {
    UNDEFINED = 0; FLOAT = 1; UINT8 = 2; INT8 = 3; UINT16 = 4; INT16 = 5; INT32 = 6; INT64 = 7; STRING = 8;
    BOOL = 9; FLOAT16 = 10; DOUBLE = 11; UINT32 = 12; UINT64 = 13; COMPLEX64 = 14; COMPLEX128 = 15; BFLOAT16 = 16;
  }
  repeated int64 dims = 1;
  optional int32 data_type = 2;
  repeated float float_data = 4 [packed = true];
  optional string name = 8;
  optional string doc_string = 12;
  optional bytes raw_data = 9;
}

message TensorShapeProto {
  message Dimension {
    oneof value {
      int64 dim_value = 1;
      string dim_param = 2;
    };
    optional string denotation = 3;
  };
  repeated Dimension dim = 1;
}

message TypeProto {
  message Tensor {
    optional int32 elem_type = 1;
    optional TensorShapeProto shape = 2;
  }
  oneof value {
    Tensor tensor_type = 1;
  }
  optional string denotation = 6;
}

message OperatorSetIdProto {
  optional string domain = 1;
  optional int64 version = 2;
}
`;

let modelProto: Protobuf.Type | undefined;

/** ModelProto, parsed on first use: loading protobufjs takes tens of milliseconds that every `import 'normnet'` would pay. */
function ModelProto(): Protobuf.Type {
  if (!modelProto) {
    const protobuf = createRequire(import.meta.url)('protobufjs') as typeof Protobuf;
    modelProto = protobuf.parse(SCHEMA, { keepCase: true }).root.lookupType('onnx.ModelProto');
  }
  return modelProto;
}

/** TensorProto.DataType FLOAT: every tensor normnet writes is float32. */
const FLOAT = 1;

/** The opsets normnet writes, each with the IR version it needs (onnx.helper's VERSION_TABLE). */
export const ONNX_IR_VERSIONS: Readonly<Record<number, number>> = Object.freeze({ 13: 7, 14: 7, 15: 8, 16: 8, 17: 8, 18: 8, 19: 9, 20: 9, 21: 10 });

export type OnnxAttribute = { int: number } | { ints: number[] } | { float: number };

export interface OnnxNode {
  /** The operator: 'Gemm', 'Conv', ... (the default ai.onnx domain). */
  op: string;
  inputs: string[];
  outputs: string[];
  name: string;
  attributes?: Record<string, OnnxAttribute>;
}

export interface OnnxTensor {
  name: string;
  dims: number[];
  data: Float32Array;
}

export interface OnnxValue {
  name: string;
  /** Sizes; a string is a named dynamic dimension (the batch, 'N'). */
  shape: (number | string)[];
}

export interface OnnxModel {
  opset: number;
  producerName: string;
  producerVersion: string;
  graphName: string;
  docString?: string;
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
  inputs: OnnxValue[];
  outputs: OnnxValue[];
}

/** The ModelProto bytes of `model`. */
export function encodeOnnx(model: OnnxModel): Uint8Array {
  if (typeof model !== 'object' || model === null || types.isProxy(model)) throw new TypeError(`encodeOnnx: model must be an OnnxModel object, got ${show(model)}`);
  for (const key of ['nodes', 'initializers', 'inputs', 'outputs'] as const) {
    if (!Array.isArray(model[key]) || !model[key].every((v: unknown) => typeof v === 'object' && v !== null && !types.isProxy(v))) {
      throw new TypeError(`encodeOnnx: model.${key} must be an array of objects`);
    }
  }
  if (!model.initializers.every((t) => types.isFloat32Array(t.data))) throw new TypeError('encodeOnnx: every initializer\'s data must be a Float32Array');
  if (![...model.inputs, ...model.outputs].every((v) => Array.isArray(v.shape))) throw new TypeError('encodeOnnx: every input and output needs a shape array');
  const ir = ONNX_IR_VERSIONS[model.opset];
  if (ir === undefined) throw new RangeError(`ONNX opset must be one of ${Object.keys(ONNX_IR_VERSIONS).join(', ')}, got ${model.opset}`);
  const value = (v: OnnxValue) => ({
    name: v.name,
    type: { tensor_type: { elem_type: FLOAT, shape: { dim: v.shape.map((d) => (typeof d === 'string' ? { dim_param: d } : { dim_value: d })) } } },
  });
  const type = ModelProto();
  const message = type.fromObject({
    ir_version: ir,
    opset_import: [{ domain: '', version: model.opset }],
    producer_name: model.producerName,
    producer_version: model.producerVersion,
    doc_string: model.docString,
    graph: {
      name: model.graphName,
      node: model.nodes.map((n) => ({ name: n.name, op_type: n.op, input: n.inputs, output: n.outputs, attribute: Object.entries(n.attributes ?? {}).map(([name, a]) => attribute(name, a)) })),
      // Tensors as raw little-endian bytes, as exporters write them: one copy, no per-value varint or float field.
      initializer: model.initializers.map((t) => ({ name: t.name, dims: t.dims, data_type: FLOAT, raw_data: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength) })),
      input: model.inputs.map(value),
      output: model.outputs.map(value),
    },
  });
  return type.encode(message).finish();
}

/** A ModelProto decoded into plain objects with onnx.proto's field names (int64 values as numbers). */
export function decodeOnnx(bytes: Uint8Array): Record<string, unknown> {
  if (!types.isUint8Array(bytes)) throw new TypeError(`decodeOnnx: bytes must be a Uint8Array, got ${show(bytes)}`);
  const type = ModelProto();
  let decoded;
  try {
    decoded = type.decode(bytes);
  } catch (error) {
    throw new RangeError(`decodeOnnx: not an ONNX ModelProto (${(error as Error).message})`);
  }
  return type.toObject(decoded, { longs: Number, defaults: false });
}

function attribute(name: string, a: OnnxAttribute): Record<string, unknown> {
  if ('int' in a) return { name, type: 'INT', i: a.int };
  if ('ints' in a) return { name, type: 'INTS', ints: a.ints };
  return { name, type: 'FLOAT', f: a.float };
}
