/*
 * toolchain.c - where a runner's tools and libraries are, and running them.
 * clang-19 and the C compiler are taken from the paths configure found
 * (RSSKEY_CLANG19_PATH, RSSKEY_CC_PATH), else by name on PATH. The libraries
 * are described by a pkg-config file found relative to the rsskey executable:
 * rsskey-uninstalled.pc beside it in the build tree, or
 * ../<libdir>/pkgconfig/rsskey.pc in an install prefix (RSSKEY_INSTALL_LIBDIR).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nfbuild/nfbuild_internal.h"

#ifndef RSSKEY_CLANG19_PATH
#define RSSKEY_CLANG19_PATH "clang-19"
#endif
#ifndef RSSKEY_CC_PATH
#define RSSKEY_CC_PATH "cc"
#endif
#ifndef RSSKEY_INSTALL_LIBDIR
#define RSSKEY_INSTALL_LIBDIR "lib"
#endif

static bool is_executable(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* name as given when it holds a '/', else the first executable of that name
 * on PATH. Returns true and fills out[PATH_MAX]. */
static bool find_program(const char *name, char *out)
{
    if (strchr(name, '/')) {
        snprintf(out, PATH_MAX, "%s", name);
        return is_executable(out);
    }
    const char *path = getenv("PATH");
    if (!path)
        path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        size_t n = strcspn(path, ":");
        if (n > 0 && (int)n < PATH_MAX - 2) {
            snprintf(out, PATH_MAX, "%.*s/%s", (int)n, path, name);
            if (is_executable(out))
                return true;
        }
        path += n + (path[n] == ':');
    }
    return false;
}

/* A configured tool path, or its file name searched on PATH when it is gone
 * (rsskey installed on another machine). */
static bool find_tool(const char *configured, char *out)
{
    if (is_executable(configured)) {
        snprintf(out, PATH_MAX, "%s", configured);
        return true;
    }
    const char *slash = strrchr(configured, '/');
    return find_program(slash ? slash + 1 : configured, out);
}

static bool file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int nfbuild_find_toolchain(const char *self_exe, const char *clang,
                           struct nfbuild_toolchain *tc, struct util_error *err)
{
    memset(tc, 0, sizeof *tc);
    if (clang) {
        if (!find_program(clang, tc->clang)) {
            util_error_set(err, "--clang %s: no such executable; give clang-19's path "
                           "(e.g. /usr/bin/clang-19)", clang);
            return UTIL_EXIT_FAILURE;
        }
    } else if (!find_tool(RSSKEY_CLANG19_PATH, tc->clang)) {
        util_error_set(err, "clang-19 not found (looked for %s and clang-19 on PATH): it "
                       "compiles the bitcode. Install it (apt-get install clang-19) or pass "
                       "--clang PATH", RSSKEY_CLANG19_PATH);
        return UTIL_EXIT_FAILURE;
    }
    if (!find_tool(RSSKEY_CC_PATH, tc->cc)) {
        util_error_set(err, "the C compiler rsskey was built with (%s) is not here, nor on "
                       "PATH: it links the runner. Install it (apt-get install gcc)",
                       RSSKEY_CC_PATH);
        return UTIL_EXIT_FAILURE;
    }
    char exe[PATH_MAX];
    if (!realpath(self_exe ? self_exe : "/proc/self/exe", exe)) {
        util_error_set(err, "cannot locate the rsskey executable (%s): %s",
                       self_exe ? self_exe : "/proc/self/exe", strerror(errno));
        return UTIL_EXIT_FAILURE;
    }
    char *slash = strrchr(exe, '/');
    *slash = '\0';                      /* exe is now its folder */
    char pc[PATH_MAX + 64];
    snprintf(pc, sizeof pc, "%s/rsskey-uninstalled.pc", exe);
    if (file_exists(pc)) {
        snprintf(tc->pc_dir, sizeof tc->pc_dir, "%s", exe);
        snprintf(tc->package, sizeof tc->package, "rsskey-uninstalled");
        tc->layout = "build tree";
        return UTIL_EXIT_OK;
    }
    snprintf(pc, sizeof pc, "%s/../%s/pkgconfig/rsskey.pc", exe, RSSKEY_INSTALL_LIBDIR);
    char dir[PATH_MAX];
    if (file_exists(pc) && realpath(pc, dir)) {
        *strrchr(dir, '/') = '\0';
        snprintf(tc->pc_dir, sizeof tc->pc_dir, "%s", dir);
        snprintf(tc->package, sizeof tc->package, "rsskey");
        tc->layout = "install prefix";
        return UTIL_EXIT_OK;
    }
    util_error_set(err, "rsskey's runner libraries are not where they belong: neither "
                   "%s/rsskey-uninstalled.pc (build tree) nor %s/../%s/pkgconfig/rsskey.pc "
                   "(install prefix) exists. Build everything (cmake --build build) or "
                   "install (cmake --install build --prefix DIR) and run that rsskey",
                   exe, exe, RSSKEY_INSTALL_LIBDIR);
    return UTIL_EXIT_FAILURE;
}

void nfbuild_print_command(char *const argv[])
{
    for (int i = 0; argv[i]; i++)
        fprintf(stderr, "%s%s", i ? " " : "+ ", argv[i]);
    fputc('\n', stderr);
}

int nfbuild_spawn(char *const argv[], const char *pc_dir, const char *out_path,
                  const char *err_path)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        /* The child only: its signals (build.c blocks the stop signals in
         * rsskey, not in the tools), environment and descriptors. */
        sigset_t stop;
        sigemptyset(&stop);
        sigaddset(&stop, SIGINT);
        sigaddset(&stop, SIGTERM);
        sigaddset(&stop, SIGHUP);
        sigprocmask(SIG_UNBLOCK, &stop, NULL);
        if (pc_dir) {
            const char *old = getenv("PKG_CONFIG_PATH");
            size_t n = strlen(pc_dir) + (old ? strlen(old) : 0) + 2;
            char *value = malloc(n);
            if (!value)
                _exit(126);
            snprintf(value, n, "%s%s%s", pc_dir, old && *old ? ":" : "", old ? old : "");
            setenv("PKG_CONFIG_PATH", value, 1);
        }
        const char *paths[2] = {out_path, err_path};
        for (int fd = 1; fd <= 2; fd++) {
            if (!paths[fd - 1])
                continue;
            int f = open(paths[fd - 1], O_WRONLY | O_CREAT | O_TRUNC, 0600);
            if (f < 0 || dup2(f, fd) < 0)
                _exit(126);
            close(f);
        }
        execvp(argv[0], argv);
        fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}
