// HPACK (RFC 7541) for the AC's own HTTP/2 server, which serves gRPC.
//
// HpackDecoder decodes header blocks from one peer: the 61-entry static table, a dynamic table
// with size accounting, eviction and size updates (bounded by the SETTINGS_HEADER_TABLE_SIZE we
// advertise), every field representation, prefixed integers and raw or Huffman string literals.
// Any malformed block throws HpackError; the HTTP/2 layer then ends the connection with
// COMPRESSION_ERROR, so a decoder is not reusable after a throw. Names and values are octets
// (one char code per byte, latin1), never UTF-8, and nothing is lowercased or validated here:
// that is the HTTP/2 layer's job.
//
// encodeHeaders is deliberately minimal and stateless: no Huffman coding and no dynamic table.
// Each field is a fully indexed static entry when name and value match one (":status: 200" is
// the one byte 0x88), otherwise a literal without indexing, with a static name index when the
// name is in the static table. The blocks come out somewhat larger than they could be, but one
// encoder serves every connection and never has to agree with a peer's table state.

export class HpackError extends Error {}

/** RFC 7541 Appendix A; index i is STATIC[i - 1]. */
const STATIC: readonly (readonly [string, string])[] = [
  [":authority", ""], [":method", "GET"], [":method", "POST"], [":path", "/"], [":path", "/index.html"],
  [":scheme", "http"], [":scheme", "https"], [":status", "200"], [":status", "204"], [":status", "206"],
  [":status", "304"], [":status", "400"], [":status", "404"], [":status", "500"], ["accept-charset", ""],
  ["accept-encoding", "gzip, deflate"], ["accept-language", ""], ["accept-ranges", ""], ["accept", ""],
  ["access-control-allow-origin", ""], ["age", ""], ["allow", ""], ["authorization", ""], ["cache-control", ""],
  ["content-disposition", ""], ["content-encoding", ""], ["content-language", ""], ["content-length", ""],
  ["content-location", ""], ["content-range", ""], ["content-type", ""], ["cookie", ""], ["date", ""],
  ["etag", ""], ["expect", ""], ["expires", ""], ["from", ""], ["host", ""], ["if-match", ""],
  ["if-modified-since", ""], ["if-none-match", ""], ["if-range", ""], ["if-unmodified-since", ""],
  ["last-modified", ""], ["link", ""], ["location", ""], ["max-forwards", ""], ["proxy-authenticate", ""],
  ["proxy-authorization", ""], ["range", ""], ["referer", ""], ["refresh", ""], ["retry-after", ""],
  ["server", ""], ["set-cookie", ""], ["strict-transport-security", ""], ["transfer-encoding", ""],
  ["user-agent", ""], ["vary", ""], ["via", ""], ["www-authenticate", ""],
];

