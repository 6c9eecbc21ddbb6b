/*
 * analyze_oracle.c - random inputs through analyze.h, printed with the results, for
 * tests/ref/analyze_check.py to recompute with numpy (tests/test_analyze_oracle.sh): 60
 * responses of 5-80 tokens over 20 problems with values on a 0.1 grid (many ties), the
 * linkages under four peak rules (exact shuffle baseline), the FAI extremes of every response,
 * and the Jaccard overlap of 200 random text pairs.
 * Output lines: "resp PROBLEM R" then four lines of R values (entropy, WAAD, global FAI,
 * receiver FAI); "rule KIND Q THR_Q THR_ABS" then "out" with the pooled values, baselines and
 * densities; "ext R TOP... | BOTTOM..." per response; "jac J" then the two texts on lines
 * "a TEXT" and "b TEXT"; "stop" and the default stop words.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attnrl/analyze.h"
#include "attnrl/rng.h"

#define N_RESP 60
#define N_PROB 20
#define MAX_R 80

static float vals[N_RESP][4][MAX_R];
static struct analyze_response resp[N_RESP];

static void make_responses(struct rng *g)
{
	for (int i = 0; i < N_RESP; i++) {
		int R = (int)rng_range(g, 5, MAX_R);
		resp[i] = (struct analyze_response){ (int)rng_range(g, 0, N_PROB - 1), R, vals[i][0],
						     vals[i][1], vals[i][2], vals[i][3] };
		printf("resp %d %d\n", resp[i].problem, R);
		for (int a = 0; a < 4; a++) {
			for (int t = 0; t < R; t++) {
				vals[i][a][t] = (float)rng_range(g, 0, 20) / 10.0f;
				printf("%s%.1f", t ? " " : "", (double)vals[i][a][t]);
			}
			printf("\n");
		}
	}
}

static int run_rule(enum analyze_peak_kind kind, double q, double thr_q, double thr_abs)
{
	struct analyze_params p;
	analyze_params_default(&p);
	p.peak = (struct analyze_peak_rule){ kind, q, thr_q, thr_abs };
	p.n_shuffles = 0;
	p.n_boot = 10;
	struct analyze_linkages L;
	char err[160];
	if (analyze_linkages(resp, N_RESP, N_PROB, &p, &L, err, sizeof(err))) {
		fprintf(stderr, "analyze_oracle: %s\n", err);
		return -1;
	}
	printf("rule %d %.17g %.17g %.17g\n", (int)kind, q, thr_q, thr_abs);
	printf("out %.17g %.17g %.17g %.17g %.17g %.17g %.17g %.17g %.17g\n",
	       L.entropy.value.point, L.entropy.baseline.point, L.receiver.value.point,
	       L.receiver.baseline.point, L.follow.value.point, L.follow.baseline.point,
	       L.density_waad, L.density_glob, L.density_recv);
	return 0;
}

static void print_extremes(void)
{
	int top[MAX_R], bot[MAX_R];
	for (int i = 0; i < N_RESP; i++) {
		int R = resp[i].R;
		int n = analyze_fai_extremes(resp[i].fai_glob, 0, R - 1, 3, top, bot);
		printf("ext %d", R);
		for (int j = 0; j < n; j++)
			printf(" %d", top[j]);
		printf(" |");
		for (int j = 0; j < n; j++)
			printf(" %d", bot[j]);
		printf("\n");
	}
}

static const char *const pieces[] = {
	"The", "the", "cat", "Cat", "sat", "on", "a", "mat", "x", "=", "12", "12.5", "so", "we",
	"don't", "It's", "na\xc3\xafve", "plan", "step", "Step", "(2)", "then", "answer:", "is",
	"3x+4", "and", "AND", "you're", "won't", "sum", "ALL", "of", "--", ",", "!", "",
};

static void random_text(struct rng *g, char *out, size_t cap)
{
	int n = (int)rng_range(g, 0, 12);
	size_t k = 0;
	int n_pieces = (int)(sizeof(pieces) / sizeof(pieces[0]));
	out[0] = 0;
	for (int i = 0; i < n; i++) {
		const char *p = pieces[rng_range(g, 0, n_pieces - 1)];
		k += (size_t)snprintf(out + k, cap - k, "%s%s", i ? " " : "", p);
	}
}

static int print_jaccard(struct rng *g)
{
	char a[256], b[256];
	for (int i = 0; i < 200; i++) {
		random_text(g, a, sizeof(a));
		random_text(g, b, sizeof(b));
		double j;
		if (analyze_jaccard(a, b, NULL, 0, &j))
			return -1;
		printf("jac %.17g\na %s\nb %s\n", j, a, b);
	}
	return 0;
}

int main(void)
{
	struct rng g;
	rng_init(&g, 2510);
	make_responses(&g);
	if (run_rule(ANALYZE_PEAK_TOPQ, 0.2, 0.5, NAN) || run_rule(ANALYZE_PEAK_TOPQ, 0.35, 0.5, NAN) ||
	    run_rule(ANALYZE_PEAK_LOCALMAX, 0.2, 0.6, NAN) ||
	    run_rule(ANALYZE_PEAK_LOCALMAX, 0.2, 0.5, 1.2))
		return 1;
	print_extremes();
	printf("stop");
	for (int i = 0; i < analyze_n_stopwords_en; i++)
		printf(" %s", analyze_stopwords_en[i]);
	printf("\n");
	return print_jaccard(&g) ? 1 : 0;
}
