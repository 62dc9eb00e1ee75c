/* Native fast paths for the AC's hot loop, loaded through bun:ffi (src/common/accel.ts) with
 * the JavaScript implementations as the fallback (Node.js, or VIGIL_NO_NATIVE=1):
 *   vigil_crc32c          CRC-32C with SSE4.2's crc32 instruction (a table when the CPU has none)
 *   vigil_snappy_block    snappy block decoding (github.com/google/snappy format_description.txt)
 *   vigil_each_parallel   one native call on many items from a few threads (the agent's detach)
 * Per Elkeid batch of ~3 KB the first two cost well under a µs against ~3.5 and ~5 µs in
 * JavaScript. They are pure functions of their arguments: no allocation, no global state but
 * the table. */
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

static uint32_t table[256];
static int have_sse42;

/* at dlopen, before any thread can call in */
__attribute__((constructor)) static void init(void)
{
	for (uint32_t n = 0; n < 256; n++) {
		uint32_t c = n;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
		table[n] = c;
	}
	__builtin_cpu_init();
	have_sse42 = __builtin_cpu_supports("sse4.2");
}

__attribute__((target("sse4.2"))) static uint32_t crc_hw(uint32_t c, const uint8_t *p, uint32_t n)
{
	uint64_t c64 = c;
	for (; n >= 8; p += 8, n -= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		c64 = __builtin_ia32_crc32di(c64, w);
	}
	c = (uint32_t)c64;
	for (; n > 0; p++, n--)
		c = __builtin_ia32_crc32qi(c, *p);
	return c;
}

/* crc32c(p[0..n)) continuing from prev (the CRC of what precedes p): the JS crc32c(b, prev). */
uint32_t vigil_crc32c(uint32_t prev, const uint8_t *p, uint32_t n)
{
	uint32_t c = ~prev;
	if (have_sse42)
		return ~crc_hw(c, p, n);
	for (; n > 0; p++, n--)
		c = table[(c ^ *p) & 0xff] ^ (c >> 8);
	return ~c;
}

/* Error codes of vigil_snappy_block (accel.ts turns them into messages). */
enum {
	SNAPPY_TRUNCATED_LITERAL_LENGTH = -1,
	SNAPPY_LITERAL_OVERRUN = -2,
	SNAPPY_TRUNCATED_COPY = -3,
	SNAPPY_BAD_OFFSET = -4,
	SNAPPY_COPY_OVERRUN = -5,
	SNAPPY_SHORT = -6,
};

/* Decode the tagged elements src[start..n) (the block after its length preamble) into exactly
 * len bytes at dst (len < 2^31). Returns len, or a negative error code; never reads outside
 * src[0..n) nor writes outside dst[0..len). */
int32_t vigil_snappy_block(const uint8_t *src, uint32_t start, uint32_t n, uint8_t *dst, uint32_t len)
{
	uint64_t ip = start, op = 0;
	while (ip < n) {
		uint8_t tag = src[ip++];
		uint64_t l, off;
		switch (tag & 3) {
		case 0:
			l = (tag >> 2) + 1;
			if (l > 60) {
				uint64_t k = l - 60;
				if (ip + k > n)
					return SNAPPY_TRUNCATED_LITERAL_LENGTH;
				l = 0;
				for (uint64_t j = 0; j < k; j++)
					l |= (uint64_t)src[ip + j] << (8 * j);
				l += 1;
				ip += k;
			}
			if (l > n - ip || l > len - op)
				return SNAPPY_LITERAL_OVERRUN;
			memcpy(dst + op, src + ip, l);
			ip += l;
			op += l;
			continue;
		case 1:
			if (ip >= n)
				return SNAPPY_TRUNCATED_COPY;
			l = 4 + ((tag >> 2) & 7);
			off = ((uint64_t)(tag >> 5) << 8) | src[ip++];
			break;
		case 2:
			if (ip + 2 > n)
				return SNAPPY_TRUNCATED_COPY;
			l = (tag >> 2) + 1;
			off = src[ip] | ((uint64_t)src[ip + 1] << 8);
			ip += 2;
			break;
		default:
			if (ip + 4 > n)
				return SNAPPY_TRUNCATED_COPY;
			l = (tag >> 2) + 1;
			off = src[ip] | ((uint64_t)src[ip + 1] << 8) | ((uint64_t)src[ip + 2] << 16) | ((uint64_t)src[ip + 3] << 24);
			ip += 4;
			break;
		}
		if (off == 0 || off > op)
			return SNAPPY_BAD_OFFSET;
		if (l > len - op)
			return SNAPPY_COPY_OVERRUN;
		if (off >= l) {
			memcpy(dst + op, dst + op - off, l);
		} else {
			/* overlapping: a run, byte by byte */
			for (uint64_t j = 0; j < l; j++)
				dst[op + j] = dst[op - off + j];
		}
		op += l;
	}
	return op == len ? (int32_t)len : SNAPPY_SHORT;
}

/* ---- vigil_each_parallel ----
 * fn(items[i]) for every i < n, from `threads` threads (the caller's among them), each taking
 * the next item until none is left. For blocking calls that wait on the kernel rather than
 * use a CPU: the agent's detach, where closing each syscall tracepoint's perf event waits
 * for RCU grace periods (~70 ms) and ~70 of them one after another took 5 s; two threads
 * overlap the waits (2.0 s; more threads do not go lower on 6.18, measured). fn must be
 * safe to call concurrently on distinct items. Returns the number of threads that ran (1
 * when none could be started: then the caller's thread did all of it). */
struct each_job {
	void (*fn)(void *);
	void *const *items;
	int n;
	int next;
};

static void *each_worker(void *arg)
{
	struct each_job *job = arg;
	for (;;) {
		int i = __atomic_fetch_add(&job->next, 1, __ATOMIC_RELAXED);
		if (i >= job->n)
			return NULL;
		job->fn(job->items[i]);
	}
}

int32_t vigil_each_parallel(void (*fn)(void *), void *const *items, int32_t n, int32_t threads)
{
	struct each_job job = { fn, items, n, 0 };
	pthread_t tids[15];
	int started = 0;
	if (threads > 16)
		threads = 16;
	if (threads > n)
		threads = n;
	while (started < threads - 1 && pthread_create(&tids[started], NULL, each_worker, &job) == 0)
		started++;
	each_worker(&job);
	for (int i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	return started + 1;
}
