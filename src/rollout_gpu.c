/*
 * rollout_gpu.c - batched generation on the GPU decode engine (see rollout_gpu.h). Device
 * buffers are planned once in rollout_gpu_create (the response arrays grow with the longest
 * max_new_tokens asked for, the statistics arrays with the statistics' shape); a call queues
 * the prefill, then decode steps in runs of check_every, looking at the states between runs.
 */
#include "attnrl/rollout_gpu.h"

#include "attnrl/credit_stats.h"
#include "attnrl/fsutil.h"
#include "attnrl/kernels.h"
#include "attnrl/stop.h"

#include <cuda_runtime_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_GRAPHS 16
#define MAX_STOP 1024 /* bytes of a stop string the device table handles */

struct rollout_gpu {
	struct engine_gpu *g;
	struct engine_gpu_io io;
	const struct tokenizer *tok;
	struct rollout_gpu_opts o;
	int S, V, L, H;
	/* device: per sequence (S), per row (S), response arrays (S, M_cap) */
	int *state, *prompt_len, *resp_len, *stop_reason, *match, *row_seq;
	int32_t *last, *sampled, *out_tok;
	float *logp, *ent, *out_logp, *out_ent, *scratch;
	uint64_t *rng;
	uint8_t *is_stop;
	uint16_t *stop_next;
	int M_cap;
	char stop[MAX_STOP + 1];       /* the string stop_next was built for */
	int stop_len;
	/* device statistics, shaped as the host struct they were last made for */
	int *st_prompt_len;            /* (dummy + 1): every engine slot a row may name, -1 beyond B */
	double *st_dsum;               /* (S, Q) */
	float *st_waad, *st_fai;       /* (S, Q, M) */
	int st_q, st_m;
	/* host scratch (dummy + 1 entries; max_rows for the prefill) */
	int *h_int, *h_seq, *h_pos, *h_init; /* h_init (5 S): reset_states' staging */
	int32_t *h_tok;
	uint64_t *h_rng;
	/* the graphs of this call, one per batch size */
	struct { int n; cudaGraphExec_t exec; } graphs[MAX_GRAPHS];
	int n_graphs, graphs_off;
	struct rollout_gpu_counts counts;
};

/* ---- buffers --------------------------------------------------------------------------- */

static int dalloc(void *pp, size_t bytes)
{
	void **p = pp;
	*p = NULL;
	return cudaMalloc(p, bytes ? bytes : 1) != cudaSuccess;
}

static void dfree(void *pp)
{
	void **p = pp;
	if (*p)
		cudaFree(*p);
	*p = NULL;
}

/* is_stop (V): the tokenizer's stop ids (ids past its vocabulary are not) */
static int upload_is_stop(struct rollout_gpu *r)
{
	uint8_t *h = calloc(r->V, 1);
	if (!h)
		return -1;
	for (int t = 0; t < r->V; t++)
		h[t] = t < r->tok->vocab_size && tokenizer_is_stop(r->tok, t);
	int rc = cudaMemcpy(r->is_stop, h, r->V, cudaMemcpyHostToDevice) != cudaSuccess;
	free(h);
	return rc;
}

