/* Vigil collector benchmark load generator. Compiled by scripts/bench/collector.ts into
 * build/bench/loadgen with gcc. It counts its own syscalls exactly and prints one JSON line.
 *
 *   loadgen mix [--rate N] [--duration S] [--threads T] [--mix OPEN,CONNECT,EXEC] [--file P]
 *       Mixed load for S seconds: T threads, each paced at N/T operations per second with
 *       clock_nanosleep(TIMER_ABSTIME) on 1 ms ticks (N = 0: full burst, no pacing). An
 *       operation is one of: openat(file, O_RDONLY)+close; a TCP connect to a loopback
 *       listener this process opens (SO_LINGER 0, so no TIME_WAIT; a thread accepts and
 *       closes); posix_spawn("/bin/true") (children auto-reaped). The mix is given in parts
 *       per 10000 for open, connect and exec, spread evenly over each thread's sequence.
 *   loadgen canary [--rate N] [--duration S] [--threads T]
 *       The same pacing with lseek(-1, seq, 4729), Vigil's canary (for builds without
 *       open/connect/execve events).
 *   loadgen openstorm COUNT [--file P]   COUNT × (openat + close), one thread, timed.
 *   loadgen execstorm COUNT              COUNT × (posix_spawn /bin/true + waitpid), timed.
 *   loadgen fsops COUNT --dir D          COUNT × one of each file/network call Vigil reports by
 *       default besides open and connect (mkdir, rmdir, ftruncate, truncate, chmod, rename ×2,
 *       link, symlink, unlink ×3, mknod, socketpair, bind, chdir), in D (created), timed: gives
 *       their programs runs enough for a kernel-cost figure.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

enum op { OP_OPEN, OP_CONNECT, OP_EXEC, OP_CANARY, OP_N };
static const char *op_names[OP_N] = { "open", "connect", "exec", "canary" };

static const char *file_path = "/etc/hostname";
static double rate = 0;         /* total ops/s; 0 = burst */
static double duration = 5;
static int nthreads = 4;
static int mix[3] = { 9895, 100, 5 }; /* open, connect, exec per 10000 */
static int canary_mode = 0;

static struct sockaddr_in listen_addr;
static int listen_fd = -1;
static atomic_long accepted;
static atomic_int stop_flag;

