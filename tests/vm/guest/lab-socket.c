// lab-socket FAMILY TYPE PROTO: socket(2) once, for the lab's protocol-autoload scenarios
// (a socket of a modular family makes the kernel request net-pf-FAMILY). Prints "ok" or the
// errno name's number ("errno 97"), exits 0 on success, 1 on failure, 2 on bad usage.
// Built static on the host by tests/vm/lib.sh, so it runs in the initramfs without libraries.
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: lab-socket FAMILY TYPE PROTO\n");
    return 2;
  }
  int fd = socket(atoi(argv[1]), atoi(argv[2]), atoi(argv[3]));
  if (fd < 0) {
    int e = errno;
    printf("errno %d (%s)\n", e, strerror(e));
    return 1;
  }
  printf("ok\n");
  close(fd);
  return 0;
}