struct rollout_gpu *rollout_gpu_create(struct engine_gpu *g, const struct engine_config *c,
				       int max_seqs, const struct tokenizer *tok,
				       const struct rollout_gpu_opts *o, char *err, size_t n)
{
	struct rollout_gpu *r = calloc(1, sizeof(*r));
	if (!r) {
		snprintf(err, n, "rollout_gpu: out of memory");
		return NULL;
	}
	engine_gpu_io(g, &r->io);
	r->g = g;
	r->tok = tok;
	r->o = *o;
	r->o.check_every = o->check_every < 1 ? 1 : o->check_every;
	r->S = max_seqs;
	r->V = c->vocab_size;
	r->L = c->n_layers;
	r->H = c->n_heads;
	size_t S = max_seqs, V = r->V;
	int R = r->io.max_rows > max_seqs ? r->io.max_rows : max_seqs;
	int bad = max_seqs < 1 || max_seqs > r->io.dummy || max_seqs > r->io.max_rows;
	bad = bad || dalloc(&r->state, S * 4) || dalloc(&r->prompt_len, S * 4) ||
	      dalloc(&r->resp_len, S * 4) || dalloc(&r->stop_reason, S * 4) ||
	      dalloc(&r->match, S * 4) || dalloc(&r->row_seq, S * 4) || dalloc(&r->last, S * 4) ||
	      dalloc(&r->sampled, S * 4) || dalloc(&r->logp, S * 4) || dalloc(&r->ent, S * 4) ||
	      dalloc(&r->scratch, S * V * 4) || dalloc(&r->rng, S * 32) || dalloc(&r->is_stop, V) ||
	      dalloc(&r->st_prompt_len, ((size_t)r->io.dummy + 1) * 4);
	r->h_int = malloc(((size_t)r->io.dummy + 1) * sizeof(int));
	r->h_seq = malloc(R * sizeof(int));
	r->h_pos = malloc(R * sizeof(int));
	r->h_tok = malloc(R * sizeof(int32_t));
	r->h_rng = malloc(S * 32);
	r->h_init = malloc(5 * S * sizeof(int));
	if (bad || !r->h_int || !r->h_seq || !r->h_pos || !r->h_tok || !r->h_rng || !r->h_init ||
	    upload_is_stop(r)) {
		snprintf(err, n, "rollout_gpu: cannot plan the decode loop's buffers for %d sequences "
			 "(device or host memory)", max_seqs);
		rollout_gpu_destroy(r);
		return NULL;
	}
	return r;
}

static void drop_graphs(struct rollout_gpu *r)
{
	for (int i = 0; i < r->n_graphs; i++)
		if (r->graphs[i].exec)
			cudaGraphExecDestroy(r->graphs[i].exec);
	r->n_graphs = 0;
}

void rollout_gpu_destroy(struct rollout_gpu *r)
{
	if (!r)
		return;
	drop_graphs(r);
	void *dev[] = { &r->state, &r->prompt_len, &r->resp_len, &r->stop_reason, &r->match,
			&r->row_seq, &r->last, &r->sampled, &r->out_tok, &r->logp, &r->ent,
			&r->out_logp, &r->out_ent, &r->scratch, &r->rng, &r->is_stop, &r->stop_next,
			&r->st_prompt_len, &r->st_dsum, &r->st_waad, &r->st_fai };
	for (size_t i = 0; i < sizeof(dev) / sizeof(dev[0]); i++)
		dfree(dev[i]);
	free(r->h_int);
	free(r->h_seq);
	free(r->h_pos);
	free(r->h_tok);
	free(r->h_rng);
	free(r->h_init);
	free(r);
}

void rollout_gpu_counts(const struct rollout_gpu *r, struct rollout_gpu_counts *c)
{
	*c = r->counts;
}

static int ensure_resp(struct rollout_gpu *r, int M)
{
	if (M <= r->M_cap)
		return 0;
	dfree(&r->out_tok);
	dfree(&r->out_logp);
	dfree(&r->out_ent);
	size_t bytes = (size_t)r->S * M * 4;
	r->M_cap = 0;
	if (dalloc(&r->out_tok, bytes) || dalloc(&r->out_logp, bytes) || dalloc(&r->out_ent, bytes))
		return -1;
	r->M_cap = M;
	return 0;
}

/* ---- the stop string as a KMP automaton over the tokens' text --------------------------- */

