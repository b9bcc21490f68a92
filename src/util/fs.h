/*
 * File-system helpers: whole-file reads, directory creation, atomic
 * replacement and the XDG base directories.
 */
#ifndef MP_FS_H
#define MP_FS_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Read the whole file at `path` into `*out` (NUL-terminated; `*out_len`
 * without the NUL).  Returns 0, or MP_ENOTFOUND when it does not exist,
 * or MP_EOS with the error set.
 */
int fs_read_file(char **out, size_t *out_len, const char *path);

/* Like fs_read_file(), from the open descriptor `fd` (left open), `name` in messages. */
int fs_read_fd(char **out, size_t *out_len, int fd, const char *name);

/* Create `path` and its missing parents with `mode`.  Returns 0 or MP_EOS. */
int fs_mkdir_p(const char *path, mode_t mode);

/*
 * Replace `path` atomically with `len` bytes of `data` and `mode`: write a
 * temporary file in the same directory, fsync it, rename it over `path`,
 * fsync the directory.  On failure `path` is untouched and the temporary
 * file removed.  Returns 0 or MP_EOS with the error set.
 */
int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode);

/*
 * Open the line log `path` for appending (created 0600) into `*out_fd`:
 * lines written with one write(2) each never interleave with those of
 * another writer.  A last line cut short by a crash is ended first, so
 * that the next line stays whole.  Returns 0 or MP_EOS.
 */
int fs_log_open(int *out_fd, const char *path);

/* fsync the directory that contains `path`.  Returns 0 or MP_EOS. */
int fs_fsync_parent(const char *path);

/* "~" or "~/x" expanded with $HOME; other paths copied.  Caller frees. */
char *fs_expand_home(const char *path);

/* `dir` + "/" + `name` (no doubled slash).  Caller frees. */
char *fs_join(const char *dir, const char *name);

/* $XDG_CONFIG_HOME/meshpush (default ~/.config/meshpush).  Caller frees. */
char *fs_config_dir(void);

/* $XDG_STATE_HOME/meshpush (default ~/.local/state/meshpush).  Caller frees. */
char *fs_state_dir(void);

/* 1 when `path` exists (without following a final symlink), else 0. */
int fs_exists(const char *path);

#endif
