// Named numbers of the wire protocol (DESIGN.md "Heartbeat", "Control", "Wire contracts"):
// data_type values, the agent's product name, service names and default ports. Elkeid uses the
// same numbers; nothing else in the code base spells them out.

export const PRODUCT = "vigil-agent";

/** data_type values beyond the kernel events (src/agent/collector/catalog.ts has those). */
export const DataType = {
  AgentHeartbeat: 1000,
  PluginHeartbeat: 1001,
  /** agent task: upload a file through FileExt, data `{path, buf_size}` */
  UploadFile: 1050,
  /** agent task: set metadata, data `{idc, region}` */
  SetMetadata: 1051,
  /** agent task: restart the agent */
  Restart: 1060,
  /** task result, fields `{token, status, msg}` */
  TaskResult: 5100,
} as const;

/** Service names an AC registers with SD. */
export const Service = {
  Grpc: "hids_svr_grpc",
  Http: "hids_svr_http",
} as const;

export const DefaultPort = {
  sd: 8088,
  acGrpc: 6751,
  acHttp: 6752,
  manager: 6701,
} as const;

/** Largest gRPC message either side accepts (Elkeid's limit). */
export const MAX_MESSAGE_BYTES = 10 * 1024 * 1024;

/** gRPC method paths (proto/transfer.proto). */
export const Method = {
  Transfer: "/grpc.Transfer/Transfer",
  Upload: "/grpc.FileExt/Upload",
} as const;