int rollout_gpu_stop_table(const char *const *pieces, int V, const char *s, uint16_t *next)
{
	int m = (int)strlen(s);
	if (m < 1 || m > 65535)
		return -1;
	int *fail = malloc((m + 1) * sizeof(int));
	if (!fail)
		return -1;
	fail[0] = 0;
	for (int i = 1, k = 0; i < m; i++) {
		while (k && s[i] != s[k])
			k = fail[k - 1];
		k += s[i] == s[k];
		fail[i] = k;
	}
	for (int t = 0; t < V; t++) {
		const char *piece = pieces[t];
		for (int q0 = 0; q0 < m; q0++) {
			int q = q0;
			for (const char *c = piece; c && *c; c++) {
				if (q == m)
					q = fail[m - 1];
				while (q && *c != s[q])
					q = fail[q - 1];
				q += *c == s[q];
			}
			next[(size_t)q0 * V + t] = (uint16_t)q;
		}
	}
	free(fail);
	return 0;
}

static int ensure_stop(struct rollout_gpu *r, const char *stop, char *err, size_t n)
{
	stop = stop ? stop : "";
	size_t m = strlen(stop);
	if (m > MAX_STOP) {
		snprintf(err, n, "rollout.stop is %zu bytes; the GPU decode loop handles at most %d "
			 "(shorten it or set rollout.engine=cpu)", m, MAX_STOP);
		return -1;
	}
	if (!strcmp(stop, r->stop) && (!m || r->stop_next))
		return 0;
	dfree(&r->stop_next);
	r->stop[0] = 0;
	r->stop_len = (int)m;
	if (!m)
		return 0;
	size_t count = m * (size_t)r->V;
	uint16_t *h = malloc(count * 2);
	const char **pieces = malloc(r->V * sizeof(char *));
	for (int t = 0; pieces && t < r->V; t++)
		pieces[t] = t < r->tok->vocab_size ? tokenizer_text(r->tok, t) : NULL;
	int rc = !h || !pieces || rollout_gpu_stop_table(pieces, r->V, stop, h) ||
		 dalloc(&r->stop_next, count * 2) ||
		 cudaMemcpy(r->stop_next, h, count * 2, cudaMemcpyHostToDevice) != cudaSuccess;
	free(h);
	free(pieces);
	if (rc) {
		dfree(&r->stop_next);
		snprintf(err, n, "rollout_gpu: cannot build the stop string's table (%zu x %d entries)",
			 m, r->V);
		return -1;
	}
	memcpy(r->stop, stop, m + 1);
	return 0;
}

/* ---- statistics ------------------------------------------------------------------------ */

static int stats_begin(struct rollout_gpu *r, struct attnstats *st, int B, char *err, size_t n)
{
	if (st->maps || st->max_seqs < B) {
		snprintf(err, n, "rollout_gpu: %s; use rollout.engine=cpu", st->maps ?
			 "attention maps are only copied by the CPU engine" :
			 "the statistics hold fewer sequences than the batch");
		return -1;
	}
	if (st->n_pairs != r->st_q || st->max_resp != r->st_m || !r->st_dsum) {
		dfree(&r->st_dsum);
		dfree(&r->st_waad);
		dfree(&r->st_fai);
		size_t sq = (size_t)r->S * st->n_pairs, sqm = sq * st->max_resp;
		r->st_q = r->st_m = 0;
		if (dalloc(&r->st_dsum, sq * 8) || dalloc(&r->st_waad, sqm * 4) ||
		    dalloc(&r->st_fai, sqm * 4)) {
			snprintf(err, n, "rollout_gpu: cannot allocate the statistics on the device");
			return -1;
		}
		r->st_q = st->n_pairs;
		r->st_m = st->max_resp;
	}
	cudaStream_t s = r->io.stream;
	size_t sq = (size_t)B * r->st_q, sqm = sq * r->st_m;
	for (int b = 0; b <= r->io.dummy; b++)
		r->h_int[b] = b < B ? st->prompt_len[b] : -1;
	if (cudaMemcpyAsync(r->st_prompt_len, r->h_int, ((size_t)r->io.dummy + 1) * 4,
			    cudaMemcpyHostToDevice, s) ||
	    cudaMemsetAsync(r->st_dsum, 0, sq * 8, s) || cudaMemsetAsync(r->st_waad, 0, sqm * 4, s) ||
	    cudaMemsetAsync(r->st_fai, 0, sqm * 4, s)) {
		snprintf(err, n, "rollout_gpu: cannot reset the statistics on the device");
		return -1;
	}
	struct kern_stats base = { r->st_prompt_len, r->st_dsum, r->st_waad, r->st_fai, r->st_q,
				   r->st_m, 0, st->cfg.window, st->cfg.fai_lo, st->cfg.fai_hi };
	engine_gpu_set_stats(r->g, &base, st->layer_slot);
	return 0;
}

