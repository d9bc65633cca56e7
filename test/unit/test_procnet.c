/* SPDX-License-Identifier: Apache-2.0 */
#include "unit.h"
#include "../../lib/procnet.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

TEST(procnet_parses_tcp_lines)
{
	struct tcp_entry t;

	CHECK_INT(procnet_parse_line("  sl  local_address rem_address   st tx_queue rx_queue", false, &t), -1);
	CHECK_INT(procnet_parse_line("   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 123456 1 0000000000000000 100 0 0 10 0", false, &t), 0);
	CHECK_INT(t.local_port, 8080);
	CHECK_INT(t.state, 0x0A);
	CHECK_INT(t.inode, 123456);
	CHECK_INT(t.local_addr[0], 0x01);
	CHECK_INT(procnet_parse_line("   0: 0100007F:XYZ0 00000000:0000 0A", false, &t), -1);
	CHECK_INT(procnet_parse_line("   1: 00000000000000000000000001000000:0CEA 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 42 1", true, &t), 0);
	CHECK_INT(t.local_port, 3306);
	CHECK_INT(t.inode, 42);
}

TEST(procnet_finds_our_own_listener)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	uint64_t ino;
	char comm[32];

	CHECK(fd >= 0);
	CHECK_INT(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	CHECK_INT(listen(fd, 1), 0);
	CHECK_INT(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	ino = procnet_listener_inode("/proc", ntohs(a.sin_port));
	CHECK(ino != 0);
	CHECK_INT(procnet_inode_owner(ino, comm, sizeof(comm)), getpid());
	close(fd);
}
