/*
 * Bench helper for the capture benchmark's toggled rate section: attaches given
 * programs through TCX links (as the exporter does by default) and detaches them
 * on command, and counts packets over timed intervals, so that one traffic stream
 * can alternate between hooks every fraction of a second. Runs in the lab's node
 * namespace; never part of the product.
 *
 *   tcx-toggle COUNTED_INTERFACE INTERFACE...
 *
 * Commands on stdin, one reply line each on stdout:
 *   attach INGRESS_PROGRAM_ID EGRESS_PROGRAM_ID  -> "ok": links at the head of both hooks of every INTERFACE,
 *                                                   in place of any links it held
 *   detach                                       -> "ok": closes those links
 *   measure MILLISECONDS                         -> "PACKETS NANOSECONDS": packets COUNTED_INTERFACE
 *                                                   transmitted (into its pod) over that time
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Kernel >= 6.6 UAPI values, absent from the 6.1 headers (as in native/src/core/flow_capture.cc). */
#define TCX_INGRESS 46
#define TCX_EGRESS 47
#ifndef BPF_F_BEFORE
#define BPF_F_BEFORE (1U << 3)
#endif

#define MAX_INTERFACES 8

static unsigned interface_indexes[MAX_INTERFACES];
static int interface_count;
static int link_fds[2 * MAX_INTERFACES];
static int link_count;

static long long now_ns(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec * 1000000000LL + now.tv_nsec;
}

/* tx_packets of an interface, from this network namespace's /proc/net/dev. */
static unsigned long long transmitted_packets(const char *interface)
{
	char line[512];
	FILE *dev = fopen("/proc/net/dev", "r");
	unsigned long long packets = 0;

	if (!dev) {
		perror("/proc/net/dev");
		exit(1);
	}
	while (fgets(line, sizeof(line), dev)) {
		char *colon = strchr(line, ':');
		char *name = line;
		unsigned long long fields[10];

		if (!colon)
			continue;
		*colon = '\0';
		while (*name == ' ')
			name++;
		if (strcmp(name, interface) != 0)
			continue;
		/* receive: bytes packets errs drop fifo frame compressed multicast; transmit: bytes packets */
		if (sscanf(colon + 1, "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &fields[0], &fields[1], &fields[2],
			   &fields[3], &fields[4], &fields[5], &fields[6], &fields[7], &fields[8], &fields[9]) == 10)
			packets = fields[9];
	}
	fclose(dev);
	return packets;
}

static void detach_all(void)
{
	while (link_count > 0)
		close(link_fds[--link_count]);
}

static int attach_all(unsigned ingress_id, unsigned egress_id)
{
	int ingress = bpf_prog_get_fd_by_id(ingress_id);
	int egress = bpf_prog_get_fd_by_id(egress_id);
	LIBBPF_OPTS(bpf_link_create_opts, head, .flags = BPF_F_BEFORE);
	int error = 0;

	detach_all();
	if (ingress < 0 || egress < 0) {
		error = ingress < 0 ? ingress : egress;
		goto out;
	}
	for (int i = 0; i < interface_count && !error; i++) {
		const struct { int program; int hook; } hooks[] = { { ingress, TCX_INGRESS }, { egress, TCX_EGRESS } };

		for (int h = 0; h < 2 && !error; h++) {
			int link = bpf_link_create(hooks[h].program, interface_indexes[i], hooks[h].hook, &head);

			if (link < 0)
				error = link;
			else
				link_fds[link_count++] = link;
		}
	}
	if (error)
		detach_all();
out:
	if (ingress >= 0)
		close(ingress);
	if (egress >= 0)
		close(egress);
	return error;
}

int main(int argc, char **argv)
{
	char command[128];

	if (argc < 3 || argc - 2 > MAX_INTERFACES) {
		fprintf(stderr, "usage: %s COUNTED_INTERFACE INTERFACE... (at most %d)\n", argv[0], MAX_INTERFACES);
		return 2;
	}
	for (int i = 2; i < argc; i++) {
		interface_indexes[interface_count] = if_nametoindex(argv[i]);
		if (interface_indexes[interface_count++] == 0) {
			perror(argv[i]);
			return 1;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	while (fgets(command, sizeof(command), stdin)) {
		unsigned ingress_id, egress_id, milliseconds;

		if (sscanf(command, "attach %u %u", &ingress_id, &egress_id) == 2) {
			int error = attach_all(ingress_id, egress_id);

			if (error)
				printf("error %s\n", strerror(-error));
			else
				printf("ok\n");
		} else if (strncmp(command, "detach", 6) == 0) {
			detach_all();
			printf("ok\n");
		} else if (sscanf(command, "measure %u", &milliseconds) == 1) {
			unsigned long long before = transmitted_packets(argv[1]);
			long long start = now_ns();
			struct timespec pause = { milliseconds / 1000, (milliseconds % 1000) * 1000000L };

			nanosleep(&pause, NULL);
			unsigned long long after = transmitted_packets(argv[1]);
			printf("%llu %lld\n", after - before, now_ns() - start);
		} else {
			printf("error unknown command\n");
		}
	}
	detach_all();
	return 0;
}