static int stats_end(struct rollout_gpu *r, struct attnstats *st, int B)
{
	engine_gpu_set_stats(r->g, NULL, NULL);
	size_t sq = (size_t)B * r->st_q, sqm = sq * r->st_m;
	cudaStream_t s = r->io.stream;
	return cudaMemcpyAsync(st->dsum, r->st_dsum, sq * 8, cudaMemcpyDeviceToHost, s) ||
	       cudaMemcpyAsync(st->waad, r->st_waad, sqm * 4, cudaMemcpyDeviceToHost, s) ||
	       cudaMemcpyAsync(st->fai, r->st_fai, sqm * 4, cudaMemcpyDeviceToHost, s) ||
	       cudaStreamSynchronize(s);
}

/* ---- the decode loop ------------------------------------------------------------------- */

/* one step over n rows, queued: inputs from the states, the engine, sampling, bookkeeping */
static int queue_step(struct rollout_gpu *r, int n, const struct rollout_params *p)
{
	void *s = r->io.stream;
	struct kern_loop lp = { n, r->io.dummy, r->V, p->max_new_tokens, p->ignore_eos,
				p->stats != NULL, r->stop_len, r->row_seq, r->io.seq, r->io.pos,
				r->io.tok, r->state, r->prompt_len, r->resp_len, r->stop_reason,
				r->match, r->last, r->sampled, r->logp, r->ent, r->out_tok,
				r->out_logp, r->out_ent, r->is_stop, r->stop_next };
	struct kern_sample sa = { n, r->V, p->temperature, p->top_p, p->top_k, r->io.logits, r->rng,
				  r->scratch, r->sampled, r->logp, r->ent, r->row_seq };
	return kern_loop_prepare(&lp, s) || engine_gpu_run(r->g, n, 1) || kern_sample(&sa, s) ||
	       kern_loop_advance(&lp, s) ? -1 : 0;
}

/* the graph of a step over n rows. A batch size's first step is not captured (NULL, *warmup
 * set): it runs every kernel and cuBLAS's kernels for n once, since a GPU loads a kernel's module
 * at its first launch and that must not happen inside a capture; the second step is captured.
 * NULL without *warmup: the capture failed. */
static cudaGraphExec_t graph_for(struct rollout_gpu *r, int n, const struct rollout_params *p,
				 int *warmup)
{
	int i = 0;
	*warmup = 0;
	while (i < r->n_graphs && r->graphs[i].n != n)
		i++;
	if (i < r->n_graphs && r->graphs[i].exec)
		return r->graphs[i].exec;
	if (i == r->n_graphs) {
		if (r->n_graphs == MAX_GRAPHS)
			drop_graphs(r);
		r->graphs[r->n_graphs].n = n;
		r->graphs[r->n_graphs++].exec = NULL;
		*warmup = 1;
		return NULL;
	}
	cudaStream_t s = r->io.stream;
	cudaGraph_t graph = NULL;
	cudaGraphExec_t exec = NULL;
	if (cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal))
		return NULL;
	int queued = queue_step(r, n, p) == 0;
	int ended = cudaStreamEndCapture(s, &graph) == cudaSuccess;
	int ok = queued && ended && cudaGraphInstantiate(&exec, graph, 0) == cudaSuccess;
	if (graph)
		cudaGraphDestroy(graph);
	cudaGetLastError(); /* a failed capture leaves an error behind */
	if (!ok)
		return NULL;
	r->graphs[i].exec = exec;
	r->counts.captures++;
	return exec;
}