/** RFC 7541 Appendix B: code, bit length for symbols 0..255 and EOS (256), most significant bit first. */
const HUFFMAN = [
  /*   0 */ 0x1ff8,13, 0x7fffd8,23, 0xfffffe2,28, 0xfffffe3,28, 0xfffffe4,28, 0xfffffe5,28, 0xfffffe6,28, 0xfffffe7,28,
  /*   8 */ 0xfffffe8,28, 0xffffea,24, 0x3ffffffc,30, 0xfffffe9,28, 0xfffffea,28, 0x3ffffffd,30, 0xfffffeb,28, 0xfffffec,28,
  /*  16 */ 0xfffffed,28, 0xfffffee,28, 0xfffffef,28, 0xffffff0,28, 0xffffff1,28, 0xffffff2,28, 0x3ffffffe,30, 0xffffff3,28,
  /*  24 */ 0xffffff4,28, 0xffffff5,28, 0xffffff6,28, 0xffffff7,28, 0xffffff8,28, 0xffffff9,28, 0xffffffa,28, 0xffffffb,28,
  /*  32 */ 0x14,6, 0x3f8,10, 0x3f9,10, 0xffa,12, 0x1ff9,13, 0x15,6, 0xf8,8, 0x7fa,11,
  /*  40 */ 0x3fa,10, 0x3fb,10, 0xf9,8, 0x7fb,11, 0xfa,8, 0x16,6, 0x17,6, 0x18,6,
  /*  48 */ 0x0,5, 0x1,5, 0x2,5, 0x19,6, 0x1a,6, 0x1b,6, 0x1c,6, 0x1d,6,
  /*  56 */ 0x1e,6, 0x1f,6, 0x5c,7, 0xfb,8, 0x7ffc,15, 0x20,6, 0xffb,12, 0x3fc,10,
  /*  64 */ 0x1ffa,13, 0x21,6, 0x5d,7, 0x5e,7, 0x5f,7, 0x60,7, 0x61,7, 0x62,7,
  /*  72 */ 0x63,7, 0x64,7, 0x65,7, 0x66,7, 0x67,7, 0x68,7, 0x69,7, 0x6a,7,
  /*  80 */ 0x6b,7, 0x6c,7, 0x6d,7, 0x6e,7, 0x6f,7, 0x70,7, 0x71,7, 0x72,7,
  /*  88 */ 0xfc,8, 0x73,7, 0xfd,8, 0x1ffb,13, 0x7fff0,19, 0x1ffc,13, 0x3ffc,14, 0x22,6,
  /*  96 */ 0x7ffd,15, 0x3,5, 0x23,6, 0x4,5, 0x24,6, 0x5,5, 0x25,6, 0x26,6,
  /* 104 */ 0x27,6, 0x6,5, 0x74,7, 0x75,7, 0x28,6, 0x29,6, 0x2a,6, 0x7,5,
  /* 112 */ 0x2b,6, 0x76,7, 0x2c,6, 0x8,5, 0x9,5, 0x2d,6, 0x77,7, 0x78,7,
  /* 120 */ 0x79,7, 0x7a,7, 0x7b,7, 0x7ffe,15, 0x7fc,11, 0x3ffd,14, 0x1ffd,13, 0xffffffc,28,
  /* 128 */ 0xfffe6,20, 0x3fffd2,22, 0xfffe7,20, 0xfffe8,20, 0x3fffd3,22, 0x3fffd4,22, 0x3fffd5,22, 0x7fffd9,23,
  /* 136 */ 0x3fffd6,22, 0x7fffda,23, 0x7fffdb,23, 0x7fffdc,23, 0x7fffdd,23, 0x7fffde,23, 0xffffeb,24, 0x7fffdf,23,
  /* 144 */ 0xffffec,24, 0xffffed,24, 0x3fffd7,22, 0x7fffe0,23, 0xffffee,24, 0x7fffe1,23, 0x7fffe2,23, 0x7fffe3,23,
  /* 152 */ 0x7fffe4,23, 0x1fffdc,21, 0x3fffd8,22, 0x7fffe5,23, 0x3fffd9,22, 0x7fffe6,23, 0x7fffe7,23, 0xffffef,24,
  /* 160 */ 0x3fffda,22, 0x1fffdd,21, 0xfffe9,20, 0x3fffdb,22, 0x3fffdc,22, 0x7fffe8,23, 0x7fffe9,23, 0x1fffde,21,
  /* 168 */ 0x7fffea,23, 0x3fffdd,22, 0x3fffde,22, 0xfffff0,24, 0x1fffdf,21, 0x3fffdf,22, 0x7fffeb,23, 0x7fffec,23,
  /* 176 */ 0x1fffe0,21, 0x1fffe1,21, 0x3fffe0,22, 0x1fffe2,21, 0x7fffed,23, 0x3fffe1,22, 0x7fffee,23, 0x7fffef,23,
  /* 184 */ 0xfffea,20, 0x3fffe2,22, 0x3fffe3,22, 0x3fffe4,22, 0x7ffff0,23, 0x3fffe5,22, 0x3fffe6,22, 0x7ffff1,23,
  /* 192 */ 0x3ffffe0,26, 0x3ffffe1,26, 0xfffeb,20, 0x7fff1,19, 0x3fffe7,22, 0x7ffff2,23, 0x3fffe8,22, 0x1ffffec,25,
  /* 200 */ 0x3ffffe2,26, 0x3ffffe3,26, 0x3ffffe4,26, 0x7ffffde,27, 0x7ffffdf,27, 0x3ffffe5,26, 0xfffff1,24, 0x1ffffed,25,
  /* 208 */ 0x7fff2,19, 0x1fffe3,21, 0x3ffffe6,26, 0x7ffffe0,27, 0x7ffffe1,27, 0x3ffffe7,26, 0x7ffffe2,27, 0xfffff2,24,
  /* 216 */ 0x1fffe4,21, 0x1fffe5,21, 0x3ffffe8,26, 0x3ffffe9,26, 0xffffffd,28, 0x7ffffe3,27, 0x7ffffe4,27, 0x7ffffe5,27,
  /* 224 */ 0xfffec,20, 0xfffff3,24, 0xfffed,20, 0x1fffe6,21, 0x3fffe9,22, 0x1fffe7,21, 0x1fffe8,21, 0x7ffff3,23,
  /* 232 */ 0x3fffea,22, 0x3fffeb,22, 0x1ffffee,25, 0x1ffffef,25, 0xfffff4,24, 0xfffff5,24, 0x3ffffea,26, 0x7ffff4,23,
  /* 240 */ 0x3ffffeb,26, 0x7ffffe6,27, 0x3ffffec,26, 0x3ffffed,26, 0x7ffffe7,27, 0x7ffffe8,27, 0x7ffffe9,27, 0x7ffffea,27,
  /* 248 */ 0x7ffffeb,27, 0xffffffe,28, 0x7ffffec,27, 0x7ffffed,27, 0x7ffffee,27, 0x7ffffef,27, 0x7fffff0,27, 0x3ffffee,26,
  /* 256 */ 0x3fffffff,30,
];
const EOS = 256;

