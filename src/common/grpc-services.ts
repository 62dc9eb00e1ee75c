// grpc-js service definitions of proto/transfer.proto (grpc.Transfer, grpc.FileExt), built on
// the generated protobuf code so the same definitions serve the AC and every client, in a
// compiled binary or under Node.js.
import type { ServiceDefinition } from "@grpc/grpc-js";
import { grpc } from "./proto.ts";
import { Method } from "./wire.ts";

type Msg = { encode(m: any): { finish(): Uint8Array }; decode(b: Uint8Array): any };

function codec<T>(type: Msg) {
  return {
    serialize: (m: T) => Buffer.from(type.encode(m).finish()),
    deserialize: (b: Buffer) => type.decode(b) as T,
  };
}

const packaged = codec<grpc.PackagedData>(grpc.PackagedData);
const command = codec<grpc.Command>(grpc.Command);
const uploadReq = codec<grpc.FileUploadRequest>(grpc.FileUploadRequest);
const uploadRes = codec<grpc.FileUploadResponse>(grpc.FileUploadResponse);

export const TransferService = {
  Transfer: {
    path: Method.Transfer,
    requestStream: true,
    responseStream: true,
    requestSerialize: packaged.serialize,
    requestDeserialize: packaged.deserialize,
    responseSerialize: command.serialize,
    responseDeserialize: command.deserialize,
    originalName: "Transfer",
  },
} satisfies ServiceDefinition;

export const FileExtService = {
  Upload: {
    path: Method.Upload,
    requestStream: true,
    responseStream: false,
    requestSerialize: uploadReq.serialize,
    requestDeserialize: uploadReq.deserialize,
    responseSerialize: uploadRes.serialize,
    responseDeserialize: uploadRes.deserialize,
    originalName: "Upload",
  },
} satisfies ServiceDefinition;
