// Hand-written protobuf encoding of proto/transfer.proto (PackagedData, EncodedRecord, Payload,
// Command, Task) with protowire: no protoc, field numbers as in proto/transfer.proto (keep the
// two in step; Vigil's extensions are 100 = PackagedData.seq and Command.ack_seq).
package main

import (
	"errors"
	"sort"

	"google.golang.org/protobuf/encoding/protowire"
)

const (
	pdRecords      = 1
	pdAgentID      = 2
	pdIntranetIPv4 = 3
	pdExtranetIPv4 = 4
	pdIntranetIPv6 = 5
	pdExtranetIPv6 = 6
	pdHostname     = 7
	pdVersion      = 8
	pdProduct      = 9
	pdSeq          = 100

	recDataType  = 1
	recTimestamp = 2
	recData      = 3

	payloadFields = 1
	mapKey        = 1
	mapValue      = 2

	cmdAgentCtrl = 1
	cmdTask      = 2
	cmdConfigs   = 3
	cmdAckSeq    = 100

	taskDataType   = 1
	taskObjectName = 2
	taskData       = 3
	taskToken      = 4
)

// agentIdentity is what every PackagedData of one agent carries besides its records.
type agentIdentity struct {
	agentID      string
	intranetIPv4 []string
	hostname     string
	version      string
	product      string
}

// appendPayload encodes Payload{fields} with the keys in sorted order (deterministic output).
func appendPayload(b []byte, fields map[string]string) []byte {
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		b = appendField(b, k, fields[k])
	}
	return b
}

// appendField encodes one Payload.fields map entry.
func appendField(b []byte, k, v string) []byte {
	entry := 1 + protowire.SizeBytes(len(k)) + 1 + protowire.SizeBytes(len(v))
	b = protowire.AppendTag(b, payloadFields, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(entry))
	b = protowire.AppendTag(b, mapKey, protowire.BytesType)
	b = protowire.AppendString(b, k)
	b = protowire.AppendTag(b, mapValue, protowire.BytesType)
	return protowire.AppendString(b, v)
}

// appendRecord encodes one EncodedRecord as field 1 of a PackagedData.
func appendRecord(b []byte, dataType int32, timestamp int64, payload []byte) []byte {
	var r []byte
	r = protowire.AppendTag(r, recDataType, protowire.VarintType)
	r = protowire.AppendVarint(r, uint64(int64(dataType)))
	r = protowire.AppendTag(r, recTimestamp, protowire.VarintType)
	r = protowire.AppendVarint(r, uint64(timestamp))
	r = protowire.AppendTag(r, recData, protowire.BytesType)
	r = protowire.AppendBytes(r, payload)
	b = protowire.AppendTag(b, pdRecords, protowire.BytesType)
	return protowire.AppendBytes(b, r)
}

// appendIdentity adds the agent's fields (2-9) and, when seq > 0, the Vigil seq (100).
func appendIdentity(b []byte, id *agentIdentity, seq uint64) []byte {
	b = protowire.AppendTag(b, pdAgentID, protowire.BytesType)
	b = protowire.AppendString(b, id.agentID)
	for _, ip := range id.intranetIPv4 {
		b = protowire.AppendTag(b, pdIntranetIPv4, protowire.BytesType)
		b = protowire.AppendString(b, ip)
	}
	b = protowire.AppendTag(b, pdHostname, protowire.BytesType)
	b = protowire.AppendString(b, id.hostname)
	b = protowire.AppendTag(b, pdVersion, protowire.BytesType)
	b = protowire.AppendString(b, id.version)
	b = protowire.AppendTag(b, pdProduct, protowire.BytesType)
	b = protowire.AppendString(b, id.product)
	if seq > 0 {
		b = protowire.AppendTag(b, pdSeq, protowire.VarintType)
		b = protowire.AppendVarint(b, seq)
	}
	return b
}

// command is the part of a Command the simulator looks at.
type command struct {
	agentCtrl int32
	hasTask   bool
	task      task
	ackSeq    uint64
}

type task struct {
	dataType   int32
	objectName string
	data       string
	token      string
}

var errMalformed = errors.New("malformed protobuf")

// forEachField walks the top-level fields of a message.
func forEachField(b []byte, fn func(num protowire.Number, typ protowire.Type, v []byte, u uint64) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return errMalformed
		}
		b = b[n:]
		var v []byte
		var u uint64
		switch typ {
		case protowire.VarintType:
			u, n = protowire.ConsumeVarint(b)
		case protowire.BytesType:
			v, n = protowire.ConsumeBytes(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return errMalformed
		}
		b = b[n:]
		if err := fn(num, typ, v, u); err != nil {
			return err
		}
	}
	return nil
}

func decodeTask(b []byte) (task, error) {
	var t task
	err := forEachField(b, func(num protowire.Number, typ protowire.Type, v []byte, u uint64) error {
		switch {
		case num == taskDataType && typ == protowire.VarintType:
			t.dataType = int32(u)
		case num == taskObjectName && typ == protowire.BytesType:
			t.objectName = string(v)
		case num == taskData && typ == protowire.BytesType:
			t.data = string(v)
		case num == taskToken && typ == protowire.BytesType:
			t.token = string(v)
		}
		return nil
	})
	return t, err
}

func decodeCommand(b []byte) (command, error) {
	var c command
	err := forEachField(b, func(num protowire.Number, typ protowire.Type, v []byte, u uint64) error {
		switch {
		case num == cmdAgentCtrl && typ == protowire.VarintType:
			c.agentCtrl = int32(u)
		case num == cmdTask && typ == protowire.BytesType:
			t, err := decodeTask(v)
			if err != nil {
				return err
			}
			c.task, c.hasTask = t, true
		case num == cmdAckSeq && typ == protowire.VarintType:
			c.ackSeq = u
		}
		return nil
	})
	return c, err
}
