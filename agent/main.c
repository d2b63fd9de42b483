#include "agent/cli.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif

int main(int argc, char **argv)
{
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
