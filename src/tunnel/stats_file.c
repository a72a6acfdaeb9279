/* The statistics file (RUNDIR/NAME.stats) that `ringvpn show` prints:
 * the data path in use, handshake counters, each worker's counters and
 * each peer's facts. Rewritten every second and on SIGUSR1. */
#include "src/tunnel/stats_file.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>

#include "crypto/keys.h"
#include "src/worker/features.h"
#include "src/rundir.h"
#include "src/sockaddr.h"
#include "src/worker/worker.h"

struct peer_lines {
	FILE *f;
	bool sessions; /* a SessionTable: say which peers are in it */
};

static void write_peer(struct peer *peer, void *arg)
{
	struct peer_lines *l = arg;
	FILE *f = l->f;
	char b64[WG_KEY_B64_LEN + 1], host[SOCKADDR_TEXT_MAX] = "(none)";
	char local[INET6_ADDRSTRLEN] = "(none)";
	struct sockaddr_storage ep;
	struct source_addr src;

	key_to_base64(b64, peer_public_key(peer));
	if (peer_get_path(peer, &ep, &src))
		sockaddr_to_text(&ep, host);
	if (src.family)
		inet_ntop(src.family, &src.addr, local, sizeof(local));
	fprintf(f, "peer %s: endpoint %s local %s rx_bytes %lu tx_bytes %lu "
		   "handshakes %lu latest_handshake %lu", b64, host, local,
		(unsigned long)atomic_load(&peer->rx_bytes),
		(unsigned long)atomic_load(&peer->tx_bytes),
		(unsigned long)peer->handshakes,
		(unsigned long)(peer->last_handshake_ns / 1000000000ULL));
	if (l->sessions)
		fprintf(f, " routed %s",
			session_table_routed(peer) ? "yes" : "no");
	fputc('\n', f);
}

/* Written to a temporary name and renamed, so a reader never sees half;
 * 0600 and never through a symlink (src/rundir.h). */
int stats_file_write(struct tunnel *tn)
{
	char tmp[sizeof(tn->stats_path) + 8], names[160];
	int fd;
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", tn->stats_path);
	fd = rundir_create(tmp);
	if (fd < 0)
		return fd;
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		return -errno;
	}
	fprintf(f, "interface: %s\nlistening port: %u\nthreads: %u\n",
		tn->ifname, tn->listen_port, tn->n_workers);
	fprintf(f, "data path: %s\n",
		datapath_features_string(tn->features, names, sizeof(names)));
	fprintf(f, "handshakes: processed %lu cookies_sent %lu "
		   "ratelimited %lu bad_mac %lu\n",
		(unsigned long)tn->dev.hs_stats.processed,
		(unsigned long)tn->dev.hs_stats.cookies_sent,
		(unsigned long)tn->dev.hs_stats.ratelimited,
		(unsigned long)tn->dev.hs_stats.bad_mac);
	for (unsigned i = 0; i < tn->n_workers; i++) {
		struct worker_stats *s = &tn->workers[i].stats;

		fprintf(f, "worker %u: tun_rx %lu tun_tx %lu udp_rx %lu "
			   "udp_tx %lu sends %lu recvs %lu drops %lu bad %lu "
			   "helped %lu\n",
			i,
			(unsigned long)atomic_load(&s->tun_rx),
			(unsigned long)atomic_load(&s->tun_tx),
			(unsigned long)atomic_load(&s->udp_rx),
			(unsigned long)atomic_load(&s->udp_tx),
			(unsigned long)atomic_load(&s->sends),
			(unsigned long)atomic_load(&s->recvs),
			(unsigned long)atomic_load(&s->drops),
			(unsigned long)atomic_load(&s->bad),
			(unsigned long)atomic_load(&s->helped));
	}
	if (tn->sessions.table)
		fprintf(f, "session table: %u\n", tn->sessions.table);
	if (tn->dev.fleet)
		fprintf(f, "fleet recovery: %lu initiations\n",
			(unsigned long)tn->dev.fleet->initiations);
	peer_table_each(&tn->dev.peers, write_peer,
			&(struct peer_lines){ f, tn->sessions.table != 0 });
	if (fclose(f))
		return -errno;
	return rename(tmp, tn->stats_path) ? -errno : 0;
}
