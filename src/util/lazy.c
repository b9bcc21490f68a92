#include "util/lazy.h"

#include "error.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static const char *load(struct mp_lazy_lib *lib)
{
	void *h = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL);

	if (!h)
		return dlerror();
	for (size_t i = 0; i < lib->nr; i++) {
		void *fn = dlsym(h, lib->names[i]);

		if (!fn)
			return dlerror();
		lib->table[i] = fn;
	}
	return NULL;
}

void mp_lazy_load(struct mp_lazy_lib *lib)
{
	const char *err = NULL;

	pthread_mutex_lock(&lock);
	if (!lib->table[0])
		err = load(lib);
	pthread_mutex_unlock(&lock);
	if (err) {
		fprintf(stderr, "fatal: cannot load %s: %s\nhint: reinstall the Debian package that provides it "
				"(dpkg -S %s), or rebuild git-meshpush\n", lib->soname, err, lib->soname);
		_exit(MP_EXIT_GIT);
	}
}
