#include "src/resolver.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "src/config.h"
#include "src/grow.h"

struct question {
	uint8_t key[WG_KEY_LEN];
	char *host, *port;
};

struct resolver {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct question *queue; /* oldest first */
	size_t n_queue;
	struct resolver_result *done; /* oldest first */
	size_t n_done;
	bool busy; /* the thread is resolving busy_key */
	uint8_t busy_key[WG_KEY_LEN];
	bool closing;
	unsigned refs; /* the owner and the thread */
	pthread_t thread;
};

static void question_free(struct question *q)
{
	free(q->host);
	free(q->port);
}

static void destroy(struct resolver *r)
{
	for (size_t i = 0; i < r->n_queue; i++)
		question_free(&r->queue[i]);
	free(r->queue);
	free(r->done);
	pthread_cond_destroy(&r->wake);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

/* Called with the lock held; returns it released, r freed if last. */
static void unref_locked(struct resolver *r)
{
	bool last = --r->refs == 0;

	pthread_mutex_unlock(&r->lock);
	if (last)
		destroy(r);
}

/* Outside the lock: the one slow step. */
static void answer(const struct question *q, struct resolver_result *res)
{
	struct config_peer p = { .endpoint_host = q->host,
				 .endpoint_port = q->port };

	memset(res, 0, sizeof(*res));
	memcpy(res->key, q->key, WG_KEY_LEN);
	res->ret = config_resolve_endpoint(&p, &res->addr, &res->len, NULL, 0);
}

static void *run(void *arg)
{
	struct resolver *r = arg;
	struct resolver_result res;
	struct question q;

	pthread_mutex_lock(&r->lock);
	while (!r->closing) {
		if (!r->n_queue) {
			pthread_cond_wait(&r->wake, &r->lock);
			continue;
		}
		q = r->queue[0];
		memmove(r->queue, r->queue + 1, --r->n_queue * sizeof(q));
		r->busy = true;
		memcpy(r->busy_key, q.key, WG_KEY_LEN);
		pthread_mutex_unlock(&r->lock);
		answer(&q, &res);
		question_free(&q);
		pthread_mutex_lock(&r->lock);
		r->busy = false;
		/* Out of memory: the answer is lost, the peer asks again. */
		if (!grow_array(&r->done, r->n_done, sizeof(res), false))
			r->done[r->n_done++] = res;
	}
	unref_locked(r);
	return NULL;
}

/* With every signal blocked: the control thread's signalfd must hear
 * them all. */
static int start(struct resolver *r)
{
	sigset_t all, old;
	int ret;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = pthread_create(&r->thread, NULL, run, r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return -ret;
}

struct resolver *resolver_new(void)
{
	struct resolver *r = calloc(1, sizeof(*r));
	int ret;

	if (!r)
		return NULL;
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->wake, NULL);
	r->refs = 2;
	ret = start(r);
	if (ret) {
		destroy(r);
		errno = -ret;
		return NULL;
	}
	return r;
}

/* Whether key's question is queued, being resolved, or answered and
 * not yet taken: asking again before its answer is taken would only
 * bring the same answer twice. */
static bool asked(const struct resolver *r, const uint8_t *key)
{
	if (r->busy && !memcmp(r->busy_key, key, WG_KEY_LEN))
		return true;
	for (size_t i = 0; i < r->n_queue; i++)
		if (!memcmp(r->queue[i].key, key, WG_KEY_LEN))
			return true;
	for (size_t i = 0; i < r->n_done; i++)
		if (!memcmp(r->done[i].key, key, WG_KEY_LEN))
			return true;
	return false;
}

int resolver_ask(struct resolver *r, const uint8_t key[WG_KEY_LEN],
		 const char *host, const char *port)
{
	struct question q = { .host = strdup(host), .port = strdup(port) };
	int ret = 0;

	memcpy(q.key, key, WG_KEY_LEN);
	pthread_mutex_lock(&r->lock);
	if (!q.host || !q.port)
		ret = -ENOMEM;
	else if (asked(r, key))
		ret = -EBUSY;
	else if (grow_array(&r->queue, r->n_queue, sizeof(q), false))
		ret = -ENOMEM;
	if (!ret) {
		r->queue[r->n_queue++] = q;
		pthread_cond_signal(&r->wake);
	}
	pthread_mutex_unlock(&r->lock);
	if (ret)
		question_free(&q);
	return ret;
}

size_t resolver_take(struct resolver *r, struct resolver_result *out,
		     size_t max)
{
	size_t n;

	pthread_mutex_lock(&r->lock);
	n = r->n_done < max ? r->n_done : max;
	/* Nothing done yet may mean no array yet: memcpy wants none NULL. */
	if (n) {
		memcpy(out, r->done, n * sizeof(*out));
		memmove(r->done, r->done + n,
			(r->n_done - n) * sizeof(*out));
		r->n_done -= n;
	}
	pthread_mutex_unlock(&r->lock);
	return n;
}

/* An idle thread leaves at once: it is joined, and nothing of it
 * outlives the owner (valgrind sees no thread left at exit). One in the
 * middle of a lookup is left to finish it alone. */
void resolver_free(struct resolver *r)
{
	bool busy;

	if (!r)
		return;
	pthread_mutex_lock(&r->lock);
	r->closing = true;
	busy = r->busy;
	pthread_cond_signal(&r->wake);
	pthread_mutex_unlock(&r->lock);
	if (busy)
		pthread_detach(r->thread);
	else
		pthread_join(r->thread, NULL);
	pthread_mutex_lock(&r->lock);
	unref_locked(r);
}
