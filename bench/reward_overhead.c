/*
 * reward_overhead.c - the cost of the reward-program protocol per response: N requests shaped
 * like the default job's (a prompt, a 24-character response, a ground truth) scored through
 * reward_pool_score in batches of 128 (a step's), by W workers of COMMAND. Prints the wall
 * time per response; bench/reward.sh sets it beside the program alone on the same requests.
 * Usage: reward_overhead COMMAND WORKERS N REQUESTS_FILE
 * (REQUESTS_FILE receives the requests as they were sent, ids included, for the reference)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attnrl/fsutil.h"
#include "attnrl/reward_proc.h"

#define BATCH 128

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: reward_overhead COMMAND WORKERS N REQUESTS_FILE\n");
		return 2;
	}
	int workers = atoi(argv[2]), n = atoi(argv[3]);
	char err[600], (*mem)[160] = malloc((size_t)BATCH * sizeof(*mem));
	const char *bodies[BATCH];
	struct reward_reply out[BATCH];
	FILE *f = fopen(argv[4], "w");
	for (int i = 0; i < BATCH; i++) {
		snprintf(mem[i], sizeof(mem[i]), "\"task\": \"arith\", \"prompt\": \"%d+%d-7=\", "
			 "\"response\": \"%d+%d=%d,%d-7=%d.<answer>%d</answer>\", \"ground_truth\": \"%d\"",
			 i, i + 3, i, i + 3, 2 * i + 3, 2 * i + 3, 2 * i - 4, 2 * i - 4, 2 * i - 4);
		bodies[i] = mem[i];
	}
	for (int k = 0; k < n; k++)
		fprintf(f, "{\"id\": %d, %s}\n", k, bodies[k % BATCH]);
	fclose(f);
	struct reward_pool *p = reward_pool_open(argv[1], workers, 30.0, err, sizeof(err));
	if (!p || reward_pool_score(p, bodies, BATCH, out, err, sizeof(err))) { /* warm-up */
		fprintf(stderr, "reward_overhead: %s\n", err);
		return 1;
	}
	double t0 = fs_now();
	long ok = 0;
	for (int done = 0; done < n; done += BATCH) {
		int m = n - done < BATCH ? n - done : BATCH;
		if (reward_pool_score(p, bodies, m, out, err, sizeof(err))) {
			fprintf(stderr, "reward_overhead: %s\n", err);
			return 1;
		}
		for (int i = 0; i < m; i++)
			ok += out[i].status == REWARD_OK;
		reward_replies_free(out, m);
	}
	double s = fs_now() - t0;
	reward_pool_close(p);
	free(mem);
	printf("%.3f us per response (%ld of %d answered, %d workers)\n", s / n * 1e6, ok, n,
	       workers);
	return ok == n ? 0 : 1;
}
