/* Preloaded into the Swift servers that scripts/bench-instructions runs under valgrind.
 *
 * libdispatch parks the main thread of an async Swift program in sigsuspend() with a signal mask
 * that lives in read-only memory; valgrind 3.19 (Debian 12) edits the mask it is given in place,
 * faults on that page and stops ("Valgrind received a signal 11", in _dispatch_sigsuspend). This
 * sigsuspend hands the kernel a writable copy of the same mask: nothing else changes, and the
 * main thread is idle there, never on a request's path. */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

int sigsuspend(const sigset_t *mask) {
    sigset_t copy = *mask;
    return (int)syscall(SYS_rt_sigsuspend, &copy, 8);
}