static int run_step(struct rollout_gpu *r, int n, const struct rollout_params *p)
{
	r->counts.steps++;
	if (r->o.graphs && !r->graphs_off) {
		int warmup;
		cudaGraphExec_t e = graph_for(r, n, p, &warmup);
		if (e) {
			r->counts.graph_launches++;
			return cudaGraphLaunch(e, r->io.stream) ? -1 : 0;
		}
		if (warmup) {
			r->counts.warmups++;
			return queue_step(r, n, p);
		}
		r->graphs_off = 1;
		fprintf(stderr, "attnrl: warning: rollout.cuda_graphs: capturing a decode step failed; "
			"decoding without graphs\n");
	}
	return queue_step(r, n, p);
}

/* queues the n prefill rows staged in h_seq, h_pos, h_tok (no logits) */
static int flush_prefill(struct rollout_gpu *r, int n)
{
	cudaStream_t s = r->io.stream;
	return n && (cudaMemcpyAsync(r->io.seq, r->h_seq, n * 4, cudaMemcpyHostToDevice, s) ||
		     cudaMemcpyAsync(r->io.pos, r->h_pos, n * 4, cudaMemcpyHostToDevice, s) ||
		     cudaMemcpyAsync(r->io.tok, r->h_tok, n * 4, cudaMemcpyHostToDevice, s) ||
		     engine_gpu_run(r->g, n, 0));
}

/* prompt i's tokens but the last into slot i*G, max_rows rows per call, then copied to the
 * other G - 1 slots; the last prompt token is every sequence's first decode row */
static int prefill(struct rollout_gpu *r, const int32_t *const *prompts, const int *lens,
		   int n_prompts, int G)
{
	int n = 0;
	for (int i = 0; i < n_prompts; i++)
		for (int t = 0; t < lens[i] - 1; t++) {
			r->h_seq[n] = i * G;
			r->h_pos[n] = t;
			r->h_tok[n++] = prompts[i][t];
			if (n == r->io.max_rows) {
				if (flush_prefill(r, n))
					return -1;
				n = 0;
			}
		}
	if (flush_prefill(r, n))
		return -1;
	for (int i = 0; i < n_prompts; i++)
		for (int g = 1; g < G; g++)
			if (engine_gpu_copy_seq(r->g, i * G + g, i * G, lens[i] - 1))
				return -1;
	return 0;
}

/* every sequence sampling, no response yet, its own RNG stream as rollout.c seeds it */
static int reset_states(struct rollout_gpu *r, const int32_t *const *prompts, const int *lens,
			int B, int G, const struct rollout_params *p)
{
	int *zero = r->h_init, *plen = zero + B, *why = plen + B, *row = why + B, *last = row + B;
	for (int b = 0; b < B; b++) {
		int P = lens[b / G];
		zero[b] = 0, plen[b] = P, why[b] = -1, row[b] = b, last[b] = prompts[b / G][P - 1];
		rng_init3((struct rng *)(r->h_rng + 4 * b), p->seed,
			  (uint64_t)(p->seq_ids ? p->seq_ids[b] : b), 0x726f6c6cULL);
	}
	struct { void *dst; const void *src; } up[] = {
		{ r->state, zero }, { r->resp_len, zero }, { r->match, zero }, { r->prompt_len, plen },
		{ r->stop_reason, why }, { r->row_seq, row }, { r->last, last } };
	for (size_t i = 0; i < sizeof(up) / sizeof(up[0]); i++)
		if (cudaMemcpyAsync(up[i].dst, up[i].src, B * 4, cudaMemcpyHostToDevice, r->io.stream))
			return -1;
	return cudaMemcpyAsync(r->rng, r->h_rng, (size_t)B * 32, cudaMemcpyHostToDevice,
			       r->io.stream) != cudaSuccess;
}

