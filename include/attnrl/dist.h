/*
 * dist.h - data parallelism: which rank this process is, how the ranks find each other, and
 * the collectives, behind one C interface.
 *
 * Ranks (dist_env_read): torchrun-style RANK / WORLD_SIZE / LOCAL_RANK / LOCAL_WORLD_SIZE /
 * MASTER_ADDR / MASTER_PORT when RANK is set, else SLURM's SLURM_PROCID / SLURM_NTASKS /
 * SLURM_LOCALID / tasks per node / node list when SLURM_PROCID is set (one process per task
 * under srun), else a world of one.
 *
 * Rendezvous (dist_store.c, dist_store_tcp.c): a key-value store used only at start-up:
 * either files in <dir>/.rendezvous/<scope>/ on a shared filesystem, or a small server that
 * rank 0 runs on MASTER_ADDR:MASTER_PORT. Collectives then go through a real engine: Gloo over
 * TCP on CPU, NCCL on GPU (CUDA=1 builds), nothing at all for a world of one (backend none:
 * every call returns at once, so single-process code calls the same API).
 *
 * Every wait is bounded by the timeout; every failure is one line in the caller's err buffer.
 */
#ifndef ATTNRL_DIST_H
#define ATTNRL_DIST_H

#include <stddef.h>

#define DIST_HOST_MAX 256
#define DIST_ID_MAX 128

/* what the launcher told this process */
struct dist_env {
	int rank, world;             /* global rank in [0, world) */
	int local_rank, local_world; /* within this node; local_world 0 = unknown */
	char master_addr[DIST_HOST_MAX]; /* MASTER_ADDR; "" when unset */
	int master_port;             /* MASTER_PORT; 0 when unset */
	char first_host[DIST_HOST_MAX]; /* first host of the SLURM node list; "" when none */
	char job_id[DIST_ID_MAX];    /* rendezvous scope, "" when the launcher gave none */
	char source[8];              /* "env", "slurm" or "none" */
};

/* a variable's value or NULL: getenv, or a table in the tests */
typedef const char *(*dist_lookup_fn)(void *ctx, const char *name);

int dist_env_parse(struct dist_env *e, dist_lookup_fn get, void *ctx, char *err, size_t n);
int dist_env_read(struct dist_env *e, char *err, size_t n); /* from the environment */

/* the index-th host of a SLURM host list ("node[01-04,07],gpu-a[1-2]"): 1 found, 0 when the
 * list is shorter, -1 on a syntax error */
int dist_nodelist_host(const char *list, size_t index, char *host, size_t hn, char *err,
		       size_t n);
/* tasks on node `node` from SLURM's tasks-per-node ("2(x3),1"); -1 on error */
long dist_tasks_per_node(const char *spec, long node, char *err, size_t n);

/* slice i of a flat buffer of count elements over world ranks: the first count % world ranks
 * get count / world + 1 elements, the others count / world; slices are contiguous, in rank
 * order, and cover the buffer */
void dist_slice(size_t count, int world, int i, size_t *off, size_t *len);

enum dist_backend { DIST_BACKEND_NONE, DIST_BACKEND_GLOO, DIST_BACKEND_NCCL };
enum dist_dtype { DIST_F32, DIST_F64, DIST_I64 };

struct dist_opts {
	const char *backend;    /* auto|gloo|nccl|none; auto = nccl with use_gpu on CUDA builds,
				 * gloo otherwise, none for a world of one */
	const char *rendezvous; /* auto|file|tcp; auto = tcp when MASTER_ADDR is set, else file */
	const char *dir;        /* the file rendezvous lives in <dir>/.rendezvous/ */
	double timeout;         /* seconds: the rendezvous, and each collective */
	int use_gpu;            /* the model is on CUDA device local_rank (buffers on device) */
	const struct dist_env *env; /* NULL = dist_env_read() */
	void *stream;           /* NCCL: the cudaStream_t the caller writes and reads
				 * device buffers on (tensor_cuda_current_stream); NULL =
				 * the default stream */
};

struct dist_store;

struct dist {
	struct dist_env env;
	int rank, world;
	enum dist_backend backend;
	double timeout;
	void *stream;                   /* dist_opts.stream */
	char where[DIST_HOST_MAX + 64]; /* "file store DIR" or "tcp store HOST:PORT" */
	void *impl;                     /* the backend's state */
};

/* joins the other ranks (bounded by o->timeout); d is usable, and dist_free-able, on success.
 * With a backend other than none it ignores SIGPIPE when that is at its default (a lost peer
 * is then an error from the next collective, not the death of this process). */
int dist_init(struct dist *d, const struct dist_opts *o, char *err, size_t n);
void dist_free(struct dist *d);

/*
 * Collectives: every rank calls the same ones in the same order with the same sizes. Results
 * are bit-identical on all ranks. Buffers:
 * - Gloo: host memory.
 * - NCCL: device memory, used in place, written and read on dist_opts.stream: a collective
 *   starts after the work queued there before the call, and work queued there after it
 *   returns sees its result. Host memory (a few counts, flags or metrics: cudaPointerGetAttributes
 *   says neither device nor managed) is copied to a device buffer, reduced, and copied back
 *   before the call returns, so one call site serves both backends.
 */
int dist_allreduce_sum(struct dist *d, void *buf, size_t count, enum dist_dtype t, char *err,
		       size_t n);
int dist_broadcast(struct dist *d, void *buf, size_t bytes, int root, char *err, size_t n);
/* buf (count) on every rank -> slice `rank` of buf (dist_slice) holds the sum over ranks; the
 * rest of buf is unspecified afterwards */
int dist_reduce_scatter_sum_f32(struct dist *d, float *buf, size_t count, char *err, size_t n);
/* slice `rank` of buf on every rank -> every slice on every rank */
int dist_allgather_f32(struct dist *d, float *buf, size_t count, char *err, size_t n);
int dist_barrier(struct dist *d, char *err, size_t n);

/* "none", "gloo" or "nccl" */
const char *dist_backend_name(enum dist_backend b);

#endif
