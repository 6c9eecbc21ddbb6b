/*
 * dist_store_tcp.c - the tcp kind of rendezvous store: rank 0 runs a tiny key-value server (a
 * thread, keys in memory, one poll loop) on MASTER_PORT; every rank, rank 0 included, is a
 * client of MASTER_ADDR:MASTER_PORT. Only start-up metadata goes through it (Gloo's pair
 * addresses, NCCL's id); the collectives never do. A fresh server per run, so nothing stale;
 * the first request of each client carries its rank and world size, and a world size that
 * differs from rank 0's is refused with a message. When every rank is on this host
 * (dist_loopback_addr) the server listens, and every rank connects, on loopback only; else it
 * listens on every address. Also: the address other nodes reach this one at (dist_local_addr).
 */
#include "dist_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "attnrl/fsutil.h"

#define TCP_KEY_MAX 256
#define TCP_VAL_MAX (1 << 20)

struct store_kv { char *key; void *val; uint32_t len; };

struct store_server {
	int lfd, wake[2], world;
	pthread_t thread;
	int *fds, nfds;
	struct store_kv *kv;
	int nkv;
};

struct dist_tcp {
	int fd;                      /* this rank's connection */
	struct store_server *server; /* rank 0 */
	char where[DIST_HOST_MAX + 32];
};

/* ---- wire format ----
 * request: op (1 byte: H hello, S set, G get), u32 key length, key, [S: u32 length, value]
 *          (H: the key is "<rank> <world>")
 * reply:   S/H: 'K' or 'E' + u32 length + message; G: 'Y' + u32 length + value, or 'N'
 * (lengths in host byte order: every rank runs the same build) */

static int io_full(int fd, void *buf, size_t len, int wr)
{
	char *p = buf;
	while (len) {
		ssize_t k = wr ? send(fd, p, len, MSG_NOSIGNAL) : recv(fd, p, len, 0);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			if (k == 0)
				errno = ECONNRESET;
			return -1;
		}
		p += k;
		len -= (size_t)k;
	}
	return 0;
}

static int send_blob(int fd, char op, const void *a, uint32_t alen, const void *b, uint32_t blen,
		     int with_b)
{
	size_t len = 1 + 4 + alen + (with_b ? 4 + (size_t)blen : 0);
	char *m = malloc(len), *p = m;
	if (!m)
		return -1;
	*p++ = op;
	memcpy(p, &alen, 4), p += 4;
	memcpy(p, a, alen), p += alen;
	if (with_b) {
		memcpy(p, &blen, 4), p += 4;
		memcpy(p, b, blen);
	}
	int rc = io_full(fd, m, len, 1);
	free(m);
	return rc;
}

/* reads u32 length + that many bytes (at most max) into a malloc'ed buffer */
static void *recv_blob(int fd, uint32_t *len, uint32_t max)
{
	if (io_full(fd, len, 4, 0) || *len > max)
		return NULL;
	char *b = malloc((size_t)*len + 1);
	if (!b || io_full(fd, b, *len, 0)) {
		free(b);
		return NULL;
	}
	b[*len] = 0;
	return b;
}

static struct store_kv *server_find(struct store_server *sv, const char *key)
{
	for (int i = 0; i < sv->nkv; i++)
		if (!strcmp(sv->kv[i].key, key))
			return &sv->kv[i];
	return NULL;
}

/* one request from fd; -1 drops the connection */
static int server_request(struct store_server *sv, int fd)
{
	char op;
	uint32_t klen, vlen = 0;
	if (io_full(fd, &op, 1, 0))
		return -1;
	char *key = recv_blob(fd, &klen, TCP_KEY_MAX), *val = NULL;
	if (!key)
		return -1;
	int rc = -1;
	if (op == 'H') {
		int r = -1, w = -1;
		char msg[160] = "";
		if (sscanf(key, "%d %d", &r, &w) != 2 || w != sv->world)
			snprintf(msg, sizeof(msg), "rank %d says the world has %d ranks, rank 0 says %d",
				 r, w, sv->world);
		rc = msg[0] ? send_blob(fd, 'E', msg, (uint32_t)strlen(msg), NULL, 0, 0) :
			      io_full(fd, "K", 1, 1);
	} else if (op == 'S' && (val = recv_blob(fd, &vlen, TCP_VAL_MAX))) {
		struct store_kv *kv = server_find(sv, key), *grown;
		if (!kv && (grown = realloc(sv->kv, sizeof(*kv) * (size_t)(sv->nkv + 1)))) {
			sv->kv = grown;
			kv = &sv->kv[sv->nkv++];
			kv->key = key, key = NULL;
			kv->val = NULL;
		}
		if (kv) {
			free(kv->val);
			kv->val = val, val = NULL;
			kv->len = vlen;
			rc = io_full(fd, "K", 1, 1);
		}
	} else if (op == 'G') {
		struct store_kv *kv = server_find(sv, key);
		rc = kv ? send_blob(fd, 'Y', kv->val, kv->len, NULL, 0, 0) : io_full(fd, "N", 1, 1);
	}
	free(key);
	free(val);
	return rc;
}