/**
 * The Huffman code as a binary tree, walked one bit at a time. Node n's children are at
 * TREE[2n] (bit 0) and TREE[2n + 1] (bit 1): a value > 0 is the child node, a value < 0 the leaf
 * for symbol -value - 1. The root is node 0 (never a child, so 0 marks a slot not yet filled).
 * 257 leaves make 256 inner nodes; the code is complete, so every slot is filled.
 */
const TREE = buildTree();

function buildTree(): Int32Array {
  const tree = new Int32Array(2 * EOS);
  let nodes = 1;
  for (let sym = 0; sym <= EOS; sym++) {
    const code = HUFFMAN[2 * sym], len = HUFFMAN[2 * sym + 1];
    let node = 0;
    for (let bit = len - 1; bit > 0; bit--) {
      const slot = 2 * node + ((code >>> bit) & 1);
      if (tree[slot] === 0) tree[slot] = nodes++;
      node = tree[slot];
    }
    tree[2 * node + (code & 1)] = -sym - 1;
  }
  return tree;
}

function huffmanDecode(src: Uint8Array, start: number, end: number): string {
  const out = new Uint8Array(Math.ceil(((end - start) * 8) / 5)); // the shortest code is 5 bits
  let n = 0;
  let node = 0, pending = 0, allOnes = true; // pending: bits read since the last symbol
  for (let i = start; i < end; i++) {
    for (let shift = 7; shift >= 0; shift--) {
      const bit = (src[i] >> shift) & 1;
      const next = TREE[2 * node + bit];
      if (next >= 0) {
        node = next;
        pending++;
        allOnes &&= bit === 1;
        continue;
      }
      if (next === -EOS - 1) throw new HpackError("HPACK: Huffman-coded string contains the EOS symbol");
      out[n++] = -next - 1;
      node = 0;
      pending = 0;
      allOnes = true;
    }
  }
  if (pending > 7) throw new HpackError(`HPACK: Huffman padding is ${pending} bits, longer than 7`);
  if (!allOnes) throw new HpackError("HPACK: Huffman padding is not all 1 bits");
  return latin1(out, 0, n);
}

/** Octets to a string, one char code per octet. */
function latin1(bytes: Uint8Array, start: number, end: number): string {
  let s = "";
  for (let i = start; i < end; i += 4096) s += String.fromCharCode(...bytes.subarray(i, Math.min(end, i + 4096)));
  return s;
}

const entrySize = (name: string, value: string) => name.length + value.length + 32;

/** Integers are refused beyond this, or after 5 continuation bytes, long before 2^53 matters. */
const MAX_INT = 2 ** 31 - 1;

export class HpackDecoder {
  private readonly limit: number;
  private readonly maxListSize: number;
  private maxSize: number;
  /** Newest first, so dynamic index 62 is table[0]. */
  private readonly table: [string, string][] = [];
  private size = 0;
  private block: Uint8Array = new Uint8Array(0);
  private pos = 0;

  constructor(opts: { maxTableSize?: number; maxHeaderListSize?: number } = {}) {
    this.limit = this.maxSize = opts.maxTableSize ?? 4096;
    this.maxListSize = opts.maxHeaderListSize ?? 16384;
  }

  /** Decodes one complete header block (HEADERS + CONTINUATION payloads joined), fields in order. */
  decode(block: Uint8Array): [string, string][] {
    this.block = block;
    this.pos = 0;
    const fields: [string, string][] = [];
    let listSize = 0;
    while (this.pos < block.length) {
      if ((block[this.pos] & 0xe0) === 0x20) {
        if (fields.length > 0) throw new HpackError("HPACK: dynamic table size update after a header field");
        this.resize(this.int(5));
        continue;
      }
      const field = this.field();
      listSize += entrySize(field[0], field[1]);
      if (listSize > this.maxListSize) {
        throw new HpackError(`HPACK: header list size exceeds ${this.maxListSize} (at field ${fields.length + 1})`);
      }
      fields.push(field);
    }
    return fields;
  }

  /** The dynamic table, newest entry (index 62) first: for tests. */
  tableForTest(): [string, string][] {
    return this.table.map(([n, v]) => [n, v]);
  }

  /** The dynamic table's size in RFC 7541 4.1 octets. */
  get tableSize(): number {
    return this.size;
  }

