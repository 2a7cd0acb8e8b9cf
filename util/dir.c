/*
 * dir.c - writing a whole folder atomically: every file is written into a
 * fresh DIR.tmp-XXXXXX beside DIR, then the folder is renamed (or swapped
 * with the one it replaces), so DIR is either absent, the old complete
 * folder, or the new complete folder; never half of one.
 */
#define _GNU_SOURCE             /* renameat2 */
#include "util/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Regular files in dir, and whether it has anything else (a folder, ...). */
static int count_entries(const char *dir, int *files, int *others)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    *files = *others = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char path[4096];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (lstat(path, &st) == 0 && S_ISREG(st.st_mode))
            (*files)++;
        else
            (*others)++;
    }
    closedir(d);
    return 0;
}

/* Removes the regular files of dir, then dir itself (fails if anything else
 * is left: nothing but what a deployment holds is ever deleted). */
static int remove_flat_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char path[4096];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (lstat(path, &st) == 0 && S_ISREG(st.st_mode))
            unlink(path);
    }
    closedir(d);
    return rmdir(dir);
}

static int write_one(const char *dir, const struct util_dir_file *f, struct util_error *err)
{
    char path[8400];
    snprintf(path, sizeof path, "%s/%s", dir, f->name);
    mode_t mask = umask(0);
    umask(mask);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, (f->executable ? 0777 : 0666) & ~mask);
    if (fd < 0) {
        util_error_set(err, "cannot create '%s': %s", path, strerror(errno));
        return -1;
    }
    const char *p = f->data;
    size_t left = f->len;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            util_error_set(err, "cannot write '%s': %s", path, strerror(errno));
            close(fd);
            return -1;
        }
        p += w;
        left -= (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        util_error_set(err, "cannot write '%s': %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

int util_write_dir_atomic(const char *dir_in, const struct util_dir_file *files, int n,
                          const char *marker, bool replace, struct util_error *err)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", dir_in);
    size_t len = strlen(dir);
    while (len > 1 && dir[len - 1] == '/')
        dir[--len] = '\0';
    if (len == 0 || len + 32 >= sizeof dir) {
        util_error_set(err, "'%s' is not a usable folder name", dir_in);
        return UTIL_EXIT_USAGE;
    }
    struct stat st;
    bool exists = stat(dir, &st) == 0, empty = true;
    if (exists) {
        int nfiles, nothers;
        if (!S_ISDIR(st.st_mode)) {
            util_error_set(err, "'%s' exists and is not a folder; give a new folder name", dir);
            return UTIL_EXIT_USAGE;
        }
        if (count_entries(dir, &nfiles, &nothers) != 0) {
            util_error_set(err, "cannot read the folder '%s': %s", dir, strerror(errno));
            return UTIL_EXIT_IO;
        }
        empty = nfiles + nothers == 0;
        char mark[4200];
        snprintf(mark, sizeof mark, "%s/%s", dir, marker);
        if (!empty && !replace) {
            util_error_set(err, "'%s' exists and is not empty; pass --force to replace a "
                           "previous deployment there, or choose another folder", dir);
            return UTIL_EXIT_USAGE;
        }
        if (!empty && (nothers > 0 || access(mark, F_OK) != 0)) {
            util_error_set(err, "'%s' is not a folder this command wrote (%s); --force "
                           "replaces only those: remove it yourself or choose another folder",
                           dir, nothers ? "it holds sub-folders" : "no manifest there");
            return UTIL_EXIT_USAGE;
        }
    }
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp-XXXXXX", dir);
    if (!mkdtemp(tmp)) {
        util_error_set(err, "cannot create a folder beside '%s': %s (is the parent folder "
                       "there and writable?)", dir, strerror(errno));
        return UTIL_EXIT_IO;
    }
    mode_t mask = umask(0);
    umask(mask);
    chmod(tmp, 0777 & ~mask);           /* mkdtemp makes 0700 */
    for (int i = 0; i < n; i++)
        if (write_one(tmp, &files[i], err) != 0) {
            remove_flat_dir(tmp);
            return UTIL_EXIT_IO;
        }
    if (!exists || empty) {
        /* rename(2) replaces an empty folder. */
        if (rename(tmp, dir) != 0) {
            util_error_set(err, "cannot rename '%s' to '%s': %s", tmp, dir, strerror(errno));
            remove_flat_dir(tmp);
            return UTIL_EXIT_IO;
        }
        return UTIL_EXIT_OK;
    }
    /* Swap old and new in one step, then delete the old deployment's files. */
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, dir, RENAME_EXCHANGE) != 0) {
        util_error_set(err, "cannot replace '%s': %s", dir, strerror(errno));
        remove_flat_dir(tmp);
        return UTIL_EXIT_IO;
    }
    remove_flat_dir(tmp);               /* now the old folder */
    return UTIL_EXIT_OK;
}
