/*
 * run.c - running rsskey as subprocesses: one with its standard output
 * captured (a job runs synth and sim this way), and a bounded pool of fork/exec
 * children for `rsskey sweep --jobs N`. No scheduler beyond "at most N at once".
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sweep/sweep.h"

static int exit_status(int wstatus)
{
    if (WIFEXITED(wstatus))
        return WEXITSTATUS(wstatus);
    if (WIFSIGNALED(wstatus))
        return 128 + WTERMSIG(wstatus);
    return 255;
}

/* In the child: stdout to out_fd (or /dev/null when -1), stderr to log_path
 * (appended) or inherited, then exec. Never returns. */
static void exec_child(char *const argv[], int out_fd, const char *log_path)
{
    int null_fd = open("/dev/null", O_RDWR);
    if (null_fd >= 0)
        dup2(null_fd, STDIN_FILENO);
    dup2(out_fd >= 0 ? out_fd : null_fd, STDOUT_FILENO);
    if (log_path) {
        int log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0666);
        if (log_fd >= 0)
            dup2(log_fd, STDERR_FILENO);
    }
    execv(argv[0], argv);
    fprintf(stderr, "rsskey sweep: error: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

int sweep_run_capture(char *const argv[], const char *log_path, char **out, size_t *out_len,
                      struct util_error *err)
{
    int fds[2];
    *out = NULL;
    *out_len = 0;
    if (pipe(fds) != 0) {
        util_error_set(err, "pipe: %s", strerror(errno));
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        util_error_set(err, "fork: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        close(fds[0]);
        exec_child(argv, fds[1], log_path);
    }
    close(fds[1]);
    size_t cap = 65536, len = 0;
    char *buf = malloc(cap);
    bool oom = !buf;
    for (;;) {
        if (!oom && len + 4096 + 1 > cap) {
            char *b = realloc(buf, cap * 2);
            if (b) {
                buf = b;
                cap *= 2;
            } else {
                oom = true;
            }
        }
        char sink[4096];
        ssize_t got = oom ? read(fds[0], sink, sizeof sink) : read(fds[0], buf + len, 4096);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        if (!oom)
            len += (size_t)got;
    }
    close(fds[0]);
    int wstatus;
    while (waitpid(pid, &wstatus, 0) < 0)
        if (errno != EINTR) {
            wstatus = 255 << 8;
            break;
        }
    if (oom) {
        free(buf);
        util_error_set(err, "out of memory reading %s's output", argv[0]);
        return -1;
    }
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    return exit_status(wstatus);
}

int sweep_run_pool(char **const *argvs, const char *const *logs, int n, int jobs, int *status,
                   sweep_done_fn on_done, void *ctx, struct util_error *err)
{
    pid_t *pids = calloc(n ? (size_t)n : 1, sizeof *pids);
    double *started = calloc(n ? (size_t)n : 1, sizeof *started);
    if (!pids || !started) {
        free(pids);
        free(started);
        util_error_set(err, "out of memory");
        return -1;
    }
    int next = 0, running = 0, rc = 0;
    while (next < n || running > 0) {
        while (rc == 0 && next < n && running < jobs) {
            pid_t pid = fork();
            if (pid < 0) {
                util_error_set(err, "fork: %s", strerror(errno));
                rc = -1;
                break;
            }
            if (pid == 0)
                exec_child(argvs[next], -1, logs ? logs[next] : NULL);
            pids[next] = pid;
            started[next] = util_now_seconds();
            next++;
            running++;
        }
        if (running == 0)
            break;
        int wstatus;
        pid_t done = waitpid(-1, &wstatus, 0);
        if (done < 0) {
            if (errno == EINTR)
                continue;
            util_error_set(err, "waitpid: %s", strerror(errno));
            rc = -1;
            break;
        }
        for (int i = 0; i < next; i++)
            if (pids[i] == done) {
                pids[i] = 0;
                running--;
                status[i] = exit_status(wstatus);
                if (on_done)
                    on_done(ctx, i, status[i], util_now_seconds() - started[i]);
                break;
            }
    }
    for (int i = next; i < n; i++)
        status[i] = -1;                 /* never started */
    free(pids);
    free(started);
    return rc;
}

int sweep_mkdirs(const char *dir, struct util_error *err)
{
    char path[SWEEP_PATH_MAX];
    if (strlen(dir) >= sizeof path) {
        util_error_set(err, "folder name too long: %.60s...", dir);
        return -1;
    }
    snprintf(path, sizeof path, "%s", dir);
    for (char *p = path + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char keep = *p;
            *p = '\0';
            if (mkdir(path, 0777) != 0 && errno != EEXIST) {
                util_error_set(err, "cannot create folder %s: %s", path, strerror(errno));
                return -1;
            }
            *p = keep;
            if (!keep)
                break;
        }
    }
    return 0;
}