static void *server_main(void *arg)
{
	struct store_server *sv = arg;
	struct pollfd *pf = calloc((size_t)sv->world + 2 + 64, sizeof(*pf));
	int cap = sv->world + 64;
	if (!pf)
		return NULL;
	for (;;) {
		pf[0] = (struct pollfd){ .fd = sv->wake[0], .events = POLLIN };
		pf[1] = (struct pollfd){ .fd = sv->lfd, .events = POLLIN };
		for (int i = 0; i < sv->nfds; i++)
			pf[2 + i] = (struct pollfd){ .fd = sv->fds[i], .events = POLLIN };
		if (poll(pf, (nfds_t)(2 + sv->nfds), -1) < 0 && errno != EINTR)
			break;
		if (pf[0].revents)
			break;
		for (int i = sv->nfds - 1; i >= 0; i--) {
			if (!pf[2 + i].revents || server_request(sv, sv->fds[i]) == 0)
				continue;
			close(sv->fds[i]);
			sv->fds[i] = sv->fds[--sv->nfds];
		}
		if (pf[1].revents & POLLIN) {
			int fd = accept(sv->lfd, NULL, NULL);
			if (fd >= 0 && sv->nfds < cap) {
				struct timeval tv = { 5, 0 };
				setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
				setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
				sv->fds[sv->nfds++] = fd;
			} else if (fd >= 0) {
				close(fd);
			}
		}
	}
	free(pf);
	return NULL;
}

static void server_stop(struct store_server *sv)
{
	if (!sv)
		return;
	if (write(sv->wake[1], "x", 1) == 1)
		pthread_join(sv->thread, NULL);
	for (int i = 0; i < sv->nfds; i++)
		close(sv->fds[i]);
	for (int i = 0; i < sv->nkv; i++)
		free(sv->kv[i].key), free(sv->kv[i].val);
	close(sv->lfd);
	close(sv->wake[0]);
	close(sv->wake[1]);
	free(sv->kv);
	free(sv->fds);
	free(sv);
}

/* a listening socket on addr:port (a numeric address), or on every address when addr is NULL
 * (IPv6 and IPv4); -1 with errno */
static int listen_on(const char *addr, int port)
{
	struct sockaddr_in6 any = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port),
				    .sin6_addr = IN6ADDR_ANY_INIT };
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST }, *ai = NULL;
	char ps[16];
	int one = 1, zero = 0, fd, rc;
	snprintf(ps, sizeof(ps), "%d", port);
	if (addr && getaddrinfo(addr, ps, &hints, &ai)) {
		errno = EADDRNOTAVAIL;
		return -1;
	}
	fd = socket(ai ? ai->ai_family : AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (!ai)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
		rc = ai ? bind(fd, ai->ai_addr, ai->ai_addrlen) :
			  bind(fd, (struct sockaddr *)&any, sizeof(any));
		if (rc || listen(fd, 128)) {
			int e = errno;
			close(fd);
			fd = -1;
			errno = e;
		}
	}
	if (ai)
		freeaddrinfo(ai);
	return fd;
}

/* rank 0's server on addr:port (NULL: every address) */
static struct store_server *server_start(const char *addr, int port, int world, char *err,
					 size_t n)
{
	struct store_server *sv = calloc(1, sizeof(*sv));
	if (!sv || !(sv->fds = calloc((size_t)world + 64, sizeof(int)))) {
		free(sv);
		snprintf(err, n, "dist: out of memory");
		return NULL;
	}
	sv->world = world;
	sv->lfd = listen_on(addr, port);
	if (sv->lfd < 0 || pipe(sv->wake))
		goto fail;
	if (pthread_create(&sv->thread, NULL, server_main, sv)) {
		errno = EAGAIN;
		goto fail;
	}
	return sv;
fail:
	snprintf(err, n, "dist: rank 0 cannot serve the rendezvous on %s%sport %d: %s; pick another "
		 "MASTER_PORT", addr ? addr : "", addr ? " " : "", port, strerror(errno));
	if (sv->lfd >= 0)
		close(sv->lfd);
	free(sv->fds);
	free(sv);
	return NULL;
}

