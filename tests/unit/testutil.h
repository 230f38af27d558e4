/*
 * Helpers shared by the unit tests: a deterministic random generator
 * (splitmix64), so that a failing case reproduces exactly from its seed.
 */
#ifndef JOBS_TESTUTIL_H
#define JOBS_TESTUTIL_H

#include <stdint.h>

static uint64_t rng;	/* the generator's state: set it to seed a test */

static inline uint64_t
rnd(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

#endif