static int check_sizes(const struct rollout_gpu *r, const int *lens, int n_prompts, int G,
		       const struct rollout_params *p, const struct rollout_batch *out, int cache,
		       char *err, size_t n)
{
	int B = n_prompts * G;
	if (B > r->S || B > out->cap_seqs) {
		snprintf(err, n, "rollout: %d sequences exceed the planned batch of %d", B, r->S);
		return -1;
	}
	for (int i = 0; i < n_prompts; i++) {
		int need = lens[i] + p->max_new_tokens;
		if (lens[i] < 1 || need > cache || need > out->cap_len) {
			snprintf(err, n, "rollout: prompt %d has %d tokens; with max_new_tokens=%d it needs "
				 "%d positions but model.max_seq_len allows %d (raise model.max_seq_len "
				 "or lower rollout.max_new_tokens)", i, lens[i], p->max_new_tokens, need,
				 cache);
			return -1;
		}
	}
	return 0;
}

/* the host's look between runs: how many of the current rows' sequences are not complete;
 * compacts the rows when they are at most three quarters of *n_rows */
static int look(struct rollout_gpu *r, int B, int *n_rows)
{
	cudaStream_t s = r->io.stream;
	r->counts.checks++;
	if (cudaMemcpyAsync(r->h_int, r->state, B * 4, cudaMemcpyDeviceToHost, s) ||
	    cudaStreamSynchronize(s))
		return -1;
	int live = 0;
	for (int b = 0; b < B; b++)
		if (r->h_int[b] != KERN_DONE)
			r->h_seq[live++] = b;
	if (live && live <= *n_rows * 3 / 4) {
		if (cudaMemcpyAsync(r->row_seq, r->h_seq, live * 4, cudaMemcpyHostToDevice, s))
			return -1;
		*n_rows = live;
		r->counts.compactions++;
	}
	return live;
}

/* decode steps until every sequence is complete; ROLLOUT_INTERRUPTED on a stop request */
static int decode(struct rollout_gpu *r, int B, const struct rollout_params *p, char *err,
		  size_t n)
{
	int n_rows = B, limit = p->max_new_tokens + 1; /* + the last rows of the statistics */
	for (int steps = 0;;) {
		int k = limit - steps < r->o.check_every ? limit - steps : r->o.check_every;
		for (int i = 0; i < k; i++)
			if (run_step(r, n_rows, p)) {
				snprintf(err, n, "rollout_gpu: a decode step failed on the device");
				return -1;
			}
		steps += k;
		int live = look(r, B, &n_rows);
		if (live < 0) {
			snprintf(err, n, "rollout_gpu: the device failed (%s)",
				 cudaGetErrorString(cudaGetLastError()));
			return -1;
		}
		if (!live)
			return 0;
		if (p->interruptible && stop_requested())
			return ROLLOUT_INTERRUPTED;
		if (steps >= limit) {
			snprintf(err, n, "rollout_gpu: %d sequences not complete after %d steps", live,
				 steps);
			return -1;
		}
	}
}

/* the responses into out, texts rebuilt by rollout_append, whose stop decisions must be the
 * device's */
