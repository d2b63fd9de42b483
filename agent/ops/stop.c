/*
 * Stop requests: one thread waits for the stop signals, the rest of the
 * program polls a flag or is called back.
 */
#include "agent/ops/stop.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>

#include "agent/ops/log.h"

static atomic_int stop_sig;   /* the signal; 0: none */
static atomic_bool stop_quit; /* the thread is asked to end */
static pthread_mutex_t hook_mu = PTHREAD_MUTEX_INITIALIZER;
static void (*hook_fn)(void *ctx);
static void *hook_ctx;

static const char *stop_what = "run";
static const char *stop_message; /* NULL: "stop requested", stop_what */
static sigset_t stop_set, stop_old;
static pthread_t stop_thread;
static bool stop_started;

static void *stop_main(void *arg)
{
	int sig = 0;

	(void)arg;
	for (;;) {
		if (sigwait(&stop_set, &sig) != 0)
			continue;
		if (atomic_load(&stop_quit))
			return NULL;
		if (sig == SIGUSR2 || atomic_load(&stop_sig) != 0)
			continue;
		atomic_store(&stop_sig, sig);
		if (stop_message)
			log_event(LOG_WARN, stop_message, "signal",
				  strsignal(sig), NULL);
		else
			log_event(LOG_WARN, "stop requested", "signal",
				  strsignal(sig), "stopping", stop_what, NULL);
		pthread_mutex_lock(&hook_mu);
		if (hook_fn)
			hook_fn(hook_ctx);
		pthread_mutex_unlock(&hook_mu);
	}
}

static int start(void)
{
	atomic_store(&stop_sig, 0);
	atomic_store(&stop_quit, false);
	sigemptyset(&stop_set);
	sigaddset(&stop_set, SIGTERM);
	sigaddset(&stop_set, SIGINT);
	sigaddset(&stop_set, SIGHUP);
	sigaddset(&stop_set, SIGUSR2); /* wakes the thread to end it */
	if (pthread_sigmask(SIG_BLOCK, &stop_set, &stop_old) != 0)
		return -1;
	if (pthread_create(&stop_thread, NULL, stop_main, NULL) != 0) {
		pthread_sigmask(SIG_SETMASK, &stop_old, NULL);
		return -1;
	}
	stop_started = true;
	return 0;
}

int stop_start(const char *what)
{
	stop_what = what;
	stop_message = NULL;
	return start();
}

int stop_start_message(const char *message)
{
	stop_message = message;
	return start();
}

void stop_end(void)
{
	if (!stop_started)
		return;
	stop_set_hook(NULL, NULL);
	atomic_store(&stop_quit, true);
	pthread_kill(stop_thread, SIGUSR2);
	pthread_join(stop_thread, NULL);
	pthread_sigmask(SIG_SETMASK, &stop_old, NULL);
	stop_started = false;
}

int stop_requested(void)
{
	return atomic_load(&stop_sig);
}

bool stop_cancelled(void *ctx)
{
	(void)ctx;
	return atomic_load(&stop_sig) != 0;
}

void stop_set_hook(void (*fn)(void *ctx), void *ctx)
{
	pthread_mutex_lock(&hook_mu);
	hook_fn = fn;
	hook_ctx = ctx;
	if (fn && atomic_load(&stop_sig) != 0)
		fn(ctx);
	pthread_mutex_unlock(&hook_mu);
}
