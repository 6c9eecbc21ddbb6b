/*
 * dist_worker.c - one rank of the multi-process dist tests (tests/test_dist_gloo.sh), started
 * several times with RANK / WORLD_SIZE / ... in its environment:
 *
 *   dist_worker run DIR RENDEZVOUS TIMEOUT [quit|stall]  joins, checks every collective
 *       against closed-form sums (exact: small integers in float), prints "rank R/W ok ...";
 *       with `quit` rank 1 leaves right after joining, with `stall` it sleeps past the timeout
 *       first (the others must fail cleanly, within the timeout)
 *   dist_worker hostnames LIST   prints a SLURM host list, one host a line
 *
 * DIST_BACKEND picks dist.backend (default auto).
 *
 * Any failure: one line on stderr, exit 1.
 */
#include "attnrl/dist.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int fail(const char *what, const char *err)
{
	fprintf(stderr, "%s%s%s\n", what, err ? ": " : "", err ? err : "");
	return 1;
}

static int hostnames(const char *list)
{
	char host[DIST_HOST_MAX], err[256];
	for (size_t i = 0;; i++) {
		int rc = dist_nodelist_host(list, i, host, sizeof(host), err, sizeof(err));
		if (rc < 0)
			return fail(err, NULL);
		if (rc == 0)
			return 0;
		printf("%s\n", host);
	}
}

static int check_allreduce(struct dist *d, char *err, size_t n)
{
	size_t count = 300007; /* more than one Gloo segment of 1 MiB */
	long w = d->world, r = d->rank, tri = w * (w + 1) / 2;
	float *f = malloc(count * sizeof(*f));
	double *g = malloc(count * sizeof(*g));
	int64_t x[3] = { (r + 1) << 40, -(r + 1), r * r };
	int bad = !f || !g;
	for (size_t i = 0; !bad && i < count; i++) {
		f[i] = (float)((r + 1) * (long)(i % 13)) * 0.5f;
		g[i] = (double)(r + 1) * ((double)i + 0.25);
	}
	if (bad || dist_allreduce_sum(d, f, count, DIST_F32, err, n) ||
	    dist_allreduce_sum(d, g, count, DIST_F64, err, n) ||
	    dist_allreduce_sum(d, x, 3, DIST_I64, err, n)) {
		free(f), free(g);
		return bad ? fail("out of memory", NULL) : fail("allreduce", err);
	}
	for (size_t i = 0; i < count; i++) {
		if (f[i] != (float)(tri * (long)(i % 13)) * 0.5f ||
		    g[i] != (double)tri * ((double)i + 0.25)) {
			fprintf(stderr, "allreduce: element %zu is %g / %g\n", i, f[i], g[i]);
			bad = 1;
			break;
		}
	}
	long sq = (w - 1) * w * (2 * w - 1) / 6;
	if (x[0] != tri << 40 || x[1] != -tri || x[2] != sq)
		bad = fail("allreduce i64: wrong sums", NULL);
	free(f), free(g);
	return bad;
}

static int check_broadcast(struct dist *d, char *err, size_t n)
{
	unsigned char b[1001];
	int root = d->world - 1;
	for (size_t i = 0; i < sizeof(b); i++)
		b[i] = d->rank == root ? (unsigned char)(i * 7 + 3) : 0;
	if (dist_broadcast(d, b, sizeof(b), root, err, n))
		return fail("broadcast", err);
	for (size_t i = 0; i < sizeof(b); i++)
		if (b[i] != (unsigned char)(i * 7 + 3))
			return fail("broadcast: wrong bytes", NULL);
	return 0;
}

/* reduce-scatter then all-gather = all-reduce, over counts that do and do not divide */
static int check_scatter_gather(struct dist *d, size_t count, char *err, size_t n)
{
	long w = d->world, half = w * (w - 1) / 2;
	float *f = malloc((count ? count : 1) * sizeof(*f));
	size_t off, len;
	if (!f)
		return fail("out of memory", NULL);
	for (size_t i = 0; i < count; i++)
		f[i] = (float)(d->rank + (long)(i % 1000));
	if (dist_reduce_scatter_sum_f32(d, f, count, err, n)) {
		free(f);
		return fail("reduce_scatter", err);
	}
	dist_slice(count, d->world, d->rank, &off, &len);
	for (size_t i = 0; i < count; i++)
		if (i < off || i >= off + len)
			f[i] = -1; /* poison what the gather must fill */
	for (size_t i = off; i < off + len; i++) {
		if (f[i] != (float)(w * (long)(i % 1000) + half)) {
			free(f);
			return fail("reduce_scatter: wrong sum in this rank's slice", NULL);
		}
	}
	if (dist_allgather_f32(d, f, count, err, n)) {
		free(f);
		return fail("allgather", err);
	}
	for (size_t i = 0; i < count; i++) {
		if (f[i] != (float)(w * (long)(i % 1000) + half)) {
			fprintf(stderr, "allgather: count %zu element %zu is %g\n", count, i, f[i]);
			free(f);
			return 1;
		}
	}
	free(f);
	return 0;
}

static int run(const char *dir, const char *rdzv, double timeout, const char *mode)
{
	struct dist d;
	char err[512];
	const char *backend = getenv("DIST_BACKEND");
	struct dist_opts o = { .backend = backend ? backend : "auto", .rendezvous = rdzv,
			       .dir = dir, .timeout = timeout };
	if (dist_init(&d, &o, err, sizeof(err)))
		return fail(err, NULL);
	if (mode && d.rank == 1) {
		if (!strcmp(mode, "stall"))
			sleep((unsigned)timeout + 2);
		dist_free(&d);
		return 0;
	}
	int bad = check_allreduce(&d, err, sizeof(err)) || check_broadcast(&d, err, sizeof(err)) ||
		  check_scatter_gather(&d, 1000003, err, sizeof(err)) ||
		  check_scatter_gather(&d, 2, err, sizeof(err)) ||
		  check_scatter_gather(&d, 0, err, sizeof(err));
	if (!bad && dist_barrier(&d, err, sizeof(err)))
		bad = fail("barrier", err);
	if (!bad)
		printf("rank %d/%d ok (backend %s, %s)\n", d.rank, d.world,
		       dist_backend_name(d.backend), d.where[0] ? d.where : "no rendezvous");
	dist_free(&d);
	return bad;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "hostnames"))
		return hostnames(argv[2]);
	if ((argc == 5 || argc == 6) && !strcmp(argv[1], "run"))
		return run(argv[2], argv[3], atof(argv[4]), argc == 6 ? argv[5] : NULL);
	fprintf(stderr, "usage: dist_worker run DIR auto|file|tcp TIMEOUT [quit|stall] | "
		"hostnames LIST\n");
	return 2;
}
