#include "src/tunnel/workers.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "src/worker/features.h"
#include "src/log.h"
#include "src/worker/worker.h"

unsigned tunnel_worker_count(const struct config *cfg)
{
	long n = cfg->threads ? (long)cfg->threads :
				sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		return 1;
	return n > TUN_MAX_QUEUES ? TUN_MAX_QUEUES : (unsigned)n;
}

/* What a worker may try: the offloads the TUN device took, and every
 * socket and ring feature that is not turned off (the worker probes). */
static unsigned int datapath_allowed(const struct tunnel *tn)
{
	unsigned int f = DP_ALL & ~tn->disabled &
			 ~(unsigned int)(DP_VNET_HDR | DP_TSO | DP_USO);

	if (tn->tun.features & TUN_VNET_HDR)
		f |= DP_VNET_HDR;
	if (tn->tun.features & TUN_TSO)
		f |= DP_TSO;
	if (tn->tun.features & TUN_USO)
		f |= DP_USO;
	return f;
}

int tunnel_workers_start(struct tunnel *tn, int *fds, char *err,
			 size_t err_len)
{
	char names[160];
	int ret;

	tn->dp.allowed = datapath_allowed(tn);
	for (unsigned i = 0; i < tn->n_workers; i++) {
		ret = worker_init(&tn->workers[i], &tn->dp, i, tn->tun.fds[i],
				  fds[i]);
		fds[i] = -1; /* the worker owns it now */
		if (ret) {
			snprintf(err, err_len, "cannot set up worker %u: %s",
				 i, strerror(-ret));
			return ret;
		}
	}
	tn->features = tn->workers[0].features;
	log_info("%s: data path: %s", tn->ifname,
		 datapath_features_string(tn->features, names,
					  sizeof(names)));
	for (unsigned i = 0; i < tn->n_workers; i++) {
		ret = worker_start(&tn->workers[i]);
		if (ret) {
			snprintf(err, err_len, "cannot start worker %u: %s", i,
				 strerror(-ret));
			return ret;
		}
	}
	return 0;
}

void tunnel_workers_stop(struct tunnel *tn)
{
	atomic_store(&tn->dp.stopping, true);
	for (unsigned i = 0; i < tn->n_workers; i++)
		if (tn->workers[i].started)
			worker_wake(&tn->workers[i]);
	for (unsigned i = 0; i < tn->n_workers; i++)
		worker_join(&tn->workers[i]);
	for (unsigned i = 0; i < tn->n_workers; i++)
		worker_destroy(&tn->workers[i]);
}
