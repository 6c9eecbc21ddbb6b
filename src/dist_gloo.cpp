/*
 * dist_gloo.cpp - the CPU backend of dist: Gloo's collectives over its TCP transport, host
 * memory only. A thin layer: the rendezvous store (dist_store.c) is handed to Gloo through
 * the gloo::rendezvous::Store interface, and every Gloo call is wrapped so that no exception
 * crosses the extern "C" functions (Gloo throws gloo::IoException on a lost or silent peer,
 * gloo::EnforceNotMet on misuse): the message goes to the caller's err buffer instead.
 *
 * The transport listens where dist_local_addr says: on loopback when every rank is on this
 * host, else on the interface named by GLOO_SOCKET_IFNAME (as in PyTorch), else on this host's
 * address on the route to MASTER_ADDR.
 */
#include "dist_internal.h"

#include <gloo/allgatherv.h>
#include <gloo/allreduce.h>
#include <gloo/barrier.h>
#include <gloo/broadcast.h>
#include <gloo/math.h>
#include <gloo/rendezvous/context.h>
#include <gloo/rendezvous/store.h>
#include <gloo/transport/tcp/device.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

/* dist_store behind Gloo's store interface (Gloo uses it to swap pair addresses) */
class StoreAdapter : public gloo::rendezvous::Store {
public:
	StoreAdapter(struct dist_store *s, double timeout) : s_(s), timeout_(timeout) {}

	void set(const std::string &key, const std::vector<char> &data) override
	{
		char err[512];
		if (dist_store_set(s_, key.c_str(), data.data(), data.size(), err, sizeof(err)))
			throw std::runtime_error(err);
	}

	std::vector<char> get(const std::string &key) override
	{
		char err[512];
		size_t len = 0;
		wait({ key });
		std::vector<char> v(4096);
		for (;;) {
			int rc = dist_store_get(s_, key.c_str(), v.data(), v.size(), &len, err,
						sizeof(err));
			if (rc < 0)
				throw std::runtime_error(err);
			if (rc == 0)
				throw std::runtime_error("dist: rendezvous key '" + key + "' vanished");
			if (len <= v.size())
				break;
			v.resize(len);
		}
		v.resize(len);
		return v;
	}

	void wait(const std::vector<std::string> &keys) override
	{
		wait(keys, std::chrono::milliseconds((long)(timeout_ * 1000)));
	}

	void wait(const std::vector<std::string> &keys,
		  const std::chrono::milliseconds &timeout) override
	{
		char err[512];
		double t = (double)timeout.count() / 1000;
		for (const auto &k : keys)
			if (dist_store_wait(s_, k.c_str(), t, err, sizeof(err)))
				throw std::runtime_error(err);
	}

private:
	struct dist_store *s_;
	double timeout_;
};

struct Gloo {
	std::shared_ptr<gloo::rendezvous::Context> ctx;
	std::chrono::milliseconds timeout;
	uint32_t tag = 0;
};

Gloo *gloo_of(struct dist *d)
{
	return static_cast<Gloo *>(d->impl);
}

/* where the transport listens: an interface or an address (dist_local_addr) */
gloo::transport::tcp::attr device_attr(const struct dist_env *e)
{
	gloo::transport::tcp::attr a;
	char where[DIST_HOST_MAX];
	if (dist_local_addr(e, getenv("GLOO_SOCKET_IFNAME"), where, sizeof(where)) ==
	    DIST_LISTEN_IFACE)
		a.iface = where;
	else
		a.hostname = where;
	return a;
}

/* runs f, turning any exception into "dist: gloo WHAT: message" in err */
template <typename F> int guard(const char *what, char *err, size_t n, F f)
{
	try {
		f();
		return 0;
	} catch (const std::exception &ex) {
		std::string m = ex.what();
		for (auto &c : m)
			if (c == '\n' || c == '\r')
				c = ' ';
		if (m.rfind("dist: ", 0) == 0)
			snprintf(err, n, "%s", m.c_str());
		else
			snprintf(err, n, "dist: gloo %s failed: %s (%s)", what, m.c_str(),
				 strcmp(what, "connect") ?
				 "a rank exited or stalled past dist.timeout?" :
				 "set GLOO_SOCKET_IFNAME to an interface the other nodes can reach");
	} catch (...) {
		snprintf(err, n, "dist: gloo %s failed: unknown exception", what);
	}
	return -1;
}

