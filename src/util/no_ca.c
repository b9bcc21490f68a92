/*
 * libgit2 without its CA bundle.
 *
 * Debian's libgit2 1.5 is built with mbedTLS, and git_libgit2_init()
 * parses the whole CA bundle (/etc/ssl/certs/ca-certificates.crt, about
 * 140 certificates) into mbedTLS structures: 4 to 8 ms of every hook's
 * start-up, for HTTPS that git-meshpush never asks libgit2 to speak.
 * libgit2 only reads the repository here; git itself fetches and pushes,
 * and libcurl (with OpenSSL and its own CA store) speaks HTTP.
 *
 * So these two functions take the place of mbedTLS's: the binary exports
 * them (see the Makefile), the dynamic linker looks in the executable
 * before the libraries, and they load nothing.  Were libgit2 ever to open
 * an HTTPS connection, it would trust no certificate and fail: never the
 * reverse.  Nothing else in the process uses mbedTLS.
 */
#include "util/util.h"

int mbedtls_x509_crt_parse_file(void *chain, const char *path);
int mbedtls_x509_crt_parse_path(void *chain, const char *path);

int mbedtls_x509_crt_parse_file(void *chain, const char *path)
{
	return 0;
}

int mbedtls_x509_crt_parse_path(void *chain, const char *path)
{
	return 0;
}
