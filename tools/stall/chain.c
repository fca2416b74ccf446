/* A caller DEPTH processes deep, for tools/bench-stall.sh: each level forks one child
 * and waits for it; the last one execs COMMAND.
 *
 * Each child execs this program again rather than looping on fork: a forked process
 * links to every ancestor's anon_vma, so fork-only chains cost O(depth) per fork (2,000
 * levels took a minute of kernel time); after an exec each fork is cheap again.
 *
 * SIGTERM gets a handler, not SIG_IGN: the handler is reset by the leaf's exec, so a
 * TERM to the process group ends only the leaf, and every level then exits after its
 * child, reaped by its own parent (no thousands of orphans for init to reap).
 *
 * usage: chain DEPTH COMMAND [ARG]...
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void ignore(int signal) { (void)signal; }

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: chain DEPTH COMMAND [ARG]...\n");
        return 2;
    }
    long depth = strtol(argv[1], NULL, 10);
    if (depth <= 0) {
        execv(argv[2], argv + 2);
        perror("chain: exec");
        return 127;
    }
    signal(SIGTERM, ignore);
    pid_t child = fork();
    if (child < 0) {
        perror("chain: fork");
        return 1;
    }
    if (child == 0) {
        char next[24];
        snprintf(next, sizeof next, "%ld", depth - 1);
        argv[1] = next;
        execv("/proc/self/exe", argv);
        perror("chain: exec self");
        _exit(127);
    }
    int status;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR) {}
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
