/*
 * dist_internal.h - between dist.c, the rendezvous store (dist_store.c) and the backends
 * (dist_gloo.cpp, dist_nccl.c). Not a public interface.
 */
#ifndef ATTNRL_DIST_INTERNAL_H
#define ATTNRL_DIST_INTERNAL_H

#include "attnrl/dist.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The rendezvous store: small keys and values exchanged once at start-up.
 *
 * file: <dir>/.rendezvous/<scope>/, scope = the launcher's job id (SLURM job.step-restart,
 *   TORCHELASTIC_RUN_ID, ATTNRL_RUN_ID) or "local". Rank 0 wipes the scope folder, then waits
 *   for join/<r> files, each holding rank r's random nonce, and publishes `current`: a fresh
 *   attempt folder name followed by every rank's nonce. A rank accepts `current` only when it
 *   lists its own nonce, and rewrites its join file while it is missing, so files left by an
 *   earlier run (same scope, same ranks) are never taken for this run's. Keys are files in
 *   the attempt folder, written to a temporary name and renamed. Rank 0 removes the scope
 *   folder once every rank is connected (dist_store_close after a barrier).
 * tcp: rank 0 serves the keys from memory on port `port` (a thread); every rank, rank 0
 *   included, is a client of host:port; the first request checks the world size.
 */
struct dist_store *dist_store_open_file(const char *dir, const struct dist_env *e, double timeout,
					char *err, size_t n);
struct dist_store *dist_store_open_tcp(const char *host, int port, const struct dist_env *e,
				       double timeout, char *err, size_t n);
/* stops the server / removes the folder (rank 0); frees s; NULL is fine */
void dist_store_close(struct dist_store *s);
const char *dist_store_where(const struct dist_store *s); /* "file store DIR", "tcp store H:P" */

int dist_store_set(struct dist_store *s, const char *key, const void *val, size_t len, char *err,
		   size_t n);
/* 1 and the value (at most cap bytes; *len its full size), 0 when the key is absent, -1 */
int dist_store_get(struct dist_store *s, const char *key, void *val, size_t cap, size_t *len,
		   char *err, size_t n);
/* waits until the key exists: 0, or -1 with "timed out" after timeout seconds */
int dist_store_wait(struct dist_store *s, const char *key, double timeout, char *err, size_t n);
/* every rank says it arrived and waits for the others; the error names the missing ranks */
int dist_store_arrive(struct dist_store *s, const struct dist_env *e, double timeout, char *err,
		      size_t n);

/* naps s seconds between two looks of a wait; -1 with err when a stop was requested (stop.h),
 * so every wait of the rendezvous ends on SIGTERM, SIGUSR1 or Ctrl-C */
int dist_nap(double s, char *err, size_t n);

/* the tcp kind (dist_store_tcp.c), behind dist_store_*; same conventions */
struct dist_tcp;
struct dist_tcp *dist_tcp_open(const char *host, int port, const struct dist_env *e,
			       double timeout, char *err, size_t n);
void dist_tcp_close(struct dist_tcp *t);
int dist_tcp_set(struct dist_tcp *t, const char *key, const void *val, size_t len, char *err,
		 size_t n);
int dist_tcp_get(struct dist_tcp *t, const char *key, void *val, size_t cap, size_t *len,
		 char *err, size_t n);

/* the loopback address every rank listens and connects on when they are all on this host:
 * MASTER_ADDR when it is one (127.0.0.0/8, ::1), 127.0.0.1 when it is localhost, when the world
 * has one rank, or when this host's ranks (LOCAL_WORLD_SIZE, SLURM's tasks on this node) are
 * the whole world; NULL when the ranks may span hosts */
const char *dist_loopback_addr(const struct dist_env *e);

/* where this rank's transport listens, in out: dist_loopback_addr when there is one (ifname
 * ignored: loopback reaches every rank), else the interface ifname (GLOO_SOCKET_IFNAME) when
 * set, else this host's address on the route to MASTER_ADDR (or the first SLURM host), else the
 * first address of this host's name, else of an interface, that is not loopback (Debian's
 * /etc/hosts maps the host name to 127.0.1.1), else 127.0.0.1 */
enum dist_listen {
	DIST_LISTEN_LOOPBACK, /* out: a loopback address */
	DIST_LISTEN_HOST,     /* out: an address of this host other nodes can reach */
	DIST_LISTEN_IFACE,    /* out: an interface name */
};
enum dist_listen dist_local_addr(const struct dist_env *e, const char *ifname, char *out,
				 size_t on);

/* backends: impl is theirs; each returns 0 or -1 with one line in err */
int dist_gloo_init(struct dist *d, struct dist_store *s, char *err, size_t n);
void dist_gloo_free(struct dist *d);
int dist_gloo_allreduce(struct dist *d, void *buf, size_t count, enum dist_dtype t, char *err,
			size_t n);
int dist_gloo_broadcast(struct dist *d, void *buf, size_t bytes, int root, char *err, size_t n);
int dist_gloo_allgatherv_f32(struct dist *d, float *buf, const size_t *counts, char *err,
			     size_t n);
int dist_gloo_barrier(struct dist *d, char *err, size_t n);

/* the Gloo backend as a table: what libattnrl_gloo.so exports (dist_gloo_plugin) in builds
 * whose torch carries a Gloo of its own (see dist_gloo_plugin.c) */
struct dist_gloo_api {
	int (*init)(struct dist *d, struct dist_store *s, char *err, size_t n);
	void (*free)(struct dist *d);
	int (*allreduce)(struct dist *d, void *buf, size_t count, enum dist_dtype t, char *err,
			 size_t n);
	int (*broadcast)(struct dist *d, void *buf, size_t bytes, int root, char *err, size_t n);
	int (*allgatherv_f32)(struct dist *d, float *buf, const size_t *counts, char *err,
			      size_t n);
	int (*barrier)(struct dist *d, char *err, size_t n);
};

int dist_nccl_init(struct dist *d, struct dist_store *s, char *err, size_t n);
void dist_nccl_free(struct dist *d);
int dist_nccl_allreduce(struct dist *d, void *buf, size_t count, enum dist_dtype t, char *err,
			size_t n);
int dist_nccl_broadcast(struct dist *d, void *buf, size_t bytes, int root, char *err, size_t n);
int dist_nccl_reduce_scatter_f32(struct dist *d, float *buf, size_t count, char *err, size_t n);
int dist_nccl_allgather_f32(struct dist *d, float *buf, size_t count, char *err, size_t n);
int dist_nccl_barrier(struct dist *d, char *err, size_t n);

#ifdef __cplusplus
}
#endif

#endif
