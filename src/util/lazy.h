#ifndef MP_UTIL_LAZY_H
#define MP_UTIL_LAZY_H

/*
 * Shared libraries loaded on the first call of one of their functions.
 *
 * A one-file scan never touches git or OpenSSL, yet loading libgit2 (and
 * the eleven libraries it needs: mbedTLS, libssh2, Kerberos, OpenSSL, ...)
 * and libcrypto cost about 2.6 ms of its start-up.  So, on x86-64, the
 * binary is not linked with them: tools/lazy-stubs.sh generates, from the
 * symbols the objects leave undefined, one small stub per function and a
 * struct mp_lazy_lib per library.  A stub jumps through the library's
 * table; the first call of any of them calls mp_lazy_load(), which
 * dlopen()s the library and fills the whole table.  The modules keep
 * calling the plain libgit2 and OpenSSL APIs.  Elsewhere (and in the unit
 * tests and fuzz targets) the libraries are linked as usual.
 */
#include <stddef.h>

struct mp_lazy_lib {
	const char *soname;
	const char *const *names;
	void **table;
	size_t nr;
};

/*
 * Loads `lib` and fills its table, once, thread-safely.  A library that
 * cannot be loaded ends the process with exit code 128 and a message
 * naming it: the stub that called this has no way to report an error.
 */
void mp_lazy_load(struct mp_lazy_lib *lib);

#endif
