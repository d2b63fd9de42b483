#include "agent/cli.h"

#include <sys/prctl.h>
#include <sys/resource.h>

#ifdef __GLIBC__
#include <malloc.h>
#endif

/*
 * Before anything secret is read: no core dump, and no ptrace or
 * /proc/PID/mem for other processes of the same user. A core file would
 * hold the secret key, the encryption key and the database password; a
 * non-dumpable process's /proc entries belong to root. Programs we start
 * (dump tools, psql) are dumpable again after exec, but keep the core
 * limit of 0.
 */
static void keep_memory_private(void)
{
	const struct rlimit none = {0, 0};

	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0 ||
	    setrlimit(RLIMIT_CORE, &none) != 0) {
		/* Neither fails on Linux with these arguments. */
	}
}

int main(int argc, char **argv)
{
	keep_memory_private();
#ifdef __GLIBC__
	/*
	 * Buffers of a MiB or more (upload parts, gzip blocks) are mapped
	 * on their own and unmapped when freed. glibc's default threshold
	 * moves up after the first such free, so later parts come from the
	 * heap, where a freed part can stay resident beside the live ones:
	 * peak RSS then varied by a part (8 MiB) from run to run. A fixed
	 * threshold keeps memory at what is in use.
	 */
	mallopt(M_MMAP_THRESHOLD, 1024 * 1024);
#endif
	return cli_main(argc, argv);
}