  private field(): [string, string] {
    const first = this.block[this.pos];
    if (first & 0x80) {
      const [name, value] = this.entry(this.int(7)); // 6.1 indexed
      return [name, value];
    }
    if (first & 0x40) {
      const field = this.literal(6); // 6.2.1 with incremental indexing
      this.add(field[0], field[1]);
      return field;
    }
    return this.literal(4); // 6.2.2 without indexing (0000), 6.2.3 never indexed (0001)
  }

  private literal(prefix: number): [string, string] {
    const index = this.int(prefix);
    const name = index === 0 ? this.string() : this.entry(index)[0];
    return [name, this.string()];
  }

  private entry(index: number): readonly [string, string] {
    if (index === 0) throw new HpackError("HPACK: index 0 is not a valid table index");
    if (index <= STATIC.length) return STATIC[index - 1];
    const e = this.table[index - STATIC.length - 1];
    if (!e) throw new HpackError(`HPACK: index ${index} is beyond the dynamic table (${this.table.length} entries)`);
    return e;
  }

  private add(name: string, value: string): void {
    const size = entrySize(name, value);
    this.evictTo(this.maxSize - size); // an entry larger than the table empties it (RFC 7541 4.4)
    if (size > this.maxSize) return;
    this.table.unshift([name, value]);
    this.size += size;
  }

  private resize(size: number): void {
    if (size > this.limit) throw new HpackError(`HPACK: dynamic table size update to ${size} exceeds the limit ${this.limit}`);
    this.maxSize = size;
    this.evictTo(size);
  }

  private evictTo(size: number): void {
    while (this.table.length > 0 && this.size > size) {
      const [name, value] = this.table.pop()!;
      this.size -= entrySize(name, value);
    }
  }

  private byte(what: string): number {
    if (this.pos >= this.block.length) throw new HpackError(`HPACK: block truncated in ${what} at offset ${this.pos}`);
    return this.block[this.pos++];
  }

  /** RFC 7541 5.1: an integer with an N-bit prefix. */
  private int(prefix: number): number {
    const mask = (1 << prefix) - 1;
    let value = this.byte("an integer") & mask;
    if (value < mask) return value;
    for (let shift = 0; ; shift += 7) {
      if (shift > 28) throw new HpackError("HPACK: integer has more than 5 continuation bytes");
      const b = this.byte("an integer");
      value += (b & 0x7f) * 2 ** shift;
      if (value > MAX_INT) throw new HpackError("HPACK: integer is larger than 2^31-1");
      if ((b & 0x80) === 0) return value;
    }
  }

  /** RFC 7541 5.2: a string literal, raw or Huffman-coded. */
  private string(): string {
    if (this.pos >= this.block.length) throw new HpackError(`HPACK: block truncated before a string at offset ${this.pos}`);
    const huffman = (this.block[this.pos] & 0x80) !== 0;
    const len = this.int(7);
    const start = this.pos, left = this.block.length - start;
    if (len > left) throw new HpackError(`HPACK: string length ${len} exceeds the ${left} bytes left in the block`);
    this.pos += len;
    return huffman ? huffmanDecode(this.block, start, start + len) : latin1(this.block, start, start + len);
  }
}

/** Name → its lowest static index; a name's entries are adjacent in the static table. */
const STATIC_NAMES = new Map<string, number>();
STATIC.forEach(([name], i) => { if (!STATIC_NAMES.has(name)) STATIC_NAMES.set(name, i + 1); });

/** The static index of exactly name: value, or 0. */
function staticField(name: string, value: string, first: number): number {
  for (let i = first; i <= STATIC.length && STATIC[i - 1][0] === name; i++) if (STATIC[i - 1][1] === value) return i;
  return 0;
}

/** Encodes fields as static indexed fields or literals without indexing (see the top of this file). */
export function encodeHeaders(fields: readonly (readonly [string, string])[]): Uint8Array {
  const out: number[] = [];
  for (const [name, value] of fields) {
    const nameIndex = STATIC_NAMES.get(name) ?? 0;
    const index = nameIndex && staticField(name, value, nameIndex);
    if (index) {
      writeInt(out, 0x80, 7, index);
      continue;
    }
    writeInt(out, 0x00, 4, nameIndex);
    if (nameIndex === 0) writeString(out, name);
    writeString(out, value);
  }
  return Uint8Array.from(out);
}

function writeInt(out: number[], flags: number, prefix: number, value: number): void {
  const mask = (1 << prefix) - 1;
  if (value < mask) {
    out.push(flags | value);
    return;
  }
  out.push(flags | mask);
  for (value -= mask; value >= 0x80; value = Math.floor(value / 0x80)) out.push(0x80 | (value % 0x80));
  out.push(value);
}

function writeString(out: number[], s: string): void {
  writeInt(out, 0x00, 7, s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) throw new HpackError(`HPACK: cannot encode U+${c.toString(16).padStart(4, "0")}: header octets are 0-255`);
    out.push(c);
  }
}
