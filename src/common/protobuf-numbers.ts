// Makes protobufjs decode 64-bit integers as plain numbers instead of Long objects (pbjs 8's
// --force-number does not reach the static decoder). Must be imported before gen/proto.js:
// the generated module reads util.Long when it is evaluated. Timestamps and sequence numbers
// stay far below 2^53.
import $protobuf from "protobufjs/minimal.js";

$protobuf.util.Long = undefined as any;
$protobuf.configure();
