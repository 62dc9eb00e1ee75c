// The generated protobuf code for every wire message (proto/*.proto, built by scripts/build.ts
// into gen/), plus helpers for the Payload map that every record carries.
import "./protobuf-numbers.ts"; // first: before the generated code is evaluated
import { grpc, plugin, kafka } from "./gen/proto.js";

export { grpc, plugin, kafka };

/** Serialize a record's fields as a `Payload{1 map<string,string> fields}`. */
export function encodePayload(fields: Record<string, string>): Uint8Array {
  return grpc.Payload.encode({ fields }).finish();
}

/** Parse `Payload` bytes; throws on malformed protobuf. */
export function decodePayload(bytes: Uint8Array): Record<string, string> {
  return grpc.Payload.decode(bytes).fields ?? {};
}
