/*
 * dist_gloo_plugin.c - the Gloo backend in builds against a torch that carries a Gloo of its
 * own (pip's torch 2.x exports one from libtorch_cpu.so, a newer one than Debian's libgloo with
 * other class layouts). Linked into one process the two would bind to each other's symbols.
 * So dist_gloo.cpp and Debian's libgloo are built into libattnrl_gloo.so and loaded here with
 * RTLD_LOCAL (torch never sees libgloo) and RTLD_DEEPBIND (the plugin and libgloo look up their
 * own symbols before the process's, torch's among them); the plugin reaches the rendezvous
 * store through the few dist_store_* symbols the executable exports (Makefile: GLOO_EXPORTS).
 * tests/test_dist_gloo.sh checks with the dynamic linker's own trace that no symbol binds
 * across. Debian's libtorch uses the system libgloo itself: that build links it directly and
 * does not compile this file.
 */
#include "dist_internal.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define PLUGIN "libattnrl_gloo.so"

static const struct dist_gloo_api *api;

/* beside the executable (an installed attnrl), else where the build put it; the path tried
 * is left in tried */
static void *open_plugin(char *tried, size_t tn)
{
	char exe[PATH_MAX], beside[PATH_MAX + 32];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash = len > 0 ? (exe[len] = 0, strrchr(exe, '/')) : NULL;
	snprintf(tried, tn, "%s", ATTNRL_GLOO_PLUGIN);
	if (slash) {
		*slash = 0;
		snprintf(beside, sizeof(beside), "%s/" PLUGIN, exe);
		if (!access(beside, F_OK))
			snprintf(tried, tn, "%s", beside);
	}
	return dlopen(tried, RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
}

static int load(char *err, size_t n)
{
	char tried[PATH_MAX + 32];
	if (api)
		return 0;
	void *h = open_plugin(tried, sizeof(tried));
	const struct dist_gloo_api *(*get)(void) = NULL;
	if (h)
		*(void **)&get = dlsym(h, "dist_gloo_plugin");
	if (!get) {
		const char *why = dlerror();
		snprintf(err, n, "dist: cannot load the Gloo backend %s: %s (rebuild with the same "
			 "make command, which builds it beside the attnrl binary)", tried,
			 why ? why : "no dist_gloo_plugin in it");
		return -1;
	}
	api = get();
	return 0;
}

int dist_gloo_init(struct dist *d, struct dist_store *s, char *err, size_t n)
{
	return load(err, n) ? -1 : api->init(d, s, err, n);
}

void dist_gloo_free(struct dist *d)
{
	if (api)
		api->free(d);
}

int dist_gloo_allreduce(struct dist *d, void *buf, size_t count, enum dist_dtype t, char *err,
			size_t n)
{
	return api->allreduce(d, buf, count, t, err, n);
}

int dist_gloo_broadcast(struct dist *d, void *buf, size_t bytes, int root, char *err, size_t n)
{
	return api->broadcast(d, buf, bytes, root, err, n);
}

int dist_gloo_allgatherv_f32(struct dist *d, float *buf, const size_t *counts, char *err,
			     size_t n)
{
	return api->allgatherv_f32(d, buf, counts, err, n);
}

int dist_gloo_barrier(struct dist *d, char *err, size_t n)
{
	return api->barrier(d, err, n);
}