static int collect(struct rollout_gpu *r, int B, const struct rollout_params *p,
		   struct rollout_batch *out, char *err, size_t n)
{
	cudaStream_t s = r->io.stream;
	size_t M = p->max_new_tokens, bm = (size_t)B * M * 4;
	int32_t *tok = malloc(bm);
	float *lp = malloc(bm), *en = malloc(bm);
	int *len = malloc(B * sizeof(int)), *why = malloc(B * sizeof(int)), rc = -1;
	if (!tok || !lp || !en || !len || !why) {
		snprintf(err, n, "rollout_gpu: out of memory");
		goto out;
	}
	if (cudaMemcpyAsync(tok, r->out_tok, bm, cudaMemcpyDeviceToHost, s) ||
	    cudaMemcpyAsync(lp, r->out_logp, bm, cudaMemcpyDeviceToHost, s) ||
	    cudaMemcpyAsync(en, r->out_ent, bm, cudaMemcpyDeviceToHost, s) ||
	    cudaMemcpyAsync(len, r->resp_len, B * 4, cudaMemcpyDeviceToHost, s) ||
	    cudaMemcpyAsync(why, r->stop_reason, B * 4, cudaMemcpyDeviceToHost, s) ||
	    cudaStreamSynchronize(s)) {
		snprintf(err, n, "rollout_gpu: cannot copy the responses back");
		goto out;
	}
	for (int b = 0; b < B; b++) {
		int fin = 0, k = 0;
		for (; k < len[b] && !fin; k++) {
			size_t at = (size_t)b * M + k;
			fin = rollout_append(r->tok, out, b, tok[at], lp[at], en[at], p);
		}
		if (!fin || k != len[b] || out->stop_reason[b] != why[b]) {
			snprintf(err, n, "rollout_gpu: sequence %d: the device stopped after %d tokens "
				 "(reason %d), the host's rules after %d (reason %d)", b, len[b], why[b],
				 fin ? k : -1, fin ? out->stop_reason[b] : -1);
			goto out;
		}
	}
	rc = 0;
out:
	free(tok);
	free(lp);
	free(en);
	free(len);
	free(why);
	return rc;
}

int rollout_gpu_generate(struct rollout_gpu *r, const int32_t *const *prompts, const int *lens,
			 int n_prompts, int G, const struct rollout_params *p,
			 struct rollout_batch *out, char *err, size_t n)
{
	int B = n_prompts * G;
	if (cudaSetDevice(r->io.device)) {
		snprintf(err, n, "rollout_gpu: cannot select cuda:%d", r->io.device);
		return -1;
	}
	if (check_sizes(r, lens, n_prompts, G, p, out, r->io.cache_len, err, n) ||
	    ensure_stop(r, p->stop, err, n))
		return -1;
	if (ensure_resp(r, p->max_new_tokens)) {
		snprintf(err, n, "rollout_gpu: cannot allocate the responses on the device");
		return -1;
	}
	int kv = engine_gpu_kv_reserve(r->g);
	if (kv < 0) {
		snprintf(err, n, "rollout_gpu: cannot allocate the KV cache again (%.2f GiB) on cuda:%d "
			 "after it was released for the update; set rollout.release_kv=false or lower "
			 "the batch", engine_gpu_kv_bytes(r->g) / (1024.0 * 1048576), r->io.device);
		return -1;
	}
	if (kv > 0) /* a new block: graphs captured the old addresses */
		drop_graphs(r);
	double t0 = fs_now();
	memset(&r->counts, 0, sizeof(r->counts));
	rollout_batch_reset(out, prompts, lens, n_prompts, G);
	for (int b = 0; p->stats && b < B; b++)
		attnstats_begin(p->stats, b, out->prompt_len[b]);
	if (p->stats && stats_begin(r, p->stats, B, err, n))
		return -1;
	int rc = -1;
	if (reset_states(r, prompts, lens, B, G, p) || prefill(r, prompts, lens, n_prompts, G))
		snprintf(err, n, "rollout_gpu: the prefill failed on the device");
	else
		rc = decode(r, B, p, err, n);
	drop_graphs(r);
	r->graphs_off = 0;
	if (p->stats && stats_end(r, p->stats, B) && !rc) {
		snprintf(err, n, "rollout_gpu: cannot copy the statistics back");
		rc = -1;
	}
	if (rc)
		return rc;
	if (collect(r, B, p, out, err, n))
		return -1;
	out->seconds = fs_now() - t0;
	return 0;
}

int rollout_gpu_device_fn(void *ctx, const int32_t *const *prompts, const int *lens,
			  int n_prompts, int G, const struct rollout_params *p,
			  struct rollout_batch *out, char *err, size_t n)
{
	return rollout_gpu_generate(ctx, prompts, lens, n_prompts, G, p, out, err, n);
}