/* connects to host:port, retrying until the deadline (rank 0 may not listen yet) */
static int tcp_connect(const char *host, int port, double deadline, double timeout, char *err,
		       size_t n)
{
	char ps[16], why[160] = "no address";
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *ai, *p;
	snprintf(ps, sizeof(ps), "%d", port);
	do {
		int g = getaddrinfo(host, ps, &hints, &ai);
		if (g) {
			snprintf(why, sizeof(why), "%s", gai_strerror(g));
			if (g != EAI_AGAIN)
				break;
			if (dist_nap(0.1, err, n))
				return -1;
			continue;
		}
		for (p = ai; p; p = p->ai_next) {
			int fd = socket(p->ai_family, p->ai_socktype | SOCK_CLOEXEC, p->ai_protocol);
			if (fd < 0)
				continue;
			if (!connect(fd, p->ai_addr, p->ai_addrlen)) {
				struct timeval tv = { (time_t)timeout + 1, 0 };
				int one = 1;
				setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
				setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
				setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
				freeaddrinfo(ai);
				return fd;
			}
			snprintf(why, sizeof(why), "%s", strerror(errno));
			close(fd);
		}
		freeaddrinfo(ai);
		if (dist_nap(0.1, err, n))
			return -1;
	} while (fs_now() < deadline);
	snprintf(err, n, "dist: rendezvous timed out after %g s: cannot reach rank 0 at %s:%d "
		 "(%s); check that rank 0 started and MASTER_ADDR/MASTER_PORT point at it", timeout,
		 host, port, why);
	return -1;
}

struct dist_tcp *dist_tcp_open(const char *host, int port, const struct dist_env *e,
			       double timeout, char *err, size_t n)
{
	struct dist_tcp *t = calloc(1, sizeof(*t));
	double deadline = fs_now() + timeout;
	const char *lo = dist_loopback_addr(e);
	char hello[32], op;
	if (lo)
		host = lo;
	if (!t) {
		snprintf(err, n, "dist: out of memory");
		return NULL;
	}
	t->fd = -1;
	snprintf(t->where, sizeof(t->where), "tcp store %s:%d", host, port);
	if (e->rank == 0 && !(t->server = server_start(lo, port, e->world, err, n)))
		goto fail;
	if ((t->fd = tcp_connect(host, port, deadline, timeout, err, n)) < 0)
		goto fail;
	snprintf(hello, sizeof(hello), "%d %d", e->rank, e->world);
	if (send_blob(t->fd, 'H', hello, (uint32_t)strlen(hello), NULL, 0, 0) ||
	    io_full(t->fd, &op, 1, 0)) {
		snprintf(err, n, "dist: rendezvous with %s failed: %s", t->where, strerror(errno));
		goto fail;
	}
	if (op != 'K') {
		uint32_t len;
		char *msg = recv_blob(t->fd, &len, 1024);
		snprintf(err, n, "dist: rendezvous refused by %s: %s; every task must see the same "
			 "WORLD_SIZE", t->where, msg ? msg : "?");
		free(msg);
		goto fail;
	}
	return t;
fail:
	dist_tcp_close(t);
	return NULL;
}

void dist_tcp_close(struct dist_tcp *t)
{
	if (!t)
		return;
	if (t->fd >= 0)
		close(t->fd);
	server_stop(t->server);
	free(t);
}

static int tcp_fail(struct dist_tcp *t, const char *what, char *err, size_t n)
{
	snprintf(err, n, "dist: rendezvous %s on %s failed: %s (did rank 0 exit?)", what,
		 t->where, strerror(errno));
	return -1;
}

int dist_tcp_set(struct dist_tcp *t, const char *key, const void *val, size_t len, char *err,
		 size_t n)
{
	char op;
	if (send_blob(t->fd, 'S', key, (uint32_t)strlen(key), val, (uint32_t)len, 1) ||
	    io_full(t->fd, &op, 1, 0) || op != 'K')
		return tcp_fail(t, "set", err, n);
	return 0;
}

