/*
 * rng.h - a small deterministic random number generator (splitmix64 seeding + xoshiro256**).
 * The same seed gives the same stream on every machine and torch version; the state is plain
 * data so that checkpoints can store it.
 */
#ifndef ATTNRL_RNG_H
#define ATTNRL_RNG_H

#include <stdint.h>

struct rng { uint64_t s[4]; };

void rng_init(struct rng *r, uint64_t seed);
/* a stream derived from (seed, a, b): independent streams for ranks, steps, sequences */
void rng_init3(struct rng *r, uint64_t seed, uint64_t a, uint64_t b);
uint64_t rng_u64(struct rng *r);
double rng_uniform(struct rng *r);          /* [0, 1) with 53 bits */
int64_t rng_range(struct rng *r, int64_t lo, int64_t hi); /* uniform integer in [lo, hi] */
double rng_normal(struct rng *r);           /* standard normal (Box-Muller, no cached value) */
void rng_shuffle_i64(struct rng *r, int64_t *a, int64_t n);

#endif
