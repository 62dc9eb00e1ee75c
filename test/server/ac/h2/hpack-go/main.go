// Test helper for hpack.test.ts: an independent HPACK encoder (golang.org/x/net/http2/hpack)
// to cross-check HpackDecoder. Reads one JSON block per stdin line,
//
//	{"size": 256, "fields": [{"n": "<hex name>", "v": "<hex value>", "s": true}, ...]}
//
// ("size", optional: SetMaxDynamicTableSize before this block, so it starts with a table size
// update; "s": sensitive, i.e. never indexed) and writes each encoded block as one hex line.
// One encoder serves every block, so its dynamic table carries over as on one connection.
// Names and values travel as hex so that octets 0x80-0xff reach the encoder unchanged.
package main

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"

	"golang.org/x/net/http2/hpack"
)

type field struct {
	N string `json:"n"`
	V string `json:"v"`
	S bool   `json:"s"`
}

type block struct {
	Size   *uint32 `json:"size"`
	Fields []field `json:"fields"`
}

func unhex(s string) string {
	b, err := hex.DecodeString(s)
	if err != nil {
		fail(err)
	}
	return string(b)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "hpack-go:", err)
	os.Exit(1)
}

func main() {
	var buf bytes.Buffer
	enc := hpack.NewEncoder(&buf)
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 64<<20)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	for in.Scan() {
		var b block
		if err := json.Unmarshal(in.Bytes(), &b); err != nil {
			fail(err)
		}
		if b.Size != nil {
			enc.SetMaxDynamicTableSize(*b.Size)
		}
		buf.Reset()
		for _, f := range b.Fields {
			if err := enc.WriteField(hpack.HeaderField{Name: unhex(f.N), Value: unhex(f.V), Sensitive: f.S}); err != nil {
				fail(err)
			}
		}
		fmt.Fprintln(out, hex.EncodeToString(buf.Bytes()))
	}
	if err := in.Err(); err != nil {
		fail(err)
	}
}