int dist_tcp_get(struct dist_tcp *t, const char *key, void *val, size_t cap, size_t *len,
		 char *err, size_t n)
{
	uint32_t vlen;
	char *v, op;
	if (send_blob(t->fd, 'G', key, (uint32_t)strlen(key), NULL, 0, 0) ||
	    io_full(t->fd, &op, 1, 0))
		return tcp_fail(t, "get", err, n);
	if (op == 'N')
		return 0;
	if (op != 'Y' || !(v = recv_blob(t->fd, &vlen, TCP_VAL_MAX)))
		return tcp_fail(t, "get", err, n);
	if (cap)
		memcpy(val, v, vlen < cap ? vlen : cap);
	*len = vlen;
	free(v);
	return 1;
}

static int loopback(const struct sockaddr *a)
{
	if (a->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)a)->sin_addr.s_addr) >> 24) == 127;
	return a->sa_family == AF_INET6 &&
	       IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)a)->sin6_addr);
}

/* the numeric form of a into out, when a is an IPv4/IPv6 address that is not loopback */
static int usable_addr(const struct sockaddr *a, char *out, size_t on)
{
	socklen_t len = a->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
						   sizeof(struct sockaddr_in);
	if ((a->sa_family != AF_INET && a->sa_family != AF_INET6) || loopback(a))
		return 0;
	return !getnameinfo(a, len, out, (socklen_t)on, NULL, 0, NI_NUMERICHOST);
}

/* the local address of the route to host (a UDP connect sends nothing) */
static int route_to(const char *host, char *out, size_t on)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *ai;
	struct sockaddr_storage me;
	socklen_t len = sizeof(me);
	int ok = 0;
	if (!host[0] || getaddrinfo(host, "9", &hints, &ai))
		return 0;
	int fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && !connect(fd, ai->ai_addr, ai->ai_addrlen) &&
	    !getsockname(fd, (struct sockaddr *)&me, &len))
		ok = usable_addr((struct sockaddr *)&me, out, on);
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return ok;
}

/* 2 when host is "localhost", 1 when it is an address of this host's loopback interface
 * written as numbers (127.0.0.0/8, ::1), else 0; no lookup: a name that resolves to 127.0.1.1
 * here (Debian's host name) may well name this host's network address on the other nodes */
static int loopback_name(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;
	if (!strcasecmp(host, "localhost") || !strcasecmp(host, "localhost."))
		return 2;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	return inet_pton(AF_INET6, host, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

const char *dist_loopback_addr(const struct dist_env *e)
{
	int lo = loopback_name(e->master_addr);
	if (lo == 1)
		return e->master_addr;
	if (lo == 2 || e->world == 1 || (e->local_world && e->local_world == e->world))
		return "127.0.0.1";
	return NULL;
}

/* this host's address that other nodes reach: on the route to MASTER_ADDR (or the first SLURM
 * host), else the first of this host's name, else of an interface, that is not loopback */
static int network_addr(const struct dist_env *e, char *out, size_t on)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai, *p;
	struct ifaddrs *ifs, *i;
	char host[DIST_HOST_MAX];
	int ok = 0;
	if (route_to(e->master_addr, out, on) || route_to(e->first_host, out, on))
		return 1;
	host[sizeof(host) - 1] = 0;
	if (!gethostname(host, sizeof(host) - 1) && !getaddrinfo(host, NULL, &hints, &ai)) {
		for (p = ai; p && !ok; p = p->ai_next)
			ok = usable_addr(p->ai_addr, out, on);
		freeaddrinfo(ai);
		if (ok)
			return 1;
	}
	if (!getifaddrs(&ifs)) {
		for (i = ifs; i && !ok; i = i->ifa_next)
			ok = i->ifa_addr && (i->ifa_flags & IFF_UP) && i->ifa_addr->sa_family == AF_INET &&
			     usable_addr(i->ifa_addr, out, on);
		freeifaddrs(ifs);
	}
	return ok;
}

enum dist_listen dist_local_addr(const struct dist_env *e, const char *ifname, char *out,
				 size_t on)
{
	const char *lo = dist_loopback_addr(e);
	if (lo) {
		snprintf(out, on, "%s", lo);
		return DIST_LISTEN_LOOPBACK;
	}
	if (ifname && *ifname) {
		snprintf(out, on, "%s", ifname);
		return DIST_LISTEN_IFACE;
	}
	if (network_addr(e, out, on))
		return DIST_LISTEN_HOST;
	snprintf(out, on, "127.0.0.1");
	return DIST_LISTEN_LOOPBACK;
}