template <typename T> void allreduce_sum(Gloo *g, T *p, size_t count)
{
	gloo::AllreduceOptions o(g->ctx);
	o.setOutput(p, count);
	o.setReduceFunction(
		static_cast<void (*)(void *, const void *, const void *, size_t)>(&gloo::sum<T>));
	o.setTag(g->tag++);
	o.setTimeout(g->timeout);
	gloo::allreduce(o);
}

} // namespace

extern "C" int dist_gloo_init(struct dist *d, struct dist_store *s, char *err, size_t n)
{
	Gloo *g = new (std::nothrow) Gloo;
	if (!g) {
		snprintf(err, n, "dist: out of memory");
		return -1;
	}
	int rc = guard("connect", err, n, [&] {
		StoreAdapter store(s, d->timeout);
		auto attr = device_attr(&d->env);
		auto dev = gloo::transport::tcp::CreateDevice(attr);
		g->timeout = std::chrono::milliseconds((long)(d->timeout * 1000));
		g->ctx = std::make_shared<gloo::rendezvous::Context>(d->rank, d->world);
		g->ctx->setTimeout(g->timeout);
		g->ctx->connectFullMesh(store, dev);
	});
	if (rc) {
		delete g;
		return -1;
	}
	d->impl = g;
	return 0;
}

extern "C" void dist_gloo_free(struct dist *d)
{
	Gloo *g = gloo_of(d);
	try {
		delete g;
	} catch (...) {
	}
	d->impl = nullptr;
}

extern "C" int dist_gloo_allreduce(struct dist *d, void *buf, size_t count, enum dist_dtype t,
				   char *err, size_t n)
{
	Gloo *g = gloo_of(d);
	return guard("allreduce", err, n, [&] {
		if (t == DIST_F32)
			allreduce_sum(g, static_cast<float *>(buf), count);
		else if (t == DIST_F64)
			allreduce_sum(g, static_cast<double *>(buf), count);
		else
			allreduce_sum(g, static_cast<int64_t *>(buf), count);
	});
}

extern "C" int dist_gloo_broadcast(struct dist *d, void *buf, size_t bytes, int root, char *err,
				   size_t n)
{
	Gloo *g = gloo_of(d);
	return guard("broadcast", err, n, [&] {
		gloo::BroadcastOptions o(g->ctx);
		o.setOutput(static_cast<uint8_t *>(buf), bytes);
		o.setRoot(root);
		o.setTag(g->tag++);
		o.setTimeout(g->timeout);
		gloo::broadcast(o);
	});
}

extern "C" int dist_gloo_allgatherv_f32(struct dist *d, float *buf, const size_t *counts,
					char *err, size_t n)
{
	Gloo *g = gloo_of(d);
	return guard("allgather", err, n, [&] {
		gloo::AllgathervOptions o(g->ctx);
		o.setOutput(buf, std::vector<size_t>(counts, counts + d->world));
		o.setTag(g->tag++);
		o.setTimeout(g->timeout);
		gloo::allgatherv(o);
	});
}

extern "C" int dist_gloo_barrier(struct dist *d, char *err, size_t n)
{
	Gloo *g = gloo_of(d);
	return guard("barrier", err, n, [&] {
		gloo::BarrierOptions o(g->ctx);
		o.setTag(g->tag++);
		o.setTimeout(g->timeout);
		gloo::barrier(o);
	});
}

#ifdef ATTNRL_GLOO_PLUGIN
/* builds against a torch that carries its own Gloo: this file is libattnrl_gloo.so, loaded
 * by dist_gloo_plugin.c with a symbol scope of its own, and this table is its one export */
extern "C" __attribute__((visibility("default"))) const struct dist_gloo_api *
dist_gloo_plugin(void)
{
	static const struct dist_gloo_api api = { dist_gloo_init,	    dist_gloo_free,
						  dist_gloo_allreduce,	    dist_gloo_broadcast,
						  dist_gloo_allgatherv_f32, dist_gloo_barrier };
	return &api;
}
#endif