struct worker {
	pthread_t th;
	int id;
	long ok[OP_N];
	long fail[OP_N];
	int first_errno[OP_N];
	uint8_t *seq; /* the op pattern, 10000 entries */
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "loadgen: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* Spread the three ops evenly over 10000 slots (largest-remainder interleave). */
static uint8_t *make_pattern(int offset)
{
	uint8_t *p = malloc(10000);
	long acc[3] = { 0, 0, 0 };
	for (int i = 0; i < 10000; i++) {
		int best = 0;
		long bestv = -1;
		for (int k = 0; k < 3; k++) {
			acc[k] += mix[k];
			if (acc[k] > bestv) {
				bestv = acc[k];
				best = k;
			}
		}
		acc[best] -= 10000;
		p[(i + offset) % 10000] = (uint8_t)best;
	}
	return p;
}

static void *acceptor(void *arg)
{
	(void)arg;
	for (;;) {
		int c = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (c >= 0) {
			atomic_fetch_add_explicit(&accepted, 1, memory_order_relaxed);
			close(c);
		} else if (errno != EINTR && errno != ECONNABORTED) {
			if (atomic_load(&stop_flag))
				return NULL;
		}
	}
	return NULL;
}

static int do_open(void)
{
	int fd = openat(AT_FDCWD, file_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static int do_connect(void)
{
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -1;
	struct linger lg = { 1, 0 };
	setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	int r = connect(s, (struct sockaddr *)&listen_addr, sizeof(listen_addr));
	int e = errno;
	close(s);
	errno = e;
	return r;
}

static char *true_argv[] = { "/bin/true", NULL };

static int do_exec_nowait(void)
{
	pid_t pid;
	int r = posix_spawn(&pid, "/bin/true", NULL, NULL, true_argv, environ);
	if (r != 0) {
		errno = r;
		return -1;
	}
	return 0;
}

static long canary_seq;

static int do_op(struct worker *w, int op)
{
	switch (op) {
	case OP_OPEN: return do_open();
	case OP_CONNECT: return do_connect();
	case OP_EXEC: return do_exec_nowait();
	case OP_CANARY:
		syscall(SYS_lseek, -1, (long)(((long)w->id << 40) + canary_seq++), 4729);
		return 0; /* fails with EBADF by design; the event fires on entry */
	}
	return 0;
}

static void *work(void *arg)
{
	struct worker *w = arg;
	double per = rate / nthreads;
	uint64_t start = now_ns(), end = start + (uint64_t)(duration * 1e9);
	long done = 0, idx = 0;
	const uint64_t tick = 1000000; /* 1 ms */
	uint64_t next = start;
	for (;;) {
		uint64_t t = now_ns();
		if (t >= end)
			break;
		long due;
		if (per > 0)
			due = (long)((double)(t - start) * per / 1e9) + 1;
		else
			due = done + 256;
		while (done < due) {
			int op = canary_mode ? OP_CANARY : w->seq[idx];
			idx = idx + 1 == 10000 ? 0 : idx + 1;
			if (do_op(w, op) == 0) {
				w->ok[op]++;
			} else {
				if (!w->fail[op])
					w->first_errno[op] = errno;
				w->fail[op]++;
			}
			done++;
		}
		if (per > 0) {
			next += tick;
			if (next < t)
				next = t + tick - (t - start) % tick;
			struct timespec ts = { (time_t)(next / 1000000000ull), (long)(next % 1000000000ull) };
			while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
				;
		}
	}
	return NULL;
}

static void parse_opts(int argc, char **argv, int from)
{
	for (int i = from; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--rate") && v) rate = atof(v), i++;
		else if (!strcmp(a, "--duration") && v) duration = atof(v), i++;
		else if (!strcmp(a, "--threads") && v) nthreads = atoi(v), i++;
		else if (!strcmp(a, "--file") && v) file_path = v, i++;
		else if (!strcmp(a, "--mix") && v) {
			if (sscanf(v, "%d,%d,%d", &mix[0], &mix[1], &mix[2]) != 3 ||
			    mix[0] + mix[1] + mix[2] != 10000) {
				fprintf(stderr, "loadgen: --mix wants OPEN,CONNECT,EXEC parts summing to 10000\n");
				exit(2);
			}
			i++;
		} else {
			fprintf(stderr, "loadgen: unknown option %s\n", a);
			exit(2);
		}
	}
	if (nthreads < 1 || nthreads > 64) {
		fprintf(stderr, "loadgen: --threads out of range\n");
		exit(2);
	}
}

static int run_load(void)
{
	pthread_t acc;
	int have_acceptor = 0;
	signal(SIGCHLD, SIG_IGN); /* spawned /bin/true children are reaped by the kernel */
	signal(SIGPIPE, SIG_IGN);
	if (!canary_mode && mix[1] > 0) {
		listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (listen_fd < 0)
			die("socket");
		int one = 1;
		setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		memset(&listen_addr, 0, sizeof(listen_addr));
		listen_addr.sin_family = AF_INET;
		listen_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (bind(listen_fd, (struct sockaddr *)&listen_addr, sizeof(listen_addr)) < 0)
			die("bind");
		socklen_t l = sizeof(listen_addr);
		getsockname(listen_fd, (struct sockaddr *)&listen_addr, &l);
		if (listen(listen_fd, 4096) < 0)
			die("listen");
		pthread_create(&acc, NULL, acceptor, NULL);
		have_acceptor = 1;
	}
	struct worker *ws = calloc(nthreads, sizeof(*ws));
	uint64_t t0 = now_ns();
	for (int i = 0; i < nthreads; i++) {
		ws[i].id = i;
		ws[i].seq = make_pattern(i * 10000 / nthreads);
		pthread_create(&ws[i].th, NULL, work, &ws[i]);
	}
	for (int i = 0; i < nthreads; i++)
		pthread_join(ws[i].th, NULL);
	uint64_t t1 = now_ns();
	if (have_acceptor) {
		/* Let the acceptor take what is queued, then stop it. */
		usleep(50000);
		atomic_store(&stop_flag, 1);
		shutdown(listen_fd, SHUT_RDWR);
		pthread_join(acc, NULL);
	}
	long ok[OP_N] = { 0 }, fail[OP_N] = { 0 };
	int ferr[OP_N] = { 0 };
	for (int i = 0; i < nthreads; i++)
		for (int k = 0; k < OP_N; k++) {
			ok[k] += ws[i].ok[k];
			fail[k] += ws[i].fail[k];
			if (!ferr[k])
				ferr[k] = ws[i].first_errno[k];
		}
	double el = (double)(t1 - t0) / 1e9;
	long total = 0;
	for (int k = 0; k < OP_N; k++)
		total += ok[k] + fail[k];
	printf("{\"mode\":\"%s\",\"target_rate\":%.0f,\"threads\":%d,\"elapsed_s\":%.6f,\"ops\":%ld,"
	       "\"achieved_rate\":%.1f,\"mix\":[%d,%d,%d],\"accepted\":%ld",
	       canary_mode ? "canary" : "mix", rate, nthreads, el, total, total / el, mix[0], mix[1],
	       mix[2], (long)atomic_load(&accepted));
	for (int k = 0; k < OP_N; k++)
		printf(",\"%s\":%ld,\"%s_fail\":%ld,\"%s_errno\":%d", op_names[k], ok[k], op_names[k],
		       fail[k], op_names[k], ferr[k]);
	printf("}\n");
	fflush(stdout);
	return 0;
}

static int run_storm(const char *kind, long count)
{
	long fails = 0;
	int ferr = 0;
	uint64_t t0 = now_ns();
	if (!strcmp(kind, "openstorm")) {
		for (long i = 0; i < count; i++)
			if (do_open() < 0) {
				if (!fails++)
					ferr = errno;
			}
	} else {
		for (long i = 0; i < count; i++) {
			pid_t pid;
			int r = posix_spawn(&pid, "/bin/true", NULL, NULL, true_argv, environ);
			if (r != 0) {
				if (!fails++)
					ferr = r;
				continue;
			}
			int st;
			while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
				;
		}
	}
	uint64_t t1 = now_ns();
	printf("{\"mode\":\"%s\",\"count\":%ld,\"fails\":%ld,\"errno\":%d,\"elapsed_s\":%.6f}\n", kind,
	       count, fails, ferr, (double)(t1 - t0) / 1e9);
	fflush(stdout);
	return fails ? 1 : 0;
}

/* One failure counted per failing call; the first errno kept. */
#define FS_OK(call)                        \
	do {                               \
		if ((call) < 0 && !fails++) \
			ferr = errno;      \
	} while (0)

static int run_fsops(long count, const char *dir)
{
	long fails = 0;
	int ferr = 0;
	if ((mkdir(dir, 0755) < 0 && errno != EEXIST) || chdir(dir) < 0) {
		fprintf(stderr, "loadgen fsops: cannot use %s: %s\n", dir, strerror(errno));
		return 1;
	}
	int fd = open("f", O_CREAT | O_RDWR | O_TRUNC, 0644);
	if (fd < 0) {
		fprintf(stderr, "loadgen fsops: cannot create %s/f: %s\n", dir, strerror(errno));
		return 1;
	}
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	uint64_t t0 = now_ns();
	for (long i = 0; i < count; i++) {
		FS_OK(mkdir("d", 0755));
		FS_OK(rmdir("d"));
		FS_OK(ftruncate(fd, i & 1023));
		FS_OK(truncate("f", 5));
		FS_OK(chmod("f", 0600));
		FS_OK(rename("f", "g"));
		FS_OK(rename("g", "f"));
		FS_OK(link("f", "h"));
		FS_OK(unlink("h"));
		FS_OK(symlink("f", "s"));
		FS_OK(unlink("s"));
		FS_OK(mknod("p", S_IFIFO | 0600, 0));
		FS_OK(unlink("p"));
		int sv[2];
		FS_OK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
		close(sv[0]);
		close(sv[1]);
		int s = socket(AF_INET, SOCK_STREAM, 0);
		FS_OK(s);
		FS_OK(bind(s, (struct sockaddr *)&a, sizeof(a))); /* port 0: the kernel picks one */
		close(s);
		FS_OK(chdir("."));
	}
	uint64_t t1 = now_ns();
	close(fd);
	unlink("f");
	printf("{\"mode\":\"fsops\",\"count\":%ld,\"fails\":%ld,\"errno\":%d,\"elapsed_s\":%.6f}\n", count,
	       fails, ferr, (double)(t1 - t0) / 1e9);
	fflush(stdout);
	return fails ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		goto usage;
	if (!strcmp(argv[1], "mix") || !strcmp(argv[1], "canary")) {
		canary_mode = !strcmp(argv[1], "canary");
		parse_opts(argc, argv, 2);
		return run_load();
	}
	if ((!strcmp(argv[1], "openstorm") || !strcmp(argv[1], "execstorm")) && argc >= 3) {
		long n = atol(argv[2]);
		parse_opts(argc, argv, 3);
		return run_storm(argv[1], n);
	}
	if (!strcmp(argv[1], "fsops") && argc == 5 && !strcmp(argv[3], "--dir"))
		return run_fsops(atol(argv[2]), argv[4]);
usage:
	fprintf(stderr, "usage: loadgen mix|canary [--rate N] [--duration S] [--threads T] "
			"[--mix O,C,E] [--file P]\n       loadgen openstorm|execstorm COUNT [--file P]\n"
			"       loadgen fsops COUNT --dir D\n");
	return 2;
}
